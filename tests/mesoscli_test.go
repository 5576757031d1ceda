package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mesosCLI runs the mesos command to its end and returns its stdout,
// stderr and exit code.
func mesosCLI(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // wall-clock: bounds another process
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "mesos"), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// The mesos command line against real binaries: ps, tail -f, cat, state,
// a standby master's redirect, and its errors (no such task, ambiguous
// prefix, no leader, slave down).
func TestMesosCLI(t *testing.T) {
	bin := binaries(t)
	c, slave := startBinCluster(t)
	m := "--master=" + c.master

	run := c.execute(t, "--name=clitask", "--command=echo first; echo second; sleep 3; echo last", "--resources=cpus:0.5;mem:64")
	run.line(t, "TASK_RUNNING for task clitask")
	out, errOut, code := mesosCLI(t, bin, m, "ps")
	if code != 0 || !strings.Contains(out, "clitask") || !strings.Contains(out, "TASK_RUNNING") || !strings.HasPrefix(out, "ID") {
		t.Fatalf("mesos ps: %d %q %q", code, out, errOut)
	}
	// tail -f follows stdout until the task ends.
	out, errOut, code = mesosCLI(t, bin, m, "tail", "-f", "-n", "1", "--interval=100ms", "clitask")
	if code != 0 || !strings.HasSuffix(out, "last\n") || strings.Contains(out, "first") {
		t.Fatalf("mesos tail -f -n 1: %d %q %q", code, out, errOut)
	}
	run.line(t, "TASK_FINISHED for task clitask")
	if out, errOut, code = mesosCLI(t, bin, m, "cat", "clitask", "stdout"); code != 0 || out != "first\nsecond\nlast\n" {
		t.Fatalf("mesos cat: %d %q %q", code, out, errOut)
	}
	if out, errOut, code = mesosCLI(t, bin, m, "tail", "-n", "2", "clitask"); code != 0 || out != "second\nlast\n" {
		t.Fatalf("mesos tail -n 2: %d %q %q", code, out, errOut)
	}
	if out, _, _ = mesosCLI(t, bin, m, "ps"); strings.Contains(out, "clitask") {
		t.Fatalf("mesos ps lists a finished task:\n%s", out)
	}
	if out, _, _ = mesosCLI(t, bin, m, "ps", "--all"); !strings.Contains(out, "clitask") || !strings.Contains(out, "TASK_FINISHED") {
		t.Fatalf("mesos ps --all:\n%s", out)
	}
	out, errOut, code = mesosCLI(t, bin, m, "state")
	var state map[string]any
	if err := json.Unmarshal([]byte(out), &state); code != 0 || err != nil || state["completed_frameworks"] == nil {
		t.Fatalf("mesos state: %d %v %q", code, err, errOut)
	}

	other := c.execute(t, "--name=clitask-b", "--command=echo b", "--resources=cpus:0.5;mem:64")
	other.line(t, "TASK_FINISHED for task clitask-b")
	if out, errOut, code = mesosCLI(t, bin, m, "cat", "clitask-"); code != 0 || out != "b\n" {
		t.Fatalf("mesos cat of a unique prefix: %d %q %q", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cat", "cli"}, "ambiguous: it matches clitask, clitask-b"},
		{[]string{"cat", "nosuch"}, `no task "nosuch"`},
		{[]string{"cat", "clitask", "nofile"}, "no file"},
	} {
		if _, errOut, code := mesosCLI(t, bin, append([]string{m}, c.args...)...); code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("mesos %v: %d %q, want %q", c.args, code, errOut, c.want)
		}
	}

	// A standby master sends the command on to the leader; with no
	// leader it says so.
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/master/redirect" {
			http.Error(w, "a standby master", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Location", "//"+c.master)
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer standby.Close()
	if out, errOut, code = mesosCLI(t, bin, "--master="+strings.TrimPrefix(standby.URL, "http://"), "ps", "--all"); code != 0 || !strings.Contains(out, "clitask") {
		t.Fatalf("mesos ps through a standby master: %d %q %q", code, out, errOut)
	}
	leaderless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "No leader elected", http.StatusServiceUnavailable)
	}))
	defer leaderless.Close()
	if _, errOut, code = mesosCLI(t, bin, "--master="+strings.TrimPrefix(leaderless.URL, "http://"), "ps"); code != 1 || !strings.Contains(errOut, "no leading master") {
		t.Fatalf("mesos ps without a leader: %d %q", code, errOut)
	}

	// The slave is gone (killed: the master has not noticed yet).
	slave.signal(syscall.SIGKILL)
	if code := slave.exitCode(t); code == 0 {
		t.Fatalf("killed slave exited 0")
	}
	if _, errOut, code = mesosCLI(t, bin, m, "cat", "clitask"); code != 1 || !strings.Contains(errOut, "not reachable") {
		t.Fatalf("mesos cat with the slave down: %d %q", code, errOut)
	}
}

// mesos-execute says why no offer fits instead of waiting silently, and a
// framework of a role runs on unreserved resources.
func TestMesosExecuteReportsWhyNoOfferFits(t *testing.T) {
	c, _ := startBinCluster(t)
	big := c.execute(t, "--name=big", "--command=true", "--resources=cpus:64;mem:64", "--match_timeout=2secs")
	big.line(t, "no offer could run task 'big'")
	big.line(t, "needs cpus:64, offered cpus:4")
	if code := big.exitCode(t); code != 1 {
		t.Fatalf("mesos-execute of a task no offer fits exited %d, want 1", code)
	}
	role := c.execute(t, "--name=dev", "--role=dev", "--command=true", "--resources=cpus:0.5;mem:64")
	role.line(t, "TASK_FINISHED for task dev")
	if code := role.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute --role=dev exited %d", code)
	}
}
