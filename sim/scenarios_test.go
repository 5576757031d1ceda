package sim_test

// Scenarios from Mesos's fault-tolerance, slave-recovery, reconciliation
// and status-update-manager suites, ported to the simulator: each builds a
// small cluster, scripts one fault precisely (a message filter on a host's
// runtime, or an Event), asserts the documented outcome through what the
// framework heard, what really runs, and the leading master's bookkeeping,
// and ends with Quiesce: every built-in invariant holds once the faults
// heal.

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/sim"
)

const (
	statusUpdate = "mesos.internal.StatusUpdateMessage"
	statusAck    = "mesos.internal.StatusUpdateAcknowledgementMessage"
	runTask      = "mesos.internal.RunTaskMessage"
	pong         = "mesos.internal.PongSlaveMessage"
)

// start builds a cluster of shape with seed 1 and closes it at the end.
func start(t *testing.T, cfg sim.Config, shape sim.Shape) *sim.Cluster {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	c, err := sim.New(cfg, shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// one is the smallest cluster: a master, a slave, a framework.
var one = sim.Shape{Masters: 1, Slaves: 1, Frameworks: 1}

// advance moves virtual time and fails on a violation.
func advance(t *testing.T, c *sim.Cluster, d time.Duration) {
	t.Helper()
	if err := c.Advance(d); err != nil {
		t.Fatal(err)
	}
}

// launch makes framework k launch n tasks and lets them start.
func launch(t *testing.T, c *sim.Cluster, k, n int) {
	t.Helper()
	c.Apply(sim.Event{Kind: sim.Launch, Node: k, Count: n})
	advance(t, c, 3*time.Second)
}

// quiesce heals everything and checks every invariant.
func quiesce(t *testing.T, c *sim.Cluster) {
	t.Helper()
	if err := c.Quiesce(); err != nil {
		t.Fatal(err)
	}
}

// key is a task's key in RunningTasks.
func key(c *sim.Cluster, k int, task string) string { return c.FrameworkID(k) + "/" + task }

// heard asserts what framework k heard about a task so far.
func heard(t *testing.T, c *sim.Cluster, k int, task string, want ...string) {
	t.Helper()
	if got := c.Heard(k, task); !slices.Equal(got, want) {
		t.Fatalf("framework %d heard %v for %s, want %v", k, got, task, want)
	}
}

// count is how often state appears in what framework k heard of a task.
func count(c *sim.Cluster, k int, task, state string) int {
	n := 0
	for _, s := range c.Heard(k, task) {
		if s == state {
			n++
		}
	}
	return n
}

// masterTask is the leading master's record of a task, or nil.
func masterTask(t *testing.T, c *sim.Cluster, k int, task string) *mesos.Task {
	t.Helper()
	v := c.View()
	if v.Master == nil {
		t.Fatal("no leading master")
	}
	for _, s := range v.Master.Slaves {
		for _, x := range s.Tasks {
			if x.GetFrameworkId().GetValue() == c.FrameworkID(k) && x.GetTaskId().GetValue() == task {
				return x
			}
		}
	}
	return nil
}

// drop installs a filter on a host that drops the first limit messages
// of name it sends (every one when limit is 0).
func drop(t *testing.T, rt *process.Runtime, name string, limit int) *process.Filter {
	t.Helper()
	if rt == nil {
		t.Fatal("host is down")
	}
	return rt.AddFilter(process.Rule{Side: process.Sending, Name: name, Action: process.Drop(), Limit: limit})
}

// Ports StatusUpdateManagerTest.RetryStatusUpdate: the slave's first
// forward of TASK_RUNNING is lost; it resends after 10 s and the framework
// hears it once.
func TestScenarioRetryStatusUpdate(t *testing.T) {
	c := start(t, sim.Config{}, one)
	f := drop(t, c.Host(c.SlaveHost(0)), statusUpdate, 1)
	launch(t, c, 0, 1)
	if f.Matched() != 1 {
		t.Fatalf("dropped %d updates, want 1", f.Matched())
	}
	heard(t, c, 0, "task-1")
	advance(t, c, 10*time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING")
	advance(t, c, 2*time.Minute)
	heard(t, c, 0, "task-1", "TASK_RUNNING")
	quiesce(t, c)
}

// Ports StatusUpdateManagerTest.IgnoreDuplicateStatusUpdateAck (the
// retry half): the acknowledgement the master forwards to the slave is
// lost, so the slave retries the update, the framework hears it again
// (at least once until acknowledged), and the retries stop once the
// second acknowledgement arrives.
func TestScenarioAcknowledgementDropped(t *testing.T) {
	c := start(t, sim.Config{}, one)
	f := drop(t, c.Host(c.MasterHost(0)), statusAck, 1)
	launch(t, c, 0, 1)
	if f.Matched() != 1 {
		t.Fatalf("dropped %d acknowledgements, want 1", f.Matched())
	}
	heard(t, c, 0, "task-1", "TASK_RUNNING")
	advance(t, c, 10*time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_RUNNING")
	advance(t, c, 10*time.Minute)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_RUNNING")
	quiesce(t, c)
}

// Ports StatusUpdateManagerTest.DuplicateUpdateBeforeAck: the executor's
// update reaches the slave twice with the same uuid; the slave forwards it
// once.
func TestScenarioDuplicateStatusUpdate(t *testing.T) {
	c := start(t, sim.Config{}, one)
	c.ExecutorHost(0).AddFilter(process.Rule{Side: process.Sending, Name: statusUpdate, Action: process.Duplicate(1), Limit: 1})
	launch(t, c, 0, 1)
	advance(t, c, time.Minute)
	heard(t, c, 0, "task-1", "TASK_RUNNING")
	quiesce(t, c)
}

// Ports SlaveRecoveryTest.RecoverStatusUpdateManager: the slave restarts
// while TASK_RUNNING is unacknowledged; the recovered slave resends it
// from its checkpoint and the task keeps running in its executor.
func TestScenarioSlaveRestartWithUnacknowledgedUpdate(t *testing.T) {
	c := start(t, sim.Config{}, one)
	f := drop(t, c.Host(c.SlaveHost(0)), statusUpdate, 0)
	launch(t, c, 0, 1)
	if f.Matched() == 0 {
		t.Fatal("no update was dropped")
	}
	heard(t, c, 0, "task-1")
	c.Apply(sim.Event{Kind: sim.CrashSlave, Node: 0, Duration: 5 * time.Second})
	advance(t, c, 30*time.Second)
	if !c.SlaveUp(0) {
		t.Fatal("slave did not restart")
	}
	heard(t, c, 0, "task-1", "TASK_RUNNING")
	if got := c.RunningTasks()[key(c, 0, "task-1")]; got != 0 {
		t.Fatalf("task-1 runs on slave %d, want 0", got)
	}
	quiesce(t, c)
}

// Ports FaultToleranceTest.MasterFailover and SlaveRecoveryTest
// .MasterFailover: the leading master dies with tasks running; the other
// is elected, the slave re-registers with its tasks, the framework
// re-registers with its id, and nothing is lost.
func TestScenarioMasterFailoverWithRunningTasks(t *testing.T) {
	c := start(t, sim.Config{}, sim.Shape{Masters: 2, Slaves: 2, Frameworks: 1})
	launch(t, c, 0, 3)
	before := c.RunningTasks()
	first := c.Leader()
	id := c.FrameworkID(0)
	c.Apply(sim.Event{Kind: sim.CrashMaster, Duration: 10 * time.Minute})
	advance(t, c, time.Minute)
	if c.Leader() == nil || c.Leader() == first {
		t.Fatal("no new leader elected")
	}
	if c.FrameworkID(0) != id {
		t.Fatalf("framework id changed from %s to %s", id, c.FrameworkID(0))
	}
	v := c.View()
	if len(v.Master.Frameworks) != 1 || v.Master.Frameworks[0].ID != id || !v.Master.Frameworks[0].Connected {
		t.Fatalf("new master's frameworks: %+v", v.Master.Frameworks)
	}
	for _, task := range []string{"task-1", "task-2", "task-3"} {
		if x := masterTask(t, c, 0, task); x == nil || x.GetState() != mesos.TaskState_TASK_RUNNING {
			t.Fatalf("new master holds %s as %v", task, x)
		}
		heard(t, c, 0, task, "TASK_RUNNING")
	}
	if got := c.RunningTasks(); !mapsEqual(got, before) {
		t.Fatalf("running %v, was %v", got, before)
	}
	quiesce(t, c)
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Ports ReconciliationTest.UnknownTask and UnknownSlave: reconciling a
// task the master never knew, on a registered slave or an unknown one,
// yields TASK_LOST.
func TestScenarioReconcileUnknownTask(t *testing.T) {
	c := start(t, sim.Config{}, one)
	launch(t, c, 0, 1)
	slaveID := masterTask(t, c, 0, "task-1").GetSlaveId()
	_, err := c.Driver(0).ReconcileTasks([]*mesos.TaskStatus{
		{TaskId: &mesos.TaskID{Value: proto.String("ghost")}, SlaveId: slaveID, State: mesos.TaskState_TASK_RUNNING.Enum()},
		{TaskId: &mesos.TaskID{Value: proto.String("phantom")}, SlaveId: &mesos.SlaveID{Value: proto.String("nowhere-S9")}, State: mesos.TaskState_TASK_RUNNING.Enum()},
	})
	if err != nil {
		t.Fatal(err)
	}
	advance(t, c, time.Second)
	heard(t, c, 0, "ghost", "TASK_LOST (reconciliation)")
	heard(t, c, 0, "phantom", "TASK_LOST (reconciliation)")
	quiesce(t, c)
}

// Ports ReconciliationTest.TaskStateMismatch and TaskStateMatch: an
// explicit reconciliation answers with the master's latest state, whether
// the framework's claim is stale or right.
func TestScenarioReconcileTaskState(t *testing.T) {
	c := start(t, sim.Config{}, one)
	launch(t, c, 0, 2)
	d := c.Driver(0)
	_, _ = d.ReconcileTasks([]*mesos.TaskStatus{
		{TaskId: &mesos.TaskID{Value: proto.String("task-1")}, State: mesos.TaskState_TASK_STAGING.Enum()},
		{TaskId: &mesos.TaskID{Value: proto.String("task-2")}, State: mesos.TaskState_TASK_RUNNING.Enum()},
	})
	advance(t, c, time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_RUNNING (reconciliation)")
	heard(t, c, 0, "task-2", "TASK_RUNNING", "TASK_RUNNING (reconciliation)")
	quiesce(t, c)
}

// Ports ReconciliationTest.ImplicitNonTerminalTask and
// ImplicitTerminalTask: an empty reconciliation answers once for every
// non-terminal task and not for an acknowledged terminal one.
func TestScenarioImplicitReconciliation(t *testing.T) {
	c := start(t, sim.Config{}, one)
	launch(t, c, 0, 3)
	c.Apply(sim.Event{Kind: sim.EndTask, Node: 0, Pick: 0, State: mesos.TaskState_TASK_FINISHED})
	advance(t, c, time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_FINISHED")
	_, _ = c.Driver(0).ReconcileTasks(nil)
	advance(t, c, time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_FINISHED")
	heard(t, c, 0, "task-2", "TASK_RUNNING", "TASK_RUNNING (reconciliation)")
	heard(t, c, 0, "task-3", "TASK_RUNNING", "TASK_RUNNING (reconciliation)")
	quiesce(t, c)
}

// Ports FaultToleranceTest.SchedulerFailover: the scheduler goes away
// and a new instance comes back with the same framework id within the
// failover timeout; its tasks keep running and it is told about later
// updates.
func TestScenarioSchedulerFailoverWithinTimeout(t *testing.T) {
	c := start(t, sim.Config{}, sim.Shape{Masters: 1, Slaves: 2, Frameworks: 1})
	launch(t, c, 0, 2)
	before := c.RunningTasks()
	id := c.FrameworkID(0)
	c.Apply(sim.Event{Kind: sim.FailoverFramework, Node: 0, Duration: 20 * time.Second})
	advance(t, c, time.Minute)
	if c.Removed(0) || c.Driver(0) == nil || c.FrameworkID(0) != id {
		t.Fatalf("framework removed %v, id %s (was %s)", c.Removed(0), c.FrameworkID(0), id)
	}
	if got := c.RunningTasks(); !mapsEqual(got, before) {
		t.Fatalf("running %v, was %v", got, before)
	}
	c.Apply(sim.Event{Kind: sim.EndTask, Node: 0, Pick: 0, State: mesos.TaskState_TASK_FAILED})
	advance(t, c, time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_FAILED")
	quiesce(t, c)
}

// Ports FaultToleranceTest.SchedulerReregisterAfterFailoverTimeout (and
// MasterTest's framework failover timeout): the scheduler stays away past
// its failover timeout; the master removes the framework, kills its tasks
// and refuses it when it comes back.
func TestScenarioSchedulerFailoverPastTimeout(t *testing.T) {
	c := start(t, sim.Config{FailoverTimeout: time.Minute}, sim.Shape{Masters: 1, Slaves: 2, Frameworks: 1})
	launch(t, c, 0, 3)
	id := c.FrameworkID(0)
	c.Apply(sim.Event{Kind: sim.FailoverFramework, Node: 0, Duration: 3 * time.Minute})
	advance(t, c, 2*time.Minute)
	if n := len(c.RunningTasks()); n != 0 {
		t.Fatalf("%d tasks still run after the failover timeout", n)
	}
	for _, f := range c.View().Master.Frameworks {
		if f.ID == id {
			t.Fatalf("the master still holds framework %s: %+v", id, f)
		}
	}
	advance(t, c, 2*time.Minute)
	if !c.Removed(0) {
		t.Fatal("the returning scheduler was not told it was removed")
	}
	quiesce(t, c)
}

// Ports SlaveRecoveryTest / SlaveTest's executor-crash cases
// (ExecutorTerminatedBeforeTerminalUpdate in spirit): the executor dies
// before sending a terminal update; the slave makes one up, the framework
// hears a terminal state and the master frees the resources.
func TestScenarioExecutorExitBeforeTerminalUpdate(t *testing.T) {
	c := start(t, sim.Config{}, one)
	launch(t, c, 0, 1)
	c.Apply(sim.Event{Kind: sim.CrashExecutor, Node: 0, Pick: 0})
	advance(t, c, 5*time.Second)
	got := c.Heard(0, "task-1")
	if len(got) != 2 || got[0] != "TASK_RUNNING" || (got[1] != "TASK_FAILED" && got[1] != "TASK_LOST") {
		t.Fatalf("framework heard %v, want RUNNING then FAILED or LOST", got)
	}
	if len(c.RunningTasks()) != 0 {
		t.Fatalf("tasks run after their executor died: %v", c.RunningTasks())
	}
	for _, s := range c.View().Master.Slaves {
		if !s.Used.IsEmpty() {
			t.Fatalf("slave %s still uses %v", s.ID, s.Used)
		}
	}
	quiesce(t, c)
}

// Ports PartitionTest.PartitionedSlave / FaultToleranceTest's health-check
// case: the slave's pongs are lost; after 5 missed pings the master
// removes it, its task becomes LOST and the framework is told the slave
// is lost.
func TestScenarioSlaveRemovedAfterPingTimeouts(t *testing.T) {
	w := newWatcher(false)
	cfg := sim.Config{Framework: func(int) sim.Framework { return w }}
	c := start(t, cfg, one)
	launch(t, c, 0, 1)
	drop(t, c.Host(c.SlaveHost(0)), pong, 0)
	advance(t, c, 60*time.Second)
	if len(c.View().Master.RemovedSlaves) != 0 {
		t.Fatal("slave removed before 5 pings went unanswered")
	}
	advance(t, c, 30*time.Second)
	v := c.View()
	if len(v.Master.RemovedSlaves) != 1 {
		t.Fatalf("removed slaves %v, want one", v.Master.RemovedSlaves)
	}
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_LOST")
	if !slices.Equal(w.lost, v.Master.RemovedSlaves) {
		t.Fatalf("framework told slaves %v lost, want %v", w.lost, v.Master.RemovedSlaves)
	}
	quiesce(t, c)
}

// Ports PartitionTest.PartitionedSlaveReregistration: a slave cut off
// from the master is removed; when the partition heals it is told to shut
// down, and the task it still ran is gone.
func TestScenarioPartitionedSlaveShutDownOnReturn(t *testing.T) {
	c := start(t, sim.Config{}, sim.Shape{Masters: 1, Slaves: 2, Frameworks: 1})
	launch(t, c, 0, 2)
	cut := c.RunningTasks()[key(c, 0, "task-1")]
	var other string
	for task, j := range c.RunningTasks() {
		if j != cut {
			other = task
		}
	}
	c.Apply(sim.Event{Kind: sim.Partition, Hosts: 1 << c.SlaveHost(cut), Duration: 3 * time.Minute})
	advance(t, c, 2*time.Minute)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_LOST")
	if len(c.View().Master.RemovedSlaves) != 1 {
		t.Fatalf("removed %v, want the partitioned slave", c.View().Master.RemovedSlaves)
	}
	if _, ok := c.RunningTasks()[key(c, 0, "task-1")]; !ok {
		t.Fatal("the partitioned slave stopped its task before it heard anything")
	}
	advance(t, c, 3*time.Minute)
	if _, ok := c.RunningTasks()[key(c, 0, "task-1")]; ok {
		t.Fatal("the removed slave still runs task-1 after the partition healed")
	}
	if other != "" {
		if _, ok := c.RunningTasks()[other]; !ok {
			t.Fatalf("task %s on the healthy slave stopped", other)
		}
	}
	// Restarted (as a supervisor does, after Config.SlaveRestart), the
	// shut-down slave registers again as a new slave.
	advance(t, c, time.Minute)
	removed := c.View().Master.RemovedSlaves[0]
	var ids []string
	for _, s := range c.View().Master.Slaves {
		if s.Connected {
			ids = append(ids, s.ID)
		}
		if s.ID == removed {
			t.Fatalf("the removed slave id %s is back", removed)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("connected slaves %v, want two (one of them new)", ids)
	}
	quiesce(t, c)
}

// Ports MasterSlaveReconciliationTest.ReconcileDroppedTask: the master's
// RunTaskMessage is lost; when the slave re-registers without the task,
// the master tells the framework it is LOST.
func TestScenarioRunTaskDropped(t *testing.T) {
	c := start(t, sim.Config{}, one)
	drop(t, c.Host(c.MasterHost(0)), runTask, 1)
	launch(t, c, 0, 1)
	heard(t, c, 0, "task-1")
	c.Apply(sim.Event{Kind: sim.CrashSlave, Node: 0, Duration: time.Second})
	advance(t, c, 30*time.Second)
	heard(t, c, 0, "task-1", "TASK_LOST")
	if len(c.RunningTasks()) != 0 {
		t.Fatalf("running %v", c.RunningTasks())
	}
	quiesce(t, c)
}

// Ports SlaveRecoveryTest.ReconcileKillTask: the framework kills a task
// while its slave is down; when the slave re-registers the master has it
// killed, and the framework hears TASK_KILLED.
func TestScenarioKillTaskWhileSlaveDown(t *testing.T) {
	c := start(t, sim.Config{}, one)
	launch(t, c, 0, 1)
	c.Apply(sim.Event{Kind: sim.CrashSlave, Node: 0, Duration: 20 * time.Second})
	_, _ = c.Driver(0).KillTask(&mesos.TaskID{Value: proto.String("task-1")})
	advance(t, c, time.Minute)
	if len(c.RunningTasks()) != 0 {
		t.Fatalf("running %v after the kill", c.RunningTasks())
	}
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_KILLED")
	quiesce(t, c)
}

// Ports StatusUpdateManagerTest.LatestTaskState and MasterTest's
// resources-of-unacknowledged-terminal-task case: the framework's
// acknowledgements are lost, the task finishes; the master frees its
// resources at once, and the framework hears RUNNING then FINISHED, in
// order, once acknowledgements flow again.
func TestScenarioTerminalUpdateUnacknowledged(t *testing.T) {
	c := start(t, sim.Config{}, one)
	f := drop(t, c.Host(c.MasterHost(0)), statusAck, 0)
	launch(t, c, 0, 1)
	c.Apply(sim.Event{Kind: sim.EndTask, Node: 0, Pick: 0, State: mesos.TaskState_TASK_FINISHED})
	// FINISHED waits behind the unacknowledged RUNNING; the retry of
	// RUNNING (10 s) carries FINISHED as its latest state.
	advance(t, c, 15*time.Second)
	if x := masterTask(t, c, 0, "task-1"); x != nil && !mesos.IsTerminal(x.GetState()) {
		t.Fatalf("master holds task-1 %s after it finished", x.GetState())
	}
	for _, s := range c.View().Master.Slaves {
		if !s.Used.IsEmpty() {
			t.Fatalf("slave %s still uses %v though its task finished", s.ID, s.Used)
		}
	}
	f.Remove()
	advance(t, c, time.Minute)
	got := c.Heard(0, "task-1")
	if len(got) == 0 || got[len(got)-1] != "TASK_FINISHED" || count(c, 0, "task-1", "TASK_FINISHED") == 0 {
		t.Fatalf("framework heard %v, want RUNNING ... FINISHED", got)
	}
	quiesce(t, c)
}

// Ports MasterTest.RecoveredSlaveDoesNotReregister (with
// SlaveReregisterTimeout): the master fails over while a slave is down;
// the new master, which knows the slave only from the registry, waits 10
// minutes for it, then removes it and tells the framework the slave is
// lost; the slave is shut down when it finally returns, and reconciling
// its task yields TASK_LOST.
func TestScenarioRecoveredSlaveDoesNotReregister(t *testing.T) {
	w := newWatcher(false)
	cfg := sim.Config{FailoverTimeout: time.Hour, Framework: func(int) sim.Framework { return w }}
	c := start(t, cfg, sim.Shape{Masters: 2, Slaves: 1, Frameworks: 1})
	launch(t, c, 0, 1)
	c.Apply(sim.Event{Kind: sim.CrashSlave, Node: 0, Duration: 15 * time.Minute})
	c.Apply(sim.Event{Kind: sim.CrashMaster, Duration: time.Hour})
	advance(t, c, 9*time.Minute)
	if len(w.lost) != 0 {
		t.Fatalf("slave declared lost before the re-register timeout: %v", w.lost)
	}
	advance(t, c, 2*time.Minute)
	if len(w.lost) != 1 || !slices.Equal(w.lost, c.View().Master.RemovedSlaves) {
		t.Fatalf("framework heard lost %v, master removed %v", w.lost, c.View().Master.RemovedSlaves)
	}
	advance(t, c, 10*time.Minute)
	if len(c.RunningTasks()) != 0 {
		t.Fatalf("the removed slave still runs %v", c.RunningTasks())
	}
	_, _ = c.Driver(0).ReconcileTasks([]*mesos.TaskStatus{
		{TaskId: &mesos.TaskID{Value: proto.String("task-1")}, State: mesos.TaskState_TASK_RUNNING.Enum()},
	})
	advance(t, c, time.Second)
	heard(t, c, 0, "task-1", "TASK_RUNNING", "TASK_LOST (reconciliation)")
	quiesce(t, c)
}

// Ports FaultToleranceTest.SchedulerFailover's offer half (and
// ReconciliationTest's reconnect-without-failover case): offers held by a
// scheduler that fails over are rescinded, and the new instance gets the
// resources offered again.
func TestScenarioSchedulerFailoverWithOutstandingOffers(t *testing.T) {
	hoard := newWatcher(true)
	cfg := sim.Config{Framework: func(int) sim.Framework { return hoard }}
	c := start(t, cfg, one)
	advance(t, c, 5*time.Second)
	if len(hoard.offers) == 0 || len(c.View().Master.Offers) == 0 {
		t.Fatal("no offer outstanding")
	}
	held := hoard.offers[0]
	c.Apply(sim.Event{Kind: sim.FailoverFramework, Node: 0, Duration: 10 * time.Second})
	advance(t, c, 5*time.Second)
	for _, o := range c.View().Master.Offers {
		if o.ID == held {
			t.Fatalf("offer %s still outstanding while its scheduler is away", held)
		}
	}
	n := len(hoard.offers)
	advance(t, c, 30*time.Second)
	if len(hoard.offers) == n {
		t.Fatal("the new scheduler instance got no offers")
	}
	if len(c.View().Master.Offers) == 0 {
		t.Fatal("no offer outstanding to the new instance")
	}
	quiesce(t, c)
}

// Ports FaultToleranceTest.SlaveLost's offer half (and
// MasterTest.OfferRescinded-style cases): a slave whose offer a framework
// holds is removed; the offer is rescinded and the framework told the
// slave is lost.
func TestScenarioOfferRescindedWhenSlaveLost(t *testing.T) {
	hoard := newWatcher(true)
	cfg := sim.Config{Framework: func(int) sim.Framework { return hoard }}
	c := start(t, cfg, sim.Shape{Masters: 1, Slaves: 2, Frameworks: 1})
	advance(t, c, 5*time.Second)
	if len(c.View().Master.Offers) != 2 {
		t.Fatalf("%d offers outstanding, want 2", len(c.View().Master.Offers))
	}
	drop(t, c.Host(c.SlaveHost(1)), pong, 0)
	advance(t, c, 2*time.Minute)
	v := c.View()
	if len(v.Master.RemovedSlaves) != 1 || !slices.Equal(hoard.lost, v.Master.RemovedSlaves) {
		t.Fatalf("removed %v, framework heard lost %v", v.Master.RemovedSlaves, hoard.lost)
	}
	gone := v.Master.RemovedSlaves[0]
	if len(hoard.rescinded) == 0 {
		t.Fatal("no offer rescinded")
	}
	for _, o := range v.Master.Offers {
		if o.SlaveID == gone {
			t.Fatalf("offer %s on removed slave %s still outstanding", o.ID, gone)
		}
	}
	quiesce(t, c)
}

// watcher is the scripted framework that also records rescinded offers
// and lost slaves; with hoard it holds every offer it gets instead.
type watcher struct {
	*sim.Scripted
	hoard     bool
	offers    []string
	rescinded []string
	lost      []string
}

func newWatcher(hoard bool) *watcher {
	return &watcher{Scripted: &sim.Scripted{TaskResources: "cpus:0.5;mem:64"}, hoard: hoard}
}

func (w *watcher) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	for _, o := range offers {
		w.offers = append(w.offers, o.GetId().GetValue())
	}
	if !w.hoard {
		w.Scripted.ResourceOffers(d, offers)
	}
}

func (w *watcher) OfferRescinded(_ *scheduler.Driver, id *mesos.OfferID) {
	w.rescinded = append(w.rescinded, id.GetValue())
}

func (w *watcher) SlaveLost(_ *scheduler.Driver, id *mesos.SlaveID) {
	w.lost = append(w.lost, id.GetValue())
}

// Ports ReconciliationTest.RecoveredAgent: after a master failover, a
// task whose slave the new master recovered from the registry but which
// has not re-registered yet is reconciled; the master must not answer
// (the slave is in transition), and the task keeps running.
func TestScenarioReconcileDuringMasterRecovery(t *testing.T) {
	// The framework's reconciliation and the new master's registry
	// recovery race; seeds order them differently.
	for seed := uint64(1); seed <= 20; seed++ {
		rec := &reconciler{Scripted: &sim.Scripted{TaskResources: "cpus:0.5;mem:64"}}
		cfg := sim.Config{Seed: seed, Framework: func(int) sim.Framework { return rec }}
		c := start(t, cfg, sim.Shape{Masters: 2, Slaves: 1, Frameworks: 1})
		launch(t, c, 0, 1)
		rec.on = true
		c.Apply(sim.Event{Kind: sim.CrashMaster, Duration: time.Hour})
		advance(t, c, time.Minute)
		if got := c.Heard(0, "task-1"); slices.Contains(got, "TASK_LOST (reconciliation)") {
			t.Fatalf("seed %d: framework heard %v for a task whose slave was re-registering", seed, got)
		}
		if _, ok := c.RunningTasks()[key(c, 0, "task-1")]; !ok {
			t.Fatalf("seed %d: task-1 stopped", seed)
		}
		quiesce(t, c)
	}
}

// reconciler is the scripted framework that, once on, reconciles task-1
// explicitly as soon as it registers with a master.
type reconciler struct {
	*sim.Scripted
	on bool
}

func (r *reconciler) Registered(d *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	if r.on {
		_, _ = d.ReconcileTasks([]*mesos.TaskStatus{{TaskId: &mesos.TaskID{Value: proto.String("task-1")}, State: mesos.TaskState_TASK_RUNNING.Enum()}})
	}
}
