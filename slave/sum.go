package slave

import (
	"bytes"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
)

// stream is the status update stream of one task: updates in order, only
// the head sent to the master and resent (10 s, doubling to 10 min) until
// acknowledged. For checkpointing frameworks every update and every
// acknowledgement is appended to the task's update file first.
type stream struct {
	taskID      string
	frameworkID string
	path        string // task.updates, or "" when not checkpointing
	pending     []*messages.StatusUpdate
	interval    time.Duration
	timer       *process.Timer
	acked       map[string]bool // uuids already acknowledged
}

// streamFor returns the task's stream, creating it (with its checkpoint
// path, if the executor checkpoints).
func (s *Slave) streamFor(fid, tid string) *stream {
	st := s.streams[tid]
	if st == nil {
		st = &stream{taskID: tid, frameworkID: fid, acked: map[string]bool{}}
		if f := s.frameworks[fid]; f != nil {
			for _, e := range f.executors {
				if e.tasks[tid] != nil && e.checkpoint {
					st.path = s.paths.TaskUpdates(s.info.GetId().GetValue(), fid, e.id, e.containerID, tid)
				}
			}
		}
		s.streams[tid] = st
	}
	return st
}

// update checkpoints u and appends it to its task's stream; a duplicate
// (same uuid) is dropped. It returns false when the checkpoint failed (the
// executor is then not acknowledged and will resend). The head goes out
// at once when the slave is registered.
func (s *Slave) update(u *messages.StatusUpdate) bool {
	tid := u.GetStatus().GetTaskId().GetValue()
	st := s.streamFor(u.GetFrameworkId().GetValue(), tid)
	if st.acked[string(u.GetUuid())] {
		return true
	}
	for _, p := range st.pending {
		if bytes.Equal(p.GetUuid(), u.GetUuid()) {
			return true
		}
	}
	if st.path != "" {
		rec := &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: u}
		if err := appendRecord(st.path, rec); err != nil {
			s.log.Error("cannot checkpoint a status update; not acknowledging it", "task", tid, "err", err)
			return false
		}
	}
	st.pending = append(st.pending, u)
	s.log.Debug("status update queued", "task", tid, "state", u.GetStatus().GetState().String(), "pending", len(st.pending), "registered", s.registered)
	if len(st.pending) == 1 && s.registered {
		st.interval = StatusUpdateRetryMin
		st.forward(s)
	}
	return true
}

// forward sends the head to the master and arms its retry.
func (st *stream) forward(s *Slave) {
	if len(st.pending) == 0 {
		return
	}
	head := st.pending[0]
	head.LatestState = head.GetStatus().State
	if t := s.task(head.GetStatus().GetTaskId().GetValue()); t != nil {
		head.LatestState = t.State
	}
	s.log.Debug("forwarding status update", "task", st.taskID, "state", head.GetStatus().GetState().String(), "interval", st.interval)
	s.send(s.cfg.Master, &messages.StatusUpdateMessage{Update: head, Pid: proto.String(s.Self().String())})
	s.Clock().Cancel(st.timer)
	st.timer = s.Delay(st.interval, func() {
		if len(st.pending) > 0 && st.pending[0] == head && s.registered {
			st.interval = min(2*st.interval, StatusUpdateRetryMax)
			st.forward(s)
		}
	})
}

// resume resends the head after (re)registration.
func (st *stream) resume(s *Slave) {
	st.interval = StatusUpdateRetryMin
	st.forward(s)
}

// acknowledge pops the head if uuid matches it, then forwards the next.
func (s *Slave) acknowledge(taskID string, uuid []byte) {
	st := s.streams[taskID]
	s.log.Debug("status update acknowledged", "task", taskID, "known", st != nil)
	if st == nil || len(st.pending) == 0 {
		return
	}
	if !bytes.Equal(st.pending[0].GetUuid(), uuid) {
		if !st.acked[string(uuid)] {
			s.log.Warn("unexpected status update acknowledgement", "task", taskID)
		}
		return
	}
	if st.path != "" {
		rec := &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: uuid}
		if err := appendRecord(st.path, rec); err != nil {
			s.log.Error("cannot checkpoint an acknowledgement; the master will resend it", "task", taskID, "err", err)
			return
		}
	}
	head := st.pending[0]
	st.pending = st.pending[1:]
	st.acked[string(uuid)] = true
	s.Clock().Cancel(st.timer)
	if mesos.IsTerminal(head.GetStatus().GetState()) && len(st.pending) == 0 {
		delete(s.streams, taskID)
		s.taskDone(head)
		return
	}
	if len(st.pending) > 0 {
		st.interval = StatusUpdateRetryMin
		st.forward(s)
	}
}
