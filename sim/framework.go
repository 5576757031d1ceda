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

// Operations is implemented by frameworks that take the schedule's
// resource operations (Reserve, CreateVolume, DestroyVolume, Unreserve).
type Operations interface {
	// Operate asks the framework to perform one operation of kind k on
	// the next offer it fits, and revives offers.
	Operate(d *scheduler.Driver, k Kind)
}

// Scripted is the simulator's default framework: it launches the tasks
// the schedule asks for on the offers it gets (TaskResources each, fresh
// task ids; on resources reserved for its role when an offer has them,
// and with a persistent volume of its own when an offer holds a free
// one), performs the resource operations the schedule asks for, declines
// the rest for idleDecline (a launch or an operation revives offers),
// and kills and reconciles on request.
type Scripted struct {
	// TaskResources of each task (the Config's when empty).
	TaskResources string
	// Role and Principal are the framework's (FrameworkInfo's): what it
	// reserves, and as whom. A framework of role "*" (or "") performs no
	// operation.
	Role, Principal string
	// Name prefixes the persistence ids of the volumes it creates (ids
	// must be unique on a slave).
	Name string

	pending int
	next    int
	live    []*mesos.TaskStatus // non-terminal tasks, in launch order
	res     resources.Resources
	// ops are the operations asked for and not done yet, by kind.
	ops     map[Kind]int
	volumes int // volumes created so far
}

var (
	_ Workload   = (*Scripted)(nil)
	_ Operations = (*Scripted)(nil)
)

// Registered does nothing.
func (s *Scripted) Registered(*scheduler.Driver, *mesos.FrameworkID, *mesos.MasterInfo) {}

// Reregistered does nothing.
func (s *Scripted) Reregistered(*scheduler.Driver, *mesos.MasterInfo) {}

// Disconnected does nothing.
func (s *Scripted) Disconnected(*scheduler.Driver) {}

// ResourceOffers performs a pending operation and launches pending tasks
// on the offers that fit them.
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
		ops, left := s.operation(left)
		var tasks []*mesos.TaskInfo
		for s.pending > 0 {
			use := s.reserved(s.res)
			if !left.Contains(use) {
				use = s.res
			}
			if !left.Contains(use) {
				break
			}
			if vols := left.PersistentVolumes().Reserved(s.role()); len(vols) > 0 {
				use = use.Plus(vols[:1])
			}
			s.pending--
			s.next++
			id := fmt.Sprintf("task-%d", s.next)
			tasks = append(tasks, &mesos.TaskInfo{
				Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				Resources: use.ToProto(), Command: &mesos.CommandInfo{Value: proto.String("sim")},
			})
			s.live = append(s.live, &mesos.TaskStatus{
				TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				State: mesos.TaskState_TASK_STAGING.Enum(),
			})
			left = left.Minus(use)
		}
		if len(tasks) == 0 && len(ops) == 0 {
			_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(idleDecline.Seconds())})
			continue
		}
		if len(tasks) > 0 {
			ops = append(ops, &mesos.Offer_Operation{
				Type:   mesos.Offer_Operation_LAUNCH.Enum(),
				Launch: &mesos.Offer_Operation_Launch{TaskInfos: tasks},
			})
		}
		_, _ = d.AcceptOffers([]*mesos.OfferID{o.GetId()}, ops, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	}
}

// role is the framework's role, "*" when unset.
func (s *Scripted) role() string {
	if s.Role == "" {
		return "*"
	}
	return s.Role
}

// reserved returns rs dynamically reserved for the framework's role by
// its principal.
func (s *Scripted) reserved(rs resources.Resources) resources.Resources {
	var out resources.Resources
	for _, r := range rs {
		r.Role, r.Principal, r.Dynamic = s.role(), s.Principal, true
		out = append(out, r)
	}
	return out
}

// volumeSize is the disk of each volume a scripted framework creates.
const volumeSize = 64

// reservation is what one Reserve event reserves.
const reservation = "cpus:1;mem:128;disk:256"

// operation returns the pending operation that offer resources left
// allow, if any (at most one an offer, in the order reserve, create,
// destroy, unreserve), and left after it.
func (s *Scripted) operation(left resources.Resources) ([]*mesos.Offer_Operation, resources.Resources) {
	if s.role() == "*" {
		clear(s.ops) // "*" cannot be reserved: nothing to do
		return nil, left
	}
	mine := left.Reserved(s.role())
	var op resources.Operation
	var next resources.Resources
	for _, k := range []Kind{Reserve, CreateVolume, DestroyVolume, Unreserve} {
		if s.ops[k] == 0 {
			continue
		}
		if try, ok := s.candidate(k, left, mine); ok {
			after, err := left.Apply(try)
			if err == nil {
				op, next = try, after
				break
			}
		}
	}
	if op.Kind == 0 {
		return nil, left
	}
	pb := op.Resources.ToProto()
	var out *mesos.Offer_Operation
	switch op.Kind {
	case resources.Reserve:
		s.ops[Reserve]--
		out = &mesos.Offer_Operation{Type: mesos.Offer_Operation_RESERVE.Enum(), Reserve: &mesos.Offer_Operation_Reserve{Resources: pb}}
	case resources.Create:
		s.ops[CreateVolume]--
		s.volumes++
		out = &mesos.Offer_Operation{Type: mesos.Offer_Operation_CREATE.Enum(), Create: &mesos.Offer_Operation_Create{Volumes: pb}}
	case resources.Destroy:
		s.ops[DestroyVolume]--
		out = &mesos.Offer_Operation{Type: mesos.Offer_Operation_DESTROY.Enum(), Destroy: &mesos.Offer_Operation_Destroy{Volumes: pb}}
	case resources.Unreserve:
		s.ops[Unreserve]--
		out = &mesos.Offer_Operation{Type: mesos.Offer_Operation_UNRESERVE.Enum(), Unreserve: &mesos.Offer_Operation_Unreserve{Resources: pb}}
	}
	return []*mesos.Offer_Operation{out}, next
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

// candidate is the operation of kind k the framework would perform on
// an offer holding left (mine: the part reserved for its role).
func (s *Scripted) candidate(k Kind, left, mine resources.Resources) (resources.Operation, bool) {
	switch k {
	case Reserve:
		want, err := resources.Parse(reservation, "*")
		if err != nil {
			panic(err)
		}
		if left.Contains(want) {
			return resources.Operation{Kind: resources.Reserve, Resources: s.reserved(want)}, true
		}
	case CreateVolume:
		for _, r := range mine {
			if r.Name == "disk" && r.DiskID == "" && r.Dynamic && r.Milli >= volumeSize*1000 {
				v := r.WithoutDisk()
				v.Milli = volumeSize * 1000
				v.DiskID = fmt.Sprintf("%s-v%d", s.Name, s.volumes+1)
				v.DiskPrincipal, v.VolumePath, v.VolumeMode = s.Principal, "data", int32(mesos.Volume_RW)
				return resources.Operation{Kind: resources.Create, Resources: resources.Resources{v}}, true
			}
		}
	case DestroyVolume:
		if vols := mine.PersistentVolumes(); len(vols) > 0 {
			return resources.Operation{Kind: resources.Destroy, Resources: vols[:1]}, true
		}
	case Unreserve:
		if rs := mine.Filter(func(r resources.Resource) bool { return r.Dynamic && r.DiskID == "" }); len(rs) > 0 {
			return resources.Operation{Kind: resources.Unreserve, Resources: rs}, true
		}
	}
	return resources.Operation{}, false
}

// Operate queues an operation of kind k for the next offers that allow
// it and revives offers.
func (s *Scripted) Operate(d *scheduler.Driver, k Kind) {
	if s.role() == "*" {
		return
	}
	if s.ops == nil {
		s.ops = map[Kind]int{}
	}
	s.ops[k]++
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
	for _, o := range offers {
		if err := offerRespects(o.GetId().GetValue(), resources.FromProto(o.GetResources()), FrameworkRole(s.n.index)); err != nil {
			s.c.violate("offers-respect-reservations", fmt.Sprintf("framework %d was offered: %v", s.n.index, err))
		}
	}
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
