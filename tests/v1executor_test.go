package tests

// The v1 executor HTTP API with the binaries: the command executor over
// HTTP (--http_command_executor), PID and HTTP executors side by side on
// one slave, and an HTTP executor that resubscribes to a slave SIGKILLed
// and restarted while its task runs.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/mesosgo"
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
	c, s := startBinClusterWith(t, nil, []string{"--http_command_executor"})
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
	c.slaveArgs = append(c.slaveArgs, "--http_command_executor")
	s2 := c.killAndRestartSlave(t, s)
	s2.line(t, "executor re-registered")
	s2.line(t, "re-registered with the master")
	web := c.execute(t, "--name=httptask", "--checkpoint", "--command="+waitForGo, "--resources=cpus:0.5;mem:64")
	web.line(t, "TASK_RUNNING for task httptask")
	s2.line(t, "executor subscribed")
	httpSandbox := sandboxOf(t, c.work, "httptask")

	// SIGKILL the slave while the HTTP executor runs its task; the
	// restarted slave waits for it to subscribe again.
	s3 := c.killAndRestartSlave(t, s2)
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

// An unmodified mesos-go v1 executor (api/v1/lib's executor library, in
// JSON: our command executor covers protobuf) under our slave, launched
// by a mesos-go 0.0.6 framework: it subscribes at
// MESOS_AGENT_ENDPOINT/api/v1/executor, runs the task, answers the
// framework message and finishes, each update acknowledged.
func TestBinariesMesosGoV1Executor(t *testing.T) {
	requireMesosGo(t)
	requireMesosGoV1(t)
	execPath, err := mesosgo.PathV1(mesosgo.V1ExecutorProgram)
	if err != nil {
		t.Fatal(err)
	}
	c, s := startBinCluster(t)
	fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+c.master, "-executor="+execPath+" -codec=json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Stop)
	const bound = 60 * time.Second
	if _, err := fw.Line("REGISTERED ", bound); err != nil {
		t.Fatal(err)
	}
	if line, err := fw.Line("STATUS ", bound); err != nil || line != "STATUS t1 TASK_RUNNING" {
		t.Fatalf("framework printed %q (%v), want TASK_RUNNING", line, err)
	}
	awaitReplyAndFinish(t, fw, bound)
	s.line(t, "codec=application/json")
	// The executor exits once both its updates are acknowledged.
	s.line(t, "executor terminated")
	stderr, err := os.ReadFile(filepath.Join(sandboxOf(t, c.work, "default"), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"CODEC application/json", "SUBSCRIBED default", "LAUNCH t1", "MESSAGE hello", "ACKNOWLEDGED t1", "EXIT"} {
		if !strings.Contains(string(stderr), w) {
			t.Fatalf("executor stderr lacks %q:\n%s", w, stderr)
		}
	}
}
