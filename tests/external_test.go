package tests

// The external containerizer (Mesos 0.25's protocol) with our reference
// program, cmd/mesos-external-containerizer, as a real OS program: a real
// slave launches, measures, kills and recovers command tasks through it,
// and a program that crashes or answers garbage fails the task with a
// message that says so while the slave goes on. The composing
// containerizer's refusal of a ContainerInfo nobody can run is here too.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/external"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

var (
	ecpOnce sync.Once
	ecpPath string
	ecpErr  error
)

// referenceECP builds cmd/mesos-external-containerizer once per test
// binary and returns its path.
func referenceECP(t *testing.T) string {
	t.Helper()
	ecpOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gomesos-ecp")
		if err != nil {
			ecpErr = err
			return
		}
		ecpPath = filepath.Join(dir, "mesos-external-containerizer")
		if out, err := exec.Command("go", "build", "-o", ecpPath, "github.com/gomesos/gomesos/cmd/mesos-external-containerizer").CombinedOutput(); err != nil {
			ecpErr = fmt.Errorf("build mesos-external-containerizer: %v\n%s", err, out)
		}
	})
	if ecpErr != nil {
		t.Fatal(ecpErr)
	}
	return ecpPath
}

// externalSlave starts a real slave whose only containerizer is the
// external one running program, on work (or, when work is empty, on a
// fresh work directory, waiting for its registration); it returns the
// containerizer too.
func externalSlave(t *testing.T, c *cluster.Cluster, work, program string) (*slave.Slave, *external.External) {
	t.Helper()
	launcher, err := cluster.LauncherDir()
	if err != nil {
		t.Fatal(err)
	}
	var ext *external.External
	mod := func(cfg *slave.Config) {
		ext, err = external.New(external.Config{
			Path: program, WorkDir: cfg.WorkDir, LibexecDir: launcher, Now: c.RT.Clock().Now, Logger: c.RT.Logger(),
			After: walltime.Clock{}.After, Timeout: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Containerizer = ext
	}
	if work == "" {
		s, _, _ := c.StartSlave(slaveResources, mod)
		return s, ext
	}
	s, _ := c.SpawnSlave(work, slaveResources, mod)
	return s, ext
}

// awaitWall waits for f in real time (the program runs outside the
// runtime) and returns its value.
func awaitWall[T any](t *testing.T, c *cluster.Cluster, f interface {
	Get() (T, error)
	Done() <-chan struct{}
}) T {
	t.Helper()
	c.Settle()
	select {
	case <-f.Done():
	case <-time.After(30 * time.Second): // wall-clock: bounds a wait on an OS program
		t.Fatal("the external containerizer did not answer within 30s")
	}
	v, err := f.Get()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExternalContainerizerRunsMeasuresAndKillsTasks(t *testing.T) {
	program := referenceECP(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	_, ext := externalSlave(t, c, "", program)
	work := ext.WorkDir()
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]

	// Launch: a task runs to its end through the program.
	running, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{
		cluster.CommandTask("echo", o, "cpus:0.5;mem:64", "echo hello from the external containerizer"),
		cluster.CommandTask("sleeper", o, "cpus:0.5;mem:64", "sleep 1000"),
	}, nil)
	states := map[string]mesos.TaskState{}
	for _, f := range []interface {
		Get() (*mesos.TaskStatus, error)
		Done() <-chan struct{}
	}{running, finished} {
		st := awaitWall[*mesos.TaskStatus](t, c, f)
		states[st.GetTaskId().GetValue()+"/"+st.GetState().String()] = st.GetState()
	}
	var more []*mesos.TaskStatus
	for !(has(states, "echo/TASK_FINISHED") && has(states, "sleeper/TASK_RUNNING")) {
		st := awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
		states[st.GetTaskId().GetValue()+"/"+st.GetState().String()] = st.GetState()
		more = append(more, st)
		if len(more) > 4 {
			t.Fatalf("updates %v", states)
		}
	}
	out, err := os.ReadFile(filepath.Join(sandboxOf(t, work, "echo"), "stdout"))
	if err != nil || !strings.Contains(string(out), "hello from the external containerizer") {
		t.Fatalf("sandbox stdout %q (%v)", out, err)
	}
	// The program's state is under the work directory.
	if m, _ := filepath.Glob(filepath.Join(work, "external-containerizer", "*", "launch.pb")); len(m) != 2 {
		t.Fatalf("program state %v", m)
	}

	// Usage: the program measures the live container (once the echo
	// task's executor has gone).
	ids := liveContainers(t, c, ext, 1)
	st := awaitWall[*mesos.ResourceStatistics](t, c, ext.Usage(ids[0]))
	if st.GetCpusLimit() < 0.5 || st.GetMemLimitBytes() < 64<<20 || st.GetMemRssBytes() == 0 || st.GetTimestamp() == 0 {
		t.Fatalf("usage %v", st)
	}

	// Kill: the command executor kills its task; the container ends and
	// the program's wait reports it.
	killed := sched.NextUpdate()
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("sleeper")})
	if st := awaitWall[*mesos.TaskStatus](t, c, killed); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("kill: %v %q", st.GetState(), st.GetMessage())
	}
	liveContainers(t, c, ext, 0)
}

// liveContainers waits until ext has n live containers and returns them.
func liveContainers(t *testing.T, c *cluster.Cluster, ext *external.External, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // wall-clock: bounds a wait on OS processes
	for {
		ids := awaitWall[[]string](t, c, ext.Containers())
		if len(ids) == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("live containers %v, want %d", ids, n)
		}
		time.Sleep(20 * time.Millisecond) // wall-clock: the executors are OS processes
	}
}

func has(m map[string]mesos.TaskState, k string) bool { _, ok := m[k]; return ok }

func TestExternalContainerizerRecoversAfterSlaveRestart(t *testing.T) {
	program := referenceECP(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	s1, _ := externalSlave(t, c, work, program)
	c.Advance(time.Second)
	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, waitForGo)}, nil)
	if st := awaitWall[*mesos.TaskStatus](t, c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v %q", st.GetState(), st.GetMessage())
	}
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)

	// A new slave (and a new external containerizer) on the same work
	// directory: recover, then containers, finds the container again.
	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	_, ext2 := externalSlave(t, c, work, program)
	cluster.Await(c, reregistered)
	if ids := awaitWall[[]string](t, c, ext2.Containers()); len(ids) != 1 {
		t.Fatalf("recovered containers %v", ids)
	}
	c.Advance(time.Second) // registration backoff
	cluster.Await(c, slaveBack)
	finished := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "t1"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		st := awaitWall[*mesos.TaskStatus](t, c, finished)
		if st.GetState() == mesos.TaskState_TASK_FINISHED {
			break
		}
		if st.GetState() != mesos.TaskState_TASK_RUNNING {
			t.Fatalf("after the restart: %v %q", st.GetState(), st.GetMessage())
		}
		finished = sched.NextUpdate()
	}
}

// brokenECP writes a wrapper around the reference program that
// misbehaves on command when the file it returns exists.
func brokenECP(t *testing.T, command, misbehaviour string) (program, marker string) {
	t.Helper()
	dir := t.TempDir()
	marker = filepath.Join(dir, "break")
	program = filepath.Join(dir, "ecp")
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = %q ] && [ -e %q ]; then\n%s\nexit 0\nfi\nexec %q \"$@\"\n", command, marker, misbehaviour, referenceECP(t))
	if err := os.WriteFile(program, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return program, marker
}

func TestExternalContainerizerBrokenProgramFailsTheTaskNotTheSlave(t *testing.T) {
	for _, tc := range []struct {
		name, command, misbehaviour, want string
	}{
		{"LaunchCrashes", "launch", "echo 'cannot start: out of luck' >&2; kill -SEGV $$", `"launch": killed by signal segmentation fault: cannot start: out of luck`},
		{"LaunchExitsNonZero", "launch", "echo 'no such image' >&2; exit 3", `"launch": exited with status 3: no such image`},
		{"WaitWritesGarbage", "wait", "cat >/dev/null; printf 'this is not a record'", `"wait" answered garbage`},
		{"WaitCrashes", "wait", "cat >/dev/null; kill -KILL $$", `"wait": killed by signal killed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			program, marker := brokenECP(t, tc.command, tc.misbehaviour)
			c := cluster.Start(t, cluster.Options{Network: true})
			_, ext := externalSlave(t, c, "", program)
			d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
			offers := sched.NextOffers()
			c.Advance(time.Second)
			o := cluster.Await(c, offers)[0]
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{cluster.CommandTask("bad", o, "cpus:0.5;mem:64", "sleep 1000")}, nil)
			var st *mesos.TaskStatus
			for {
				st = awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
				if st.GetState() != mesos.TaskState_TASK_RUNNING {
					break
				}
			}
			if st.GetState() != mesos.TaskState_TASK_FAILED || !strings.Contains(st.GetMessage(), tc.want) {
				t.Fatalf("broken program: %v %v %q, want TASK_FAILED with %q", st.GetState(), st.GetReason(), st.GetMessage(), tc.want)
			}
			if ids := awaitWall[[]string](t, c, ext.Containers()); len(ids) != 0 {
				t.Fatalf("containers left after the failure: %v", ids)
			}

			// The slave is unharmed: with the program mended, the next
			// task runs to its end.
			if err := os.Remove(marker); err != nil {
				t.Fatal(err)
			}
			offers = sched.NextOffers()
			c.Advance(5 * time.Second)
			o = cluster.Await(c, offers)[0]
			_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{cluster.CommandTask("good", o, "cpus:0.5;mem:64", "echo fine")}, nil)
			for {
				st := awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
				if st.GetTaskId().GetValue() != "good" || st.GetState() == mesos.TaskState_TASK_RUNNING {
					continue
				}
				if st.GetState() != mesos.TaskState_TASK_FINISHED {
					t.Fatalf("after the broken program: %v %q", st.GetState(), st.GetMessage())
				}
				break
			}
		})
	}
}

func dockerTask(id string, o *mesos.Offer) *mesos.TaskInfo {
	task := cluster.CommandTask(id, o, "cpus:0.5;mem:64", "echo should not run")
	task.Container = &mesos.ContainerInfo{
		Type:   mesos.ContainerInfo_DOCKER.Enum(),
		Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String("busybox")},
	}
	return task
}

func TestComposingContainerizerFailsATaskNoneCanRun(t *testing.T) {
	program := referenceECP(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, func(cfg *slave.Config) {
		cfg.Containerizers = "mesos,external"
		cfg.ContainerizerPath = program
	})
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	failed := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{dockerTask("docker", o)}, nil)
	st := awaitWall[*mesos.TaskStatus](t, c, failed)
	if st.GetState() != mesos.TaskState_TASK_FAILED || st.GetReason() != mesos.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED ||
		!strings.Contains(st.GetMessage(), "none of the enabled containerizers (mesos,external)") ||
		!strings.Contains(st.GetMessage(), "mesos containerizer runs no DOCKER containers") ||
		!strings.Contains(st.GetMessage(), "external containerizer runs no DOCKER containers") {
		t.Fatalf("docker task on mesos,external: %v %v %q", st.GetState(), st.GetReason(), st.GetMessage())
	}

	// A plain task goes to the first containerizer, mesos.
	offers = sched.NextOffers()
	c.Advance(5 * time.Second)
	o = cluster.Await(c, offers)[0]
	running, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("plain", o, "echo plain")}, nil)
	awaitWall[*mesos.TaskStatus](t, c, running)
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("plain task: %v %q", st.GetState(), st.GetMessage())
	}
}

func TestMesosContainerizerRefusesDockerTasks(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, nil)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	failed := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{dockerTask("docker", o)}, nil)
	st := cluster.Await(c, failed)
	if st.GetState() != mesos.TaskState_TASK_FAILED || !strings.Contains(st.GetMessage(), containerizer.ErrUnsupported.Error()) ||
		!strings.Contains(st.GetMessage(), "DOCKER") {
		t.Fatalf("docker task on the mesos containerizer alone: %v %q", st.GetState(), st.GetMessage())
	}
}

// With --isolation=unshare the reference program runs the command
// executor in namespaces of its own, and a task still runs to its end
// through it: in a PID namespace that is not the slave's, seeing only
// its container's processes in /proc.
func TestExternalContainerizerUnshare(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("UNSHARE TEST SKIPPED: --isolation=unshare needs root")
	}
	wrapper := filepath.Join(t.TempDir(), "ecp-unshare")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+referenceECP(t)+" --isolation=unshare \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := cluster.Start(t, cluster.Options{Network: true})
	_, ext := externalSlave(t, c, "", wrapper)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{
		cluster.CommandTask("ns", o, "cpus:0.5;mem:64", "echo ns=$(readlink /proc/self/ns/pid); echo procs=$(ls /proc | grep -c '^[0-9]')"),
	}, nil)
	if st := awaitWall[*mesos.TaskStatus](t, c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("ns: %v %q", st.GetState(), st.GetMessage())
	}
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("ns: %v %q", st.GetState(), st.GetMessage())
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, ext.WorkDir(), "ns"), "stdout"))
	host, _ := os.Readlink("/proc/self/ns/pid")
	if !strings.Contains(string(out), "ns=pid:[") || strings.Contains(string(out), "ns="+host) {
		t.Fatalf("the task ran in the PID namespace %q (the slave's: %s)", out, host)
	}
	var procs int
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "procs="); ok {
			procs, _ = strconv.Atoi(v)
		}
	}
	// The executor, the task's shells, ls and grep: a handful, not the
	// host's hundreds.
	if procs == 0 || procs > 10 {
		t.Fatalf("the task's /proc lists %d processes:\n%s", procs, out)
	}
}
