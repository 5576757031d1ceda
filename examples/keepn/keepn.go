package main

import (
	"fmt"
	"log/slog"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

// KeepN is a scheduler that keeps N tasks running: it launches tasks on
// the offers it gets until N are live, and launches a replacement for
// every task that reaches a terminal state. After every (re)registration
// it asks the master for the state of all its tasks, so that tasks lost
// while it was away are replaced too.
//
// The driver calls it from one goroutine (the scheduler process), so its
// fields need no lock.
type KeepN struct {
	// N is how many tasks to keep running.
	N int
	// Resources of each task.
	Resources resources.Resources
	// Command each task runs.
	Command string
	// ReconcileEvery is how many offer rounds pass between two
	// reconciliations (default 10): the master's answers reveal tasks
	// whose updates were lost, and tasks given up on that still run.
	ReconcileEvery int
	// Log receives what it does (default: slog.Default()).
	Log *slog.Logger

	id      string
	next    int
	rounds  int
	live    map[string]mesos.TaskState // tasks not known terminal → latest state
	removed bool
}

// NewKeepN returns a KeepN keeping n tasks of res running command.
func NewKeepN(n int, res resources.Resources, command string) *KeepN {
	return &KeepN{N: n, Resources: res, Command: command, live: map[string]mesos.TaskState{}}
}

var _ scheduler.Scheduler = (*KeepN)(nil)

func (k *KeepN) log() *slog.Logger {
	if k.Log != nil {
		return k.Log
	}
	return slog.Default()
}

// FrameworkID is the id the master gave it ("" before it registered).
func (k *KeepN) FrameworkID() string { return k.id }

// Removed reports whether the master told it it was removed (for example
// after it stayed away past its failover timeout).
func (k *KeepN) Removed() bool { return k.removed }

// Live lists the tasks it believes are not terminal, sorted.
func (k *KeepN) Live() []string {
	out := make([]string, 0, len(k.live))
	for id := range k.live {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Registered records the framework id and catches up.
func (k *KeepN) Registered(d *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	k.id = id.GetValue()
	k.log().Info("registered", "framework", k.id, "master", m.GetPid())
	k.catchUp(d)
}

// Reregistered catches up with what happened while it was away.
func (k *KeepN) Reregistered(d *scheduler.Driver, m *mesos.MasterInfo) {
	k.log().Info("re-registered", "master", m.GetPid())
	k.catchUp(d)
}

// catchUp asks for every task's state (the master answers for the tasks
// it knows; the explicit list makes it answer LOST for the ones it does
// not) and for offers when tasks are missing.
func (k *KeepN) catchUp(d *scheduler.Driver) {
	var sts []*mesos.TaskStatus
	for _, id := range k.Live() {
		sts = append(sts, &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String(id)}, State: k.live[id].Enum()})
	}
	if len(sts) > 0 {
		_, _ = d.ReconcileTasks(sts)
	}
	_, _ = d.ReconcileTasks(nil)
	if len(k.live) < k.N {
		_, _ = d.ReviveOffers()
	}
}

// Disconnected waits for the driver to find the next master.
func (k *KeepN) Disconnected(*scheduler.Driver) { k.log().Warn("disconnected from the master") }

// ResourceOffers launches the missing tasks on the offers that fit them
// and declines the rest; every ReconcileEvery rounds it also reconciles.
func (k *KeepN) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	k.rounds++
	every := k.ReconcileEvery
	if every <= 0 {
		every = 10
	}
	if k.rounds%every == 0 {
		k.catchUp(d)
	}
	for _, o := range offers {
		left := resources.FromProto(o.GetResources())
		var tasks []*mesos.TaskInfo
		for len(k.live) < k.N && left.Contains(k.Resources) {
			k.next++
			id := fmt.Sprintf("keepn-%d", k.next)
			tasks = append(tasks, &mesos.TaskInfo{
				Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				Resources: k.Resources.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(k.Command)},
			})
			k.live[id] = mesos.TaskState_TASK_STAGING
			left = left.Minus(k.Resources)
		}
		if len(tasks) == 0 {
			// Enough running: do not offer these again for a while.
			_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(30)})
			continue
		}
		k.log().Info("launching", "tasks", len(tasks), "slave", o.GetSlaveId().GetValue())
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, tasks, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	}
}

// OfferRescinded needs nothing: it holds no offer.
func (k *KeepN) OfferRescinded(*scheduler.Driver, *mesos.OfferID) {}

// StatusUpdate tracks each task's state; a task that ended is replaced.
func (k *KeepN) StatusUpdate(d *scheduler.Driver, st *mesos.TaskStatus) {
	id := st.GetTaskId().GetValue()
	if _, ok := k.live[id]; !ok {
		// Already ended as far as we know, and replaced: a task said
		// lost that turns up running after all is one too many.
		if !mesos.IsTerminal(st.GetState()) {
			k.log().Warn("a task given up on runs; killing it", "task", id, "state", st.GetState().String())
			_, _ = d.KillTask(st.GetTaskId())
		}
		return
	}
	if !mesos.IsTerminal(st.GetState()) {
		k.live[id] = st.GetState()
		return
	}
	delete(k.live, id)
	k.log().Info("task ended; replacing it", "task", id, "state", st.GetState().String(), "message", st.GetMessage())
	_, _ = d.ReviveOffers()
}

// FrameworkMessage ignores executors' messages.
func (k *KeepN) FrameworkMessage(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, []byte) {}

// SlaveLost needs nothing: the lost tasks' updates follow.
func (k *KeepN) SlaveLost(_ *scheduler.Driver, id *mesos.SlaveID) {
	k.log().Warn("slave lost", "slave", id.GetValue())
}

// ExecutorLost needs nothing: the tasks' updates tell.
func (k *KeepN) ExecutorLost(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, int) {}

// Error: the master removed the framework; nothing more will run.
func (k *KeepN) Error(_ *scheduler.Driver, msg string) {
	k.removed = true
	k.log().Error("framework error", "message", msg)
}
