package slave

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave/state"
	"github.com/gomesos/gomesos/statusupdate"
)

// streamKey names a task's status update stream: a task id is unique only
// within its framework, so two frameworks may both run a task "t" here.
type streamKey struct {
	framework string
	task      string
}

// stream is the status update stream of one task (statusupdate.Stream:
// updates in order, only the head sent to the master and resent until
// acknowledged) with its I/O: for checkpointing frameworks every update
// and acknowledgement is appended to the task's update file before it
// takes effect, and a timer resends the head when it is due.
type stream struct {
	*statusupdate.Stream
	path  string   // task.updates, or "" when not checkpointing
	fs    state.FS // where path is
	timer *process.Timer
	// held keeps the stream from forwarding: a command executor's failed
	// task waits for its container's end, whose limitation (such as the
	// memory limit) is the real reason (see holdForTermination).
	held bool
}

// streamOf returns the stream of a framework's task, nil if there is none.
func (s *slave) streamOf(fid, tid string) *stream {
	return s.streams[streamKey{fid, tid}]
}

// streamFor returns the stream of a framework's task, creating it (with
// its checkpoint path, if the task's executor checkpoints).
func (s *slave) streamFor(fid, tid string) *stream {
	key := streamKey{fid, tid}
	st := s.streams[key]
	if st == nil {
		st = &stream{Stream: statusupdate.New(fid, tid)}
		if f := s.frameworks[fid]; f != nil {
			for _, e := range inIDOrder(f.executors) {
				if e.tasks[tid] != nil && e.checkpoint {
					st.path, st.fs = s.paths.TaskUpdates(s.info.GetId().GetValue(), fid, e.id, e.containerID, tid), s.cfg.Files
				}
			}
		}
		s.streams[key] = st
	}
	return st
}

// checkpoint appends a change's records to the stream's update file.
func (st *stream) checkpoint(c statusupdate.Change) error {
	if st.path == "" {
		return nil
	}
	for _, rec := range c.Records {
		if err := state.AppendMessage(st.fs, st.path, rec); err != nil {
			return err
		}
	}
	return nil
}

// update checkpoints u and appends it to its task's stream; a duplicate
// (same uuid) is dropped. It returns false when the checkpoint failed (the
// executor is then not acknowledged and will resend). The head goes out
// at once when the slave is registered.
func (s *slave) update(u *messages.StatusUpdate) bool {
	fid, tid := u.GetFrameworkId().GetValue(), u.GetStatus().GetTaskId().GetValue()
	if s.doneUpdates[string(u.GetUuid())] {
		s.log.Debug("ignoring an update of a task that ended before the restart", "framework", fid, "task", tid)
		return true
	}
	st := s.streamFor(fid, tid)
	c, err := st.Update(u)
	if err != nil {
		s.log.Warn("dropping a status update", "framework", fid, "task", tid, "err", err)
		return true
	}
	if c.Outcome != statusupdate.Accepted {
		s.log.Debug("ignoring a status update", "framework", fid, "task", tid, "outcome", c.Outcome.String())
		return true
	}
	if err := st.checkpoint(c); err != nil {
		s.log.Error("cannot checkpoint a status update; not acknowledging it", "framework", fid, "task", tid, "err", err)
		return false
	}
	r := st.Commit(c)
	s.log.Debug("status update queued", "framework", fid, "task", tid, "state", u.GetStatus().GetState().String(), "pending", st.Len(), "registered", s.registered)
	if r.HeadChanged && s.registered {
		s.forward(st)
	}
	return true
}

// forward sends the head of st to the master, starting its resend
// schedule afresh.
func (s *slave) forward(st *stream) {
	s.send1(st, st.Forward(s.Clock().Now()))
}

// send1 sends head (if any) to the master and arms the timer that resends
// it when due.
func (s *slave) send1(st *stream, head *messages.StatusUpdate) {
	if head == nil || st.held {
		return
	}
	head.LatestState = head.GetStatus().State
	if t := s.task(st.FrameworkID(), st.TaskID()); t != nil {
		head.LatestState = t.State
	}
	s.log.Debug("forwarding status update", "framework", st.FrameworkID(), "task", st.TaskID(), "state", head.GetStatus().GetState().String())
	s.send(s.cfg.Master, &messages.StatusUpdateMessage{Update: head, Pid: proto.String(s.Self().String())})
	s.Clock().Cancel(st.timer)
	if due, ok := st.Due(); ok {
		st.timer = s.Delay(due.Sub(s.Clock().Now()), func() {
			if s.registered {
				s.send1(st, st.Retry(s.Clock().Now()))
			}
		})
	}
}

// holdForTermination keeps a command executor's TASK_FAILED from the
// master until its container has ended (or the executor shutdown grace
// period has passed): when the kernel kills a task for going over its
// memory limit, the command executor sees only a killed command and may
// report before the containerizer reports the limitation; the update then
// goes out with the limitation's reason and message, as if the slave had
// failed the task itself. The update is checkpointed and acknowledged to
// the executor meanwhile, so the executor can end.
func (s *slave) holdForTermination(e *executor, st *stream) {
	if e.state == executorTerminated || st.held {
		return
	}
	st.held = true
	e.held = append(e.held, st)
	s.Delay(s.cfg.ExecutorShutdownGracePeriod, func() { s.releaseHeld(e, nil) })
}

// releaseHeld forwards the updates e's container end held back, with the
// limitation of term (if any) as their reason.
func (s *slave) releaseHeld(e *executor, term *containerizer.Termination) {
	held := e.held
	e.held = nil
	for _, st := range held {
		st.held = false
		for _, u := range st.Pending() {
			if term != nil && term.Limited && u.GetStatus().GetState() == mesos.TaskState_TASK_FAILED {
				u.Status.Reason = term.Reason.Enum()
				u.Status.Message = proto.String(term.Message)
			}
		}
		if s.registered {
			s.forward(st)
		}
	}
}

// resumeStreams resends every stream's head after (re)registration, in
// task order.
func (s *slave) resumeStreams() {
	keys := make([]streamKey, 0, len(s.streams))
	for k := range s.streams {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b streamKey) int {
		return cmp.Or(cmp.Compare(a.framework, b.framework), cmp.Compare(a.task, b.task))
	})
	for _, k := range keys {
		s.forward(s.streams[k])
	}
}

// acknowledge takes the master's acknowledgement of a framework's task's
// update: if it is the head's, it is checkpointed and popped and the next
// update goes out; once the terminal update is acknowledged the task is
// done.
func (s *slave) acknowledge(fid, tid string, uuid []byte) {
	st := s.streamOf(fid, tid)
	if st == nil {
		s.log.Warn("status update acknowledgement for an unknown stream", "framework", fid, "task", tid, "uuid", mesos.UUIDString(uuid))
		return
	}
	c, err := st.Acknowledge(uuid)
	if err != nil {
		s.log.Warn("unexpected status update acknowledgement", "framework", fid, "task", tid, "err", err)
		return
	}
	if c.Outcome != statusupdate.Accepted {
		s.log.Warn("ignoring a status update acknowledgement", "framework", fid, "task", tid, "uuid", mesos.UUIDString(uuid), "outcome", c.Outcome.String())
		return
	}
	if err := st.checkpoint(c); err != nil {
		s.log.Error("cannot checkpoint an acknowledgement; the master will resend it", "framework", fid, "task", tid, "err", err)
		return
	}
	r := st.Commit(c)
	s.log.Debug("status update acknowledged", "framework", fid, "task", tid, "state", r.Acked.GetStatus().GetState().String())
	s.Clock().Cancel(st.timer)
	if r.Done {
		for _, u := range r.Dropped {
			s.log.Warn("dropping a status update queued after the terminal one", "framework", fid, "task", tid, "state", u.GetStatus().GetState().String())
		}
		delete(s.streams, streamKey{fid, tid})
		s.taskDone(r.Acked)
		return
	}
	if r.HeadChanged && s.registered {
		s.forward(st)
	}
}
