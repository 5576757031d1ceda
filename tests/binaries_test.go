package tests

// End-to-end tests of the binaries as separate OS processes on loopback:
// mesos-master, mesos-slave, mesos-executor, mesos-execute, and mesos-go
// 0.0.6 programs. They wait on other processes, so their waits are bounded
// wall-clock reads of the processes' output.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/internal/zktest"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds the cmd/ programs once per test binary.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "gomesos-bin"); binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/",
			"github.com/gomesos/gomesos/cmd/mesos-master", "github.com/gomesos/gomesos/cmd/mesos-slave",
			"github.com/gomesos/gomesos/cmd/mesos-executor", "github.com/gomesos/gomesos/cmd/mesos-execute",
			"github.com/gomesos/gomesos/cmd/mesos", "github.com/gomesos/gomesos/cmd/mesos-local")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

// daemonProc is a running binary whose output is read line by line.
type daemonProc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	mu    sync.Mutex
	all   []string
}

func startProc(t *testing.T, bin string, args ...string) *daemonProc {
	t.Helper()
	return startProcEnv(t, nil, bin, args...)
}

// startProcEnv starts bin with the environment env (nil: this process's).
func startProcEnv(t *testing.T, env []string, bin string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, lines: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.all = append(p.all, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second): // wall-clock: bounds another process's exit
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("output of %s:\n%s", filepath.Base(bin), strings.Join(p.all, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

func (p *daemonProc) signal(s syscall.Signal) { _ = p.cmd.Process.Signal(s) }

// line waits for an output line containing s.
func (p *daemonProc) line(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(60 * time.Second) // wall-clock: bounds a wait on another process
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("process exited before printing %q", s)
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line with %q within 60s", s)
		}
	}
}

// linesAnyOrder waits for a line with each of want, in any order.
func (p *daemonProc) linesAnyOrder(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(60 * time.Second) // wall-clock: bounds a wait on another process
	missing := append([]string(nil), want...)
	for len(missing) > 0 {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("process exited before printing %q", missing)
			}
			for i, w := range missing {
				if strings.Contains(l, w) {
					missing = append(missing[:i], missing[i+1:]...)
					break
				}
			}
		case <-deadline:
			t.Fatalf("no lines with %q within 60s", missing)
		}
	}
}

// exitCode waits for the process to exit.
func (p *daemonProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second): // wall-clock: bounds a wait on another process
		t.Fatal("process did not exit within 60s")
	}
	return p.cmd.ProcessState.ExitCode()
}

func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// The kernel may give a port just closed again (a master's and
		// its slave's, asked one after the other): never hand one out
		// twice in this test binary.
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

type binCluster struct {
	bin, master, work string
	slavePort         int
	slaveArgs         []string
}

// startBinCluster starts mesos-master (with masterArgs added to its flags)
// and one mesos-slave.
func startBinCluster(t *testing.T, masterArgs ...string) (*binCluster, *daemonProc) {
	return startBinClusterWith(t, masterArgs, nil)
}

// startBinClusterWith is startBinCluster with extra flags for the slave
// too.
func startBinClusterWith(t *testing.T, masterArgs, extra []string) (*binCluster, *daemonProc) {
	bin := binaries(t)
	mport := freePort(t)
	c := &binCluster{bin: bin, master: fmt.Sprintf("127.0.0.1:%d", mport), work: t.TempDir(), slavePort: freePort(t)}
	m := startProc(t, filepath.Join(bin, "mesos-master"), append([]string{"--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory",
		"--allocation_interval=100ms"}, masterArgs...)...)
	m.line(t, "master started")
	c.slaveArgs = []string{"--master=" + c.master, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", c.slavePort),
		"--work_dir=" + c.work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]",
		"--registration_backoff_factor=10ms", "--switch_user=false", "--fetcher_cache_dir=" + filepath.Join(c.work, "fetch")}
	c.slaveArgs = append(c.slaveArgs, extra...)
	s := c.startSlave(t)
	s.line(t, "registered with the master")
	return c, s
}

func (c *binCluster) startSlave(t *testing.T) *daemonProc {
	return startProc(t, filepath.Join(c.bin, "mesos-slave"), c.slaveArgs...)
}

// killAndRestartSlave SIGKILLs the slave s and starts it again (with
// c.slaveArgs) on its work directory.
func (c *binCluster) killAndRestartSlave(t *testing.T, s *daemonProc) *daemonProc {
	s.signal(syscall.SIGKILL)
	<-s.done
	return c.startSlave(t)
}

func (c *binCluster) execute(t *testing.T, args ...string) *daemonProc {
	return startProc(t, filepath.Join(c.bin, "mesos-execute"), append([]string{"--master=" + c.master}, args...)...)
}

func TestBinariesRunCommandTask(t *testing.T) {
	c, _ := startBinCluster(t)
	ok := c.execute(t, "--name=ok", "--command=echo hello", "--resources=cpus:0.5;mem:64")
	ok.line(t, "TASK_RUNNING for task ok")
	ok.line(t, "TASK_FINISHED for task ok")
	if code := ok.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute of a finishing task exited %d", code)
	}
	bad := c.execute(t, "--name=bad", "--command=exit 4", "--resources=cpus:0.5;mem:64")
	bad.line(t, "TASK_FAILED for task bad")
	if code := bad.exitCode(t); code != 1 {
		t.Fatalf("mesos-execute of a failing task exited %d", code)
	}
}

func TestBinariesWithMesosGoFrameworkAndExecutor(t *testing.T) {
	requireMesosGo(t)
	execPath, err := mesosgo.Path(mesosgo.ExecutorProgram)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := startBinCluster(t)
	const bound = 60 * time.Second
	t.Run("CommandExecutor", func(t *testing.T) {
		fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+c.master, "-command=echo hi")
		if err != nil {
			t.Fatal(err)
		}
		defer fw.Stop()
		for _, want := range []string{"STATUS t1 TASK_RUNNING", "STATUS t1 TASK_FINISHED"} {
			if line, err := fw.Line("STATUS ", bound); err != nil || line != want {
				t.Fatalf("got %q (%v), want %q", line, err, want)
			}
		}
	})
	t.Run("MesosGoExecutor", func(t *testing.T) {
		fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+c.master, "-executor="+execPath)
		if err != nil {
			t.Fatal(err)
		}
		defer fw.Stop()
		if line, err := fw.Line("STATUS ", bound); err != nil || line != "STATUS t1 TASK_RUNNING" {
			t.Fatalf("got %q (%v), want TASK_RUNNING", line, err)
		}
		want := map[string]bool{"MESSAGE reply:hello": true, "STATUS t1 TASK_FINISHED": true}
		for len(want) > 0 {
			line, err := fw.Line("", bound)
			if err != nil {
				t.Fatalf("still waiting for %v: %v", want, err)
			}
			delete(want, line)
		}
	})
}

func TestBinariesSlaveKilledAndRestartedKeepsTask(t *testing.T) {
	c, s := startBinCluster(t)
	ex := c.execute(t, "--name=survivor", "--checkpoint", "--command="+waitForGo, "--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_RUNNING for task survivor")
	sandbox := sandboxOf(t, c.work, "survivor")

	s2 := c.killAndRestartSlave(t, s)
	s2.line(t, "executor re-registered")
	s2.line(t, "re-registered with the master")
	if err := os.WriteFile(filepath.Join(sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ex.line(t, "TASK_FINISHED for task survivor")
	if code := ex.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	finished := 0
	for _, l := range ex.all {
		if strings.Contains(l, "TASK_FINISHED") {
			finished++
		}
	}
	if finished != 1 {
		t.Fatalf("TASK_FINISHED reported %d times:\n%s", finished, strings.Join(ex.all, "\n"))
	}
}

func TestBinariesSlaveSIGTERMUnregisters(t *testing.T) {
	bin := binaries(t)
	mport := freePort(t)
	m := startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory")
	m.line(t, "master started")
	s := startProc(t, filepath.Join(bin, "mesos-slave"), fmt.Sprintf("--master=127.0.0.1:%d", mport), "--ip=127.0.0.1", "--port=0",
		"--work_dir="+t.TempDir(), "--registration_backoff_factor=10ms")
	s.line(t, "registered with the master")
	s.signal(syscall.SIGTERM)
	if code := s.exitCode(t); code != 0 {
		t.Fatalf("mesos-slave exited %d after SIGTERM", code)
	}
	m.line(t, "reason=unregistered")
}

func TestBinaryFlags(t *testing.T) {
	bin := binaries(t)
	run := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(filepath.Join(bin, "mesos-slave"), args...)
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run(nil, "--version"); code != 0 || strings.TrimSpace(out) != "mesos 1.0.0" {
		t.Fatalf("--version: %d %q", code, out)
	}
	if out, code := run(nil, "--help"); code != 0 || !strings.Contains(out, "--work_dir=VALUE") || !strings.Contains(out, "(default: /tmp/mesos)") ||
		!strings.Contains(out, "--[no-]strict") {
		t.Fatalf("--help: %d %q", code, out)
	}
	if out, code := run(nil, "--master=127.0.0.1:1", "--frobnicate=1", "--bogus"); code != 1 || !strings.Contains(out, "--frobnicate") || !strings.Contains(out, "--bogus") {
		t.Fatalf("unknown flags: %d %q", code, out)
	}
	if out, code := run([]string{"MESOS_RECOVER=sometimes"}, "--master=127.0.0.1:1", "--work_dir="+t.TempDir()); code != 1 || !strings.Contains(out, "--recover") {
		t.Fatalf("MESOS_RECOVER from the environment: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "master")
	if err := os.WriteFile(file, []byte("zk://localhost:2181\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := run(nil, "--master=file://"+file); code != 1 || !strings.Contains(out, "zk://localhost:2181") {
		t.Fatalf("--master=file:// holding a ZooKeeper URL without a path: %d %q", code, out)
	}
}

// startZKMaster starts a mesos-master contending on ZooKeeper at url
// (registry in ZooKeeper, allocation every 100 ms) with the extra flags,
// and returns it with its port once it contends.
func startZKMaster(t *testing.T, bin, url string, extra ...string) (*daemonProc, int) {
	t.Helper()
	port := freePort(t)
	args := append([]string{"--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--registry=replicated_log", "--zk=" + url, "--allocation_interval=100ms"}, extra...)
	m := startProc(t, filepath.Join(bin, "mesos-master"), args...)
	m.line(t, "contending for leadership")
	return m, port
}

func TestBinariesMasterFailoverOnZooKeeper(t *testing.T) {
	zk := zktest.Start(t)
	bin := binaries(t)
	url := "zk://" + zk.Addr + "/mesos"
	startMaster := func() (*daemonProc, string) {
		m, port := startZKMaster(t, bin, url, "--zk_session_timeout=5secs")
		return m, fmt.Sprintf("master@127.0.0.1:%d", port)
	}
	m1, pid1 := startMaster()
	m1.line(t, "elected as the leading master")
	m2, pid2 := startMaster()
	work := t.TempDir()
	s := startProc(t, filepath.Join(bin, "mesos-slave"), "--master="+url, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir="+work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]", "--registration_backoff_factor=10ms",
		"--switch_user=false", "--fetcher_cache_dir="+filepath.Join(work, "fetch"))
	if l := s.line(t, "new leading master detected"); !strings.Contains(l, pid1) {
		t.Fatalf("slave detected %q, want %s", l, pid1)
	}
	s.line(t, "registered with the master")

	ex := startProc(t, filepath.Join(bin, "mesos-execute"), "--master="+url, "--name=ha", "--checkpoint",
		"--command="+waitForGo, "--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_RUNNING for task ha")

	// The leader dies; the standby is elected, and the slave and the
	// framework follow it.
	m1.signal(syscall.SIGKILL)
	m2.line(t, "elected as the leading master")
	// The registry (kept in ZooKeeper) is recovered while the framework
	// may already re-register: either order.
	m2.linesAnyOrder(t, "recovered slaves from the registry", "re-registered unknown framework")
	if l := s.line(t, "new leading master detected"); !strings.Contains(l, pid2) {
		t.Fatalf("slave detected %q, want %s", l, pid2)
	}
	s.line(t, "re-registered with the master")
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "ha"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ex.line(t, "TASK_FINISHED for task ha")
	if code := ex.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
}

// mesos-go's ZooKeeper detector reads the node our master publishes.
func TestMesosGoFindsMasterInZooKeeper(t *testing.T) {
	requireMesosGo(t)
	zk := zktest.Start(t)
	bin := binaries(t)
	url := "zk://" + zk.Addr + "/mesos"
	m := startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--registry=in_memory", "--zk="+url, "--allocation_interval=100ms")
	m.line(t, "elected as the leading master")
	work := t.TempDir()
	s := startProc(t, filepath.Join(bin, "mesos-slave"), "--master="+url, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir="+work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]", "--registration_backoff_factor=10ms",
		"--switch_user=false", "--fetcher_cache_dir="+filepath.Join(work, "fetch"))
	s.line(t, "registered with the master")
	fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+url, "-command=echo hi")
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Stop()
	const bound = 60 * time.Second
	if _, err := fw.Line("REGISTERED ", bound); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"STATUS t1 TASK_RUNNING", "STATUS t1 TASK_FINISHED"} {
		if line, err := fw.Line("STATUS ", bound); err != nil || line != want {
			t.Fatalf("got %q (%v), want %q", line, err, want)
		}
	}
}

// An unmodified mesos-go framework authenticates with CRAM-MD5 against
// our master, and one with a wrong secret is refused.
func TestMesosGoAuthenticates(t *testing.T) {
	requireMesosGo(t)
	bin := binaries(t)
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("alice wonderland\nagent s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	slaveCred := filepath.Join(t.TempDir(), "credential")
	if err := os.WriteFile(slaveCred, []byte(`{"principal":"agent","secret":"s3cret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mport := freePort(t)
	master := fmt.Sprintf("127.0.0.1:%d", mport)
	m := startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory",
		"--authenticate", "--authenticate_slaves", "--credentials="+creds, "--allocation_interval=100ms")
	m.line(t, "master started")
	work := t.TempDir()
	s := startProc(t, filepath.Join(bin, "mesos-slave"), "--master="+master, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir="+work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]", "--registration_backoff_factor=10ms",
		"--switch_user=false", "--credential=file://"+slaveCred, "--fetcher_cache_dir="+filepath.Join(work, "fetch"))
	s.line(t, "registered with the master")

	const bound = 60 * time.Second
	fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+master, "-command=echo hi", "-principal=alice", "-secret=wonderland")
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Stop()
	for _, want := range []string{"STATUS t1 TASK_RUNNING", "STATUS t1 TASK_FINISHED"} {
		if line, err := fw.Line("STATUS ", bound); err != nil || line != want {
			t.Fatalf("got %q (%v), want %q", line, err, want)
		}
	}
	ex := startProc(t, filepath.Join(bin, "mesos-execute"), "--master="+master, "--principal=alice", "--secret=wrong", "--command=true")
	ex.line(t, "Master refused authentication")
	if code := ex.exitCode(t); code != 1 {
		t.Fatalf("mesos-execute with a wrong secret exited %d", code)
	}
}
