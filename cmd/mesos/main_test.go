package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const stateJSON = `{
 "leader": "master@127.0.0.1:5050",
 "slaves": [{"id": "S0", "pid": "slave(1)@127.0.0.1:5051", "hostname": "host-a"}],
 "frameworks": [{"id": "F0", "name": "web", "user": "alice",
   "tasks": [{"id": "web-1", "name": "web one", "state": "TASK_RUNNING", "framework_id": "F0", "slave_id": "S0", "resources": {"cpus": 0.5, "mem": 64}},
             {"id": "web-2", "name": "web two", "state": "TASK_STAGING", "framework_id": "F0", "slave_id": "S0", "resources": {"cpus": 1, "mem": 128}}],
   "completed_tasks": [{"id": "batch-7", "name": "batch", "state": "TASK_FINISHED", "framework_id": "F0", "slave_id": "S0", "resources": {"cpus": 1}}]}],
 "completed_frameworks": [{"id": "F1", "name": "old", "user": "bob",
   "completed_tasks": [{"id": "old-1", "state": "TASK_KILLED", "framework_id": "F1", "slave_id": "S9"}]}]
}`

func testState(t *testing.T) *masterState {
	t.Helper()
	var s masterState
	if err := json.Unmarshal([]byte(stateJSON), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestFindTask(t *testing.T) {
	s := testState(t)
	for name, want := range map[string]string{"web-1": "web-1", "web-2": "web-2", "bat": "batch-7", "old": "old-1", "o": "old-1"} {
		r, err := s.findTask(name)
		if err != nil || r.task.ID != want {
			t.Errorf("%q: %q %v, want %q", name, r.task.ID, err, want)
		}
	}
	if _, err := s.findTask("web"); err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "web-1, web-2") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := s.findTask("nope"); err == nil || !strings.Contains(err.Error(), `no task "nope"`) {
		t.Errorf("unknown task: %v", err)
	}
}

func TestFormatPS(t *testing.T) {
	s := testState(t)
	var b bytes.Buffer
	if err := formatPS(&b, s, s.tasks(false)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "web-1") ||
		!strings.Contains(lines[1], "TASK_RUNNING") || !strings.Contains(lines[1], "host-a") || !strings.Contains(lines[1], "0.5") || !strings.Contains(lines[1], "64MB") {
		t.Fatalf("ps:\n%s", out)
	}
	b.Reset()
	_ = formatPS(&b, s, s.tasks(true))
	if out := b.String(); !strings.Contains(out, "batch-7") || !strings.Contains(out, "old-1") || !strings.Contains(out, "S9") {
		t.Fatalf("ps --all:\n%s", out)
	}
}

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		data string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"a\nb\nc\n", 10, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"", 5, ""},
		{"only", 1, "only"},
		{"a\n\n\n", 2, "\n\n"},
	} {
		if got := lastLines(c.data, c.n); got != c.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", c.data, c.n, got, c.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"tail", "-f", "-n", "3", "t1", "--master=10.0.0.1:5050", "stderr"}, []string{"MESOS_PRINCIPAL=ops", "MESOS_SECRET=s"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.follow || o.lines != 3 || o.master != "10.0.0.1:5050" || o.principal != "ops" || o.secret != "s" || strings.Join(o.args, " ") != "tail t1 stderr" {
		t.Fatalf("%+v", o)
	}
	if o, _ := parseArgs([]string{"ps"}, []string{"MESOS_MASTER=master@10.0.0.2:5050"}); o.master != "10.0.0.2:5050" {
		t.Fatalf("MESOS_MASTER: %q", o.master)
	}
	if o, _ := parseArgs([]string{"ps"}, nil); o.master != "127.0.0.1:5050" {
		t.Fatalf("default master: %q", o.master)
	}
	for _, bad := range [][]string{{"ps", "--bogus"}, {"tail", "-n", "x", "t"}, {"tail", "-n"}, {"ps", "--master=zk://h:2181/mesos"}} {
		if _, err := parseArgs(bad, nil); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"frobnicate"}, nil, &out, &errb, nil); code != 1 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
	if code := run([]string{"cat"}, nil, &out, &errb, nil); code != 1 || !strings.Contains(errb.String(), "which task?") {
		t.Fatalf("cat without a task: %d %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"help"}, nil, &out, &errb, nil); code != 0 || !strings.Contains(out.String(), "mesos ps") && !strings.Contains(out.String(), "ps [--all]") {
		t.Fatalf("help: %d %q", code, out.String())
	}
}

func TestSandbox(t *testing.T) {
	var s slaveState
	_ = json.Unmarshal([]byte(`{"frameworks":[{"id":"F0","executors":[{"id":"e","directory":"/w/e","tasks":[{"id":"t1"}]}],
		"completed_executors":[{"id":"e0","directory":"/w/e0","completed_tasks":[{"id":"t0"}]}]}]}`), &s)
	if d, ok := s.sandbox("F0", "t1"); !ok || d != "/w/e" {
		t.Errorf("t1: %q %v", d, ok)
	}
	if d, ok := s.sandbox("F0", "t0"); !ok || d != "/w/e0" {
		t.Errorf("t0: %q %v", d, ok)
	}
	if _, ok := s.sandbox("F1", "t1"); ok {
		t.Error("t1 of another framework found")
	}
}
