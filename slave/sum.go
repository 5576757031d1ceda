package slave

import (
	"bytes"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
)

// stream is the status update stream of one task: updates in order, only
// the head sent to the master and resent (10 s, doubling to 10 min) until
// acknowledged.
type stream struct {
	taskID   string
	pending  []*messages.StatusUpdate
	interval time.Duration
	timer    *process.Timer
	acked    map[string]bool // uuids already acknowledged
}

// update appends u to its task's stream; a duplicate (same uuid) is
// dropped. The head goes out at once when the slave is registered.
func (s *Slave) update(u *messages.StatusUpdate) {
	tid := u.GetStatus().GetTaskId().GetValue()
	st := s.streams[tid]
	if st == nil {
		st = &stream{taskID: tid, acked: map[string]bool{}}
		s.streams[tid] = st
	}
	if st.acked[string(u.GetUuid())] {
		return
	}
	for _, p := range st.pending {
		if bytes.Equal(p.GetUuid(), u.GetUuid()) {
			return
		}
	}
	st.pending = append(st.pending, u)
	if len(st.pending) == 1 && s.registered {
		st.interval = StatusUpdateRetryMin
		st.forward(s)
	}
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
	if st == nil || len(st.pending) == 0 {
		return
	}
	if !bytes.Equal(st.pending[0].GetUuid(), uuid) {
		if !st.acked[string(uuid)] {
			s.log.Warn("unexpected status update acknowledgement", "task", taskID)
		}
		return
	}
	head := st.pending[0]
	st.pending = st.pending[1:]
	st.acked[string(uuid)] = true
	s.Clock().Cancel(st.timer)
	if terminal(head.GetStatus().GetState()) && len(st.pending) == 0 {
		delete(s.streams, taskID)
		s.taskDone(head)
		return
	}
	if len(st.pending) > 0 {
		st.interval = StatusUpdateRetryMin
		st.forward(s)
	}
}
