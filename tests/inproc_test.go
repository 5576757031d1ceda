package tests

import (
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/inproc"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// inprocRun is one run of a master, a slave with the in-process
// containerizer and a framework, all on one deterministic runtime.
type inprocRun struct {
	t  *testing.T
	rt *process.Runtime
}

func await[T any](r inprocRun, f future.Future[T]) T {
	r.t.Helper()
	if !process.Await(r.rt, f, cluster.Wait) {
		r.t.Fatal("future still pending after settling")
	}
	v, err := f.Get()
	if err != nil {
		r.t.Fatalf("future failed: %v", err)
	}
	return v
}

// deterministicRuntime is a runtime with no network whose mailboxes run
// on one queue seeded by seed, its clock paused at the fixed epoch.
// GOMESOS_TEST_LOG=1 shows its log.
func deterministicRuntime(t *testing.T, seed uint64) *process.Runtime {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("GOMESOS_TEST_LOG") != "" {
		out = os.Stderr
	}
	rt, err := process.New(process.Options{
		Deterministic: true, Seed: seed, NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"),
		Logger: slog.New(slog.NewTextHandler(out, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func (r inprocRun) advance(d time.Duration) {
	r.rt.Clock().Settle()
	r.rt.Clock().Advance(d)
	r.rt.Clock().Settle()
}

// runInprocTask registers a framework, runs a command task on the
// in-process containerizer, kills it, and returns the runtime's trace.
func runInprocTask(t *testing.T, seed uint64) uint64 {
	rt := deterministicRuntime(t, seed)
	defer rt.Close()
	r := inprocRun{t: t, rt: rt}
	expect := processtest.Expect(t, rt)

	mpid, err := master.New(master.Config{}).Start(rt)
	if err != nil {
		t.Fatal(err)
	}
	cz, err := inproc.New(rt, inproc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// No launcher directory: an OS executor could not start at all.
	s := slave.New(slave.Config{
		Master: mpid, Resources: "cpus:2;mem:1024;disk:1024;ports:[31000-32000]",
		WorkDir: t.TempDir(), LauncherDir: "/nonexistent", Containerizer: cz,
	})
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](expect, mpid, process.Any)
	if _, err := s.Start(rt); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second) // the registration backoff
	await(r, registered)

	sched := cluster.NewScheduler()
	frameworkRegistered, offers := sched.NextRegistered(), sched.NextOffers()
	d := scheduler.NewDriver(rt, sched, cluster.FrameworkInfo("inproc"), mpid, scheduler.Options{})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	fid := await(r, frameworkRegistered)
	o := await(r, offers)[0]

	running, killed := sched.NextUpdate(), sched.NextUpdate()
	task := cluster.CommandTask("t1", o, "cpus:1;mem:64", "sleep 1000")
	if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil); err != nil {
		t.Fatal(err)
	}
	if st := await(r, running); st.GetState() != mesos.TaskState_TASK_RUNNING || st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR {
		t.Fatalf("first update: %v", st)
	}
	if live := await(r, cz.Containers()); len(live) != 1 {
		t.Fatalf("live containers %v, want the task's", live)
	}
	// The default executor runs its task until killed. (Steps of one
	// ping interval: a periodic timer fires once per Advance for now.)
	for range 40 {
		r.advance(15 * time.Second)
	}
	if !killed.IsPending() {
		t.Fatalf("the task ended on its own: %v", killed.Value())
	}
	gone := s.ExecutorTerminated(fid.GetValue(), "t1")
	if _, err := d.KillTask(&mesos.TaskID{Value: proto.String("t1")}); err != nil {
		t.Fatal(err)
	}
	if st := await(r, killed); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("second update: %v %q", st.GetState(), st.GetMessage())
	}
	// The command executor's stand-in stops once its task ended; the
	// slave sees its container end.
	await(r, gone)
	if live := await(r, cz.Containers()); len(live) != 0 {
		t.Fatalf("live containers %v after the kill", live)
	}
	_, _ = d.Stop(false)
	s.Stop()
	r.advance(5 * time.Second)
	await(r, s.Done())
	return rt.Deterministic().Trace()
}

// A framework runs a task on a slave whose executors live in the same
// deterministic runtime: TASK_RUNNING, then a kill and TASK_KILLED, with
// no OS process; the same seed gives the same run.
func TestInprocContainerizerRunsAndKillsATask(t *testing.T) {
	first := runInprocTask(t, 42)
	if again := runInprocTask(t, 42); again != first {
		t.Errorf("trace %x then %x for the same seed", first, again)
	}
}
