package slave

import (
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave/state"
)

func (s *slave) fromMaster(from process.UPID) bool {
	if from != s.cfg.Master {
		s.log.Debug("ignoring a message not from the master", "from", from.String())
		return false
	}
	return true
}

func (s *slave) installHandlers() {
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveRegisteredMessage) {
		if s.fromMaster(from) {
			s.log.Info("registered with the master", "slave", m.GetSlaveId().GetValue())
			s.registeredWith(m.GetSlaveId(), m.GetConnection())
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveReregisteredMessage) {
		if s.fromMaster(from) {
			s.log.Info("re-registered with the master", "slave", m.GetSlaveId().GetValue())
			s.registeredWith(m.GetSlaveId(), m.GetConnection())
			for _, r := range m.GetReconciliations() {
				s.reconcileWithMaster(r)
			}
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.PingSlaveMessage) {
		// Pings come from the master's slave observer, a process of the
		// master's runtime: anything else is ignored.
		if from.Addr != s.cfg.Master.Addr {
			s.log.Debug("ignoring a ping not from the master's runtime", "from", from.String())
			return
		}
		s.send(from, &messages.PongSlaveMessage{})
		if !s.registered {
			return
		}
		if !m.GetConnected() {
			s.log.Info("the master says we are not connected; registering again")
			s.disconnected()
			return
		}
		s.armPingTimer()
	})
	process.Install(&s.Process, s.runTask)
	process.Install(&s.Process, s.checkpointResources)
	process.Install(&s.Process, func(from process.UPID, m *messages.KillTaskMessage) {
		if s.fromMaster(from) {
			s.killTask(m)
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownFrameworkMessage) {
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil && s.fromMaster(from) {
			s.shutdownFramework(f, "the master asked")
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.UpdateFrameworkMessage) {
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil && s.fromMaster(from) {
			if pid, err := process.ParseUPID(m.GetPid()); err == nil {
				f.pid = pid
				if f.checkpoint {
					if err := s.checkpointFramework(f); err != nil {
						s.log.Error("cannot checkpoint the framework pid", "err", err)
					}
				}
			}
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateAcknowledgementMessage) {
		if from == s.cfg.Master {
			s.acknowledge(m.GetFrameworkId().GetValue(), m.GetTaskId().GetValue(), m.GetUuid())
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.FrameworkToExecutorMessage) {
		// From the master or straight from the framework's scheduler.
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil && (from == s.cfg.Master || from == f.pid) {
			if e := f.executors[m.GetExecutorId().GetValue()]; e != nil && e.connected() && e.state == executorRunning {
				s.metrics.validMessages.Inc()
				s.toExecutor(e, m)
				return
			}
		}
		s.log.Warn("dropping a framework message for an unknown or unregistered executor",
			"framework", m.GetFrameworkId().GetValue(), "executor", m.GetExecutorId().GetValue())
		s.metrics.invalidMessages.Inc()
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ExecutorToFrameworkMessage) {
		// Only from the executor it names.
		if f, e := s.lookupExecutor(m.GetFrameworkId().GetValue(), m.GetExecutorId().GetValue()); f != nil && e != nil && e.pid == from {
			s.forwardExecutorMessage(f, m)
			return
		}
		s.metrics.invalidMessages.Inc()
	})
	process.Install(&s.Process, s.registerExecutor)
	process.Install(&s.Process, s.reregisterExecutor)
	process.Install(&s.Process, s.executorUpdate)
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownMessage) {
		if s.fromMaster(from) {
			s.log.Info("shut down by the master", "message", m.GetMessage())
			for _, f := range inIDOrder(s.frameworks) {
				s.shutdownFramework(f, "slave shut down by the master")
			}
			// The master removed this slave: its id is dead. Once its
			// executors are gone it forgets the id, so that a restart
			// (as a supervisor does) registers a new slave, as in Mesos;
			// a crash before that recovers it and is told again.
			s.forgetOnExit = true
			s.terminateWhenDrained()
		}
	})
}

// runTask queues t on its executor (launching it if needed); a registered
// executor gets the task at once, exactly once.
func (s *slave) runTask(from process.UPID, m *messages.RunTaskMessage) {
	if !s.fromMaster(from) {
		return
	}
	fid := m.GetFrameworkId().GetValue()
	if fid == "" {
		fid = m.GetFramework().GetId().GetValue()
	}
	if s.info.GetId().GetValue() == "" {
		s.lostBeforeRegistered(fid, m.GetTask())
		return
	}
	f := s.frameworks[fid]
	if f == nil {
		f = &framework{id: fid, info: m.GetFramework(), executors: make(map[string]*executor)}
		if f.info.Id == nil {
			f.info = proto.Clone(f.info).(*mesos.FrameworkInfo)
			f.info.Id = &mesos.FrameworkID{Value: proto.String(fid)}
		}
		f.checkpoint = f.info.GetCheckpoint()
		s.frameworks[fid] = f
	}
	if pid, err := process.ParseUPID(m.GetPid()); err == nil {
		f.pid = pid
	}
	if f.checkpoint {
		if err := s.checkpointFramework(f); err != nil {
			s.log.Error("cannot checkpoint the framework", "err", err)
		}
	}
	t := s.decorateTask(f, m.GetTask())
	e, isNew := s.executorFor(f, t)
	task := &mesos.Task{
		Name: t.Name, TaskId: t.TaskId, FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
		ExecutorId: e.info.ExecutorId, SlaveId: s.info.Id, State: mesos.TaskState_TASK_STAGING.Enum(),
		Resources: t.Resources, Labels: t.Labels, Discovery: t.Discovery,
	}
	if e.command {
		task.ExecutorId = nil
	}
	e.tasks[t.GetTaskId().GetValue()] = task
	if err := s.checkpointTask(fid, e, task); err != nil {
		s.log.Error("cannot checkpoint the task", "task", t.GetTaskId().GetValue(), "err", err)
	}
	if e.state == executorRunning && e.connected() {
		s.toExecutor(e, &messages.RunTaskMessage{FrameworkId: m.FrameworkId, Framework: f.info, Pid: m.Pid, Task: t})
	} else {
		e.queued = append(e.queued, t)
	}
	if isNew {
		s.launch(f, e)
	} else {
		s.linkVolumes(e)
		s.updateContainer(e)
	}
}

// lostBeforeRegistered answers a task the master sent before this slave
// learnt its id: the master admitted it, but the answer was lost and a
// later message came through (a connection that broke and was opened
// again). Without an id the slave can neither checkpoint nor launch it,
// so it tells the master, under the id the master gave the task, that
// the task is lost (once, without an acknowledgement, as the master's
// own TASK_LOST updates go).
func (s *slave) lostBeforeRegistered(fid string, t *mesos.TaskInfo) {
	s.log.Warn("task from the master before this slave knows its id; reporting it lost", "task", t.GetTaskId().GetValue(), "framework", fid)
	now := proto.Float64(mesos.Timestamp(s.Clock().Now()))
	status := &mesos.TaskStatus{
		TaskId: t.TaskId, State: mesos.TaskState_TASK_LOST.Enum(), SlaveId: t.SlaveId, Timestamp: now,
		Message: proto.String("the slave was not registered yet when the task arrived"),
		Source:  mesos.TaskStatus_SOURCE_SLAVE.Enum(), Reason: mesos.TaskStatus_REASON_SLAVE_UNKNOWN.Enum(),
	}
	s.send(s.cfg.Master, &messages.StatusUpdateMessage{Update: &messages.StatusUpdate{
		FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, SlaveId: t.SlaveId, Status: status, Timestamp: now,
	}})
}

func (s *slave) lookupExecutor(fid, eid string) (*framework, *executor) {
	f := s.frameworks[fid]
	if f == nil {
		return nil, nil
	}
	return f, f.executors[eid]
}

func (s *slave) registerExecutor(from process.UPID, m *messages.RegisterExecutorMessage) {
	f, e := s.lookupExecutor(m.GetFrameworkId().GetValue(), m.GetExecutorId().GetValue())
	if e == nil || e.pid.IsValid() || e.viaHTTP || (e.state != executorLaunching && e.state != executorRegistering) {
		s.log.Warn("unexpected executor registration; shutting it down", "executor", m.GetExecutorId().GetValue(), "from", from.String())
		s.send(from, &messages.ShutdownExecutorMessage{ExecutorId: m.GetExecutorId(), FrameworkId: m.GetFrameworkId()})
		return
	}
	e.pid = from
	e.state = executorRunning
	s.Clock().Cancel(e.regTimer)
	s.Link(from)
	if e.checkpoint {
		sid := s.info.GetId().GetValue()
		if err := state.WriteString(s.cfg.Files, s.paths.LibprocessPID(sid, f.id, e.id, e.containerID), from.String()); err != nil {
			s.log.Error("cannot checkpoint the executor's pid", "executor", e.id, "err", err)
		}
	}
	s.toExecutor(e, s.registeredMessage(f, e))
	s.sendQueued(f, e)
}

// sendQueued gives a registered executor its queued tasks, once each.
func (s *slave) sendQueued(f *framework, e *executor) {
	for _, t := range e.queued {
		s.toExecutor(e, &messages.RunTaskMessage{FrameworkId: f.info.Id, Framework: f.info, Pid: proto.String(f.pid.String()), Task: t})
	}
	e.queued = nil
}

// executorUpdate completes an executor's update (uuid, source, executor
// and slave ids), hands it to the status update manager (which
// checkpoints it), then acknowledges it to the executor.
func (s *slave) executorUpdate(from process.UPID, m *messages.StatusUpdateMessage) {
	u := proto.Clone(m.GetUpdate()).(*messages.StatusUpdate)
	st := u.GetStatus()
	if len(u.GetUuid()) == 0 || st.GetState() == mesos.TaskState_TASK_STAGING {
		s.log.Warn("invalid status update from executor", "from", from.String())
		s.metrics.invalidUpdates.Inc()
		return
	}
	if !s.reportedBy(u.GetFrameworkId().GetValue(), st.GetTaskId().GetValue(), func(e *executor) bool { return e.pid == from }) {
		s.log.Warn("dropping a status update not from the task's executor", "from", from.String(),
			"framework", u.GetFrameworkId().GetValue(), "task", st.GetTaskId().GetValue())
		s.metrics.invalidUpdates.Inc()
		return
	}
	s.metrics.validUpdates.Inc()
	if !s.recordUpdate(u) {
		return
	}
	if p := m.GetPid(); p != "" {
		if pid, err := process.ParseUPID(p); err == nil {
			s.send(pid, &messages.StatusUpdateAcknowledgementMessage{
				SlaveId: s.info.Id, FrameworkId: u.FrameworkId, TaskId: st.TaskId, Uuid: u.Uuid,
			})
		}
	}
}

// reportedBy reports whether the sender (is says which executor that is)
// is the executor running task tid of framework fid, or, for a task the
// slave does not hold (one already done, say), one of the framework's
// executors: nobody else may report a task's state.
func (s *slave) reportedBy(fid, tid string, is func(*executor) bool) bool {
	f := s.frameworks[fid]
	if f == nil {
		return false
	}
	known := false
	for _, e := range f.executors {
		if e.tasks[tid] != nil {
			return is(e)
		}
		known = known || is(e)
	}
	return known
}

// forwardExecutorMessage passes an executor's framework message on to its
// framework's scheduler.
func (s *slave) forwardExecutorMessage(f *framework, m *messages.ExecutorToFrameworkMessage) {
	if !f.pid.IsValid() {
		s.metrics.invalidMessages.Inc()
		return
	}
	s.metrics.validMessages.Inc()
	s.send(f.pid, m)
}

// recordUpdate fills in an executor's update, moves its task to the new
// state and gives it to the status update manager; false if it could not
// be checkpointed.
func (s *slave) recordUpdate(u *messages.StatusUpdate) bool {
	st := u.GetStatus()
	st.Uuid = u.Uuid
	st.Source = mesos.TaskStatus_SOURCE_EXECUTOR.Enum()
	if u.ExecutorId != nil {
		st.ExecutorId = u.ExecutorId
	}
	st.SlaveId = s.info.Id
	u.SlaveId = s.info.Id
	var owner *executor
	if f := s.frameworks[u.GetFrameworkId().GetValue()]; f != nil {
		for _, e := range inIDOrder(f.executors) {
			if e.tasks[st.GetTaskId().GetValue()] != nil {
				owner = e
			}
		}
	}
	if owner != nil {
		t := owner.tasks[st.GetTaskId().GetValue()]
		if !mesos.IsTerminal(t.GetState()) && owner.command && st.GetState() == mesos.TaskState_TASK_FAILED {
			s.holdForTermination(owner, s.streamFor(u.GetFrameworkId().GetValue(), st.GetTaskId().GetValue()))
		}
		if !mesos.IsTerminal(t.GetState()) {
			t.State = st.State
			t.Statuses = append(t.Statuses, st)
			if mesos.IsTerminal(st.GetState()) {
				s.metrics.countTerminal(st.GetState())
				s.updateContainer(owner)
			}
		}
	}
	return s.update(u)
}

// killTask forwards a kill to the task's executor; a task still queued
// (executor not registered) is killed here.
func (s *slave) killTask(m *messages.KillTaskMessage) {
	f := s.frameworks[m.GetFrameworkId().GetValue()]
	if f == nil {
		s.log.Warn("cannot kill a task of an unknown framework", "framework", m.GetFrameworkId().GetValue())
		return
	}
	tid := m.GetTaskId().GetValue()
	for _, e := range inIDOrder(f.executors) {
		for i, t := range e.queued {
			if t.GetTaskId().GetValue() == tid {
				e.queued = append(e.queued[:i], e.queued[i+1:]...)
				s.generateUpdate(f.id, e, t.GetTaskId(), mesos.TaskState_TASK_KILLED, mesos.TaskStatus_REASON_EXECUTOR_UNREGISTERED, "Killed before the executor registered")
				if len(e.tasks) == 0 || allTerminal(e.tasks) {
					// Nothing left for it to run.
					s.shutdownExecutor(f, e)
				}
				return
			}
		}
		if _, ok := e.tasks[tid]; ok && e.connected() {
			s.toExecutor(e, m)
			return
		}
	}
	s.log.Warn("cannot kill an unknown task", "task", tid)
}

func allTerminal(ts map[string]*mesos.Task) bool {
	for _, t := range ts {
		if !mesos.IsTerminal(t.GetState()) {
			return false
		}
	}
	return true
}

// generateUpdate makes a reliable update of the slave's own (SOURCE_SLAVE).
func (s *slave) generateUpdate(fid string, e *executor, taskID *mesos.TaskID, st mesos.TaskState, reason mesos.TaskStatus_Reason, msg string) {
	uuid := mesos.NewUUID(s.Runtime().RandBytes)
	now := proto.Float64(mesos.Timestamp(s.Clock().Now()))
	status := &mesos.TaskStatus{
		TaskId: taskID, State: st.Enum(), Message: proto.String(msg), SlaveId: s.info.Id,
		Timestamp: now, Source: mesos.TaskStatus_SOURCE_SLAVE.Enum(), Reason: reason.Enum(), Uuid: uuid[:],
	}
	u := &messages.StatusUpdate{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, SlaveId: s.info.Id, Status: status, Timestamp: now, Uuid: uuid[:]}
	if e != nil && !e.command {
		status.ExecutorId = e.info.ExecutorId
		u.ExecutorId = e.info.ExecutorId
	}
	if e != nil {
		if t := e.tasks[taskID.GetValue()]; t != nil && !mesos.IsTerminal(t.GetState()) {
			t.State = st.Enum()
			t.Statuses = append(t.Statuses, status)
			s.metrics.countTerminal(st)
		}
	}
	s.update(u)
}

// task finds a task of a framework the slave runs (task ids are unique
// only within a framework).
func (s *slave) task(fid, tid string) *mesos.Task {
	if f := s.frameworks[fid]; f != nil {
		for _, e := range inIDOrder(f.executors) {
			if t := e.tasks[tid]; t != nil {
				return t
			}
		}
	}
	return nil
}

// taskDone forgets a task whose terminal update was acknowledged.
func (s *slave) taskDone(u *messages.StatusUpdate) {
	tid := u.GetStatus().GetTaskId().GetValue()
	fid := u.GetFrameworkId().GetValue()
	if f := s.frameworks[fid]; f != nil {
		for _, e := range inIDOrder(f.executors) {
			if t := e.tasks[tid]; t != nil {
				delete(e.tasks, tid)
				e.completed = appendBounded(e.completed, t, 200)
				s.maybeCompleteExecutor(fid, e)
				return
			}
		}
	}
}

// reconcileWithMaster answers the master's list of tasks it thinks run
// here but that the slave did not report: they are lost.
func (s *slave) reconcileWithMaster(r *messages.ReconcileTasksMessage) {
	for _, st := range r.GetStatuses() {
		if s.task(r.GetFrameworkId().GetValue(), st.GetTaskId().GetValue()) == nil {
			s.generateUpdate(r.GetFrameworkId().GetValue(), nil, st.GetTaskId(), mesos.TaskState_TASK_LOST, mesos.TaskStatus_REASON_SLAVE_RESTARTED, "Task is unknown to the slave")
		}
	}
}
