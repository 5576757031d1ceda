package tests

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

const slaveResources = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]"

// startFramework starts a driver with a recording scheduler and waits for
// its registration.
func startFramework(t *testing.T, c *cluster.Cluster, info *mesos.FrameworkInfo, opts scheduler.Options) (*scheduler.Driver, *cluster.Scheduler, *mesos.FrameworkID) {
	t.Helper()
	return c.StartFramework(info, opts)
}

func task(id string, offer *mesos.Offer, res string) *mesos.TaskInfo {
	r := offer.GetResources()
	if res != "" {
		r = mustResources(res)
	}
	return &mesos.TaskInfo{
		Name:      proto.String(id),
		TaskId:    &mesos.TaskID{Value: proto.String(id)},
		SlaveId:   offer.GetSlaveId(),
		Resources: r,
		Command:   &mesos.CommandInfo{Value: proto.String("sleep 1000")},
	}
}

func TestFrameworkAndSlaveRegistration(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	registeredMsg := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	slave := c.StartFakeSlave(slaveResources)
	sid := cluster.Await(c, slave.Registered())
	if got := cluster.Await(c, registeredMsg).GetConnection().GetTotalPingTimeoutSeconds(); got != 75 {
		t.Errorf("total ping timeout %v, want 75", got)
	}
	_, _, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	want := c.Master.Info().GetId()
	if fid.GetValue() != want+"-0000" {
		t.Errorf("framework id %q, want %q", fid.GetValue(), want+"-0000")
	}
	if sid.GetValue() != want+"-S0" {
		t.Errorf("slave id %q, want %q", sid.GetValue(), want+"-S0")
	}
}

func TestMasterDropsMessagesUntilElected(t *testing.T) {
	// The standalone master is elected at once; a message sent to a
	// process named master before it exists is simply not delivered, so
	// check the counter exists and stays at zero in normal operation.
	c := cluster.Start(t, cluster.Options{})
	snap := c.RT.Metrics().Snapshot(t.Context())
	if v, ok := snap["master/dropped_messages"]; !ok || v != 0 {
		t.Fatalf("master/dropped_messages = %v (present %v), want 0", v, ok)
	}
	if snap["master/elected"] != 1 {
		t.Fatalf("master/elected = %v, want 1", snap["master/elected"])
	}
}

func TestOffersAndLaunch(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second) // one allocation interval
	got := cluster.Await(c, offers)
	if len(got) != 1 {
		t.Fatalf("got %d offers, want 1", len(got))
	}
	if !resourcesEqual(got[0].GetResources(), slaveResources) {
		t.Fatalf("offer resources %v, want the whole slave %s", got[0].GetResources(), slaveResources)
	}
	runTask := processtest.FutureProtobuf[*messages.RunTaskMessage](c.Expect, c.MasterPID, slave.Self())
	running := s.NextUpdate()
	if _, err := d.LaunchTasks([]*mesos.OfferID{got[0].GetId()}, []*mesos.TaskInfo{task("t1", got[0], "cpus:1;mem:128")}, nil); err != nil {
		t.Fatal(err)
	}
	if rt := cluster.Await(c, runTask); rt.GetTask().GetTaskId().GetValue() != "t1" || rt.GetPid() != d.PID().String() {
		t.Fatalf("RunTaskMessage %v", rt)
	}
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("update %v, want TASK_RUNNING", st.GetState())
	}
	// The unused part comes back after the 5 s default filter.
	rest := s.NextOffers()
	c.Advance(time.Second)
	cluster.AssertPending(c, rest)
	c.Advance(5 * time.Second)
	if r := cluster.Await(c, rest); !resourcesEqual(r[0].GetResources(), "cpus:1;mem:896;disk:1024;ports:[31000-32000]") {
		t.Fatalf("re-offered %v", r[0].GetResources())
	}
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["master/tasks_running"] != 1 {
		t.Fatalf("master/tasks_running = %v, want 1", snap["master/tasks_running"])
	}
}

func TestInvalidLaunches(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]

	// Resources not in the offer: TASK_ERROR with REASON_TASK_INVALID.
	update := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task("big", o, "cpus:64")}, &mesos.Filters{RefuseSeconds: proto.Float64(0)})
	st := cluster.Await(c, update)
	if st.GetState() != mesos.TaskState_TASK_ERROR || st.GetReason() != mesos.TaskStatus_REASON_TASK_INVALID {
		t.Fatalf("over-sized task: %v %v, want TASK_ERROR REASON_TASK_INVALID", st.GetState(), st.GetReason())
	}
	if len(st.GetUuid()) != 0 || st.GetSource() != mesos.TaskStatus_SOURCE_MASTER {
		t.Fatalf("master-generated update must have no uuid and SOURCE_MASTER: %v", st)
	}

	// An offer that no longer exists: TASK_LOST with REASON_INVALID_OFFERS.
	update = s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task("late", o, "cpus:1")}, nil)
	st = cluster.Await(c, update)
	if st.GetState() != mesos.TaskState_TASK_LOST || st.GetReason() != mesos.TaskStatus_REASON_INVALID_OFFERS {
		t.Fatalf("stale offer: %v %v, want TASK_LOST REASON_INVALID_OFFERS", st.GetState(), st.GetReason())
	}

	// Duplicate task ids in one launch: the second is TASK_ERROR.
	offers = s.NextOffers()
	c.Advance(time.Second)
	o = cluster.Await(c, offers)[0]
	first, second := s.NextUpdate(), s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task("dup", o, "cpus:1"), task("dup", o, "cpus:1")}, nil)
	a, b := cluster.Await(c, first), cluster.Await(c, second)
	states := map[mesos.TaskState]bool{a.GetState(): true, b.GetState(): true}
	if !states[mesos.TaskState_TASK_ERROR] || !states[mesos.TaskState_TASK_RUNNING] {
		t.Fatalf("duplicate ids: got %v and %v, want one TASK_RUNNING and one TASK_ERROR", a.GetState(), b.GetState())
	}
}

func TestDeclineWithFilterAndRefusalTimeout(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(30)})
	again := s.NextOffers()
	for i := 0; i < 29; i++ {
		c.Advance(time.Second)
	}
	cluster.AssertPending(c, again)
	c.Advance(2 * time.Second)
	cluster.Await(c, again)
}

func TestDeclineWithDefaultFilterAndRevive(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(3600)})
	again := s.NextOffers()
	c.Advance(time.Second)
	cluster.AssertPending(c, again)
	_, _ = d.ReviveOffers()
	c.Settle()
	c.Advance(time.Second)
	cluster.Await(c, again)
}

func TestOfferTimeoutRescinds(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Master: master.Config{OfferTimeout: 30 * time.Second}})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	_, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	// A new framework triggers an allocation at once.
	offers := s.NextOffers()
	c.Settle()
	o := cluster.Await(c, offers)[0]
	rescinded := s.NextRescinded()
	c.Advance(29 * time.Second)
	cluster.AssertPending(c, rescinded)
	c.Advance(time.Second)
	if id := cluster.Await(c, rescinded); id.GetValue() != o.GetId().GetValue() {
		t.Fatalf("rescinded %v, want %v", id, o.GetId())
	}
}

func launchOne(t *testing.T, c *cluster.Cluster, d *scheduler.Driver, s *cluster.Scheduler, id string) *mesos.TaskStatus {
	t.Helper()
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	update := s.NextUpdate()
	if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task(id, o, "cpus:1;mem:128")}, nil); err != nil {
		t.Fatal(err)
	}
	st := cluster.Await(c, update)
	if st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("task %s: %v, want TASK_RUNNING", id, st.GetState())
	}
	return st
}

func TestKillTask(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")
	kill := processtest.FutureProtobuf[*messages.KillTaskMessage](c.Expect, c.MasterPID, slave.Self())
	killed := s.NextUpdate()
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("t1")})
	cluster.Await(c, kill)
	if st := cluster.Await(c, killed); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("after kill: %v, want TASK_KILLED", st.GetState())
	}
	// Killing an unknown task answers TASK_LOST.
	lost := s.NextUpdate()
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("nope")})
	if st := cluster.Await(c, lost); st.GetState() != mesos.TaskState_TASK_LOST {
		t.Fatalf("kill of an unknown task: %v, want TASK_LOST", st.GetState())
	}
}

func TestStatusUpdateReliability(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	slave.AutoRun = false
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task("t1", o, "cpus:1")}, nil)
	c.Settle()

	// The master forwards only once the slave sends the update.
	update := s.NextUpdate()
	cluster.AssertPending(c, update)
	forwarded := processtest.FutureProtobuf[*messages.StatusUpdateMessage](c.Expect, c.MasterPID, d.PID())
	// The scheduler's acknowledgement of this first delivery is lost on
	// its way to the slave.
	dropped := processtest.DropProtobuf[*messages.StatusUpdateAcknowledgementMessage](c.Expect, c.MasterPID, slave.Self())
	slave.Update(&mesos.TaskID{Value: proto.String("t1")}, mesos.TaskState_TASK_RUNNING)
	fw := cluster.Await(c, forwarded)
	if fw.GetPid() != slave.Self().String() {
		t.Fatalf("forwarded update pid %q, want the slave %s", fw.GetPid(), slave.Self())
	}
	st := cluster.Await(c, update)
	if len(st.GetUuid()) != 16 {
		t.Fatalf("update reached the scheduler without its uuid: %v", st)
	}

	// The slave resends after 10 s and the scheduler sees the update again.
	cluster.Await(c, dropped)
	if n := cluster.Await(c, slave.Pending("t1")); n != 1 {
		t.Fatalf("pending updates after a dropped ack: %d, want 1", n)
	}
	again := s.NextUpdate()
	c.Advance(cluster.StatusRetryInterval)
	if st2 := cluster.Await(c, again); string(st2.GetUuid()) != string(st.GetUuid()) {
		t.Fatal("the resent update has a different uuid")
	}
	c.Settle()
	if n := cluster.Await(c, slave.Pending("t1")); n != 0 {
		t.Fatalf("pending updates after the resend was acknowledged: %d, want 0", n)
	}
}

func TestReconciliation(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	sid := cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	// Explicit, known task: its latest state.
	u := s.NextUpdate()
	_, _ = d.ReconcileTasks([]*mesos.TaskStatus{{TaskId: &mesos.TaskID{Value: proto.String("t1")}, State: mesos.TaskState_TASK_STAGING.Enum()}})
	st := cluster.Await(c, u)
	if st.GetState() != mesos.TaskState_TASK_RUNNING || st.GetReason() != mesos.TaskStatus_REASON_RECONCILIATION || len(st.GetUuid()) != 0 {
		t.Fatalf("explicit reconcile of a known task: %v", st)
	}

	// Explicit, unknown task on a known slave: TASK_LOST.
	u = s.NextUpdate()
	_, _ = d.ReconcileTasks([]*mesos.TaskStatus{{TaskId: &mesos.TaskID{Value: proto.String("ghost")}, SlaveId: sid, State: mesos.TaskState_TASK_STAGING.Enum()}})
	if st := cluster.Await(c, u); st.GetState() != mesos.TaskState_TASK_LOST {
		t.Fatalf("explicit reconcile of an unknown task: %v, want TASK_LOST", st.GetState())
	}

	// Implicit: every task the master holds.
	u = s.NextUpdate()
	_, _ = d.ReconcileTasks(nil)
	if st := cluster.Await(c, u); st.GetTaskId().GetValue() != "t1" || st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("implicit reconcile: %v", st)
	}
	c.Settle()
	if n := s.Count(cluster.KindUpdate); n != 0 {
		t.Fatalf("implicit reconcile sent %d extra updates", n)
	}
}

func TestHealthCheckRemovesSlaveAfterFiveMissedPongs(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	processtest.DropProtobufs[*messages.PongSlaveMessage](c.Expect, slave.Self(), process.Any)
	lost := s.NextUpdate()
	slaveLost := s.NextSlaveLost()
	shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, slave.Self())
	// Pings go out every 15 s; the first unanswered one is the next. Five
	// unanswered pings are tolerated until the fifth times out.
	pings := processtest.FutureProtobuf[*messages.PingSlaveMessage](c.Expect, process.Any, slave.Self(), processtest.Nth(5))
	for i := 0; i < 5; i++ {
		c.Advance(15 * time.Second)
	}
	cluster.Await(c, pings)
	cluster.AssertPending(c, slaveLost)
	c.Advance(15 * time.Second) // the fifth pong is missed
	cluster.Await(c, shutdown)
	st := cluster.Await(c, lost)
	if st.GetState() != mesos.TaskState_TASK_LOST || st.GetReason() != mesos.TaskStatus_REASON_SLAVE_REMOVED {
		t.Fatalf("task after slave removal: %v %v", st.GetState(), st.GetReason())
	}
	cluster.Await(c, slaveLost)
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["master/slave_removals"] != 1 || snap["master/slave_shutdowns_completed"] != 1 {
		t.Fatalf("removal metrics: %v %v", snap["master/slave_removals"], snap["master/slave_shutdowns_completed"])
	}
}

func TestFrameworkFailoverWithinTimeout(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	info := cluster.FrameworkInfo("f1")
	info.FailoverTimeout = proto.Float64(60)
	d, s, fid := startFramework(t, c, info, scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	// The scheduler goes away without a word (as mesos-go's Stop(true)).
	_, _ = d.Abort()
	c.RT.Terminate(d.PID())
	c.Settle()
	c.Advance(30 * time.Second)

	info2 := proto.Clone(info).(*mesos.FrameworkInfo)
	info2.Id = fid
	_, s2, fid2 := startFramework(t, c, info2, scheduler.Options{ID: "scheduler-failover"})
	if fid2.GetValue() != fid.GetValue() {
		t.Fatalf("failover got id %v, want %v", fid2, fid)
	}
	_ = s2
	// The task survived: reconcile sees it running, and the slave was
	// never told to shut the framework down.
	processtest.ExpectNoFutureProtobufs[*messages.ShutdownFrameworkMessage](c.Expect, c.MasterPID, process.Any)
	c.Advance(60 * time.Second)
	if n := c.Master.TaskCount(); n != 1 {
		t.Fatalf("master holds %d tasks after failover, want 1", n)
	}
}

func TestFrameworkRemovedAfterFailoverTimeout(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	info := cluster.FrameworkInfo("f1")
	info.FailoverTimeout = proto.Float64(60)
	d, s, fid := startFramework(t, c, info, scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	shutdown := processtest.FutureProtobuf[*messages.ShutdownFrameworkMessage](c.Expect, c.MasterPID, slave.Self())
	_, _ = d.Abort()
	c.RT.Terminate(d.PID())
	c.Advance(59 * time.Second)
	cluster.AssertPending(c, shutdown)
	c.Advance(time.Second)
	if m := cluster.Await(c, shutdown); m.GetFrameworkId().GetValue() != fid.GetValue() {
		t.Fatalf("shutdown of %v, want %v", m.GetFrameworkId(), fid)
	}
	// Coming back with the old id is refused.
	info2 := proto.Clone(info).(*mesos.FrameworkInfo)
	info2.Id = fid
	s2 := cluster.NewScheduler()
	errf := s2.NextError()
	d2 := scheduler.NewDriver(c.RT, s2, info2, c.MasterPID, scheduler.Options{})
	_, _ = d2.Start()
	if msg := cluster.Await(c, errf); msg != "Framework has been removed" {
		t.Fatalf("error %q", msg)
	}
}

func mustResources(text string) []*mesos.Resource {
	r, err := resources.Parse(text, "*")
	if err != nil {
		panic(err)
	}
	return r.ToProto()
}

func resourcesEqual(got []*mesos.Resource, want string) bool {
	w, err := resources.Parse(want, "*")
	if err != nil {
		panic(err)
	}
	return resources.FromProto(got).Equal(w)
}
