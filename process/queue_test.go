package process

import (
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// QueueDepth counts queued messages and dispatches while the process is
// busy, and drops to zero once they ran.
func TestQueueDepth(t *testing.T) {
	rt := newRuntime(t, Options{NoNetwork: true})
	release := make(chan struct{})
	started := make(chan struct{})
	p, pid := spawn(t, rt, "busy", func(p *testProc) {
		Install(&p.Process, func(UPID, *wrapperspb.Int64Value) {})
	})
	Run(rt, pid, func() {
		close(started)
		<-release // busy: what comes next waits in the mailbox
	})
	<-started
	for i := 0; i < 3; i++ {
		if err := rt.Send(Any, pid, wrapperspb.Int64(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	Run(rt, pid, func() {})
	Run(rt, pid, func() {})
	if m, d, h := p.QueueDepth(); m != 3 || d != 2 || h != 0 {
		t.Fatalf("queue depth while busy: %d messages, %d dispatches, %d http; want 3, 2, 0", m, d, h)
	}
	close(release)
	rt.Clock().Settle()
	if m, d, h := p.QueueDepth(); m != 0 || d != 0 || h != 0 {
		t.Fatalf("queue depth when idle: %d %d %d", m, d, h)
	}
}
