// Package zktest runs a real ZooKeeper server (Debian's zookeeper package,
// on Java) for tests: a standalone server on a free loopback port with its
// own data directory, stopped when the test ends.
package zktest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
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
}

// Start starts a server, or skips the test when ZooKeeper or Java is
// missing (fails instead on CI, where scripts/install-test-deps.sh
// installs them).
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	s.cmd = exec.Command(java, "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-cp", Jar+":/usr/share/java/*",
		"org.apache.zookeeper.server.ZooKeeperServerMain", fmt.Sprint(port), t.TempDir())
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	// Ready once a client gets a session.
	conn, events, err := zk.Connect([]string{s.Addr}, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.After(60 * time.Second) // wall-clock: a JVM starting
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return s
			}
		case <-deadline:
			t.Fatal("ZooKeeper did not start within 60s")
		}
	}
}

// Stop kills the server.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
