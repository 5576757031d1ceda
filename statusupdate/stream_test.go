package statusupdate

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

func update(fid, tid string, st mesos.TaskState, uuid string) *messages.StatusUpdate {
	return &messages.StatusUpdate{
		FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
		Status:      &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String(tid)}, State: st.Enum()},
		Uuid:        []byte(uuid),
	}
}

const (
	running  = mesos.TaskState_TASK_RUNNING
	finished = mesos.TaskState_TASK_FINISHED
)

// op is one input to a stream and what it must give.
type op struct {
	update  *messages.StatusUpdate // an update, or
	ack     string                 // an acknowledgement of this uuid
	outcome Outcome
	err     error // errors.Is target; any error if errAny
	result  Result
}

var errAny = errors.New("any error")

func upd(st mesos.TaskState, uuid string) *messages.StatusUpdate {
	return update("f", "t", st, uuid)
}

// apply runs o against s, committing what it accepts, and checks it.
func apply(t *testing.T, s *Stream, i int, o op) {
	t.Helper()
	var c Change
	var err error
	if o.update != nil {
		c, err = s.Update(o.update)
	} else {
		c, err = s.Acknowledge([]byte(o.ack))
	}
	switch {
	case o.err == errAny && err == nil, o.err != nil && o.err != errAny && !errors.Is(err, o.err):
		t.Fatalf("step %d: error %v, want %v", i, err, o.err)
	case o.err == nil && err != nil:
		t.Fatalf("step %d: %v", i, err)
	case err != nil:
		return
	}
	if c.Outcome != o.outcome {
		t.Fatalf("step %d: outcome %s, want %s", i, c.Outcome, o.outcome)
	}
	wantRecords := 0
	if o.outcome == Accepted {
		wantRecords = 1
	}
	if len(c.Records) != wantRecords {
		t.Fatalf("step %d: %d records, want %d", i, len(c.Records), wantRecords)
	}
	if wantRecords == 1 {
		rec := c.Records[0]
		if o.update != nil && (rec.GetType() != messages.StatusUpdateRecord_UPDATE || rec.GetUpdate() != o.update) {
			t.Fatalf("step %d: record %v, want the update", i, rec)
		}
		if o.update == nil && (rec.GetType() != messages.StatusUpdateRecord_ACK || string(rec.GetUuid()) != o.ack) {
			t.Fatalf("step %d: record %v, want the ack of %s", i, rec, o.ack)
		}
	}
	r := s.Commit(c)
	if got, want := describe(r), describe(o.result); got != want {
		t.Fatalf("step %d: result %s, want %s", i, got, want)
	}
}

func describe(r Result) string {
	acked := ""
	if r.Acked != nil {
		acked = string(r.Acked.GetUuid())
	}
	return fmt.Sprintf("head changed %v, acked %q, done %v, dropped %s", r.HeadChanged, acked, r.Done, uuids(r.Dropped))
}

func uuids(us []*messages.StatusUpdate) string {
	var out []string
	for _, u := range us {
		out = append(out, string(u.GetUuid()))
	}
	return fmt.Sprint(out)
}

func TestStreamTransitions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ops        []op
		pending    string // uuids left pending
		terminated bool
	}{
		{name: "new update becomes the head",
			ops:     []op{{update: upd(running, "a"), result: Result{HeadChanged: true}}},
			pending: "[a]"},
		{name: "a second update queues behind the head",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{update: upd(finished, "b")},
			},
			pending: "[a b]"},
		{name: "duplicate of a pending update",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{update: upd(finished, "b")},
				{update: upd(running, "a"), outcome: Duplicate},
				{update: upd(finished, "b"), outcome: Duplicate},
			},
			pending: "[a b]"},
		{name: "duplicate of an acknowledged update",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{ack: "a", result: Result{Acked: upd(running, "a")}},
				{update: upd(running, "a"), outcome: AlreadyAcked},
			},
			pending: "[]"},
		{name: "acknowledging the head forwards the next",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{update: upd(finished, "b")},
				{ack: "a", result: Result{HeadChanged: true, Acked: upd(running, "a")}},
			},
			pending: "[b]"},
		{name: "acknowledging an update that is not the head",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{update: upd(finished, "b")},
				{ack: "b", outcome: NotHead},
			},
			pending: "[a b]"},
		{name: "acknowledging an unknown uuid",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{ack: "zz", outcome: Unknown},
			},
			pending: "[a]"},
		{name: "acknowledging an empty stream",
			ops:     []op{{ack: "a", outcome: Unknown}},
			pending: "[]"},
		{name: "a duplicate acknowledgement",
			ops: []op{
				{update: upd(running, "a"), result: Result{HeadChanged: true}},
				{ack: "a", result: Result{Acked: upd(running, "a")}},
				{ack: "a", outcome: AlreadyAcked},
			},
			pending: "[]"},
		{name: "the terminal acknowledgement ends the stream and drops what follows",
			ops: []op{
				{update: upd(finished, "a"), result: Result{HeadChanged: true}},
				{update: upd(mesos.TaskState_TASK_LOST, "b")},
				{ack: "a", result: Result{Acked: upd(finished, "a"), Done: true, Dropped: []*messages.StatusUpdate{upd(mesos.TaskState_TASK_LOST, "b")}}},
			},
			pending: "[]", terminated: true},
		{name: "acknowledgements after terminal",
			ops: []op{
				{update: upd(finished, "a"), result: Result{HeadChanged: true}},
				{ack: "a", result: Result{Acked: upd(finished, "a"), Done: true}},
				{ack: "a", outcome: AlreadyAcked},
				{ack: "b", err: ErrTerminated},
			},
			pending: "[]", terminated: true},
		{name: "updates after terminal",
			ops: []op{
				{update: upd(mesos.TaskState_TASK_KILLED, "a"), result: Result{HeadChanged: true}},
				{ack: "a", result: Result{Acked: upd(mesos.TaskState_TASK_KILLED, "a"), Done: true}},
				{update: upd(mesos.TaskState_TASK_KILLED, "a"), outcome: AlreadyAcked},
				{update: upd(running, "b"), err: ErrTerminated},
			},
			pending: "[]", terminated: true},
		{name: "invalid updates",
			ops: []op{
				{update: upd(running, ""), err: errAny},
				{update: update("f", "other", running, "a"), err: errAny},
				{update: update("g", "t", running, "a"), err: errAny},
			},
			pending: "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New("f", "t")
			for i, o := range tc.ops {
				apply(t, s, i, o)
			}
			if got := uuids(s.Pending()); got != tc.pending {
				t.Errorf("pending %s, want %s", got, tc.pending)
			}
			if s.Terminated() != tc.terminated {
				t.Errorf("terminated %v, want %v", s.Terminated(), tc.terminated)
			}
		})
	}
}

func TestCommitOfAStaleChangeDoesNothing(t *testing.T) {
	s := New("f", "t")
	c, _ := s.Update(upd(running, "a"))
	s.Commit(c)
	if r := s.Commit(c); r.HeadChanged || s.Len() != 1 {
		t.Fatalf("committing the same update twice: %+v, %d pending", r, s.Len())
	}
	ack, _ := s.Acknowledge([]byte("a"))
	s.Commit(ack)
	if r := s.Commit(ack); r.Acked != nil {
		t.Fatalf("committing the same ack twice: %+v", r)
	}
}

func TestRetrySchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := New("f", "t")
	if s.Forward(t0) != nil {
		t.Fatal("an empty stream forwards something")
	}
	if _, ok := s.Due(); ok {
		t.Fatal("an empty stream is due")
	}
	c, _ := s.Update(upd(running, "a"))
	s.Commit(c)
	if s.Retry(t0.Add(time.Hour)) != nil {
		t.Fatal("a head never forwarded is retried")
	}
	if h := s.Forward(t0); string(h.GetUuid()) != "a" {
		t.Fatalf("forward: %v", h)
	}
	// Resent 10 s after the first send, then after 20, 40, ... up to 10 min.
	now := t0
	var gaps []time.Duration
	for range 9 {
		due, ok := s.Due()
		if !ok {
			t.Fatal("not due")
		}
		if s.Retry(due.Add(-time.Nanosecond)) != nil {
			t.Fatalf("retried before it was due (%v)", due)
		}
		if h := s.Retry(due); h == nil {
			t.Fatalf("not retried when due (%v)", due)
		}
		gaps = append(gaps, due.Sub(now))
		now = due
	}
	want := "[10s 20s 40s 1m20s 2m40s 5m20s 10m0s 10m0s 10m0s]"
	if fmt.Sprint(gaps) != want {
		t.Fatalf("resend gaps %v, want %s", gaps, want)
	}
	// Forward (a reconnect) starts the schedule afresh.
	s.Forward(now)
	if due, _ := s.Due(); due.Sub(now) != RetryMin {
		t.Fatalf("after forward due in %v", due.Sub(now))
	}
	// An acknowledged head is not retried, even by a timer armed for it.
	due, _ := s.Due()
	ack, _ := s.Acknowledge([]byte("a"))
	s.Commit(ack)
	if s.Retry(due) != nil {
		t.Fatal("an acknowledged head was retried")
	}
	if _, ok := s.Due(); ok {
		t.Fatal("an empty stream is due after an acknowledgement")
	}
}

func records(items ...any) []*messages.StatusUpdateRecord {
	var out []*messages.StatusUpdateRecord
	for _, it := range items {
		switch v := it.(type) {
		case *messages.StatusUpdate:
			out = append(out, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: v})
		case string:
			out = append(out, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: []byte(v)})
		}
	}
	return out
}

func TestReplay(t *testing.T) {
	full := records(upd(running, "a"), "a", upd(finished, "b"), "b")
	for _, tc := range []struct {
		name       string
		records    []*messages.StatusUpdateRecord
		pending    string
		terminated bool
		err        bool
	}{
		{name: "nothing", records: nil, pending: "[]"},
		{name: "everything acknowledged", records: full, pending: "[]", terminated: true},
		{name: "truncated: the terminal ack lost", records: full[:3], pending: "[b]"},
		{name: "truncated: an ack lost", records: full[:1], pending: "[a]"},
		{name: "two pending", records: records(upd(running, "a"), upd(finished, "b")), pending: "[a b]"},
		{name: "a duplicate update record", records: records(upd(running, "a"), upd(running, "a")), pending: "[a]"},
		{name: "an ack that is not the head", records: records(upd(running, "a"), upd(finished, "b"), "b"), pending: "[a b]", err: true},
		{name: "an ack of nothing", records: records("a"), pending: "[]", err: true},
		{name: "another task's update", records: records(upd(running, "a"), update("f", "u", running, "b")), pending: "[a]", err: true},
		{name: "an update after terminal", records: append(full, records(upd(running, "c"))...), pending: "[]", terminated: true, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Replay("f", "t", tc.records)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if got := uuids(s.Pending()); got != tc.pending {
				t.Errorf("pending %s, want %s", got, tc.pending)
			}
			if s.Terminated() != tc.terminated {
				t.Errorf("terminated %v, want %v", s.Terminated(), tc.terminated)
			}
		})
	}
}

func TestReplayThenResendFromTheHead(t *testing.T) {
	// Before the restart: a acknowledged, b and c pending, b sent.
	s, err := Replay("f", "t", records(upd(running, "a"), "a", upd(running, "b"), upd(finished, "c")))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Due(); ok {
		t.Fatal("a replayed stream is due before it is forwarded")
	}
	now := time.Unix(5000, 0)
	var sent []*messages.StatusUpdate
	h := s.Forward(now)
	sent = append(sent, h)
	// The executor resends b (re-registering): a duplicate.
	if c, _ := s.Update(upd(running, "b")); c.Outcome != Duplicate {
		t.Fatalf("resent b: %s", c.Outcome)
	}
	// The master acknowledges a again (it saw it before the restart).
	if c, _ := s.Acknowledge([]byte("a")); c.Outcome != AlreadyAcked {
		t.Fatalf("old ack of a: %s", c.Outcome)
	}
	for s.Head() != nil {
		c, err := s.Acknowledge(s.Head().GetUuid())
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Commit(c); r.HeadChanged {
			sent = append(sent, s.Forward(now))
		}
	}
	if got := uuids(sent); got != "[b c]" {
		t.Fatalf("sent %s after the restart, want [b c]", got)
	}
	if !s.Terminated() {
		t.Fatal("not terminated after the terminal ack")
	}
}
