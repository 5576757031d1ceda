package detector

import (
	"errors"
	"testing"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
)

// value returns a completed future's value, failing the test if it is
// pending or failed.
func value[T any](t *testing.T, f future.Future[T]) T {
	t.Helper()
	if f.IsPending() {
		t.Fatalf("%v: still pending", f)
	}
	v, err := f.Get()
	if err != nil {
		t.Fatalf("%v: %v", f, err)
	}
	return v
}

func TestGroupElectsTheFirstAndFailsOver(t *testing.T) {
	g := NewGroup()
	var seen []string
	stop := Follow(g.Detector(), func(l *mesos.MasterInfo) {
		if l == nil {
			seen = append(seen, "none")
			return
		}
		seen = append(seen, l.GetId())
	})
	defer stop()

	c1, c2, c3 := g.Contender(), g.Contender(), g.Contender()
	e1 := c1.Contend(info("m1", "master@127.0.0.1:5050"))
	e2 := c2.Contend(info("m2", "master@127.0.0.1:5051"))
	e3 := c3.Contend(info("m3", "master@127.0.0.1:5052"))
	lost1 := value(t, e1)
	if !e2.IsPending() || !e3.IsPending() {
		t.Fatalf("standbys elected: %v %v", e2, e3)
	}
	if g.Leader().GetId() != "m1" {
		t.Fatalf("leader %v", g.Leader())
	}

	// The leader loses its session: its leadership fails, the next in
	// line is elected.
	c1.Expire()
	if !errors.Is(lost1.Err(), ErrLost) {
		t.Fatalf("the expired leader's leadership: %v", lost1)
	}
	lost2 := value(t, e2)
	if !e3.IsPending() {
		t.Fatal("the third contender was elected too")
	}
	// A standby withdraws: its candidacy fails, nothing else changes.
	c3.Withdraw()
	if e3.Err() == nil {
		t.Fatalf("withdrawn standby: %v", e3)
	}
	// The leader withdraws: its leadership ends cleanly; nobody leads.
	c2.Withdraw()
	if !lost2.IsReady() {
		t.Fatalf("the withdrawn leader's leadership: %v", lost2)
	}
	// A master contends again: elected at once.
	value(t, c1.Contend(info("m4", "master@127.0.0.1:5053")))

	want := []string{"m1", "m2", "none", "m4"}
	if len(seen) != len(want) {
		t.Fatalf("detected %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("detected %v, want %v", seen, want)
		}
	}
}

func TestDetectWaitsForAChange(t *testing.T) {
	g := NewGroup()
	d := g.Detector()
	first := d.Detect(nil)
	if !first.IsPending() {
		t.Fatalf("detected before any leader: %v", first)
	}
	c := g.Contender()
	c.Contend(info("m1", "master@127.0.0.1:5050"))
	m1 := value(t, first)
	if m1.GetId() != "m1" {
		t.Fatalf("detected %v", m1)
	}
	// Asking with an older leader answers at once; with the current one,
	// at the next change.
	if l := value(t, d.Detect(info("old", "master@127.0.0.1:1"))); l.GetId() != "m1" {
		t.Fatalf("detected %v", l)
	}
	next := d.Detect(m1)
	if !next.IsPending() {
		t.Fatalf("detected without a change: %v", next)
	}
	c.Withdraw()
	if l := value(t, next); l != nil {
		t.Fatalf("detected %v after the only leader withdrew", l)
	}
	// A discarded detection is dropped.
	again := d.Detect(nil)
	again.Discard()
	c.Contend(info("m2", "master@127.0.0.1:5051"))
	if !again.IsDiscarded() {
		t.Fatalf("discarded detection: %v", again)
	}
}

func TestStandalone(t *testing.T) {
	s := NewStandalone(nil)
	pending := s.Detect(nil)
	lost := value(t, s.Contend(info("m1", "master@127.0.0.1:5050")))
	if l := value(t, pending); l.GetId() != "m1" {
		t.Fatalf("detected %v", l)
	}
	next := s.Detect(info("m1", "master@127.0.0.1:5050"))
	s.Appoint(info("m2", "master@127.0.0.1:5051"))
	if l := value(t, next); l.GetId() != "m2" {
		t.Fatalf("detected %v after the appointment", l)
	}
	if !lost.IsPending() {
		t.Fatal("leadership ended without a withdrawal")
	}
	s.Withdraw()
	if !lost.IsReady() {
		t.Fatalf("leadership after withdrawing: %v", lost)
	}
	fixed := NewStandalone(info("m", "master@127.0.0.1:5050"))
	if l := value(t, fixed.Detect(nil)); l.GetPid() != "master@127.0.0.1:5050" {
		t.Fatalf("fixed master %v", l)
	}
}
