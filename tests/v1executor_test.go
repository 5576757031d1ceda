package tests

// The v1 executor HTTP API with the binaries: the command executor over
// HTTP (--http_command_executor), PID and HTTP executors side by side on
// one slave, and an HTTP executor that resubscribes to a slave SIGKILLed
// and restarted while its task runs.

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// countLines counts p's output lines containing s so far.
func (p *daemonProc) countLines(s string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.all {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func TestBinariesHTTPCommandExecutorRunsTask(t *testing.T) {
	c, s := startBinCluster(t, "--http_command_executor")
	ex := c.execute(t, "--name=h1", "--command=echo over http", "--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_RUNNING for task h1")
	ex.line(t, "TASK_FINISHED for task h1")
	if code := ex.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
	s.line(t, "executor subscribed")
	// The executor exits once its last update is acknowledged (it waits
	// for the ACKNOWLEDGED event); the slave sees it end normally.
	s.line(t, "executor terminated")
	if n := s.countLines("final status update not acknowledged"); n != 0 {
		t.Fatalf("the executor's final update was not acknowledged")
	}
	out, err := os.ReadFile(filepath.Join(sandboxOf(t, c.work, "h1"), "stdout"))
	if err != nil || !strings.Contains(string(out), "over http") {
		t.Fatalf("task stdout %q (%v)", out, err)
	}
}

func TestBinariesHTTPExecutorResubscribesAfterSlaveRestart(t *testing.T) {
	c, s := startBinCluster(t)
	// A PID command executor first.
	pid := c.execute(t, "--name=pidtask", "--checkpoint", "--command="+waitForGo, "--resources=cpus:0.5;mem:64")
	pid.line(t, "TASK_RUNNING for task pidtask")
	pidSandbox := sandboxOf(t, c.work, "pidtask")

	// The slave comes back with HTTP command executors: the PID one
	// re-registers, and a new task gets an HTTP one beside it.
	s.signal(syscall.SIGKILL)
	<-s.done
	c.slaveArgs = append(c.slaveArgs, "--http_command_executor")
	s2 := c.startSlave(t)
	s2.line(t, "executor re-registered")
	s2.line(t, "re-registered with the master")
	web := c.execute(t, "--name=httptask", "--checkpoint", "--command="+waitForGo, "--resources=cpus:0.5;mem:64")
	web.line(t, "TASK_RUNNING for task httptask")
	s2.line(t, "executor subscribed")
	httpSandbox := sandboxOf(t, c.work, "httptask")

	// SIGKILL the slave while the HTTP executor runs its task; the
	// restarted slave waits for it to subscribe again.
	s2.signal(syscall.SIGKILL)
	<-s2.done
	s3 := c.startSlave(t)
	s3.linesAnyOrder(t, "executor re-registered", "resubscribed=true")
	s3.line(t, "re-registered with the master")

	for _, dir := range []string{pidSandbox, httpSandbox} {
		if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pid.line(t, "TASK_FINISHED for task pidtask")
	web.line(t, "TASK_FINISHED for task httptask")
	for _, p := range []*daemonProc{pid, web} {
		if code := p.exitCode(t); code != 0 {
			t.Fatalf("mesos-execute exited %d", code)
		}
		if n := p.countLines("TASK_FINISHED"); n != 1 {
			t.Fatalf("TASK_FINISHED reported %d times", n)
		}
		if n := p.countLines("TASK_LOST") + p.countLines("TASK_FAILED"); n != 0 {
			t.Fatalf("task lost or failed")
		}
	}
}
