package master

import (
	"fmt"
	"sort"

	"github.com/gomesos/gomesos/master/allocator"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// offer is an outstanding offer.
type offer struct {
	o       *mesos.Offer
	f       *framework
	s       *slave
	res     resources.Resources
	timeout *process.Timer
}

func (o *offer) id() string { return o.o.GetId().GetValue() }

// offerDecisions turns an allocation cycle's decisions into offers, one
// ResourceOffersMessage per framework. The allocator process runs it on
// the master's process.
func (m *master) offerDecisions(decisions []allocator.Decision) {
	if !m.leader {
		return
	}
	byFramework := make(map[string][]allocDecision)
	var order []string
	for _, d := range decisions {
		if _, seen := byFramework[d.FrameworkID]; !seen {
			order = append(order, d.FrameworkID)
		}
		byFramework[d.FrameworkID] = append(byFramework[d.FrameworkID], allocDecision{d.SlaveID, d.Resources})
	}
	for _, fid := range order {
		m.offer(fid, byFramework[fid])
	}
}

type allocDecision struct {
	slaveID string
	res     resources.Resources
}

// offer turns allocation decisions into offers to framework fid.
func (m *master) offer(fid string, decisions []allocDecision) {
	f := m.frameworks[fid]
	msg := &messages.ResourceOffersMessage{}
	for _, d := range decisions {
		s := m.slaves[d.slaveID]
		if f == nil || !f.active || !f.connected || s == nil || !s.active {
			// Not offerable after all: give the resources back.
			m.alloc.RecoverResources(fid, d.slaveID, d.res, 0, m.Clock().Now())
			continue
		}
		o := &offer{
			o: &mesos.Offer{
				Id:          m.newOfferID(),
				FrameworkId: f.frameworkID(),
				SlaveId:     s.slaveID(),
				Hostname:    proto.String(s.info.GetHostname()),
				Resources:   d.res.ToProto(),
				Attributes:  s.info.GetAttributes(),
			},
			f:   f,
			s:   s,
			res: d.res,
		}
		if mi := m.machineOf(s); mi.GetUnavailability() != nil {
			o.o.Unavailability = proto.Clone(mi.GetUnavailability()).(*mesos.Unavailability)
		}
		for _, eid := range sortedKeys(s.executors[fid]) {
			o.o.ExecutorIds = append(o.o.ExecutorIds, &mesos.ExecutorID{Value: proto.String(eid)})
		}
		m.offers[o.id()] = o
		f.offers[o.id()] = o
		s.offers[o.id()] = o
		s.offered = s.offered.Plus(o.res)
		if m.cfg.OfferTimeout > 0 {
			id := o.id()
			o.timeout = m.Delay(m.cfg.OfferTimeout, func() {
				if o := m.offers[id]; o != nil {
					m.log.Info("offer timed out", "offer", id, "framework", o.f.id)
					m.rescindOffer(o, 0)
				}
			})
		}
		msg.Offers = append(msg.Offers, o.o)
		msg.Pids = append(msg.Pids, s.pid.String())
	}
	if len(msg.Offers) > 0 {
		m.send(f.pid, msg)
	}
}

// removeOffer forgets o; with recover, its resources go back to the
// allocator, filtered from o's framework for refuseSeconds.
func (m *master) removeOffer(o *offer, recover bool, refuseSeconds float64) {
	delete(m.offers, o.id())
	delete(o.f.offers, o.id())
	delete(o.s.offers, o.id())
	o.s.offered = o.s.offered.Minus(o.res)
	m.Clock().Cancel(o.timeout)
	if recover {
		m.alloc.RecoverResources(o.f.id, o.s.id, o.res, refuseSeconds, m.Clock().Now())
	}
}

// rescindOffer withdraws o from its framework and recovers its resources.
func (m *master) rescindOffer(o *offer, refuseSeconds float64) {
	if o.f.connected {
		m.send(o.f.pid, &messages.RescindResourceOfferMessage{OfferId: o.o.GetId()})
	}
	m.removeOffer(o, true, refuseSeconds)
}

func (m *master) rescindAllOffers(f *framework) {
	for _, o := range sortedOffers(f.offers) {
		m.rescindOffer(o, 0)
	}
	if len(m.maint.inverse) > 0 {
		m.rescindInverseOffers(func(k ioKey) bool { return k.framework == f.id })
	}
}

func (m *master) rescindSlaveOffers(s *slave) {
	for _, o := range sortedOffers(s.offers) {
		m.rescindOffer(o, 0)
	}
	if len(m.maint.inverse) > 0 {
		m.rescindInverseOffers(func(k ioKey) bool { return k.slave == s.id })
	}
}

func sortedOffers(offers map[string]*offer) []*offer {
	out := make([]*offer, 0, len(offers))
	for _, o := range offers {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out
}

// defaultRefuseSeconds is Filters.refuse_seconds's default.
const defaultRefuseSeconds = 5.0

func refuseSeconds(f *mesos.Filters) float64 {
	if f == nil || f.RefuseSeconds == nil {
		return defaultRefuseSeconds
	}
	return f.GetRefuseSeconds()
}

// decline returns offers unused, filtered for the given time.
func (m *master) decline(f *framework, offerIDs []*mesos.OfferID, filters *mesos.Filters) {
	for _, id := range offerIDs {
		if o := m.offers[id.GetValue()]; o != nil && o.f == f {
			m.removeOffer(o, true, refuseSeconds(filters))
		}
	}
}

// accept handles ACCEPT (and the legacy LaunchTasksMessage): the offers are
// validated together, then each LAUNCH operation's tasks are validated and
// launched, and what is left is recovered with the filters.
func (m *master) accept(f *framework, offerIDs []*mesos.OfferID, ops []*mesos.Offer_Operation, filters *mesos.Filters) {
	var tasks []*mesos.TaskInfo
	for _, op := range ops {
		if op.GetType() == mesos.Offer_Operation_LAUNCH {
			tasks = append(tasks, op.GetLaunch().GetTaskInfos()...)
		}
	}
	offers, err := m.validateOffers(f, offerIDs)
	if err != "" {
		m.log.Info("invalid offers in accept", "framework", f.id, "reason", err)
		for _, o := range offers {
			m.removeOffer(o, true, 0)
		}
		for _, op := range ops {
			if op.GetType() != mesos.Offer_Operation_LAUNCH {
				m.log.Warn("dropping offer operation", "framework", f.id, "type", op.GetType().String(), "reason", err)
			}
		}
		for _, t := range tasks {
			m.metrics.countTaskState(mesos.TaskState_TASK_LOST)
			m.sendMasterUpdate(f, t.GetTaskId(), t.GetSlaveId(), mesos.TaskState_TASK_LOST,
				mesos.TaskStatus_REASON_INVALID_OFFERS, "Task launched with invalid offers: "+err)
		}
		return
	}
	s := offers[0].s
	var available resources.Resources
	for _, o := range offers {
		available = available.Plus(o.res)
		m.removeOffer(o, false, 0)
	}
	launched := make(map[string]bool)
	for _, op := range ops {
		switch op.GetType() {
		case mesos.Offer_Operation_LAUNCH:
			for _, t := range op.GetLaunch().GetTaskInfos() {
				if reason := m.validateTask(f, s, t, available, launched); reason != "" {
					m.log.Info("invalid task", "framework", f.id, "task", t.GetTaskId().GetValue(), "reason", reason)
					m.metrics.countTaskState(mesos.TaskState_TASK_ERROR)
					m.sendMasterUpdate(f, t.GetTaskId(), s.slaveID(), mesos.TaskState_TASK_ERROR,
						mesos.TaskStatus_REASON_TASK_INVALID, reason)
					continue
				}
				if user := taskUser(f, t); m.cfg.Authorizer != nil && !m.cfg.Authorizer.RunTask(f.info.GetPrincipal(), user) {
					m.log.Info("unauthorized task", "framework", f.id, "task", t.GetTaskId().GetValue(), "user", user)
					m.metrics.countTaskState(mesos.TaskState_TASK_ERROR)
					m.sendMasterUpdate(f, t.GetTaskId(), s.slaveID(), mesos.TaskState_TASK_ERROR,
						mesos.TaskStatus_REASON_TASK_UNAUTHORIZED, "Not authorized to launch as user '"+user+"'")
					continue
				}
				launched[t.GetTaskId().GetValue()] = true
				available = available.Minus(m.launchTask(f, s, t))
			}
		default:
			next, reason := m.acceptOperation(f, s, op, available)
			if reason != "" {
				m.log.Warn("dropping offer operation", "framework", f.id, "type", op.GetType().String(), "reason", reason)
				continue
			}
			available = next
		}
	}
	if !available.IsEmpty() {
		m.alloc.RecoverResources(f.id, s.id, available, refuseSeconds(filters), m.Clock().Now())
	}
}

// validateOffers checks that every offer exists, belongs to f, is not
// repeated, and that all are on one slave. It returns the offers found
// (to recover them on failure) and the reason they are invalid, or "".
func (m *master) validateOffers(f *framework, ids []*mesos.OfferID) ([]*offer, string) {
	var found []*offer
	seen := make(map[string]bool)
	reason := ""
	if len(ids) == 0 {
		reason = "No offers specified"
	}
	for _, id := range ids {
		v := id.GetValue()
		o := m.offers[v]
		switch {
		case seen[v]:
			reason = "Duplicate offer " + v + " in offer list"
			continue
		case o == nil:
			reason = "Offer " + v + " is no longer valid"
			continue
		case o.f != f:
			reason = "Offer " + v + " has invalid framework"
			continue
		}
		seen[v] = true
		found = append(found, o)
		if found[0].s != o.s {
			reason = "Aggregated offers must belong to one single agent. Offer " + v + " uses agent " + o.s.id + " and offer " + found[0].id() + " uses agent " + found[0].s.id
		}
	}
	return found, reason
}

// validateTask returns why t cannot run on s with the available
// resources, or "".
func (m *master) validateTask(f *framework, s *slave, t *mesos.TaskInfo, available resources.Resources, launched map[string]bool) string {
	tid := t.GetTaskId().GetValue()
	switch {
	case tid == "":
		return "Task ID is empty"
	case launched[tid] || f.tasks[tid] != nil:
		return "Task has duplicate ID: " + tid
	case t.GetSlaveId().GetValue() != s.id:
		return fmt.Sprintf("Task uses invalid agent: %s (offers are for %s)", t.GetSlaveId().GetValue(), s.id)
	case (t.Executor == nil) == (t.Command == nil):
		return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	if t.Executor != nil {
		if fid := t.Executor.GetFrameworkId().GetValue(); fid != "" && fid != f.id {
			return "ExecutorInfo has an invalid FrameworkID (" + fid + ")"
		}
		if known := s.executors[f.id][t.Executor.GetExecutorId().GetValue()]; known != nil && !proto.Equal(known.GetCommand(), t.Executor.GetCommand()) {
			return "Task has invalid ExecutorInfo (existing ExecutorInfo with same ExecutorID is not compatible)"
		}
	}
	taskRes := resources.FromProto(t.GetResources())
	if err := taskRes.Validate(); err != nil {
		return "Task uses invalid resources: " + err.Error()
	}
	if taskRes.IsEmpty() {
		return "Task uses no resources"
	}
	need := taskRes
	if t.Executor != nil && s.executors[f.id][t.Executor.GetExecutorId().GetValue()] == nil {
		need = need.Plus(resources.FromProto(t.Executor.GetResources()))
	}
	if name := mixedRevocable(taskRes.Plus(resources.FromProto(t.GetExecutor().GetResources()))); name != "" {
		return "Task (and its executor, if exists) uses both revocable and non-revocable " + name
	}
	if !available.Contains(need) {
		return "Task uses more resources " + need.String() + " than available " + available.String()
	}
	return ""
}

// mixedRevocable returns the name of a resource rs holds both revocable
// and not (Mesos 1.0 refuses such a task), or "".
func mixedRevocable(rs resources.Resources) string {
	revocable := map[string]bool{}
	for _, r := range rs {
		if r.Revocable {
			revocable[r.Name] = true
		}
	}
	for _, r := range rs {
		if !r.Revocable && revocable[r.Name] {
			return r.Name
		}
	}
	return ""
}

// launchTask records t as staging and sends it to the slave; it returns
// the resources it consumed.
func (m *master) launchTask(f *framework, s *slave, t *mesos.TaskInfo) resources.Resources {
	t = m.decorateTask(f, s, t)
	consumed := resources.FromProto(t.GetResources())
	task := &mesos.Task{
		Name:        t.Name,
		TaskId:      t.TaskId,
		FrameworkId: f.frameworkID(),
		SlaveId:     s.slaveID(),
		State:       mesos.TaskState_TASK_STAGING.Enum(),
		Resources:   t.GetResources(),
		Labels:      t.Labels,
		Discovery:   t.Discovery,
	}
	if e := t.GetExecutor(); e != nil {
		task.ExecutorId = e.ExecutorId
		if s.addExecutor(f.id, e) {
			if f.executors[s.id] == nil {
				f.executors[s.id] = make(map[string]*mesos.ExecutorInfo)
			}
			f.executors[s.id][e.GetExecutorId().GetValue()] = e
			consumed = consumed.Plus(resources.FromProto(e.GetResources()))
		}
	}
	f.tasks[t.GetTaskId().GetValue()] = task
	s.addTask(task)
	m.taskAdded(task)
	m.metrics.countTaskState(mesos.TaskState_TASK_STAGING)
	m.log.Info("launching task", "task", t.GetTaskId().GetValue(), "framework", f.id, "slave", s.id)
	m.send(s.pid, &messages.RunTaskMessage{
		FrameworkId: f.frameworkID(),
		Framework:   f.info,
		Pid:         proto.String(f.pid.String()),
		Task:        t,
	})
	return consumed
}

// decorateTask gives t the labels of the launch-task hooks, in --hooks
// order (each sees the labels of the one before).
func (m *master) decorateTask(f *framework, s *slave, t *mesos.TaskInfo) *mesos.TaskInfo {
	for _, h := range m.cfg.Hooks {
		d, ok := h.(modules.MasterLaunchTaskLabelDecorator)
		if !ok {
			continue
		}
		labels, err := d.MasterLaunchTaskLabelDecorator(t, f.info, s.info)
		if err != nil {
			m.log.Warn("launch-task hook failed", "task", t.GetTaskId().GetValue(), "err", err)
			continue
		}
		t = proto.Clone(t).(*mesos.TaskInfo)
		t.Labels = labels
	}
	return t
}

// masterUpdate builds a status update generated by the master:
// SOURCE_MASTER and no uuid, so nobody acknowledges it.
func (m *master) masterUpdate(f *framework, taskID *mesos.TaskID, slaveID *mesos.SlaveID, executorID *mesos.ExecutorID,
	state mesos.TaskState, reason mesos.TaskStatus_Reason, message string, healthy *bool) *messages.StatusUpdate {
	now := proto.Float64(m.nowSeconds())
	return &messages.StatusUpdate{
		FrameworkId: f.frameworkID(),
		SlaveId:     slaveID,
		ExecutorId:  executorID,
		Timestamp:   now,
		Status: &mesos.TaskStatus{
			TaskId:     taskID,
			State:      state.Enum(),
			Message:    proto.String(message),
			SlaveId:    slaveID,
			ExecutorId: executorID,
			Timestamp:  now,
			Source:     mesos.TaskStatus_SOURCE_MASTER.Enum(),
			Reason:     reason.Enum(),
			Healthy:    healthy,
		},
	}
}

// sendMasterUpdate sends f a master-generated update.
func (m *master) sendMasterUpdate(f *framework, taskID *mesos.TaskID, slaveID *mesos.SlaveID, state mesos.TaskState, reason mesos.TaskStatus_Reason, message string) {
	m.forwardUpdate(f, m.masterUpdate(f, taskID, slaveID, nil, state, reason, message, nil), process.UPID{})
}

// taskUser is the user a task runs as: its command's, else its
// executor's, else the framework's.
func taskUser(f *framework, t *mesos.TaskInfo) string {
	if u := t.GetCommand().GetUser(); u != "" {
		return u
	}
	if u := t.GetExecutor().GetCommand().GetUser(); u != "" {
		return u
	}
	return f.info.GetUser()
}
