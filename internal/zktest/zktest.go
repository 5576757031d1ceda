// Package zktest runs a real ZooKeeper server (Debian's zookeeper package,
// on Java) for tests: a standalone server on a free loopback port with its
// own data directory, stopped when the test ends.
package zktest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Jar is where Debian installs ZooKeeper.
const Jar = "/usr/share/java/zookeeper.jar"

// Server is a running ZooKeeper server.
type Server struct {
	Addr string // 127.0.0.1:port
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start starts a server, or skips the test when ZooKeeper or Java is
// missing (fails instead on CI, where scripts/install-test-deps.sh
// installs them). A server that exits while starting (say, another process
// took its port meanwhile) is started again on another port.
func Start(t testing.TB) *Server {
	t.Helper()
	java, err := exec.LookPath("java")
	if err == nil {
		_, err = os.Stat(Jar)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ZooKeeper must be installed on CI (Debian package zookeeper): %v", err)
		}
		t.Skipf("needs ZooKeeper (Debian package zookeeper) and Java: %v", err)
	}
	var last string
	for attempt := 0; attempt < 3; attempt++ {
		s, ok, out := start(t, java)
		if ok {
			return s
		}
		last = out
	}
	t.Fatalf("ZooKeeper did not start (3 attempts); last output:\n%s", last)
	return nil
}

func start(t testing.TB, java string) (*Server, bool, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(java, "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", Jar+":/usr/share/java/*",
		"org.apache.zookeeper.server.ZooKeeperServerMain", fmt.Sprint(port), t.TempDir())
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	// Ready once a client gets a session.
	conn, events, err := zk.Connect([]string{s.Addr}, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.After(90 * time.Second) // wall-clock: a JVM starting on a loaded machine
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				t.Cleanup(s.Stop)
				return s, true, ""
			}
		case <-s.done:
			return nil, false, s.out.String()
		case <-deadline:
			s.Stop()
			return nil, false, s.out.String()
		}
	}
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
