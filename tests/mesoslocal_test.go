package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// mesos-local runs a master and a slave in one process, passes master
// and slave flags through (here authentication and slave attributes),
// runs a task for mesos-execute, shows it in /master/state, and stops
// cleanly on SIGTERM.
func TestMesosLocal(t *testing.T) {
	bin := binaries(t)
	work := t.TempDir()
	creds := filepath.Join(work, "credentials")
	if err := os.WriteFile(creds, []byte("alice wonderland\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	local := startProc(t, filepath.Join(bin, "mesos-local"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--work_dir="+filepath.Join(work, "cluster"), "--allocation_interval=100ms",
		"--authenticate", "--credentials="+creds, // the master's flags, by their own names
		"--attributes=rack:r1", "--switch_user=false", "--slave_registration_backoff_factor=10ms", // the slave's
		"--master_cluster=demo")
	local.line(t, "mesos-local: master master@"+addr)

	anonymous := startProc(t, filepath.Join(bin, "mesos-execute"), "--master="+addr, "--name=anon", "--command=true", "--resources=cpus:0.5;mem:64")
	anonymous.line(t, "not authenticated")
	if code := anonymous.exitCode(t); code != 1 {
		t.Fatalf("an unauthenticated mesos-execute exited %d, want 1", code)
	}
	ex := startProc(t, filepath.Join(bin, "mesos-execute"), "--master="+addr, "--principal=alice", "--secret=wonderland",
		"--name=local-task", "--command=echo hello from mesos-local", "--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_FINISHED for task local-task")
	if code := ex.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
	// mesos-execute's exit does not wait for the master to take its
	// unregistration: wait for the master's log of it, after which its
	// /state has the framework among the completed ones.
	local.line(t, `msg="removing framework"`)

	state := getState(t, addr, "/master/state")
	if state["cluster"] != "demo" {
		t.Errorf("cluster %v, want demo (--master_cluster)", state["cluster"])
	}
	if flags, _ := state["flags"].(map[string]any); flags["authenticate"] != "true" {
		t.Errorf("/master/state flags: %v", flags)
	}
	slaves, _ := state["slaves"].([]any)
	if len(slaves) != 1 {
		t.Fatalf("%d slaves in /master/state", len(slaves))
	}
	if attrs, _ := slaves[0].(map[string]any)["attributes"].(map[string]any); attrs["rack"] != "r1" {
		t.Errorf("slave attributes %v, want rack r1", attrs)
	}
	found := false
	for _, f := range state["completed_frameworks"].([]any) {
		for _, task := range f.(map[string]any)["completed_tasks"].([]any) {
			task := task.(map[string]any)
			if task["id"] == "local-task" && task["state"] == "TASK_FINISHED" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("local-task is not TASK_FINISHED among the completed frameworks of /master/state")
	}

	local.signal(syscall.SIGTERM)
	if code := local.exitCode(t); code != 0 {
		t.Fatalf("mesos-local exited %d after SIGTERM", code)
	}
}
