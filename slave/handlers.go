package slave

import (
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
)

func terminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TaskState_TASK_FINISHED, mesos.TaskState_TASK_FAILED, mesos.TaskState_TASK_KILLED,
		mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_ERROR:
		return true
	}
	return false
}

func (s *Slave) fromMaster(from process.UPID) bool {
	if from != s.cfg.Master {
		s.log.Debug("ignoring a message not from the master", "from", from.String())
		return false
	}
	return true
}

func (s *Slave) installHandlers() {
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveRegisteredMessage) {
		if s.fromMaster(from) {
			s.log.Info("registered with the master", "slave", m.GetSlaveId().GetValue())
			s.registeredWith(m.GetSlaveId(), m.GetConnection())
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveReregisteredMessage) {
		if s.fromMaster(from) {
			s.registeredWith(m.GetSlaveId(), m.GetConnection())
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.PingSlaveMessage) {
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
	process.Install(&s.Process, func(from process.UPID, m *messages.KillTaskMessage) {
		if s.fromMaster(from) {
			s.killTask(m)
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownFrameworkMessage) {
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil && s.fromMaster(from) {
			s.shutdownFramework(f)
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.UpdateFrameworkMessage) {
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil {
			if pid, err := process.ParseUPID(m.GetPid()); err == nil {
				f.pid = pid
			}
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateAcknowledgementMessage) {
		if from == s.cfg.Master {
			s.acknowledge(m.GetTaskId().GetValue(), m.GetUuid())
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.FrameworkToExecutorMessage) {
		// From the master or straight from a scheduler.
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil {
			if e := f.executors[m.GetExecutorId().GetValue()]; e != nil && e.pid.IsValid() {
				s.metrics.validMessages.Inc()
				s.send(e.pid, m)
				return
			}
		}
		s.metrics.invalidMessages.Inc()
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ExecutorToFrameworkMessage) {
		if f := s.frameworks[m.GetFrameworkId().GetValue()]; f != nil && f.pid.IsValid() {
			s.send(f.pid, m)
		}
	})
	process.Install(&s.Process, s.registerExecutor)
	process.Install(&s.Process, s.executorUpdate)
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownMessage) {
		if s.fromMaster(from) {
			s.log.Info("shut down by the master", "message", m.GetMessage())
			for _, f := range s.frameworks {
				s.shutdownFramework(f)
			}
			s.Terminate()
		}
	})
}

// runTask queues t on its executor (launching it if needed); a registered
// executor gets the task at once, exactly once.
func (s *Slave) runTask(from process.UPID, m *messages.RunTaskMessage) {
	if !s.fromMaster(from) {
		return
	}
	fid := m.GetFrameworkId().GetValue()
	if fid == "" {
		fid = m.GetFramework().GetId().GetValue()
	}
	f := s.frameworks[fid]
	if f == nil {
		f = &framework{id: fid, info: m.GetFramework(), executors: make(map[string]*executor)}
		if f.info.Id == nil {
			f.info = proto.Clone(f.info).(*mesos.FrameworkInfo)
			f.info.Id = &mesos.FrameworkID{Value: proto.String(fid)}
		}
		s.frameworks[fid] = f
	}
	if pid, err := process.ParseUPID(m.GetPid()); err == nil {
		f.pid = pid
	}
	t := m.GetTask()
	e, err := s.executorFor(f, t)
	if err != nil {
		s.log.Error("cannot launch executor", "task", t.GetTaskId().GetValue(), "err", err)
		s.generateUpdate(fid, nil, t.GetTaskId(), mesos.TaskState_TASK_FAILED, mesos.TaskStatus_REASON_EXECUTOR_TERMINATED, err.Error())
		return
	}
	e.tasks[t.GetTaskId().GetValue()] = &mesos.Task{
		Name: t.Name, TaskId: t.TaskId, FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
		ExecutorId: e.info.ExecutorId, SlaveId: s.info.Id, State: mesos.TaskState_TASK_STAGING.Enum(),
		Resources: t.Resources, Labels: t.Labels,
	}
	if e.command {
		e.tasks[t.GetTaskId().GetValue()].ExecutorId = nil
	}
	if e.pid.IsValid() {
		s.send(e.pid, &messages.RunTaskMessage{FrameworkId: m.FrameworkId, Framework: f.info, Pid: m.Pid, Task: t})
		return
	}
	e.queued = append(e.queued, t)
}

func (s *Slave) registerExecutor(from process.UPID, m *messages.RegisterExecutorMessage) {
	f := s.frameworks[m.GetFrameworkId().GetValue()]
	var e *executor
	if f != nil {
		e = f.executors[m.GetExecutorId().GetValue()]
	}
	if e == nil || e.pid.IsValid() {
		s.log.Warn("unexpected executor registration; shutting it down", "executor", m.GetExecutorId().GetValue(), "from", from.String())
		s.send(from, &messages.ShutdownExecutorMessage{ExecutorId: m.GetExecutorId(), FrameworkId: m.GetFrameworkId()})
		return
	}
	e.pid = from
	s.Link(from)
	s.send(from, &messages.ExecutorRegisteredMessage{
		ExecutorInfo: e.info, FrameworkId: m.GetFrameworkId(), FrameworkInfo: f.info,
		SlaveId: s.info.Id, SlaveInfo: s.info,
	})
	for _, t := range e.queued {
		s.send(from, &messages.RunTaskMessage{FrameworkId: m.GetFrameworkId(), Framework: f.info, Pid: proto.String(f.pid.String()), Task: t})
	}
	e.queued = nil
}

// executorUpdate completes an executor's update (uuid, source, executor
// and slave ids), acknowledges it to the executor, and queues it for the
// master.
func (s *Slave) executorUpdate(from process.UPID, m *messages.StatusUpdateMessage) {
	u := proto.Clone(m.GetUpdate()).(*messages.StatusUpdate)
	st := u.GetStatus()
	if len(u.GetUuid()) == 0 || st.GetState() == mesos.TaskState_TASK_STAGING {
		s.log.Warn("invalid status update from executor", "from", from.String())
		s.metrics.invalidUpdates.Inc()
		return
	}
	s.metrics.validUpdates.Inc()
	st.Uuid = u.Uuid
	st.Source = mesos.TaskStatus_SOURCE_EXECUTOR.Enum()
	if u.ExecutorId != nil {
		st.ExecutorId = u.ExecutorId
	}
	st.SlaveId = s.info.Id
	u.SlaveId = s.info.Id
	if t := s.task(st.GetTaskId().GetValue()); t != nil && !terminal(t.GetState()) {
		t.State = st.State
		if terminal(st.GetState()) {
			s.metrics.countTerminal(st.GetState())
		}
	}
	s.update(u)
	if p := m.GetPid(); p != "" {
		if pid, err := process.ParseUPID(p); err == nil {
			s.send(pid, &messages.StatusUpdateAcknowledgementMessage{
				SlaveId: s.info.Id, FrameworkId: u.FrameworkId, TaskId: st.TaskId, Uuid: u.Uuid,
			})
		}
	}
}

// killTask forwards a kill to the task's executor; a task still queued
// (executor not registered) is killed here.
func (s *Slave) killTask(m *messages.KillTaskMessage) {
	f := s.frameworks[m.GetFrameworkId().GetValue()]
	if f == nil {
		return
	}
	tid := m.GetTaskId().GetValue()
	for _, e := range f.executors {
		for i, t := range e.queued {
			if t.GetTaskId().GetValue() == tid {
				e.queued = append(e.queued[:i], e.queued[i+1:]...)
				s.generateUpdate(f.id, e, t.GetTaskId(), mesos.TaskState_TASK_KILLED, mesos.TaskStatus_REASON_EXECUTOR_UNREGISTERED, "Killed before the executor registered")
				return
			}
		}
		if _, ok := e.tasks[tid]; ok && e.pid.IsValid() {
			s.send(e.pid, m)
			return
		}
	}
}

// generateUpdate makes a reliable update of the slave's own (SOURCE_SLAVE).
func (s *Slave) generateUpdate(fid string, e *executor, taskID *mesos.TaskID, state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string) {
	var uuid [16]byte
	s.Runtime().RandBytes(uuid[:])
	now := proto.Float64(float64(s.Clock().Now().UnixNano()) / 1e9)
	st := &mesos.TaskStatus{
		TaskId: taskID, State: state.Enum(), Message: proto.String(msg), SlaveId: s.info.Id,
		Timestamp: now, Source: mesos.TaskStatus_SOURCE_SLAVE.Enum(), Reason: reason.Enum(), Uuid: uuid[:],
	}
	u := &messages.StatusUpdate{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, SlaveId: s.info.Id, Status: st, Timestamp: now, Uuid: uuid[:]}
	if e != nil && !e.command {
		st.ExecutorId = e.info.ExecutorId
		u.ExecutorId = e.info.ExecutorId
	}
	if e != nil {
		if t := e.tasks[taskID.GetValue()]; t != nil && !terminal(t.GetState()) {
			t.State = state.Enum()
			s.metrics.countTerminal(state)
		}
	}
	s.update(u)
}

// task finds a task the slave runs.
func (s *Slave) task(id string) *mesos.Task {
	for _, f := range s.frameworks {
		for _, e := range f.executors {
			if t := e.tasks[id]; t != nil {
				return t
			}
		}
	}
	return nil
}

// taskDone forgets a task whose terminal update was acknowledged.
func (s *Slave) taskDone(u *messages.StatusUpdate) {
	tid := u.GetStatus().GetTaskId().GetValue()
	if f := s.frameworks[u.GetFrameworkId().GetValue()]; f != nil {
		for _, e := range f.executors {
			delete(e.tasks, tid)
		}
	}
}

// Finalize kills executors still running: without checkpointing and
// recovery (not built yet), nothing would reconnect to them.
func (s *Slave) Finalize() {
	for _, f := range s.frameworks {
		for _, e := range f.executors {
			if e.proc != nil && !e.exited {
				_ = syscall.Kill(-e.proc.Pid, syscall.SIGKILL)
			}
		}
	}
}
