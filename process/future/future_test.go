package future

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// bound is how long a test waits, in wall-clock time, for something that
// should happen promptly. It is an upper bound, never a sleep.
const bound = 10 * time.Second

var errBoom = errors.New("boom")

func mustAwait[T any](t *testing.T, f Future[T]) {
	t.Helper()
	if !f.Await(bound) {
		t.Fatalf("%v: still pending after %v", f, bound)
	}
}

func wantState[T any](t *testing.T, f Future[T], want State) {
	t.Helper()
	if got := f.State(); got != want {
		t.Fatalf("%v: state %v, want %v", f, got, want)
	}
	checks := []struct {
		name string
		got  bool
		st   State
	}{
		{"IsPending", f.IsPending(), StatePending},
		{"IsReady", f.IsReady(), StateReady},
		{"IsFailed", f.IsFailed(), StateFailed},
		{"IsDiscarded", f.IsDiscarded(), StateDiscarded},
	}
	for _, c := range checks {
		if c.got != (c.st == want) {
			t.Fatalf("%v: %s() = %v", f, c.name, c.got)
		}
	}
}

func TestPromiseTransitions(t *testing.T) {
	type op struct {
		name string
		do   func(p *Promise[int]) bool
	}
	ops := []op{
		{"Set", func(p *Promise[int]) bool { return p.Set(7) }},
		{"Fail", func(p *Promise[int]) bool { return p.Fail(errBoom) }},
		{"Discard", func(p *Promise[int]) bool { return p.Discard() }},
		{"Associate", func(p *Promise[int]) bool { return p.Associate(Ready(9)) }},
	}
	for _, first := range ops {
		for _, second := range ops {
			t.Run(first.name+"Then"+second.name, func(t *testing.T) {
				p := NewPromise[int]()
				f := p.Future()
				wantState(t, f, StatePending)
				if !first.do(p) {
					t.Fatalf("first %s returned false", first.name)
				}
				before := f.String()
				if second.do(p) {
					t.Fatalf("%s after %s returned true", second.name, first.name)
				}
				if after := f.String(); after != before {
					t.Fatalf("%s after %s changed the future: %s -> %s", second.name, first.name, before, after)
				}
				v, err := f.Get()
				switch first.name {
				case "Set":
					wantState(t, f, StateReady)
					if v != 7 || err != nil || f.Value() != 7 || f.Err() != nil {
						t.Fatalf("ready future: Get() = %v, %v; Value() = %v; Err() = %v", v, err, f.Value(), f.Err())
					}
				case "Associate":
					wantState(t, f, StateReady)
					if v != 9 || err != nil {
						t.Fatalf("associated future: Get() = %v, %v", v, err)
					}
				case "Fail":
					wantState(t, f, StateFailed)
					if v != 0 || err != errBoom || f.Err() != errBoom || f.Value() != 0 {
						t.Fatalf("failed future: Get() = %v, %v; Err() = %v", v, err, f.Err())
					}
				case "Discard":
					wantState(t, f, StateDiscarded)
					if v != 0 || !errors.Is(err, ErrDiscarded) || !errors.Is(f.Err(), ErrDiscarded) {
						t.Fatalf("discarded future: Get() = %v, %v", v, err)
					}
				}
			})
		}
	}
}

func TestPendingQueries(t *testing.T) {
	p := NewPromise[string]()
	f := p.Future()
	wantState(t, f, StatePending)
	if f.Value() != "" || f.Err() != nil || f.HasDiscard() {
		t.Fatalf("pending future: Value %q Err %v HasDiscard %v", f.Value(), f.Err(), f.HasDiscard())
	}
	if f != p.Future() {
		t.Fatal("Future() returned different handles for one promise")
	}
}

func TestConstructors(t *testing.T) {
	r := Ready("x")
	wantState(t, r, StateReady)
	if v, err := r.Get(); v != "x" || err != nil {
		t.Fatalf("Ready: Get() = %q, %v", v, err)
	}
	f := Failed[string](errBoom)
	wantState(t, f, StateFailed)
	if _, err := f.Get(); err != errBoom {
		t.Fatalf("Failed: Get() error %v, want errBoom", err)
	}
	d := Discarded[string]()
	wantState(t, d, StateDiscarded)
	if _, err := d.Get(); !errors.Is(err, ErrDiscarded) {
		t.Fatalf("Discarded: Get() error %v, want ErrDiscarded", err)
	}
	n := Ready(Nothing{})
	if v, err := n.Get(); v != (Nothing{}) || err != nil {
		t.Fatalf("Ready(Nothing{}): %v, %v", v, err)
	}
	for _, f := range []Future[string]{r, f, d} {
		if f.Discard() || f.HasDiscard() {
			t.Fatalf("%v: Discard on a complete future took effect", f)
		}
	}
}

func TestFailWithNilError(t *testing.T) {
	p := NewPromise[int]()
	if !p.Fail(nil) {
		t.Fatal("Fail(nil) returned false")
	}
	if !p.Future().IsFailed() || p.Future().Err() == nil {
		t.Fatalf("Fail(nil): %v, want failed with a non-nil error", p.Future())
	}
	if Failed[int](nil).Err() == nil {
		t.Fatal("Failed(nil) has a nil error")
	}
}

func TestZeroPromise(t *testing.T) {
	var p Promise[int]
	f := p.Future()
	var got int
	f.OnReady(func(v int) { got = v })
	if !p.Set(3) || got != 3 || f.Value() != 3 {
		t.Fatalf("zero Promise: Set -> %v, callback saw %d", f, got)
	}
}

// The zero Future is pending forever; nothing on it ever runs.
func TestZeroFuture(t *testing.T) {
	var f Future[int]
	wantState(t, f, StatePending)
	ran := false
	f.OnReady(func(int) { ran = true }).
		OnFailed(func(error) { ran = true }).
		OnDiscarded(func() { ran = true }).
		OnAny(func(Future[int]) { ran = true }).
		OnDiscard(func() { ran = true })
	if f.Discard() || f.HasDiscard() {
		t.Fatal("Discard on the zero future took effect")
	}
	if f.Done() != nil {
		t.Fatal("Done() of the zero future is not nil")
	}
	if f.Await(time.Millisecond) || f.Await(0) {
		t.Fatal("Await on the zero future returned true")
	}
	if f.Value() != 0 || f.Err() != nil {
		t.Fatalf("zero future: Value %v Err %v", f.Value(), f.Err())
	}
	if s := f.String(); s != "Future[int] pending" {
		t.Fatalf("zero future String() = %q", s)
	}
	// Combinators over it stay pending too.
	th := Then(f, func(v int) (int, error) { ran = true; return v, nil })
	p := NewPromise[int]()
	if !p.Associate(f) {
		t.Fatal("Associate(zero) returned false")
	}
	p.Future().Discard()
	if p.Set(1) {
		t.Fatal("Set after Associate(zero) returned true")
	}
	for _, g := range []Future[int]{th, p.Future()} {
		if !g.IsPending() {
			t.Fatalf("%v: want pending", g)
		}
	}
	if ran {
		t.Fatal("a callback on the zero future ran")
	}
}

func TestCallbacksRegisteredBeforeCompletion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		complete func(p *Promise[int])
		want     string
	}{
		{"ready", func(p *Promise[int]) { p.Set(5) }, "ready(5) any1(ready) ready(5) any2(ready)"},
		{"failed", func(p *Promise[int]) { p.Fail(errBoom) }, "any1(failed) failed(boom) any2(failed)"},
		{"discarded", func(p *Promise[int]) { p.Discard() }, "any1(discarded) discarded any2(discarded)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPromise[int]()
			var log []string
			add := func(s string) { log = append(log, s) }
			p.Future().
				OnReady(func(v int) { add(fmt.Sprintf("ready(%d)", v)) }).
				OnAny(func(f Future[int]) { add("any1(" + f.State().String() + ")") }).
				OnReady(func(v int) { add(fmt.Sprintf("ready(%d)", v)) }).
				OnFailed(func(err error) { add("failed(" + err.Error() + ")") }).
				OnDiscarded(func() { add("discarded") }).
				OnAny(func(f Future[int]) { add("any2(" + f.State().String() + ")") })
			if len(log) != 0 {
				t.Fatalf("callbacks ran before completion: %v", log)
			}
			// The callbacks run on the completing goroutine, before the
			// completing call returns.
			tc.complete(p)
			if got := strings.Join(log, " "); got != tc.want {
				t.Fatalf("callbacks ran as %q, want %q", got, tc.want)
			}
			// And never again.
			p.Set(1)
			p.Fail(errBoom)
			p.Discard()
			if got := strings.Join(log, " "); got != tc.want {
				t.Fatalf("callbacks ran again: %q", got)
			}
		})
	}
}

func TestCallbacksRegisteredAfterCompletionRunImmediately(t *testing.T) {
	f := Ready(4)
	ran := 0
	f.OnReady(func(v int) { ran += v })
	if ran != 4 {
		t.Fatal("OnReady on a ready future did not run at once")
	}
	f.OnAny(func(g Future[int]) {
		if g != f {
			t.Errorf("OnAny got %v, want the future itself", g)
		}
		ran++
	})
	f.OnFailed(func(error) { ran = -100 })
	f.OnDiscarded(func() { ran = -100 })
	if ran != 5 {
		t.Fatalf("ran = %d, want 5", ran)
	}

	g := Failed[int](errBoom)
	var got error
	g.OnReady(func(int) { t.Error("OnReady ran on a failed future") })
	g.OnFailed(func(err error) { got = err })
	if got != errBoom {
		t.Fatalf("OnFailed saw %v, want errBoom", got)
	}

	d := Discarded[int]()
	dn := 0
	d.OnDiscarded(func() { dn++ }).OnAny(func(Future[int]) { dn++ })
	if dn != 2 {
		t.Fatalf("discarded future: %d callbacks ran, want 2", dn)
	}
}

func TestNilCallbacksIgnored(t *testing.T) {
	p := NewPromise[int]()
	p.Future().OnReady(nil).OnFailed(nil).OnDiscarded(nil).OnAny(nil).OnDiscard(nil)
	p.Future().Discard()
	p.Set(1)
	Ready(1).OnReady(nil).OnAny(nil)
}

func TestOnDiscard(t *testing.T) {
	t.Run("registered before the request", func(t *testing.T) {
		p := NewPromise[int]()
		f := p.Future()
		n := 0
		f.OnDiscard(func() { n++ }).OnDiscard(func() { n += 10 })
		if n != 0 || f.HasDiscard() {
			t.Fatal("OnDiscard ran without a request")
		}
		if !f.Discard() {
			t.Fatal("first Discard returned false")
		}
		if n != 11 || !f.HasDiscard() {
			t.Fatalf("after Discard: n=%d HasDiscard=%v", n, f.HasDiscard())
		}
		if f.Discard() || n != 11 {
			t.Fatal("second Discard took effect")
		}
		// A request is only a request: the future is still pending and the
		// producer may complete it any way it likes.
		wantState(t, f, StatePending)
		if !p.Set(1) || !f.IsReady() || !f.HasDiscard() {
			t.Fatalf("producer ignoring the request: %v", f)
		}
	})
	t.Run("registered after the request", func(t *testing.T) {
		p := NewPromise[int]()
		p.Future().Discard()
		n := 0
		p.Future().OnDiscard(func() { n++ })
		if n != 1 {
			t.Fatal("OnDiscard after the request did not run at once")
		}
		p.Discard()
		p.Future().OnDiscard(func() { n++ })
		if n != 2 {
			t.Fatal("OnDiscard on a discarded future with a request did not run")
		}
	})
	t.Run("completed without a request", func(t *testing.T) {
		p := NewPromise[int]()
		n := 0
		p.Future().OnDiscard(func() { n++ })
		p.Set(1)
		p.Future().OnDiscard(func() { n++ })
		if p.Future().Discard() || n != 0 {
			t.Fatalf("OnDiscard ran on a future completed without a request (n=%d)", n)
		}
	})
	t.Run("producer honours", func(t *testing.T) {
		p := NewPromise[int]()
		p.Future().OnDiscard(func() { p.Discard() })
		p.Future().Discard()
		wantState(t, p.Future(), StateDiscarded)
	})
}

func TestAssociate(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  func() (Future[int], func())
		want State
	}{
		{"pending then ready", func() (Future[int], func()) {
			q := NewPromise[int]()
			return q.Future(), func() { q.Set(3) }
		}, StateReady},
		{"pending then failed", func() (Future[int], func()) {
			q := NewPromise[int]()
			return q.Future(), func() { q.Fail(errBoom) }
		}, StateFailed},
		{"pending then discarded", func() (Future[int], func()) {
			q := NewPromise[int]()
			return q.Future(), func() { q.Discard() }
		}, StateDiscarded},
		{"already ready", func() (Future[int], func()) { return Ready(3), func() {} }, StateReady},
		{"already failed", func() (Future[int], func()) { return Failed[int](errBoom), func() {} }, StateFailed},
		{"already discarded", func() (Future[int], func()) { return Discarded[int](), func() {} }, StateDiscarded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, complete := tc.src()
			p := NewPromise[int]()
			if !p.Associate(src) {
				t.Fatal("Associate returned false")
			}
			if p.Associate(Ready(1)) || p.Set(1) || p.Fail(errBoom) || p.Discard() {
				t.Fatal("a transition after Associate returned true")
			}
			complete()
			f := p.Future()
			wantState(t, f, tc.want)
			if f.Value() != src.Value() || f.Err() != src.Err() {
				t.Fatalf("associated %v does not mirror %v", f, src)
			}
		})
	}

	t.Run("after completion", func(t *testing.T) {
		p := NewPromise[int]()
		p.Set(1)
		if p.Associate(Ready(2)) || p.Future().Value() != 1 {
			t.Fatal("Associate on a completed promise took effect")
		}
	})

	t.Run("discard request flows back", func(t *testing.T) {
		q := NewPromise[int]()
		p := NewPromise[int]()
		p.Associate(q.Future())
		if !p.Future().Discard() {
			t.Fatal("Discard returned false")
		}
		if !q.Future().HasDiscard() {
			t.Fatal("discard request did not reach the associated future")
		}
		q.Discard()
		wantState(t, p.Future(), StateDiscarded)
	})

	t.Run("discard requested before associating", func(t *testing.T) {
		q := NewPromise[int]()
		p := NewPromise[int]()
		p.Future().Discard()
		p.Associate(q.Future())
		if !q.Future().HasDiscard() {
			t.Fatal("earlier discard request did not reach the associated future")
		}
	})

	t.Run("to itself", func(t *testing.T) {
		p := NewPromise[int]()
		p.Associate(p.Future())
		p.Future().Discard()
		wantState(t, p.Future(), StatePending)
	})

	t.Run("cycle", func(t *testing.T) {
		a, b := NewPromise[int](), NewPromise[int]()
		a.Associate(b.Future())
		b.Associate(a.Future())
		a.Future().Discard()
		if !b.Future().HasDiscard() {
			t.Fatal("discard did not flow around the cycle")
		}
	})
}

func TestDoneAndAwait(t *testing.T) {
	p := NewPromise[int]()
	f := p.Future()
	done := f.Done()
	select {
	case <-done:
		t.Fatal("Done closed while pending")
	default:
	}
	if f.Await(0) || f.Await(-time.Second) || f.Await(time.Millisecond) {
		t.Fatal("Await returned true while pending")
	}
	if f.Done() != done {
		t.Fatal("Done returned a different channel while pending")
	}
	go p.Set(1)
	mustAwait(t, f)
	// The state changes a moment before the channel is closed (so that a
	// goroutine woken by Done always sees the outcome), so wait on it.
	timer := time.NewTimer(bound) // wall-clock: an upper bound, not a sleep
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatal("Done not closed after completion")
	}
	<-f.Done()
	if !f.Await(0) {
		t.Fatal("Await(0) on a complete future returned false")
	}
	<-Ready(1).Done()
	<-Discarded[int]().Done()
}

func TestGetBlocksUntilComplete(t *testing.T) {
	for _, tc := range []struct {
		name     string
		complete func(p *Promise[int])
		check    func(v int, err error) bool
	}{
		{"ready", func(p *Promise[int]) { p.Set(8) }, func(v int, err error) bool { return v == 8 && err == nil }},
		{"failed", func(p *Promise[int]) { p.Fail(errBoom) }, func(v int, err error) bool { return err == errBoom }},
		{"discarded", func(p *Promise[int]) { p.Discard() }, func(v int, err error) bool { return errors.Is(err, ErrDiscarded) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPromise[int]()
			type result struct {
				v   int
				err error
			}
			out := NewPromise[result]()
			started := make(chan struct{})
			go func() {
				close(started)
				v, err := p.Future().Get()
				out.Set(result{v, err})
			}()
			<-started
			if !out.Future().IsPending() {
				t.Fatal("Get returned before completion")
			}
			tc.complete(p)
			mustAwait(t, out.Future())
			r := out.Future().Value()
			if !tc.check(r.v, r.err) {
				t.Fatalf("Get() = %v, %v", r.v, r.err)
			}
		})
	}
}

func TestString(t *testing.T) {
	p := NewPromise[int]()
	p.Future().Discard()
	for _, tc := range []struct {
		f    fmt.Stringer
		want string
	}{
		{NewPromise[int]().Future(), "Future[int] pending"},
		{p.Future(), "Future[int] pending (discard requested)"},
		{Ready(42), "Future[int] ready: 42"},
		{Failed[string](errBoom), "Future[string] failed: boom"},
		{Discarded[error](), "Future[error] discarded"},
		{Ready(Nothing{}), "Future[future.Nothing] ready: {}"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	if got := State(9).String(); got != "State(9)" {
		t.Errorf("State(9).String() = %q", got)
	}
}

// A future of error values must keep OnReady and OnFailed apart.
func TestFutureOfError(t *testing.T) {
	p := NewPromise[error]()
	var ready, failed error
	p.Future().OnReady(func(e error) { ready = e }).OnFailed(func(e error) { failed = e })
	p.Set(errBoom)
	if ready != errBoom || failed != nil {
		t.Fatalf("OnReady saw %v, OnFailed saw %v", ready, failed)
	}
}

// Callbacks that touch the same future and others, from inside a callback,
// must not deadlock: no callback runs under a future's lock.
func TestCallbacksDoNotDeadlock(t *testing.T) {
	finished := NewPromise[Nothing]()
	go func() {
		a, b, c := NewPromise[int](), NewPromise[int](), NewPromise[int]()
		var order []string
		a.Future().OnReady(func(v int) {
			// Query, register on, discard and try to complete the same
			// future from inside its own callback.
			_ = a.Future().String()
			_, _ = a.Future().Get()
			<-a.Future().Done()
			a.Future().Discard()
			a.Set(99)
			a.Future().OnReady(func(int) { order = append(order, "a-nested") })
			a.Future().OnDiscard(func() { order = append(order, "never") })
			// Register on and complete other futures.
			b.Future().OnReady(func(v int) {
				order = append(order, "b")
				// Back to a (complete, runs at once) and on to c.
				a.Future().OnAny(func(Future[int]) { order = append(order, "a-from-b") })
				c.Set(v + 1)
			})
			c.Future().OnReady(func(int) {
				order = append(order, "c")
				b.Future().OnReady(func(int) { order = append(order, "b-from-c") })
			})
			b.Set(v + 1)
		})
		// Completion triggered on a goroutine that holds nothing.
		a.Set(1)
		want := "a-nested b a-from-b c b-from-c"
		if got := strings.Join(order, " "); got != want {
			t.Errorf("nested callbacks ran as %q, want %q", got, want)
		}
		if c.Future().Value() != 3 {
			t.Errorf("c = %v, want 3", c.Future())
		}
		// A discard callback that completes the future and requests a
		// discard on it again.
		d := NewPromise[int]()
		d.Future().OnDiscard(func() {
			d.Future().Discard()
			d.Discard()
			d.Future().OnDiscarded(func() { order = append(order, "d") })
		})
		d.Future().Discard()
		if !d.Future().IsDiscarded() {
			t.Errorf("d = %v, want discarded", d.Future())
		}
		// Two futures whose callbacks complete each other.
		x, y := NewPromise[int](), NewPromise[int]()
		x.Future().OnAny(func(Future[int]) { y.Set(1) })
		y.Future().OnAny(func(Future[int]) { x.Set(2) })
		go x.Set(0)
		y.Set(0)
		mustAwait(t, x.Future())
		finished.Set(Nothing{})
	}()
	if !finished.Future().Await(bound) {
		t.Fatal("callbacks deadlocked")
	}
}

// Many goroutines registering while another completes: each callback runs
// exactly once.
func TestConcurrentRegistrationAndCompletion(t *testing.T) {
	const goroutines, per = 8, 200
	for range 20 {
		p := NewPromise[int]()
		var mu sync.Mutex
		count := 0
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range per {
					p.Future().OnReady(func(int) {
						mu.Lock()
						count++
						mu.Unlock()
					})
				}
			})
		}
		wg.Go(func() { p.Set(1) })
		wg.Go(func() { p.Future().Discard() })
		wg.Go(func() { _ = p.Future().Done() })
		wg.Wait()
		if count != goroutines*per {
			t.Fatalf("%d callbacks ran, want %d", count, goroutines*per)
		}
	}
}

// Callbacks registered before completion on one goroutine run in
// registration order, and across kinds.
func TestCallbackOrderManyCallbacks(t *testing.T) {
	p := NewPromise[int]()
	var got []int
	for i := range 100 {
		switch i % 3 {
		case 0:
			p.Future().OnReady(func(int) { got = append(got, i) })
		case 1:
			p.Future().OnAny(func(Future[int]) { got = append(got, i) })
		default:
			p.Future().OnFailed(func(error) { got = append(got, -1) })
		}
	}
	p.Set(0)
	prev := -1
	for _, v := range got {
		if v <= prev {
			t.Fatalf("callbacks out of order: %v", got)
		}
		prev = v
	}
	if len(got) != 67 {
		t.Fatalf("%d callbacks ran, want 67", len(got))
	}
}
