package tests

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/inproc"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// twoSlaveRun is a master, two slaves on the in-process containerizer and
// a framework, all on one deterministic runtime.
type twoSlaveRun struct {
	inprocRun
	expect *processtest.Expectations
	master process.UPID
	slaves [2]process.UPID
	ids    [2]string // the slaves' ids, as the master gave them
	sched  *cluster.Scheduler
	driver *scheduler.Driver
}

// lostSlaveScenario registers a framework, launches one task on each of
// two slaves, loses the second slave to the ping timeout (its pongs are
// dropped and five ping intervals pass in ONE Advance), and reconciles.
// It checks each step and returns the runtime's trace hash.
func lostSlaveScenario(t *testing.T, seed uint64) uint64 {
	rt := deterministicRuntime(t, seed)
	defer rt.Close()
	var err error
	r := twoSlaveRun{inprocRun: inprocRun{t: t, rt: rt}, expect: processtest.Expect(t, rt), sched: cluster.NewScheduler()}

	if r.master, err = master.New(master.Config{}).Start(rt); err != nil {
		t.Fatal(err)
	}
	for i := range r.slaves {
		cz, err := inproc.New(rt, inproc.Config{})
		if err != nil {
			t.Fatal(err)
		}
		registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](r.expect, r.master, process.Any, processtest.Nth(i))
		s := slave.New(slave.Config{
			Master: r.master, Resources: "cpus:2;mem:1024;disk:1024;ports:[31000-32000]",
			WorkDir: t.TempDir(), LauncherDir: "/nonexistent", Containerizer: cz,
		})
		if r.slaves[i], err = s.Start(rt); err != nil {
			t.Fatal(err)
		}
		r.advance(time.Second) // the registration backoff
		r.ids[i] = await(r.inprocRun, registered).GetSlaveId().GetValue()
	}

	registered := r.sched.NextRegistered()
	r.driver = scheduler.NewDriver(rt, r.sched, cluster.FrameworkInfo("determinism"), r.master, scheduler.Options{})
	if _, err := r.driver.Start(); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	await(r.inprocRun, registered)

	// One task on each slave, from the offers of both.
	bySlave := map[string]*mesos.Offer{}
	for len(bySlave) < 2 {
		offers := r.sched.NextOffers()
		r.advance(time.Second)
		for _, o := range await(r.inprocRun, offers) {
			bySlave[o.GetSlaveId().GetValue()] = o
		}
	}
	running := [2]*mesos.TaskStatus{}
	for i, pid := range r.slaves {
		o := bySlave[r.ids[i]]
		if o == nil {
			t.Fatalf("no offer from slave %s", pid)
		}
		update := r.sched.NextUpdate()
		task := cluster.CommandTask(fmt.Sprintf("t%d", i), o, "cpus:1;mem:64", "sleep 1000")
		if _, err := r.driver.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil); err != nil {
			t.Fatal(err)
		}
		r.advance(0)
		running[i] = await(r.inprocRun, update)
		if running[i].GetState() != mesos.TaskState_TASK_RUNNING || running[i].GetTaskId().GetValue() != task.GetTaskId().GetValue() {
			t.Fatalf("launch on slave %d: %v", i, running[i])
		}
	}

	// The second slave stops answering pings: five ping timeouts in one
	// Advance remove it and lose its task.
	// Its pongs are dropped from the next ping on, and the five timeouts
	// that follow that ping pass in one call.
	processtest.DropProtobufs[*messages.PongSlaveMessage](r.expect, r.slaves[1], process.Any)
	ping := processtest.FutureProtobuf[*messages.PingSlaveMessage](r.expect, process.Any, r.slaves[1])
	r.advance(15 * time.Second)
	await(r.inprocRun, ping)
	lost, slaveLost := r.sched.NextUpdate(), r.sched.NextSlaveLost()
	r.advance(5 * 15 * time.Second)
	if st := await(r.inprocRun, lost); st.GetState() != mesos.TaskState_TASK_LOST || st.GetTaskId().GetValue() != "t1" {
		t.Fatalf("after the ping timeout: %v, want TASK_LOST for t1", st)
	}
	if id := await(r.inprocRun, slaveLost); id.GetValue() != running[1].GetSlaveId().GetValue() {
		t.Fatalf("slave lost %v, want %v", id, running[1].GetSlaveId())
	}

	// Reconciliation: t0 still runs, t1 is lost (the master no longer
	// knows its slave).
	first, second := r.sched.NextUpdate(), r.sched.NextUpdate()
	if _, err := r.driver.ReconcileTasks([]*mesos.TaskStatus{
		{TaskId: &mesos.TaskID{Value: proto.String("t0")}, State: mesos.TaskState_TASK_STAGING.Enum(), SlaveId: running[0].GetSlaveId()},
		{TaskId: &mesos.TaskID{Value: proto.String("t1")}, State: mesos.TaskState_TASK_STAGING.Enum(), SlaveId: running[1].GetSlaveId()},
	}); err != nil {
		t.Fatal(err)
	}
	r.advance(0)
	got := map[string]mesos.TaskState{}
	for _, f := range []*mesos.TaskStatus{await(r.inprocRun, first), await(r.inprocRun, second)} {
		got[f.GetTaskId().GetValue()] = f.GetState()
	}
	if got["t0"] != mesos.TaskState_TASK_RUNNING || got["t1"] != mesos.TaskState_TASK_LOST {
		t.Fatalf("reconciliation answered %v", got)
	}
	_, _ = r.driver.Stop(false)
	r.advance(time.Second)
	return rt.Deterministic().Trace()
}

// The libprocess way to test the ping timeout: pause, drop the slave's
// pongs, advance five ping intervals in one call, settle, and the slave is
// removed and its task lost, with no real waiting.
func TestSlavePingTimeoutInOneAdvance(t *testing.T) {
	lostSlaveScenario(t, 1)
}

// The same seed gives the same run, message bodies included; different
// seeds give different interleavings.
func TestSameSeedSameTrace(t *testing.T) {
	first := lostSlaveScenario(t, 7)
	if again := lostSlaveScenario(t, 7); again != first {
		t.Fatalf("seed 7 gave trace %x, then %x", first, again)
	}
	seeds := 100
	if testing.Short() {
		seeds = 20
	}
	distinct := map[uint64]bool{}
	for seed := range seeds {
		distinct[lostSlaveScenario(t, uint64(seed)+100)] = true
	}
	if want := seeds / 10; len(distinct) < want {
		t.Fatalf("%d seeds gave %d distinct traces, want at least %d", seeds, len(distinct), want)
	}
	t.Logf("%d seeds gave %d distinct traces", seeds, len(distinct))
}
