//go:build linux

package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/walltime"
)

// helperEnv makes the re-executed test binary a busy helper process.
const helperEnv = "GOMESOS_PROCSTAT_TEST_HELPER"

// bound is how long a test waits, in wall-clock time, for another process.
const bound = 30 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		helperSpin()
		os.Exit(0)
	}
	// Orphans of the trees the tests kill are re-parented to this
	// process, which reaps them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl(PR_SET_CHILD_SUBREAPER):", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

var sink []byte

// helperSpin burns 100ms of CPU, holds 16MB, says "spun" and lives until
// its stdin closes.
func helperSpin() {
	cpu := func() time.Duration {
		var ru unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, x := cpu(), 0
	for cpu()-start < 100*time.Millisecond {
		for i := range 1 << 16 {
			x += i
		}
	}
	sink = make([]byte, 16<<20)
	for i := 0; i < len(sink); i += 4096 {
		sink[i] = byte(x)
	}
	fmt.Println("spun")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// proc is a started child with its stdout lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

// start runs cmd, collecting its stdout lines, and kills it at the end of
// the test.
func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	if cmd.Stdin == nil {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close() })
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := &proc{cmd: cmd, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case err := <-p.done:
			p.done <- err
		case <-time.After(bound): // wall-clock: failure guard
			t.Errorf("process %d did not exit", cmd.Process.Pid)
		}
		killOrphans(t)
	})
	return p
}

// killOrphans kills and reaps the processes re-parented to this
// (subreaper) process that a failed test left behind. Unreaped children
// keep their pids, so none of these can be an unrelated process.
func killOrphans(t *testing.T) {
	procs, err := Snapshot()
	if err != nil {
		t.Error(err)
		return
	}
	for _, o := range procs {
		if o.PPid == os.Getpid() {
			_ = syscall.Kill(o.Pid, syscall.SIGKILL)
			reap(t, o.Pid)
		}
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatal("process closed its stdout")
		}
		return l
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatal("no line from the process")
		return ""
	}
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatalf("process %d did not exit", p.pid())
		return nil
	}
}

// reap waits for an orphan re-parented to this (subreaper) process. It
// reports false when the process is not this process's child: its own
// parent reaped it before dying, so it is gone too.
// execed waits (up to bound) until n of root's descendants run the
// program named comm.
func execed(t *testing.T, root int, comm string, n int) {
	t.Helper()
	deadline := time.Now().Add(bound) // wall-clock: failure guard
	for {
		tree, err := Tree(root)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, pid := range tree {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == comm {
				k++
			}
		}
		if k >= n {
			return
		}
		if time.Now().After(deadline) { // wall-clock: failure guard
			t.Fatalf("%d of %d descendants of %d run %s after %v", k, n, root, comm, bound)
		}
		walltime.Sleep(5 * time.Millisecond) // polling /proc: no event says a child has exec'd
	}
}

func reap(t *testing.T, pid int) (unix.WaitStatus, bool) {
	t.Helper()
	type result struct {
		ws unix.WaitStatus
		ok bool
	}
	got := make(chan result, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			switch err {
			case unix.EINTR:
				continue
			case nil:
				got <- result{ws, true}
			case unix.ECHILD:
				got <- result{}
			default:
				t.Errorf("wait4(%d): %v", pid, err)
				got <- result{}
			}
			return
		}
	}()
	select {
	case r := <-got:
		return r.ws, r.ok
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatalf("orphan %d did not exit", pid)
		return 0, false
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 30 5 20 0 3 0 123 4096 200 18446744073709551615\n"
	p, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Process{
		Pid: 4242, PPid: 1, Pgrp: 4242, Session: 4242, Comm: "a (weird) name", State: 'S',
		UserTime: 2500 * time.Millisecond, SystemTime: 750 * time.Millisecond,
		ChildrenUserTime: 300 * time.Millisecond, ChildrenSystemTime: 50 * time.Millisecond,
		Threads: 3,
	}
	if p != want {
		t.Fatalf("parseStat = %+v\nwant %+v", p, want)
	}
	for _, bad := range []string{"", "12 no parens S 1", "12 (x) S 1 2", "x (y) S 1 1 1 0 -1 0 0 0 0 0 1 1 1 1 20 0 1 0"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

func TestStatSelf(t *testing.T) {
	p, err := Stat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid != os.Getpid() || p.PPid != os.Getppid() || p.Threads < 1 {
		t.Fatalf("Stat(self) = %+v", p)
	}
}

func TestTree(t *testing.T) {
	p := start(t, exec.Command("/bin/sh", "-c", "sleep 100 & sleep 100 & echo ready; wait"))
	if l := p.line(t); l != "ready" {
		t.Fatalf("got %q", l)
	}
	pids, err := Tree(p.pid())
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 3 || pids[0] != p.pid() {
		t.Fatalf("Tree(%d) = %v; want the shell and two children", p.pid(), pids)
	}
	killed, err := KillTree(p.pid(), syscall.SIGKILL, walltime.Sleep)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(killed)
	slices.Sort(pids)
	if !slices.Equal(killed, pids) {
		t.Fatalf("KillTree signalled %v, want %v", killed, pids)
	}
	p.wait(t)
	for _, pid := range pids[1:] {
		if ws, ok := reap(t, pid); ok && (!ws.Signaled() || ws.Signal() != unix.SIGKILL) {
			t.Errorf("child %d: %v", pid, ws)
		}
	}
	if _, err := Tree(p.pid()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tree of a dead process = %v", err)
	}
}

func TestUsage(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	p := start(t, cmd)
	if l := p.line(t); l != "spun" {
		t.Fatalf("got %q", l)
	}
	s, err := Usage([]int{p.pid()})
	if err != nil {
		t.Fatal(err)
	}
	if s.UserTime+s.SystemTime < 50*time.Millisecond || s.RSS < 16<<20 || s.Processes != 1 || s.Threads < 1 {
		t.Fatalf("Usage = %+v", s)
	}
	var st mesos.ResourceStatistics
	s.Fill(&st)
	if st.GetCpusUserTimeSecs()+st.GetCpusSystemTimeSecs() < 0.05 || st.GetMemRssBytes() != s.RSS ||
		st.GetProcesses() != 1 || st.GetThreads() != uint32(s.Threads) {
		t.Fatalf("Fill = %v", &st)
	}
	if _, err := Usage(nil); err != nil {
		t.Fatalf("Usage(nil) = %v", err)
	}
	if _, err := KillTree(p.pid(), syscall.SIGKILL, walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	if _, err := Usage([]int{p.pid()}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Usage of a reaped process = %v", err)
	}
}

// TestKillTreeCatchableSignal checks that SIGCONT follows, so that a
// stopped shell runs its SIGTERM trap.
func TestKillTreeCatchableSignal(t *testing.T) {
	p := start(t, exec.Command("/bin/sh", "-c", `trap "exit 7" TERM; sleep 100 & sleep 100 & echo ready; wait`))
	if l := p.line(t); l != "ready" {
		t.Fatalf("got %q", l)
	}
	// The shell's children catch TERM with its trap until they exec
	// sleep (the trap then runs in a process about to exec, and the
	// signal is lost): wait until both are sleep.
	execed(t, p.pid(), "sleep", 2)
	pids, err := KillTree(p.pid(), syscall.SIGTERM, walltime.Sleep)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 3 {
		t.Fatalf("KillTree signalled %v; want 3 processes", pids)
	}
	var ee *exec.ExitError
	if err := p.wait(t); !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("shell exit = %v; want its trap's status 7", err)
	}
	for _, pid := range pids[1:] {
		if ws, ok := reap(t, pid); ok && (!ws.Signaled() || ws.Signal() != unix.SIGTERM) {
			t.Errorf("child %d: %v", pid, ws)
		}
	}
}

// TestKillTreeSession checks that an orphan left in the root's session is
// killed too.
func TestKillTreeSession(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "(sleep 100 & echo $!); echo ready; exec sleep 100")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := start(t, cmd)
	orphan, err := strconv.Atoi(p.line(t))
	if err != nil {
		t.Fatal(err)
	}
	if l := p.line(t); l != "ready" {
		t.Fatalf("got %q", l)
	}
	tree, err := Tree(p.pid())
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(tree, orphan) {
		t.Fatalf("orphan %d is still in the tree %v", orphan, tree)
	}
	pids, err := KillTree(p.pid(), syscall.SIGKILL, walltime.Sleep)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, orphan) || !slices.Contains(pids, p.pid()) {
		t.Fatalf("KillTree signalled %v; want the shell %d and the orphan %d", pids, p.pid(), orphan)
	}
	p.wait(t)
	if ws, ok := reap(t, orphan); !ok || !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Errorf("orphan: %v (reaped here: %v)", ws, ok)
	}
}

func TestKillTreeRefusals(t *testing.T) {
	for _, root := range []int{-1, 0, 1} {
		if _, err := KillTree(root, 0, walltime.Sleep); err == nil {
			t.Errorf("KillTree(%d) succeeded", root)
		}
	}
	// A pid beyond pid_max never exists.
	if _, err := KillTree(1<<30, syscall.SIGKILL, walltime.Sleep); !errors.Is(err, ErrNotFound) {
		t.Errorf("KillTree(missing) = %v", err)
	}
}
