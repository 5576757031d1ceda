package sim

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

// Framework is a scheduler under simulation: the same interface the
// driver calls in production. A framework that also implements Workload
// takes the schedule's Launch, Kill and Reconcile events; one that does
// not simply runs, and only the faults act on it.
type Framework interface {
	scheduler.Scheduler
}

// Workload is implemented by frameworks that take workload events. The
// simulator calls them on the driver's own goroutine discipline (never
// concurrently with the scheduler's callbacks).
type Workload interface {
	// Launch asks the framework to launch n more tasks.
	Launch(d *scheduler.Driver, n int)
	// Kill asks it to kill the pick-th of its live tasks (modulo).
	Kill(d *scheduler.Driver, pick int)
	// Reconcile asks it to reconcile its tasks.
	Reconcile(d *scheduler.Driver, implicit bool)
}

// Scripted is the simulator's default framework: it launches the tasks
// the schedule asks for on the offers it gets (TaskResources each, fresh
// task ids), declines the rest for idleDecline (a launch revives
// offers), and kills and reconciles on request.
type Scripted struct {
	// TaskResources of each task (the Config's when empty).
	TaskResources string

	pending int
	next    int
	live    []*mesos.TaskStatus // non-terminal tasks, in launch order
	res     resources.Resources
}

var _ Workload = (*Scripted)(nil)

// Registered does nothing.
func (s *Scripted) Registered(*scheduler.Driver, *mesos.FrameworkID, *mesos.MasterInfo) {}

// Reregistered does nothing.
func (s *Scripted) Reregistered(*scheduler.Driver, *mesos.MasterInfo) {}

// Disconnected does nothing.
func (s *Scripted) Disconnected(*scheduler.Driver) {}

// ResourceOffers launches pending tasks on the offers that fit them.
func (s *Scripted) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	if s.res == nil {
		r, err := resources.Parse(s.TaskResources, "*")
		if err != nil {
			panic(fmt.Sprintf("sim: task resources %q: %v", s.TaskResources, err))
		}
		s.res = r
	}
	for _, o := range offers {
		left := resources.FromProto(o.GetResources())
		var tasks []*mesos.TaskInfo
		for s.pending > 0 && left.Contains(s.res) {
			s.pending--
			s.next++
			id := fmt.Sprintf("task-%d", s.next)
			tasks = append(tasks, &mesos.TaskInfo{
				Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				Resources: s.res.ToProto(), Command: &mesos.CommandInfo{Value: proto.String("sim")},
			})
			s.live = append(s.live, &mesos.TaskStatus{
				TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				State: mesos.TaskState_TASK_STAGING.Enum(),
			})
			left = left.Minus(s.res)
		}
		if len(tasks) == 0 {
			_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(idleDecline.Seconds())})
			continue
		}
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, tasks, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	}
}

// idleDecline is how long an offer the framework has no task for is
// refused: long enough that idle frameworks do not make offer churn the
// bulk of a run (5 s made it the largest cost), short enough that offers
// come back within a few steps of the 5-second check.
const idleDecline = 15 * time.Second

// OfferRescinded does nothing.
func (s *Scripted) OfferRescinded(*scheduler.Driver, *mesos.OfferID) {}

// StatusUpdate forgets tasks that ended.
func (s *Scripted) StatusUpdate(_ *scheduler.Driver, st *mesos.TaskStatus) {
	for i, t := range s.live {
		if t.GetTaskId().GetValue() == st.GetTaskId().GetValue() {
			if mesos.IsTerminal(st.GetState()) {
				s.live = append(s.live[:i:i], s.live[i+1:]...)
			} else {
				t.State = st.GetState().Enum()
			}
			return
		}
	}
}

// FrameworkMessage does nothing.
func (s *Scripted) FrameworkMessage(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, []byte) {}

// SlaveLost does nothing: the tasks' updates tell.
func (s *Scripted) SlaveLost(*scheduler.Driver, *mesos.SlaveID) {}

// ExecutorLost does nothing.
func (s *Scripted) ExecutorLost(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, int) {}

// Error does nothing.
func (s *Scripted) Error(*scheduler.Driver, string) {}

// Launch queues n tasks for the next offers and revives offers.
func (s *Scripted) Launch(d *scheduler.Driver, n int) {
	s.pending += n
	_, _ = d.ReviveOffers()
}

// Kill kills the pick-th live task.
func (s *Scripted) Kill(d *scheduler.Driver, pick int) {
	if len(s.live) == 0 {
		return
	}
	_, _ = d.KillTask(s.live[pick%len(s.live)].GetTaskId())
}

// Reconcile asks for the live tasks' states (and all, when implicit).
func (s *Scripted) Reconcile(d *scheduler.Driver, implicit bool) {
	var sts []*mesos.TaskStatus
	for _, t := range s.live {
		sts = append(sts, proto.Clone(t).(*mesos.TaskStatus))
	}
	_, _ = d.ReconcileTasks(sts)
	if implicit {
		_, _ = d.ReconcileTasks(nil)
	}
}

// schedulerShim records what the framework hears, then passes it on.
type schedulerShim struct {
	c *Cluster
	n *frameworkNode
}

func (s *schedulerShim) Registered(d *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	s.n.id = proto.Clone(id).(*mesos.FrameworkID)
	s.n.fw.Registered(d, id, m)
}

func (s *schedulerShim) Reregistered(d *scheduler.Driver, m *mesos.MasterInfo) {
	s.n.fw.Reregistered(d, m)
}

func (s *schedulerShim) Disconnected(d *scheduler.Driver) { s.n.fw.Disconnected(d) }

func (s *schedulerShim) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	s.n.fw.ResourceOffers(d, offers)
}

func (s *schedulerShim) OfferRescinded(d *scheduler.Driver, id *mesos.OfferID) {
	s.n.fw.OfferRescinded(d, id)
}

func (s *schedulerShim) StatusUpdate(d *scheduler.Driver, st *mesos.TaskStatus) {
	if s.n.id != nil {
		s.c.heardUpdate(s.n, st)
	}
	s.n.fw.StatusUpdate(d, st)
}

func (s *schedulerShim) FrameworkMessage(d *scheduler.Driver, e *mesos.ExecutorID, sl *mesos.SlaveID, data []byte) {
	s.n.fw.FrameworkMessage(d, e, sl, data)
}

func (s *schedulerShim) SlaveLost(d *scheduler.Driver, id *mesos.SlaveID) { s.n.fw.SlaveLost(d, id) }

func (s *schedulerShim) ExecutorLost(d *scheduler.Driver, e *mesos.ExecutorID, sl *mesos.SlaveID, status int) {
	s.n.fw.ExecutorLost(d, e, sl, status)
}

func (s *schedulerShim) Error(d *scheduler.Driver, msg string) {
	if !s.n.removed {
		s.n.removedEpoch = s.c.leaderEpoch
	}
	s.n.removed = true
	s.n.fw.Error(d, msg)
}
