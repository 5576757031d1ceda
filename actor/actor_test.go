package actor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// note is a test event carrying a label.
type note struct {
	Mark
	label string
	wait  chan struct{} // if set, Receive blocks on it
}

// recorder records what its actor is told, in order.
type recorder struct {
	mu        sync.Mutex
	log       []string
	abandoned []string
	stopping  int
	panicked  []string
	onReceive func(n *note)
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) Started() { r.add("started") }
func (r *recorder) Receive(ev Event) {
	n := ev.(*note)
	if n.wait != nil {
		<-n.wait
	}
	if n.label == "panic" {
		panic("boom")
	}
	r.add(n.label)
	if r.onReceive != nil {
		r.onReceive(n)
	}
}
func (r *recorder) Stopping() {
	r.mu.Lock()
	r.stopping++
	r.mu.Unlock()
	r.add("stopping")
}
func (r *recorder) Abandoned(ev Event) {
	r.mu.Lock()
	r.abandoned = append(r.abandoned, ev.(*note).label)
	r.mu.Unlock()
}
func (r *recorder) Panicked(reason any, _ []byte) {
	r.mu.Lock()
	r.panicked = append(r.panicked, fmt.Sprint(reason))
	r.mu.Unlock()
}

func (r *recorder) snapshot() (log, abandoned, panicked []string, stopping int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log), slices.Clone(r.abandoned), slices.Clone(r.panicked), r.stopping
}

// both runs a test on the pooled dispatcher and on a Deterministic one.
func both(t *testing.T, fn func(t *testing.T, s *System)) {
	t.Run("pool", func(t *testing.T) {
		s := NewSystem(Options{Logger: quiet, Track: true})
		t.Cleanup(s.Shutdown)
		fn(t, s)
	})
	t.Run("deterministic", func(t *testing.T) {
		s := NewSystem(Options{Logger: quiet, Track: true, Dispatcher: NewDeterministic(1)})
		t.Cleanup(s.Shutdown)
		fn(t, s)
	})
}

func TestSpawn(t *testing.T) { both(t, testSpawn) }

func testSpawn(t *testing.T, s *System) {
	rec := &recorder{}
	var bound *Ref
	ref, err := s.Spawn("a", rec, func(r *Ref) { bound = r })
	if err != nil {
		t.Fatal(err)
	}
	// Posted at once: Started still comes first.
	ref.Post(&note{label: "early"})
	if bound != ref || ref.Name() != "a" {
		t.Fatalf("bind got %p, Spawn returned %p named %q", bound, ref, ref.Name())
	}
	ref.Post(&note{label: "one"})
	s.WaitIdle()
	if log, _, _, _ := rec.snapshot(); !slices.Equal(log, []string{"started", "early", "one"}) {
		t.Fatalf("log %v", log)
	}
	if got, ok := s.Lookup("a"); !ok || got != ref {
		t.Fatal("Lookup does not find the live actor")
	}
	if _, err := s.Spawn("a", &recorder{}, nil); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second spawn of a: %v, want ErrNameTaken", err)
	}
	if _, err := s.Spawn("", &recorder{}, nil); err == nil {
		t.Fatal("spawn with an empty name succeeded")
	}
	// Once stopped, the name is free again.
	ref.Stop()
	s.WaitIdle()
	if _, ok := s.Lookup("a"); ok {
		t.Fatal("stopped actor still found")
	}
	if _, err := s.Spawn("a", &recorder{}, nil); err != nil {
		t.Fatalf("respawn after stop: %v", err)
	}
	s.WaitIdle()
}

func TestStopAbandonsQueuedEvents(t *testing.T) { both(t, testStopAbandonsQueuedEvents) }

func testStopAbandonsQueuedEvents(t *testing.T, s *System) {
	rec := &recorder{}
	var ref *Ref
	rec.onReceive = func(n *note) {
		if n.label == "first" {
			// Stop from inside, with events queued behind this one.
			ref.Stop()
			ref.Stop()
		}
	}
	// The first event blocks until the rest are queued behind it.
	gate := make(chan struct{})
	ref, err := s.Spawn("a", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.Post(&note{label: "first", wait: gate})
	ref.Post(&note{label: "second"})
	ref.Post(&note{label: "third"})
	close(gate)
	s.WaitIdle()
	log, abandoned, _, stopping := rec.snapshot()
	if !slices.Equal(log, []string{"started", "first", "stopping"}) {
		t.Fatalf("log %v", log)
	}
	if !slices.Equal(abandoned, []string{"second", "third"}) {
		t.Fatalf("abandoned %v, want [second third]", abandoned)
	}
	if stopping != 1 {
		t.Fatalf("Stopping ran %d times", stopping)
	}
	if !ref.Stopped() || ref.Post(&note{label: "late"}) {
		t.Fatal("a stopped actor took an event")
	}
	ref.Stop() // harmless
	if n := s.InFlight(); n != 0 {
		t.Fatalf("in flight after stop: %d", n)
	}
}

func TestPanicStopsTheActor(t *testing.T) { both(t, testPanicStopsTheActor) }

func testPanicStopsTheActor(t *testing.T, s *System) {
	rec := &recorder{}
	gate := make(chan struct{})
	ref, err := s.Spawn("a", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.Post(&note{label: "panic", wait: gate})
	ref.Post(&note{label: "after"})
	close(gate)
	s.WaitIdle()
	log, abandoned, panicked, _ := rec.snapshot()
	if !slices.Equal(panicked, []string{"boom"}) || !ref.Stopped() {
		t.Fatalf("panicked %v, stopped %v", panicked, ref.Stopped())
	}
	if !slices.Equal(log, []string{"started", "stopping"}) || !slices.Equal(abandoned, []string{"after"}) {
		t.Fatalf("log %v, abandoned %v", log, abandoned)
	}
}

func TestDispatcherChoice(t *testing.T) {
	s := NewSystem(Options{Logger: quiet})
	defer s.Shutdown()
	if _, ok := s.Dispatcher().(*Deterministic); ok {
		t.Fatal("default dispatcher is deterministic")
	}
	if s.Dispatcher() != NewSystem(Options{Logger: quiet}).Dispatcher() {
		t.Fatal("systems without a dispatcher do not share the pool")
	}
	d := NewDeterministic(5)
	ds := NewSystem(Options{Logger: quiet, Dispatcher: d, Track: true})
	defer ds.Shutdown()
	if ds.Dispatcher() != d {
		t.Fatal("the given dispatcher is not used")
	}
	// Nothing runs on a deterministic dispatcher until it is driven.
	rec := &recorder{}
	ref, err := ds.Spawn("a", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.Post(&note{label: "x"})
	if log, _, _, _ := rec.snapshot(); len(log) != 0 || d.Len() == 0 {
		t.Fatalf("ran undriven: %v (queued %d)", log, d.Len())
	}
	if n := d.RunUntilIdle(); n == 0 {
		t.Fatal("RunUntilIdle ran nothing")
	}
	if log, _, _, _ := rec.snapshot(); !slices.Equal(log, []string{"started", "x"}) {
		t.Fatalf("log %v", log)
	}
	if d.Step() {
		t.Fatal("Step ran something on an empty queue")
	}
}

func TestInFlightAccounting(t *testing.T) {
	d := NewDeterministic(1)
	s := NewSystem(Options{Logger: quiet, Dispatcher: d})
	defer s.Shutdown()
	rec := &recorder{}
	ref, err := s.Spawn("a", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Not tracking: nothing counted.
	ref.Post(&note{label: "uncounted"})
	if s.Tracking() || s.InFlight() != 0 {
		t.Fatalf("tracking %v, in flight %d", s.Tracking(), s.InFlight())
	}
	// Turned on mid-flight: the earlier event stays uncounted, and
	// serving it does not drive the count negative.
	s.Track(true)
	ref.Post(&note{label: "counted"})
	ref.Post(&note{label: "counted too"})
	if n := s.InFlight(); n != 2 {
		t.Fatalf("in flight %d, want 2", n)
	}
	d.RunUntilIdle()
	if n := s.InFlight(); n != 0 {
		t.Fatalf("in flight after running %d, want 0", n)
	}
	// Holds count until released, whatever the tracking.
	s.Track(false)
	s.Hold(2)
	if n := s.InFlight(); n != 2 {
		t.Fatalf("in flight with a hold of 2: %d", n)
	}
	if AllIdle() {
		t.Fatal("AllIdle with a hold outstanding")
	}
	s.Release(2)
	if n := s.InFlight(); n != 0 || !AllIdle() {
		t.Fatalf("in flight after release %d, all idle %v", n, AllIdle())
	}
}

func TestWaitIdleWaitsForHolds(t *testing.T) { both(t, testWaitIdleWaitsForHolds) }

// A hold released by a goroutine outside the system: WaitIdle and
// WaitAllIdle wait for it, on either dispatcher, and wake when it goes.
func testWaitIdleWaitsForHolds(t *testing.T, s *System) {
	for i := 0; i < 50; i++ {
		s.Hold(1)
		released := make(chan struct{})
		go func() {
			defer close(released)
			s.Release(1)
		}()
		if i%2 == 0 {
			s.WaitIdle()
		} else {
			WaitAllIdle()
		}
		select {
		case <-released:
		default:
			// Release has run its decrement; only the close may lag.
			if s.InFlight() != 0 {
				t.Fatal("WaitIdle returned with the hold outstanding")
			}
		}
		<-released
	}
	// A hold whose release posts an event first: WaitIdle runs it.
	rec := &recorder{}
	ref, err := s.Spawn("a", rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Hold(1)
	go func() {
		ref.Post(&note{label: "from outside"})
		s.Release(1)
	}()
	WaitAllIdle()
	if log, _, _, _ := rec.snapshot(); !slices.Equal(log, []string{"started", "from outside"}) {
		t.Fatalf("log %v", log)
	}
}

func TestWaitAllIdleSpansSystems(t *testing.T) {
	// Two systems on two deterministic dispatchers and one on the pool:
	// an event hops from one to the next; WaitAllIdle drives and waits
	// for all of them.
	var systems []*System
	for _, disp := range []Dispatcher{NewDeterministic(1), nil, NewDeterministic(2)} {
		s := NewSystem(Options{Logger: quiet, Track: true, Dispatcher: disp})
		t.Cleanup(s.Shutdown)
		systems = append(systems, s)
	}
	recs := make([]*recorder, len(systems))
	refs := make([]*Ref, len(systems))
	for i, s := range systems {
		recs[i] = &recorder{}
		ref, err := s.Spawn("hop", recs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	for i := range recs {
		next := (i + 1) % len(refs)
		recs[i].onReceive = func(n *note) {
			if len(n.label) < 12 {
				refs[next].Post(&note{label: n.label + "+"})
			}
		}
	}
	refs[0].Post(&note{label: "x"})
	WaitAllIdle()
	total := 0
	for _, r := range recs {
		log, _, _, _ := r.snapshot()
		total += len(log) - 1 // less "started"
	}
	if total != 12 {
		t.Fatalf("%d hops handled, want 12", total)
	}
}

func TestDeterministicTrace(t *testing.T) {
	run := func(seed uint64, body byte) (uint64, []string) {
		d := NewDeterministic(seed)
		s := NewSystem(Options{Logger: quiet, Dispatcher: d, Track: true})
		defer s.Shutdown()
		var order []string
		var mu sync.Mutex
		for i := 0; i < 4; i++ {
			name := fmt.Sprintf("a%d", i)
			rec := &recorder{}
			rec.onReceive = func(n *note) {
				mu.Lock()
				order = append(order, name+":"+n.label)
				mu.Unlock()
				d.Record("note", "", name, n.label, []byte{body})
			}
			ref, err := s.Spawn(name, rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 3; j++ {
				ref.Post(&note{label: fmt.Sprint(j)})
			}
		}
		s.WaitIdle()
		return d.Trace(), order
	}
	h1, o1 := run(9, 0)
	h2, o2 := run(9, 0)
	if h1 != h2 || !slices.Equal(o1, o2) {
		t.Fatalf("same seed, different runs: %x %v / %x %v", h1, o1, h2, o2)
	}
	if h3, _ := run(9, 1); h3 == h1 {
		t.Fatal("a different body byte gave the same trace")
	}
	distinct := map[uint64]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		h, _ := run(seed, 0)
		distinct[h] = true
	}
	if len(distinct) < 3 {
		t.Fatalf("8 seeds gave %d distinct traces", len(distinct))
	}
	// Field boundaries count: moving a byte from one field to the next
	// changes the trace.
	a, b := NewDeterministic(0), NewDeterministic(0)
	a.Record("k", "ab", "c", "", nil)
	b.Record("k", "a", "bc", "", nil)
	if a.Trace() == b.Trace() {
		t.Fatal("fields are not separated in the trace")
	}
}
