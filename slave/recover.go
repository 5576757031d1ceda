package slave

import (
	"errors"
	"io/fs"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/statusupdate"
)

// recover rebuilds the frameworks, executors, tasks and update streams of
// the checkpointed state, asks the containerizer which executors still
// run, and then (recovered) reconnects or cleans them up.
func (s *slave) recover() {
	rs := s.recovered
	if rs == nil {
		if s.cfg.Recover == "cleanup" {
			s.log.Info("nothing to clean up (no checkpointed state)")
			s.Terminate()
			return
		}
		s.startRegistering()
		return
	}
	s.recovering = true
	s.log.Info("recovering", "slave", rs.ID, "frameworks", len(rs.Frameworks), "reboot", rs.Reboot, "skipped_errors", len(rs.Errors))
	for _, err := range rs.Errors {
		s.log.Warn("recovery skipped a checkpoint", "err", err)
	}
	var known []containerizer.Recovered
	for fid, rf := range rs.Frameworks {
		f := &framework{id: fid, info: rf.Info, executors: make(map[string]*executor), checkpoint: true}
		if f.info.Id == nil {
			f.info.Id = &mesos.FrameworkID{Value: proto.String(fid)}
		}
		if pid, err := process.ParseUPID(rf.PID); err == nil {
			f.pid = pid
		}
		for eid, re := range rf.Executors {
			for cid, run := range re.Runs {
				if cid != re.Latest || run.Completed {
					// Old runs: only their sandboxes are left to collect.
					s.gc.schedule(s.paths.Sandbox(rs.ID, fid, eid, cid))
					s.gc.schedule(s.paths.Run(rs.ID, fid, eid, cid))
				}
			}
			run := re.Runs[re.Latest]
			if run == nil {
				continue
			}
			e := &executor{
				id: eid, info: re.Info, containerID: run.ContainerID, forked: run.ForkedPID, launched: true,
				dir: s.paths.Sandbox(rs.ID, fid, eid, run.ContainerID), checkpoint: true,
				tasks: make(map[string]*mesos.Task), state: executorRegistering,
				command: re.Info.GetName() == "Command Executor (Task: "+eid+")",
			}
			if run.Completed {
				// It ended before the restart: only its tasks' updates
				// not yet acknowledged are left to deliver.
				e.state = executorTerminated
			}
			if run.HTTP {
				e.viaHTTP = true // it subscribes again by itself
			} else if pid, err := process.ParseUPID(run.LibprocessPID); err == nil {
				e.pid = pid
			}
			for tid, rt := range run.Tasks {
				t := rt.Info
				for _, u := range rt.Updates {
					if !mesos.IsTerminal(t.GetState()) {
						t.State = u.GetStatus().State
					}
				}
				st, err := statusupdate.Replay(fid, tid, rt.Records)
				if err != nil {
					s.log.Warn("recovery kept a task's status updates up to a bad record", "framework", fid, "task", tid, "err", err)
				}
				if mesos.IsTerminal(t.GetState()) && st.Len() == 0 {
					// Done: its terminal update was acknowledged. Its
					// executor may still send its updates again.
					if s.doneUpdates == nil {
						s.doneUpdates = make(map[string]bool)
					}
					for _, rec := range rt.Records {
						if u := rec.GetUpdate(); u != nil {
							s.doneUpdates[string(u.GetUuid())] = true
						}
					}
					continue
				}
				e.tasks[tid] = t
				if len(rt.Records) > 0 {
					s.streams[streamKey{fid, tid}] = &stream{Stream: st, path: s.paths.TaskUpdates(rs.ID, fid, eid, run.ContainerID, tid), fs: s.cfg.Files}
				}
			}
			if run.Completed && len(e.tasks) == 0 {
				continue
			}
			f.executors[eid] = e
			attachSandbox(s.Runtime(), s.cfg.WorkDir, e.dir)
			if run.Completed {
				continue // no container to recover
			}
			if !rs.Reboot {
				known = append(known, containerizer.Recovered{ContainerID: e.containerID, PID: e.forked, Resources: s.executorResources(e), Executor: e.info, Directory: e.dir})
			}
		}
		s.frameworks[fid] = f
	}
	process.Count(s.Runtime(), s.cz.Recover(known)).OnAny(process.Defer1(s.Runtime(), s.Self(), func(f future.Future[map[string]bool]) {
		alive, err := f.Get()
		s.recovered2(alive, err)
	}))
}

// recovered2 acts on which executors survived: --recover=cleanup destroys
// them and ends the slave; reconnect sends them ReconnectExecutorMessage
// and waits --executor_reregistration_timeout before registering.
func (s *slave) recovered2(alive map[string]bool, err error) {
	if err != nil {
		s.log.Error("containerizer recovery failed", "err", err)
	}
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			switch {
			case e.state == executorTerminated:
				// Ended before the restart; its updates go out when the
				// slave has registered.
			case !alive[e.containerID]:
				s.log.Info("executor did not survive; its tasks are lost", "executor", e.id, "framework", f.id)
				s.executorExited(f.id, e, containerizer.Termination{Status: -1, Message: "Executor did not survive the slave restart"})
			case s.cfg.Recover == "cleanup" || (!e.pid.IsValid() && !e.viaHTTP):
				s.log.Info("destroying a recovered executor", "executor", e.id, "framework", f.id, "recover", s.cfg.Recover)
				s.destroyExecutor(e, mesos.TaskStatus_REASON_SLAVE_RESTARTED)
				s.waitContainer(f.id, e)
			case e.viaHTTP:
				// An HTTP executor resubscribes by itself, retrying at
				// most MESOS_SUBSCRIPTION_BACKOFF_MAX apart.
				s.log.Info("waiting for the executor to subscribe again", "executor", e.id, "framework", f.id)
				e.state = executorRegistering
				s.waitContainer(f.id, e)
			default:
				e.state = executorRegistering
				s.Link(e.pid)
				s.send(e.pid, &messages.ReconnectExecutorMessage{SlaveId: s.info.Id})
				s.waitContainer(f.id, e)
			}
		}
	}
	if s.cfg.Recover == "cleanup" {
		s.cleaningUp = true
		s.cleanupThenExit()
		return
	}
	s.reconnecting = true
	s.reregTimer = s.Delay(s.cfg.ExecutorReregistrationTimeout, s.reconnectDone)
	s.checkReconnected()
}

// cleanupThenExit waits for every recovered executor to end, removes the
// `latest` link (so the next start is a new slave) and terminates.
func (s *slave) cleanupThenExit() {
	if s.liveExecutors() > 0 {
		return // called again as each executor ends
	}
	s.forgetSlaveID()
	s.log.Info("cleanup done; exiting")
	s.Terminate()
}

// forgetSlaveID removes the `latest` link of the checkpointed slave, so
// that the next start registers as a new slave instead of recovering
// this one's state.
func (s *slave) forgetSlaveID() {
	if err := s.cfg.Files.Remove(s.paths.LatestSlave()); err != nil && !errors.Is(err, fs.ErrNotExist) {

		s.log.Error("cannot remove the latest slave link", "err", err)
	}
}

// checkReconnected ends the reconnect phase early once every recovered
// executor has re-registered (or ended).
func (s *slave) checkReconnected() {
	if !s.recovering {
		return
	}
	if s.countExecutors(func(e *executor) bool { return e.state == executorRegistering }) == 0 {
		s.Clock().Cancel(s.reregTimer)
		s.reconnectDone()
	}
}

// reconnectDone destroys executors that did not re-register and starts
// registering with the master.
func (s *slave) reconnectDone() {
	if !s.recovering {
		return
	}
	s.recovering = false
	s.reconnecting = false
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			if e.state == executorRegistering {
				s.log.Info("executor did not re-register in time; destroying it", "executor", e.id, "timeout", s.cfg.ExecutorReregistrationTimeout)
				s.destroyExecutor(e, mesos.TaskStatus_REASON_EXECUTOR_REREGISTRATION_TIMEOUT)
			}
		}
	}
	s.log.Info("recovery finished; registering with the master")
	s.startRegistering()
}

// reregisterExecutor takes back an executor after a slave restart: the
// tasks and unacknowledged updates it reports are merged in, tasks it never
// received are sent, and it is told the slave is back.
func (s *slave) reregisterExecutor(from process.UPID, m *messages.ReregisterExecutorMessage) {
	f, e := s.lookupExecutor(m.GetFrameworkId().GetValue(), m.GetExecutorId().GetValue())
	if e == nil || e.state != executorRegistering || !s.recovering {
		s.log.Warn("unexpected executor re-registration; shutting it down", "executor", m.GetExecutorId().GetValue(), "from", from.String())
		s.send(from, &messages.ShutdownExecutorMessage{ExecutorId: m.GetExecutorId(), FrameworkId: m.GetFrameworkId()})
		return
	}
	e.pid = from
	e.state = executorRunning
	s.Link(from)
	updates := make([]*messages.StatusUpdate, 0, len(m.GetUpdates()))
	for _, u := range m.GetUpdates() {
		updates = append(updates, proto.Clone(u).(*messages.StatusUpdate))
	}
	s.adoptReported(f, e, m.GetTasks(), updates, func(u *messages.StatusUpdate) {
		// Acknowledged here so the executor can finish; the master
		// still gets the update through the stream.
		s.send(from, ackOf(s.info.Id, u))
	})
	s.send(from, &messages.ExecutorReregisteredMessage{SlaveId: s.info.Id, SlaveInfo: s.info})
	s.log.Info("executor re-registered", "executor", e.id, "framework", f.id, "tasks", len(m.GetTasks()), "updates", len(m.GetUpdates()))
	s.updateContainer(e)
	s.checkReconnected()
}

// adoptReported merges what a re-registering (PID) or resubscribing
// (HTTP) executor reports: tasks it holds that the slave lost track of
// are added, its unacknowledged updates go to the status update manager
// (ack is called for each one taken), and tasks the slave gave it that it
// never received (still staging, not reported, not queued) are lost.
func (s *slave) adoptReported(f *framework, e *executor, tasks []*mesos.TaskInfo, updates []*messages.StatusUpdate, ack func(*messages.StatusUpdate)) {
	reported := make(map[string]bool)
	for _, t := range e.queued {
		reported[t.GetTaskId().GetValue()] = true
	}
	for _, t := range tasks {
		tid := t.GetTaskId().GetValue()
		reported[tid] = true
		if e.tasks[tid] == nil {
			e.tasks[tid] = &mesos.Task{
				Name: t.Name, TaskId: t.TaskId, FrameworkId: f.info.Id, ExecutorId: e.info.ExecutorId,
				SlaveId: s.info.Id, State: mesos.TaskState_TASK_STAGING.Enum(), Resources: t.Resources,
			}
		}
	}
	for _, u := range updates {
		reported[u.GetStatus().GetTaskId().GetValue()] = true
		if s.recordUpdate(u) {
			ack(u)
		}
	}
	for _, t := range inIDOrder(e.tasks) {
		if tid := t.GetTaskId().GetValue(); !reported[tid] && t.GetState() == mesos.TaskState_TASK_STAGING {
			s.log.Info("task was never delivered to the executor; it is lost", "task", tid)
			s.generateUpdate(f.id, e, t.GetTaskId(), mesos.TaskState_TASK_LOST, mesos.TaskStatus_REASON_SLAVE_RESTARTED, "Task was not received by the executor before the slave restarted")
		}
	}
}
