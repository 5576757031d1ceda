//go:build linux

package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/walltime"
)

// helperEnv selects a helper mode when the test binary re-executes itself
// as a child process to put in a cgroup.
const helperEnv = "GOMESOS_CGROUPS_TEST_HELPER"

// bound is how long a test waits, in wall-clock time, for another OS
// process or the kernel.
const bound = 30 * time.Second

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "spin":
		helperSpin()
	case "alloc":
		helperAlloc()
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode")
		os.Exit(2)
	}
	os.Exit(0)
}

// sink keeps the helpers' allocations reachable.
var sink [][]byte

// touched allocates n bytes and writes every page, so they count as RSS.
func touched(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return b
}

// cpuTime is the CPU this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// helperSpin waits for "go", then burns 100ms of CPU and holds 16MB, says
// "spun", and lives until its stdin closes.
func helperSpin() {
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(3)
	}
	start := cpuTime()
	x := 0
	for cpuTime()-start < 100*time.Millisecond {
		for i := range 1 << 16 {
			x += i
		}
	}
	sink = append(sink, touched(16<<20), []byte{byte(x)})
	fmt.Println("spun")
	_, _ = io.Copy(io.Discard, in)
}

// helperAlloc waits for "go", then allocates and touches up to 1GB.
func helperAlloc() {
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(3)
	}
	for range 1024 {
		sink = append(sink, touched(1<<20))
	}
	fmt.Println("survived")
}

// child is a helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

// startHelper starts the test binary in the given helper mode and kills
// it at the end of the test.
func startHelper(t *testing.T, mode string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		select {
		case <-c.done:
		case <-time.After(bound): // wall-clock: failure guard
			t.Errorf("helper %d did not exit", cmd.Process.Pid)
		}
	})
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (c *child) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got, ok := <-c.lines:
		if !ok || got != want {
			t.Fatalf("helper said %q (open %v), want %q", got, ok, want)
		}
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatalf("helper did not say %q", want)
	}
}

// wait returns the helper's exit error.
func (c *child) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatalf("helper %d did not exit", c.pid())
		return nil
	}
}

// killedBy reports whether a helper's exit error is death by sig.
func killedBy(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// needCgroups skips the test unless cgroups v1 can be used here.
func needCgroups(t *testing.T) {
	t.Helper()
	if err := Available(CPU, CPUAcct, Memory, Freezer); err != nil {
		t.Skipf("needs root and cgroups v1 cpu, cpuacct, memory and freezer hierarchies: %v", err)
	}
}

// newCgroups creates a fresh cgroup "gomesos-test-<random>" below this
// process's own cgroup in each subsystem (so a test child stays within
// whatever limits this process runs under), and destroys them at the end.
func newCgroups(t *testing.T, subsystems ...string) map[string]string {
	t.Helper()
	name := fmt.Sprintf("gomesos-test-%d-%08x", os.Getpid(), rand.Uint32())
	out := make(map[string]string)
	for _, s := range subsystems {
		self, err := Self(s)
		if err != nil {
			t.Fatal(err)
		}
		cg := path.Join(self, name)
		if err := Create(s, cg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := KillAll(s, cg, walltime.Sleep); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		out[s] = cg
	}
	return out
}

func TestAvailableUnknownSubsystem(t *testing.T) {
	if err := Available(CPU); err != nil {
		t.Skipf("cgroups unavailable: %v", err)
	}
	err := Available("no-such-subsystem")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrNotMounted) {
		t.Fatalf("Available(bogus) = %v", err)
	}
	if _, err := Mount("no-such-subsystem"); !errors.Is(err, ErrNotMounted) {
		t.Fatalf("Mount(bogus) = %v", err)
	}
}

func TestContainerLifecycle(t *testing.T) {
	needCgroups(t)
	cgs := newCgroups(t, CPU, CPUAcct, Memory, Freezer)
	h := startHelper(t, "spin")
	for s, cg := range cgs {
		if err := Assign(s, cg, h.pid()); err != nil {
			t.Fatal(err)
		}
		pids, err := Pids(s, cg)
		if err != nil || !slices.Equal(pids, []int{h.pid()}) {
			t.Fatalf("Pids(%s, %s) = %v, %v; want [%d]", s, cg, pids, err, h.pid())
		}
		if got, err := Of(h.pid(), s); err != nil || got != cg {
			t.Fatalf("Of(%d, %s) = %q, %v; want %q", h.pid(), s, got, err, cg)
		}
	}
	if tasks, err := Tasks(CPU, cgs[CPU]); err != nil || len(tasks) < 1 {
		t.Fatalf("Tasks = %v, %v", tasks, err)
	}

	// CPU limits.
	if err := SetShares(cgs[CPU], 0.5); err != nil {
		t.Fatal(err)
	}
	if n, err := Shares(cgs[CPU]); err != nil || n != 512 {
		t.Fatalf("Shares = %d, %v; want 512", n, err)
	}
	if err := SetCFSQuota(cgs[CPU], 0.5, 0); err != nil {
		t.Fatal(err)
	}
	if q, p, err := CFSQuota(cgs[CPU]); err != nil || q != 50*time.Millisecond || p != DefaultCFSPeriod {
		t.Fatalf("CFSQuota = %v, %v, %v; want 50ms, 100ms", q, p, err)
	}

	// Memory limit: the first one is hard.
	const mb = 1 << 20
	if hard, err := SetLimit(cgs[Memory], 256*mb); err != nil || !hard {
		t.Fatalf("first SetLimit = %v, %v; want a hard limit", hard, err)
	}
	if l, err := Limit(cgs[Memory]); err != nil || l != 256*mb {
		t.Fatalf("Limit = %d, %v", l, err)
	}

	h.send(t, "go")
	h.expect(t, "spun")

	acct, err := CPUAcctStats(cgs[CPUAcct])
	if err != nil {
		t.Fatal(err)
	}
	if acct.Usage <= 0 || acct.User+acct.System <= 0 {
		t.Errorf("CPUAcctStats = %+v; want CPU time", acct)
	}
	cfs, err := CPUStats(cgs[CPU])
	if err != nil {
		t.Fatal(err)
	}
	if cfs.Periods == 0 {
		t.Errorf("CPUStats = %+v; want enforcement periods", cfs)
	}
	mem, err := MemoryUsage(cgs[Memory])
	if err != nil {
		t.Fatal(err)
	}
	if mem.Usage == 0 || mem.Stat["total_rss"] < 8*mb || mem.Limit != 256*mb || mem.SoftLimit != 256*mb {
		t.Errorf("MemoryUsage = usage %d rss %d limit %d soft %d", mem.Usage, mem.Stat["total_rss"], mem.Limit, mem.SoftLimit)
	}
	var st mesos.ResourceStatistics
	acct.Fill(&st)
	cfs.Fill(&st)
	mem.Fill(&st)
	if st.CpusUserTimeSecs == nil || st.MemRssBytes == nil || st.GetMemLimitBytes() != 256*mb || st.CpusNrPeriods == nil {
		t.Errorf("filled statistics: %v", &st)
	}
	if oom, err := OOMControl(cgs[Memory]); err != nil || oom.UnderOOM || oom.Kills != 0 {
		t.Errorf("OOMControl = %+v, %v", oom, err)
	}

	// Shrinking keeps the hard limit and lowers the soft one; growing
	// raises both.
	if hard, err := SetLimit(cgs[Memory], 128*mb); err != nil || hard {
		t.Fatalf("shrinking SetLimit = %v, %v; want soft only", hard, err)
	}
	if m, err := MemoryUsage(cgs[Memory]); err != nil || m.Limit != 256*mb || m.SoftLimit != 128*mb {
		t.Fatalf("after shrinking: limit %d soft %d, %v", m.Limit, m.SoftLimit, err)
	}
	if hard, err := SetLimit(cgs[Memory], 512*mb); err != nil || !hard {
		t.Fatalf("growing SetLimit = %v, %v; want hard", hard, err)
	}

	// Freezer.
	if err := Freeze(cgs[Freezer], walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	if s, err := FreezerState(cgs[Freezer]); err != nil || s != Frozen {
		t.Fatalf("state after Freeze = %q, %v", s, err)
	}
	if err := Thaw(cgs[Freezer], walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	if s, err := FreezerState(cgs[Freezer]); err != nil || s != Thawed {
		t.Fatalf("state after Thaw = %q, %v", s, err)
	}

	// Orphan detection lists the parent.
	children, err := List(Freezer, path.Dir("/"+cgs[Freezer]))
	if err != nil || !slices.Contains(children, cgs[Freezer]) {
		t.Fatalf("List = %v, %v; want it to hold %q", children, err, cgs[Freezer])
	}

	// Destroy.
	if err := KillAll(Freezer, cgs[Freezer], walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	if err := h.wait(t); !killedBy(err, syscall.SIGKILL) {
		t.Fatalf("helper exit = %v; want SIGKILL", err)
	}
	for s, cg := range cgs {
		if err := KillAll(s, cg, walltime.Sleep); err != nil {
			t.Fatal(err)
		}
		if ok, err := Exists(s, cg); err != nil || ok {
			t.Fatalf("Exists(%s, %s) after KillAll = %v, %v", s, cg, ok, err)
		}
	}
	// Idempotent.
	if err := KillAll(Freezer, cgs[Freezer], walltime.Sleep); err != nil {
		t.Fatalf("second KillAll: %v", err)
	}
}

func TestKillAllNested(t *testing.T) {
	needCgroups(t)
	top := newCgroups(t, Freezer)[Freezer]
	a, b := path.Join(top, "a"), path.Join(top, "a", "b")
	if err := Create(Freezer, b); err != nil {
		t.Fatal(err)
	}
	h1, h2 := startHelper(t, "spin"), startHelper(t, "spin")
	if err := Assign(Freezer, a, h1.pid()); err != nil {
		t.Fatal(err)
	}
	if err := Assign(Freezer, b, h2.pid()); err != nil {
		t.Fatal(err)
	}
	// A nested cgroup frozen on its own must be thawed too.
	if err := Freeze(b, walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	if err := KillAll(Freezer, top, walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*child{h1, h2} {
		if err := h.wait(t); !killedBy(err, syscall.SIGKILL) {
			t.Fatalf("helper %d exit = %v; want SIGKILL", h.pid(), err)
		}
	}
	if ok, err := Exists(Freezer, top); err != nil || ok {
		t.Fatalf("Exists after KillAll = %v, %v", ok, err)
	}
}

func TestKillRefusesOwnCgroup(t *testing.T) {
	needCgroups(t)
	if err := Kill(Freezer, "", walltime.Sleep); err == nil {
		t.Error("Kill of the root cgroup succeeded")
	}
	self, err := Self(Memory)
	if err != nil {
		t.Fatal(err)
	}
	if self != "" {
		if err := Kill(Memory, self, walltime.Sleep); err == nil {
			t.Error("Kill of this process's own cgroup succeeded")
		}
	}
	if err := Remove(Memory, "/", walltime.Sleep); err == nil {
		t.Error("Remove of the root cgroup succeeded")
	}
}

func TestOOM(t *testing.T) {
	needCgroups(t)
	cg := newCgroups(t, Memory)[Memory]
	const mb = 1 << 20
	if hard, err := SetLimit(cg, 32*mb); err != nil || !hard {
		t.Fatalf("SetLimit = %v, %v", hard, err)
	}
	oom, cancel, err := OOMListen(cg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	h := startHelper(t, "alloc")
	if err := Assign(Memory, cg, h.pid()); err != nil {
		t.Fatal(err)
	}
	h.send(t, "go")
	select {
	case <-oom:
	case <-time.After(bound): // wall-clock: failure guard
		t.Fatal("no OOM event")
	}
	if err := h.wait(t); !killedBy(err, syscall.SIGKILL) {
		t.Fatalf("helper exit = %v; want the OOM killer's SIGKILL", err)
	}
	st, err := OOMControl(cg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Kills == 0 {
		t.Errorf("OOMControl = %+v; want a kill counted", st)
	}
	cancel()
	cancel() // twice is fine
}

func TestOOMListenRemovedCgroup(t *testing.T) {
	needCgroups(t)
	cg := newCgroups(t, Memory)[Memory]
	oom, cancel, err := OOMListen(cg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Remove(Memory, cg, walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-oom:
		t.Fatal("removal reported as OOM")
	default:
	}
}

func TestKillWithoutFreezer(t *testing.T) {
	needCgroups(t)
	cg := newCgroups(t, Memory)[Memory]
	h := startHelper(t, "spin")
	if err := Assign(Memory, cg, h.pid()); err != nil {
		t.Fatal(err)
	}
	if err := KillAll(Memory, cg, walltime.Sleep); err != nil {
		t.Fatal(err)
	}
	if err := h.wait(t); !killedBy(err, syscall.SIGKILL) {
		t.Fatalf("helper exit = %v; want SIGKILL", err)
	}
	if ok, err := Exists(Memory, cg); err != nil || ok {
		t.Fatalf("Exists after KillAll = %v, %v", ok, err)
	}
}
