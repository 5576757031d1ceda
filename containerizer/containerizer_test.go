package containerizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/cgroups"
	"github.com/gomesos/gomesos/containerizer/fetcher"
	"github.com/gomesos/gomesos/containerizer/procstat"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/resources"
)

// sampleTime is the fixed clock of the tests' usage samples.
var sampleTime = time.Unix(1700000000, 500000000)

func newTestContainerizer(t *testing.T, isolation string) *Mesos {
	t.Helper()
	f, err := fetcher.New(fetcher.Config{CacheDir: t.TempDir(), CacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewMesos(Config{Isolation: isolation, CgroupsRoot: testRoot(t), Fetcher: f, Now: fixedNow, Pause: walltime.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testRoot is a cgroups root of this test's own, removed at its end.
func testRoot(t *testing.T) string {
	root := fmt.Sprintf("gomesos-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() {
		for _, sub := range []string{cgroups.CPU, cgroups.CPUAcct, cgroups.Memory, cgroups.Freezer} {
			_ = cgroups.Remove(sub, root, walltime.Sleep)
		}
	})
	return root
}

func spec(t *testing.T, id, command, res string) LaunchSpec {
	r, err := resources.Parse(res, "*")
	if err != nil {
		t.Fatal(err)
	}
	return LaunchSpec{
		ContainerID: id, Command: &mesos.CommandInfo{Value: proto.String(command)},
		Resources: r, Directory: t.TempDir(), Env: []string{"PATH=" + os.Getenv("PATH")},
	}
}

func fixedNow() time.Time { return sampleTime }

// get waits (bounded) for f, which real processes complete.
func get[T any](t *testing.T, f future.Future[T]) (T, error) {
	t.Helper()
	if !f.Await(30 * time.Second) { // wall-clock: bounds the wait for a real process
		t.Fatalf("future still pending after 30 s")
	}
	return f.Get()
}

// wait bounds a test's wait for an OS process.
func wait(t *testing.T, c *Mesos, id string) Termination {
	t.Helper()
	term, err := get(t, c.Wait(id))
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	return term
}

func TestPosixLaunchUsageAndDestroyKillsTheTree(t *testing.T) {
	c := newTestContainerizer(t, "")
	if got := strings.Join(c.Isolators(), ","); got != "posix/cpu,posix/mem" {
		t.Fatalf("default isolators %q", got)
	}
	s := spec(t, "c1", "sleep 1000 & sleep 1000 & echo started > ready; wait", "cpus:0.5;mem:64")
	// The shell writes to the fifo once its children exist; opening it
	// for reading blocks until then.
	if err := syscall.Mkfifo(filepath.Join(s.Directory, "ready"), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, err := get(t, c.Launch(s))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Directory, "ready")); err != nil || string(b) != "started\n" {
		t.Fatalf("ready fifo: %q %v", b, err)
	}
	tree, _ := procstat.Tree(pid)
	if len(tree) < 3 {
		t.Fatalf("container tree %v, want the shell and two sleeps", tree)
	}
	st, err := get(t, c.Usage("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if st.GetTimestamp() != 1700000000.5 {
		t.Fatalf("sample time stamp %v, want the Config.Now clock's", st.GetTimestamp())
	}
	if st.GetProcesses() < 3 || st.GetMemRssBytes() == 0 || st.GetCpusLimit() != 0.5 || st.GetMemLimitBytes() != 64<<20 {
		t.Fatalf("usage %v", st)
	}
	if _, err := get(t, c.Destroy("c1")); err != nil {
		t.Fatal(err)
	}
	wait(t, c, "c1")
	for _, p := range tree {
		if _, err := procstat.Stat(p); err == nil {
			if pr, _ := procstat.Stat(p); pr.State != 'Z' {
				t.Fatalf("process %d of the destroyed container still runs", p)
			}
		}
	}
	if _, err := get(t, c.Usage("c1")); err == nil {
		t.Fatal("usage of a destroyed container")
	}
}

func TestExitStatusAndFetch(t *testing.T) {
	c := newTestContainerizer(t, "posix/cpu")
	src := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(src, []byte("exit 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := spec(t, "c2", "sh script.sh", "cpus:0.1;mem:32")
	s.Command.Uris = []*mesos.CommandInfo_URI{{Value: proto.String(src)}}
	if _, err := get(t, c.Launch(s)); err != nil {
		t.Fatal(err)
	}
	term := wait(t, c, "c2")
	if term.Status>>8 != 3 || term.Limited {
		t.Fatalf("termination %+v, want exit status 3", term)
	}
	bad := spec(t, "c3", "true", "cpus:0.1")
	bad.Command.Uris = []*mesos.CommandInfo_URI{{Value: proto.String("hdfs://nowhere/x")}}
	if _, err := get(t, c.Launch(bad)); err == nil || !strings.Contains(err.Error(), "fetch") {
		t.Fatalf("launch with an unfetchable URI: %v", err)
	}
	if left := c.Containers().Value(); len(left) != 0 {
		t.Fatalf("containers left: %v", left)
	}
}

func TestUnknownIsolator(t *testing.T) {
	if _, err := NewMesos(Config{Isolation: "posix/cpu,network/port_mapping", Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "network/port_mapping") {
		t.Fatalf("unknown isolator: %v", err)
	}
}

func TestRecoverAdoptsLiveContainers(t *testing.T) {
	c1 := newTestContainerizer(t, "")
	s := spec(t, "r1", "sleep 1000", "cpus:0.1;mem:32")
	pid, err := get(t, c1.Launch(s))
	if err != nil {
		t.Fatal(err)
	}
	c2 := newTestContainerizer(t, "")
	alive, err := get(t, c2.Recover([]Recovered{{ContainerID: "r1", PID: pid}, {ContainerID: "gone", PID: 0}}))
	if err != nil {
		t.Fatal(err)
	}
	if !alive["r1"] || alive["gone"] {
		t.Fatalf("alive %v", alive)
	}
	if _, err := get(t, c2.Destroy("r1")); err != nil {
		t.Fatal(err)
	}
	if term := wait(t, c2, "r1"); term.Status != -1 {
		t.Fatalf("a recovered container's status is unknown, got %+v", term)
	}
	wait(t, c1, "r1")
}

func requireCgroups(t *testing.T) {
	t.Helper()
	if err := cgroups.Available(cgroups.CPU, cgroups.CPUAcct, cgroups.Memory, cgroups.Freezer); err != nil {
		t.Skipf("cgroups v1 are not usable here (need root and cpu, cpuacct, memory, freezer mounted): %v", err)
	}
}

func TestCgroupsMemoryLimitEndsContainer(t *testing.T) {
	requireCgroups(t)
	c := newTestContainerizer(t, "cgroups/cpu,cgroups/mem")
	// tail keeps the whole input in memory: 256 MB against a 32 MB limit.
	s := spec(t, "hog", "head -c 268435456 /dev/zero | tail -c 268435456 > /dev/null", "cpus:0.5;mem:32")
	if _, err := get(t, c.Launch(s)); err != nil {
		t.Fatal(err)
	}
	term := wait(t, c, "hog")
	if !term.Limited || term.Reason != mesos.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY || !strings.Contains(term.Message, "Memory limit exceeded") {
		t.Fatalf("termination %+v, want a memory limitation", term)
	}
}

func TestCgroupsUsageAndOrphanCleanup(t *testing.T) {
	requireCgroups(t)
	root := testRoot(t)
	c1, err := NewMesos(Config{Isolation: "cgroups/cpu,cgroups/mem", CgroupsRoot: root, Now: fixedNow, Pause: walltime.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	s := spec(t, "o1", "sleep 1000", "cpus:0.5;mem:64")
	if _, err := get(t, c1.Launch(s)); err != nil {
		t.Fatal(err)
	}
	st, err := get(t, c1.Usage("o1"))
	if err != nil {
		t.Fatal(err)
	}
	if st.GetMemLimitBytes() != 64<<20 || st.CpusUserTimeSecs == nil {
		t.Fatalf("cgroups usage %v", st)
	}
	if shares, _ := cgroups.Shares(root + "/o1"); shares != 512 {
		t.Fatalf("cpu.shares %d, want 512", shares)
	}
	// A new containerizer that was not told about o1 destroys it.
	c2, err := NewMesos(Config{Isolation: "cgroups/cpu,cgroups/mem", CgroupsRoot: root, Now: fixedNow, Pause: walltime.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, c2.Recover(nil)); err != nil {
		t.Fatal(err)
	}
	wait(t, c1, "o1")
	if ok, _ := cgroups.Exists(cgroups.Freezer, root+"/o1"); ok {
		t.Fatal("the orphan's freezer cgroup is still there")
	}
}

func TestRunsAsTheFrameworkUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	c := newTestContainerizer(t, "")
	s := spec(t, "u1", `echo "$(id -un) $USER $HOME"`, "cpus:0.1;mem:32")
	s.User = "nobody"
	// The test's temporary directories are private; nobody must reach
	// its sandbox.
	for _, d := range []string{filepath.Dir(s.Directory), s.Directory} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(t, c.Launch(s)); err != nil {
		t.Fatal(err)
	}
	if term := wait(t, c, "u1"); term.Status != 0 {
		t.Fatalf("exit %+v", term)
	}
	out, _ := os.ReadFile(filepath.Join(s.Directory, "stdout"))
	if !strings.HasPrefix(string(out), "nobody nobody /") {
		t.Fatalf("ran as %q", out)
	}
	bad := spec(t, "u2", "true", "cpus:0.1")
	bad.User = "no-such-user-here"
	if _, err := get(t, c.Launch(bad)); err == nil || !strings.Contains(err.Error(), "no-such-user-here") {
		t.Fatalf("unknown user: %v", err)
	}
}
