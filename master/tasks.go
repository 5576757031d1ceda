package master

import (
	"bytes"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// forwardUpdate sends a status update to f. pid is the UPID awaiting the
// acknowledgement (the slave), empty for master-generated updates.
func (m *master) forwardUpdate(f *framework, u *messages.StatusUpdate, pid process.UPID) {
	if !f.connected {
		return
	}
	msg := &messages.StatusUpdateMessage{Update: u}
	if pid.IsValid() {
		msg.Pid = proto.String(pid.String())
	}
	m.send(f.pid, msg)
}

// statusUpdate handles an update from a slave: it is forwarded to the
// framework (with the slave's pid, so the driver acknowledges), and the
// task's state follows it.
func (m *master) statusUpdate(from process.UPID, msg *messages.StatusUpdateMessage) {
	u := msg.GetUpdate()
	sid := u.GetSlaveId().GetValue()
	if m.removedSlaves[sid] {
		m.send(from, &messages.ShutdownMessage{Message: proto.String("Status update from unknown agent")})
		m.metrics.invalidStatusUpdates.Inc()
		return
	}
	s := m.slaves[sid]
	if s == nil {
		m.log.Warn("status update from unknown slave ignored", "slave", sid, "from", from.String())
		m.metrics.invalidStatusUpdates.Inc()
		return
	}
	if s.pid != from {
		m.log.Warn("status update not from its slave ignored", "slave", sid, "from", from.String(), "pid", s.pid.String())
		m.metrics.invalidStatusUpdates.Inc()
		return
	}
	status := u.GetStatus()
	if len(u.GetUuid()) > 0 && len(status.GetUuid()) == 0 {
		status.Uuid = u.Uuid
	}
	f := m.frameworks[u.GetFrameworkId().GetValue()]
	if f == nil {
		m.log.Warn("status update for unknown framework", "framework", u.GetFrameworkId().GetValue(), "task", status.GetTaskId().GetValue())
		m.metrics.invalidStatusUpdates.Inc()
		m.orphanUpdate(s, u)
		return
	}
	m.metrics.validStatusUpdates.Inc()
	var ackPID process.UPID
	if p := msg.GetPid(); p != "" {
		if pid, err := process.ParseUPID(p); err == nil {
			ackPID = pid
		}
	}
	m.forwardUpdate(f, u, ackPID)

	tid := status.GetTaskId().GetValue()
	t := f.tasks[tid]
	if t == nil {
		return // forwarded even when unknown, as Mesos does
	}
	latest := status.GetState()
	if u.LatestState != nil {
		latest = u.GetLatestState()
	}
	m.updateTask(s, f, t, latest, status)
	if !ackPID.IsValid() || len(u.GetUuid()) == 0 {
		// Nothing will acknowledge it: a terminal task goes now.
		if mesos.IsTerminal(t.GetState()) {
			m.removeTask(s, f, t)
		}
	}
}

// orphanUpdate follows the end of an orphan task (its slave re-registered
// with it, its framework has not come back to this master): the master's
// view and the allocator let its resources go. The update itself is not
// forwarded nor acknowledged (as in Mesos): the slave keeps it for the
// framework, should it come back.
func (m *master) orphanUpdate(s *slave, u *messages.StatusUpdate) {
	fid, status := u.GetFrameworkId().GetValue(), u.GetStatus()
	t := s.tasks[fid][status.GetTaskId().GetValue()]
	latest := status.GetState()
	if u.LatestState != nil {
		latest = u.GetLatestState()
	}
	if t == nil || mesos.IsTerminal(t.GetState()) || !mesos.IsTerminal(latest) {
		return
	}
	t.State = latest.Enum()
	m.metrics.countTaskState(latest)
	m.releaseTask(s, fid, t)
}

// releaseTask gives an ended task's resources back: the slave's used
// resources and the allocator's.
func (m *master) releaseTask(s *slave, fid string, t *mesos.Task) {
	res := resources.FromProto(t.GetResources())
	s.setUsed(s.used.Minus(res))
	m.alloc.RecoverResources(fid, s.id, res, 0, m.Clock().Now())
}

// updateTask moves t to state, recording the status; resources of a task
// that became terminal go back to the allocator at once.
func (m *master) updateTask(s *slave, f *framework, t *mesos.Task, latest mesos.TaskState, status *mesos.TaskStatus) {
	wasTerminal := mesos.IsTerminal(t.GetState())
	t.StatusUpdateState = status.State
	t.StatusUpdateUuid = status.Uuid
	if !wasTerminal {
		t.State = latest.Enum()
		m.metrics.countTaskState(latest)
	}
	t.Statuses = append(t.Statuses, &mesos.TaskStatus{
		TaskId:    status.TaskId,
		State:     status.State,
		Timestamp: status.Timestamp,
		Healthy:   status.Healthy,
		Labels:    status.Labels,
		// The container's network addresses, for /state.
		ContainerStatus: status.ContainerStatus,
	})
	m.taskUpdated(t, status)
	if !wasTerminal && mesos.IsTerminal(latest) {
		m.releaseTask(s, f.id, t)
	}
}

// removeTask forgets a terminal task.
func (m *master) removeTask(s *slave, f *framework, t *mesos.Task) {
	tid := t.GetTaskId().GetValue()
	delete(f.tasks, tid)
	if s != nil {
		s.forgetTask(f.id, tid)
	}
	f.addCompleted(t)
}

// acknowledge forwards an acknowledgement to the slave and, when it
// acknowledges the terminal update of a task, removes the task.
func (m *master) acknowledge(f *framework, slaveID *mesos.SlaveID, taskID *mesos.TaskID, uuid []byte) {
	s := m.slaves[slaveID.GetValue()]
	if s == nil || !s.connected {
		m.log.Info("acknowledgement for an unknown or disconnected slave dropped", "slave", slaveID.GetValue())
		m.metrics.invalidAcks.Inc()
		return
	}
	m.metrics.validAcks.Inc()
	if t := f.tasks[taskID.GetValue()]; t != nil && mesos.IsTerminal(t.GetStatusUpdateState()) && bytes.Equal(t.GetStatusUpdateUuid(), uuid) {
		m.removeTask(s, f, t)
	}
	m.send(s.pid, &messages.StatusUpdateAcknowledgementMessage{
		SlaveId:     slaveID,
		FrameworkId: f.frameworkID(),
		TaskId:      taskID,
		Uuid:        uuid,
	})
}

// kill forwards a kill to the slave running the task; an unknown task is
// answered as an explicit reconciliation of it.
func (m *master) kill(f *framework, taskID *mesos.TaskID, slaveID *mesos.SlaveID, policy *mesos.KillPolicy) {
	t := f.tasks[taskID.GetValue()]
	if t == nil {
		m.reconcile(f, []*mesos.TaskStatus{{TaskId: taskID, SlaveId: slaveID, State: mesos.TaskState_TASK_STAGING.Enum()}})
		return
	}
	s := m.slaves[t.GetSlaveId().GetValue()]
	if s == nil || !s.connected {
		m.log.Info("kill for a task on a disconnected slave deferred to re-registration", "task", taskID.GetValue())
		if s != nil {
			if s.pendingKills == nil {
				s.pendingKills = make(map[string]*mesos.KillPolicy)
			}
			s.pendingKills[f.id+"/"+taskID.GetValue()] = policy
		}
		return
	}
	m.send(s.pid, &messages.KillTaskMessage{FrameworkId: f.frameworkID(), TaskId: taskID, KillPolicy: policy})
}

// reconcile answers explicit (statuses given) or implicit reconciliation
// with master-generated updates: no uuid, never acknowledged.
func (m *master) reconcile(f *framework, statuses []*mesos.TaskStatus) {
	send := func(taskID *mesos.TaskID, slaveID *mesos.SlaveID, executorID *mesos.ExecutorID, state mesos.TaskState, message string, healthy *bool) {
		u := m.masterUpdate(f, taskID, slaveID, executorID, state, mesos.TaskStatus_REASON_RECONCILIATION, message, healthy)
		m.forwardUpdate(f, u, process.UPID{})
	}
	latest := func(t *mesos.Task) (mesos.TaskState, *bool) {
		state := t.GetState()
		if t.StatusUpdateState != nil {
			state = t.GetStatusUpdateState()
		}
		var healthy *bool
		if n := len(t.Statuses); n > 0 {
			healthy = t.Statuses[n-1].Healthy
		}
		return state, healthy
	}
	if len(statuses) == 0 {
		for _, tid := range sortedTaskIDs(f.tasks) {
			t := f.tasks[tid]
			state, healthy := latest(t)
			send(t.TaskId, t.SlaveId, t.ExecutorId, state, "Reconciliation: Latest task state", healthy)
		}
		return
	}
	for _, st := range statuses {
		tid := st.GetTaskId().GetValue()
		if t := f.tasks[tid]; t != nil {
			state, healthy := latest(t)
			send(t.TaskId, t.SlaveId, t.ExecutorId, state, "Reconciliation: Latest task state", healthy)
			continue
		}
		if !m.registryReady {
			continue // the registry is not read yet: every slave may be in transition
		}
		if sid := st.GetSlaveId().GetValue(); sid != "" {
			s := m.slaves[sid]
			if m.recovered[sid] != nil {
				continue // recovered, not yet re-registered: in transition
			}
			switch {
			case s != nil && s.connected:
				send(st.TaskId, st.SlaveId, nil, mesos.TaskState_TASK_LOST, "Reconciliation: Task is unknown to the agent", nil)
			case s != nil:
				// The slave is in transition: no answer until it is back.
			default:
				send(st.TaskId, st.SlaveId, nil, mesos.TaskState_TASK_LOST, "Reconciliation: Task is unknown", nil)
			}
			continue
		}
		if m.slavesInTransition() {
			continue
		}
		send(st.TaskId, nil, nil, mesos.TaskState_TASK_LOST, "Reconciliation: Task is unknown", nil)
	}
}

// slavesInTransition reports whether any known slave is disconnected
// (it may still come back with tasks).
func (m *master) slavesInTransition() bool {
	if len(m.recovered) > 0 {
		return true // recovered from the registry, not yet back
	}
	for _, s := range m.sortedSlaves() {
		if !s.connected {
			return true
		}
	}
	return false
}

func sortedTaskIDs(tasks map[string]*mesos.Task) []string {
	ids := make([]string, 0, len(tasks))
	for id := range tasks {
		ids = append(ids, id)
	}
	sortStrings(ids)
	return ids
}

// frameworkToExecutor relays a scheduler's message to the slave.
func (m *master) frameworkToExecutor(f *framework, msg *messages.FrameworkToExecutorMessage) {
	s := m.slaves[msg.GetSlaveId().GetValue()]
	if s == nil || !s.connected {
		m.metrics.invalidFrameworkToExecutor.Inc()
		return
	}
	m.metrics.validFrameworkToExecutor.Inc()
	m.send(s.pid, msg)
}

// executorToFramework relays an executor's message to its scheduler.
func (m *master) executorToFramework(from process.UPID, msg *messages.ExecutorToFrameworkMessage) {
	f := m.frameworks[msg.GetFrameworkId().GetValue()]
	if s := m.slaves[msg.GetSlaveId().GetValue()]; f == nil || !f.connected || s == nil || s.pid != from {
		return
	}
	m.send(f.pid, msg)
}

// exitedExecutor forgets the executor and tells its framework.
func (m *master) exitedExecutor(from process.UPID, msg *messages.ExitedExecutorMessage) {
	sid := msg.GetSlaveId().GetValue()
	if m.removedSlaves[sid] {
		m.send(from, &messages.ShutdownMessage{Message: proto.String("Executor exited message from unknown agent")})
		return
	}
	s := m.slaves[sid]
	if s == nil || s.pid != from {
		return
	}
	fid, eid := msg.GetFrameworkId().GetValue(), msg.GetExecutorId().GetValue()
	if e := s.executors[fid][eid]; e != nil {
		s.setUsed(s.used.Minus(resources.FromProto(e.GetResources())))
		delete(s.executors[fid], eid)
		m.alloc.RecoverResources(fid, sid, resources.FromProto(e.GetResources()), 0, m.Clock().Now())
	}
	if f := m.frameworks[fid]; f != nil {
		delete(f.executors[sid], eid)
		if f.connected {
			m.send(f.pid, msg)
		}
	}
}
