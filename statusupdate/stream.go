// Package statusupdate is the reliable status update stream of one task,
// as a plain value: updates queue in order, only the head is outstanding,
// it is resent (10 s, doubling up to 10 min) until acknowledged, and the
// stream ends once a terminal update is acknowledged.
//
// The stream does no I/O and reads no clock. A transition is two steps:
// Update or Acknowledge says what an input would change, including the
// checkpoint records to append first (for frameworks that checkpoint);
// Commit applies it once the caller has written them. Time comes in as an
// argument (Forward, Retry) and the stream says when its head is due
// again (Due); the caller owns the timer. Replay rebuilds a stream from
// its checkpoint records after a restart.
//
// The slave's status update manager, the executor driver and the test
// fakes all keep their updates in this one type.
package statusupdate

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

// RetryMin and RetryMax bound the interval at which an unacknowledged head
// is resent: RetryMin after it is first sent, doubling up to RetryMax.
const (
	RetryMin = 10 * time.Second
	RetryMax = 10 * time.Minute
)

// ErrTerminated is returned for input to a stream whose terminal update
// was already acknowledged.
var ErrTerminated = errors.New("status update stream is terminated")

// Outcome says what an update or acknowledgement means to a stream.
type Outcome int

// The outcomes; only Accepted changes the stream.
const (
	// Accepted: a new update, or the acknowledgement of the head.
	Accepted Outcome = iota
	// Duplicate: an update whose uuid is already pending.
	Duplicate
	// AlreadyAcked: an update or acknowledgement whose uuid was already
	// acknowledged (a resend crossed its acknowledgement).
	AlreadyAcked
	// NotHead: an acknowledgement of a pending update behind the head.
	NotHead
	// Unknown: an acknowledgement of a uuid the stream never received.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case AlreadyAcked:
		return "already acknowledged"
	case NotHead:
		return "not the head"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Change is what an update or acknowledgement would do to a stream: its
// Outcome and, when Accepted, the checkpoint Records to append before
// calling Commit.
type Change struct {
	Outcome Outcome
	Records []*messages.StatusUpdateRecord

	update *messages.StatusUpdate // an update's change
	uuid   []byte                 // an acknowledgement's change
}

// Result is what a committed change did.
type Result struct {
	// HeadChanged: the stream has a new head, to forward now (if the
	// caller is connected) with Forward.
	HeadChanged bool
	// Acked is the update an acknowledgement removed from the head.
	Acked *messages.StatusUpdate
	// Done: Acked was terminal, so the stream is over. Updates still
	// queued behind it are dropped and listed in Dropped.
	Done    bool
	Dropped []*messages.StatusUpdate
}

// Stream is the status update stream of one task of one framework. The
// zero value is not usable; call New or Replay.
type Stream struct {
	frameworkID string
	taskID      string

	pending    []*messages.StatusUpdate
	received   map[string]bool // uuids of every update taken
	acked      map[string]bool // uuids acknowledged
	terminated bool

	interval time.Duration // current resend interval of the head
	due      time.Time     // when the head is due again; zero: not sent
}

// New returns the empty stream of a framework's task.
func New(frameworkID, taskID string) *Stream {
	return &Stream{frameworkID: frameworkID, taskID: taskID, received: map[string]bool{}, acked: map[string]bool{}}
}

// FrameworkID is the id of the framework whose task the stream is of.
func (s *Stream) FrameworkID() string { return s.frameworkID }

// TaskID is the id of the stream's task.
func (s *Stream) TaskID() string { return s.taskID }

// Head is the oldest unacknowledged update, nil when none is.
func (s *Stream) Head() *messages.StatusUpdate {
	if len(s.pending) == 0 {
		return nil
	}
	return s.pending[0]
}

// Pending returns the unacknowledged updates, oldest first.
func (s *Stream) Pending() []*messages.StatusUpdate {
	return append([]*messages.StatusUpdate(nil), s.pending...)
}

// Len is how many updates are unacknowledged.
func (s *Stream) Len() int { return len(s.pending) }

// IsAcked says whether the update with this uuid was acknowledged.
func (s *Stream) IsAcked(uuid []byte) bool { return s.acked[string(uuid)] }

// Terminated says whether a terminal update was acknowledged: the stream
// is over and takes no more updates.
func (s *Stream) Terminated() bool { return s.terminated }

// Update says what taking u would change. An update without a uuid or of
// another task is an error, as is any new update once the stream is
// terminated.
func (s *Stream) Update(u *messages.StatusUpdate) (Change, error) {
	if err := s.check(u); err != nil {
		return Change{}, err
	}
	id := string(u.GetUuid())
	switch {
	case s.acked[id]:
		return Change{Outcome: AlreadyAcked}, nil
	case s.received[id]:
		return Change{Outcome: Duplicate}, nil
	case s.terminated:
		return Change{}, fmt.Errorf("update %s of task %s: %w", mesos.UUIDString(u.GetUuid()), s.taskID, ErrTerminated)
	}
	rec := &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: u}
	return Change{Outcome: Accepted, Records: []*messages.StatusUpdateRecord{rec}, update: u}, nil
}

func (s *Stream) check(u *messages.StatusUpdate) error {
	if len(u.GetUuid()) == 0 {
		return fmt.Errorf("update of task %s has no uuid", s.taskID)
	}
	if tid := u.GetStatus().GetTaskId().GetValue(); tid != s.taskID {
		return fmt.Errorf("update of task %q on the stream of task %q", tid, s.taskID)
	}
	if fid := u.GetFrameworkId().GetValue(); fid != s.frameworkID {
		return fmt.Errorf("update of framework %q on a stream of framework %q", fid, s.frameworkID)
	}
	return nil
}

// Acknowledge says what the acknowledgement of uuid would change: only
// the head's is Accepted. Once the stream is terminated, an
// acknowledgement of a uuid it did not acknowledge is an error.
func (s *Stream) Acknowledge(uuid []byte) (Change, error) {
	id := string(uuid)
	switch {
	case s.acked[id]:
		return Change{Outcome: AlreadyAcked}, nil
	case s.terminated:
		return Change{}, fmt.Errorf("acknowledgement %s for task %s: %w", mesos.UUIDString(uuid), s.taskID, ErrTerminated)
	case !s.received[id]:
		return Change{Outcome: Unknown}, nil
	case !bytes.Equal(s.pending[0].GetUuid(), uuid):
		return Change{Outcome: NotHead}, nil
	}
	rec := &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: uuid}
	return Change{Outcome: Accepted, Records: []*messages.StatusUpdateRecord{rec}, uuid: uuid}, nil
}

// Commit applies c, which Update or Acknowledge returned on this stream
// with nothing committed since. A change that is not Accepted (or no
// longer is) does nothing.
func (s *Stream) Commit(c Change) Result {
	if c.Outcome != Accepted {
		return Result{}
	}
	if c.update != nil {
		if now, err := s.Update(c.update); err != nil || now.Outcome != Accepted {
			return Result{}
		}
		s.received[string(c.update.GetUuid())] = true
		s.pending = append(s.pending, c.update)
		return Result{HeadChanged: len(s.pending) == 1}
	}
	if now, err := s.Acknowledge(c.uuid); err != nil || now.Outcome != Accepted {
		return Result{}
	}
	head := s.pending[0]
	s.pending = s.pending[1:]
	s.acked[string(c.uuid)] = true
	s.interval, s.due = 0, time.Time{}
	r := Result{Acked: head}
	if mesos.IsTerminal(head.GetStatus().GetState()) {
		s.terminated = true
		r.Done = true
		r.Dropped, s.pending = s.pending, nil
		return r
	}
	r.HeadChanged = len(s.pending) > 0
	return r
}

// Forward returns the head to send now (nil if none) and starts its
// resend schedule afresh: due again RetryMin after now. Call it when the
// head changed and on (re)connecting.
func (s *Stream) Forward(now time.Time) *messages.StatusUpdate {
	if len(s.pending) == 0 {
		return nil
	}
	s.interval = RetryMin
	s.due = now.Add(s.interval)
	return s.pending[0]
}

// Retry returns the head to resend when it is due at now (nil otherwise,
// e.g. from a timer armed for a head since acknowledged); the interval
// then doubles, up to RetryMax.
func (s *Stream) Retry(now time.Time) *messages.StatusUpdate {
	if len(s.pending) == 0 || s.due.IsZero() || now.Before(s.due) {
		return nil
	}
	s.interval = min(2*s.interval, RetryMax)
	s.due = now.Add(s.interval)
	return s.pending[0]
}

// Due is when the head is to be resent; false when nothing was sent or
// everything was acknowledged.
func (s *Stream) Due() (time.Time, bool) { return s.due, !s.due.IsZero() }

// Replay rebuilds the stream of a framework's task from its checkpoint
// records, in the order they were written. A list cut short (a torn last
// record) is simply an earlier state: updates whose acknowledgement was
// lost are pending again, to be resent from the head. A record that does
// not fit (another task's update, an acknowledgement of something other
// than the head) is an error; the stream returned holds the records
// before it.
func Replay(frameworkID, taskID string, records []*messages.StatusUpdateRecord) (*Stream, error) {
	s := New(frameworkID, taskID)
	for i, rec := range records {
		var c Change
		var err error
		switch rec.GetType() {
		case messages.StatusUpdateRecord_UPDATE:
			c, err = s.Update(rec.GetUpdate())
		case messages.StatusUpdateRecord_ACK:
			c, err = s.Acknowledge(rec.GetUuid())
			if err == nil && c.Outcome != Accepted {
				err = fmt.Errorf("acknowledgement %s is %s", mesos.UUIDString(rec.GetUuid()), c.Outcome)
			}
		default:
			err = fmt.Errorf("unknown record type %v", rec.GetType())
		}
		if err != nil {
			return s, fmt.Errorf("replay the updates of task %s, record %d: %w", taskID, i, err)
		}
		s.Commit(c)
	}
	return s, nil
}
