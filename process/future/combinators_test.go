package future

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// manualClock is a Timers whose time moves only by Advance, which fires
// every timer then due, in deadline order (ties in creation order), on the
// calling goroutine.
type manualClock struct {
	mu     sync.Mutex
	now    time.Duration
	seq    int
	timers map[int]*manualTimer
}

type manualTimer struct {
	at  time.Duration
	seq int
	fn  func()
}

func newManualClock() *manualClock { return &manualClock{timers: map[int]*manualTimer{}} }

func (c *manualClock) AfterFunc(d time.Duration, fn func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := c.seq
	c.timers[id] = &manualTimer{at: c.now + d, seq: id, fn: fn}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[id]
		delete(c.timers, id)
		return ok
	}
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += d
	var due []*manualTimer
	for id, t := range c.timers {
		if t.at <= c.now {
			due = append(due, t)
			delete(c.timers, id)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool {
		if due[i].at != due[j].at {
			return due[i].at < due[j].at
		}
		return due[i].seq < due[j].seq
	})
	for _, t := range due {
		t.fn()
	}
}

func (c *manualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func TestThen(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		p := NewPromise[int]()
		g := Then(p.Future(), func(v int) (string, error) { return strconv.Itoa(v * 2), nil })
		wantState(t, g, StatePending)
		p.Set(21)
		if v, err := g.Get(); v != "42" || err != nil {
			t.Fatalf("Then: %q, %v", v, err)
		}
	})
	t.Run("already ready runs at once", func(t *testing.T) {
		g := Then(Ready(1), func(v int) (int, error) { return v + 1, nil })
		if g.Value() != 2 {
			t.Fatalf("Then on a ready future: %v", g)
		}
	})
	t.Run("fn error fails the result", func(t *testing.T) {
		g := Then(Ready(1), func(int) (int, error) { return 5, errBoom })
		wantState(t, g, StateFailed)
		if g.Err() != errBoom {
			t.Fatalf("Then: %v, want errBoom", g.Err())
		}
	})
	t.Run("failure propagates without calling fn", func(t *testing.T) {
		p := NewPromise[int]()
		g := Then(p.Future(), func(int) (int, error) { t.Fatal("fn called"); return 0, nil })
		p.Fail(errBoom)
		wantState(t, g, StateFailed)
		if g.Err() != errBoom {
			t.Fatalf("Then: %v, want the same errBoom", g.Err())
		}
	})
	t.Run("discard propagates without calling fn", func(t *testing.T) {
		p := NewPromise[int]()
		g := Then(p.Future(), func(int) (int, error) { t.Fatal("fn called"); return 0, nil })
		p.Discard()
		wantState(t, g, StateDiscarded)
	})
	t.Run("discard request flows upstream", func(t *testing.T) {
		p := NewPromise[int]()
		g := Then(Then(p.Future(), func(v int) (int, error) { return v, nil }),
			func(v int) (int, error) { return v, nil })
		g.Discard()
		if !p.Future().HasDiscard() {
			t.Fatal("discard request did not reach the head of the chain")
		}
		wantState(t, g, StatePending)
		p.Discard()
		wantState(t, g, StateDiscarded)
	})
	t.Run("ready despite a discard request skips fn", func(t *testing.T) {
		p := NewPromise[int]()
		g := Then(p.Future(), func(int) (int, error) { t.Fatal("fn called"); return 0, nil })
		g.Discard()
		p.Set(1) // the producer ignored the request
		wantState(t, g, StateDiscarded)
	})
	t.Run("nil fn panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("Then(nil) did not panic")
			}
		}()
		Then[int, int](Ready(1), nil)
	})
}

func TestThenF(t *testing.T) {
	t.Run("mirrors the inner future", func(t *testing.T) {
		p, inner := NewPromise[int](), NewPromise[string]()
		g := ThenF(p.Future(), func(v int) Future[string] {
			if v != 3 {
				t.Errorf("fn got %d", v)
			}
			return inner.Future()
		})
		p.Set(3)
		wantState(t, g, StatePending)
		inner.Set("x")
		if g.Value() != "x" {
			t.Fatalf("ThenF: %v", g)
		}
	})
	t.Run("inner failure", func(t *testing.T) {
		g := ThenF(Ready(1), func(int) Future[int] { return Failed[int](errBoom) })
		if g.Err() != errBoom {
			t.Fatalf("ThenF: %v", g)
		}
	})
	t.Run("upstream failure", func(t *testing.T) {
		g := ThenF(Failed[int](errBoom), func(int) Future[int] { t.Fatal("fn called"); return Ready(1) })
		if g.Err() != errBoom {
			t.Fatalf("ThenF: %v", g)
		}
	})
	t.Run("discard request reaches the inner future", func(t *testing.T) {
		p, inner := NewPromise[int](), NewPromise[int]()
		g := ThenF(p.Future(), func(int) Future[int] { return inner.Future() })
		p.Set(1)
		g.Discard()
		if !inner.Future().HasDiscard() {
			t.Fatal("discard request did not reach the inner future")
		}
		inner.Discard()
		wantState(t, g, StateDiscarded)
	})
	t.Run("discard request before the inner future exists", func(t *testing.T) {
		p, inner := NewPromise[int](), NewPromise[int]()
		called := false
		g := ThenF(p.Future(), func(int) Future[int] { called = true; return inner.Future() })
		g.Discard()
		if !p.Future().HasDiscard() {
			t.Fatal("discard request did not reach upstream")
		}
		p.Set(1) // ignored the request: fn is skipped, result discarded
		if called {
			t.Fatal("fn called although a discard was requested")
		}
		wantState(t, g, StateDiscarded)
	})
	t.Run("discard request before inner, via a middle Then", func(t *testing.T) {
		// The request reaches the inner future of an outer ThenF that is
		// already running when it is made.
		inner := NewPromise[int]()
		g := ThenF(Ready(1), func(int) Future[int] { return inner.Future() })
		h := Then(g, func(v int) (int, error) { return v, nil })
		h.Discard()
		if !inner.Future().HasDiscard() {
			t.Fatal("discard request did not reach the inner future through Then")
		}
	})
}

func TestRepair(t *testing.T) {
	t.Run("called on failure", func(t *testing.T) {
		p := NewPromise[int]()
		var saw error
		g := Repair(p.Future(), func(err error) (int, error) { saw = err; return 7, nil })
		p.Fail(errBoom)
		if saw != errBoom || g.Value() != 7 {
			t.Fatalf("Repair: saw %v, result %v", saw, g)
		}
	})
	t.Run("repair can fail", func(t *testing.T) {
		other := errors.New("other")
		g := Repair(Failed[int](errBoom), func(error) (int, error) { return 0, other })
		if g.Err() != other {
			t.Fatalf("Repair: %v", g)
		}
	})
	t.Run("not called otherwise", func(t *testing.T) {
		never := func(error) (int, error) { t.Fatal("repair called"); return 0, nil }
		if g := Repair(Ready(3), never); g.Value() != 3 {
			t.Fatalf("Repair(ready): %v", g)
		}
		if g := Repair(Discarded[int](), never); !g.IsDiscarded() {
			t.Fatalf("Repair(discarded): %v", g)
		}
	})
	t.Run("RepairF", func(t *testing.T) {
		p, inner := NewPromise[int](), NewPromise[int]()
		g := RepairF(p.Future(), func(error) Future[int] { return inner.Future() })
		p.Fail(errBoom)
		g.Discard()
		if !inner.Future().HasDiscard() {
			t.Fatal("discard request did not reach the repair future")
		}
		inner.Set(4)
		if g.Value() != 4 {
			t.Fatalf("RepairF: %v", g)
		}
		if h := RepairF(Ready(2), func(error) Future[int] { return Ready(0) }); h.Value() != 2 {
			t.Fatalf("RepairF(ready): %v", h)
		}
	})
	t.Run("discard request flows upstream", func(t *testing.T) {
		p := NewPromise[int]()
		g := Repair(p.Future(), func(error) (int, error) { return 0, nil })
		g.Discard()
		if !p.Future().HasDiscard() {
			t.Fatal("discard request did not reach upstream")
		}
	})
}

func TestAfter(t *testing.T) {
	timeout := func(f Future[int]) Future[int] {
		f.Discard()
		return Failed[int](fmt.Errorf("timed out: %w", errBoom))
	}
	t.Run("completes first", func(t *testing.T) {
		clock := newManualClock()
		p := NewPromise[int]()
		g := After(p.Future(), clock, time.Second, func(Future[int]) Future[int] { t.Fatal("fn called"); return Ready(0) })
		if clock.Pending() != 1 {
			t.Fatalf("%d timers pending, want 1", clock.Pending())
		}
		clock.Advance(999 * time.Millisecond)
		wantState(t, g, StatePending)
		p.Set(5)
		if g.Value() != 5 {
			t.Fatalf("After: %v", g)
		}
		if clock.Pending() != 0 {
			t.Fatal("timer not cancelled when the future completed")
		}
		clock.Advance(time.Hour)
		if g.Value() != 5 {
			t.Fatalf("After changed after the timeout: %v", g)
		}
	})
	t.Run("timer fires first", func(t *testing.T) {
		clock := newManualClock()
		p := NewPromise[int]()
		var got Future[int]
		g := After(p.Future(), clock, time.Second, func(f Future[int]) Future[int] { got = f; return timeout(f) })
		clock.Advance(time.Second)
		if got != p.Future() {
			t.Fatalf("fn got %v, want the original future", got)
		}
		if !errors.Is(g.Err(), errBoom) {
			t.Fatalf("After: %v, want the timeout failure", g)
		}
		if !p.Future().HasDiscard() {
			t.Fatal("fn's discard did not reach the original")
		}
		p.Set(1) // too late
		if !g.IsFailed() {
			t.Fatalf("After changed after the original completed late: %v", g)
		}
	})
	t.Run("fn returns a pending future", func(t *testing.T) {
		clock := newManualClock()
		p, sub := NewPromise[int](), NewPromise[int]()
		g := After(p.Future(), clock, time.Second, func(Future[int]) Future[int] { return sub.Future() })
		clock.Advance(time.Second)
		g.Discard()
		if !p.Future().HasDiscard() || !sub.Future().HasDiscard() {
			t.Fatal("discard request did not reach both the original and the substitute")
		}
		sub.Set(9)
		if g.Value() != 9 {
			t.Fatalf("After: %v", g)
		}
	})
	t.Run("fn returns the original", func(t *testing.T) {
		clock := newManualClock()
		p := NewPromise[int]()
		g := After(p.Future(), clock, time.Second, func(f Future[int]) Future[int] { return f })
		clock.Advance(2 * time.Second)
		wantState(t, g, StatePending)
		p.Set(3)
		if g.Value() != 3 {
			t.Fatalf("After: %v", g)
		}
	})
	t.Run("discard request flows upstream", func(t *testing.T) {
		clock := newManualClock()
		p := NewPromise[int]()
		g := After(p.Future(), clock, time.Second, timeout)
		g.Discard()
		if !p.Future().HasDiscard() {
			t.Fatal("discard request did not reach upstream")
		}
		p.Discard()
		wantState(t, g, StateDiscarded)
		if clock.Pending() != 0 {
			t.Fatal("timer not cancelled")
		}
	})
	t.Run("already complete starts no timer", func(t *testing.T) {
		clock := newManualClock()
		f := Ready(1)
		if g := After(f, clock, time.Second, timeout); g != f || clock.Pending() != 0 {
			t.Fatalf("After on a ready future: %v with %d timers", g, clock.Pending())
		}
	})
	t.Run("timer firing at once", func(t *testing.T) {
		p := NewPromise[int]()
		g := After(p.Future(), immediateTimers{}, 0, timeout)
		if !g.IsFailed() {
			t.Fatalf("After with an immediate timer: %v", g)
		}
	})
}

// immediateTimers fires every timer during AfterFunc, to exercise the
// timer-before-registration race in After.
type immediateTimers struct{}

func (immediateTimers) AfterFunc(_ time.Duration, fn func()) func() bool {
	fn()
	return func() bool { return false }
}

func TestCollect(t *testing.T) {
	t.Run("values in input order", func(t *testing.T) {
		ps := []*Promise[int]{NewPromise[int](), NewPromise[int](), NewPromise[int]()}
		g := Collect(ps[0].Future(), ps[1].Future(), Ready(100), ps[2].Future())
		for _, i := range []int{2, 0, 1} {
			wantState(t, g, StatePending)
			ps[i].Set(i)
		}
		if v, err := g.Get(); !slices.Equal(v, []int{0, 1, 100, 2}) || err != nil {
			t.Fatalf("Collect: %v, %v", v, err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		g := Collect[int]()
		if !g.IsReady() || g.Value() == nil || len(g.Value()) != 0 {
			t.Fatalf("Collect(): %v", g)
		}
	})
	t.Run("fails as soon as an input fails", func(t *testing.T) {
		a, b := NewPromise[int](), NewPromise[int]()
		g := Collect(a.Future(), b.Future())
		b.Fail(errBoom)
		if !errors.Is(g.Err(), errBoom) {
			t.Fatalf("Collect: %v, want a failure wrapping errBoom", g)
		}
		if a.Future().HasDiscard() {
			t.Fatal("Collect discarded the other inputs on failure")
		}
	})
	t.Run("fails when an input is discarded", func(t *testing.T) {
		a, b := NewPromise[int](), NewPromise[int]()
		g := Collect(a.Future(), b.Future())
		a.Discard()
		if !g.IsFailed() || !errors.Is(g.Err(), ErrDiscarded) {
			t.Fatalf("Collect: %v, want a failure wrapping ErrDiscarded", g)
		}
	})
	t.Run("discard request passed to every input", func(t *testing.T) {
		a, b, c := NewPromise[int](), NewPromise[int](), NewPromise[int]()
		// Inputs whose producers honour a discard at once must not turn
		// the discarded result into a failure.
		b.Future().OnDiscard(func() { b.Discard() })
		a.Set(1)
		g := Collect(a.Future(), b.Future(), c.Future())
		g.Discard()
		for i, p := range []*Promise[int]{b, c} {
			if !p.Future().HasDiscard() {
				t.Fatalf("input %d not asked to discard", i+1)
			}
		}
		wantState(t, g, StateDiscarded)
	})
	t.Run("concurrent completion", func(t *testing.T) {
		const n = 64
		ps := make([]*Promise[int], n)
		fs := make([]Future[int], n)
		for i := range ps {
			ps[i] = NewPromise[int]()
			fs[i] = ps[i].Future()
		}
		g := Collect(fs...)
		var wg sync.WaitGroup
		for i, p := range ps {
			wg.Go(func() { p.Set(i * i) })
		}
		mustAwait(t, g)
		wg.Wait()
		for i, v := range g.Value() {
			if v != i*i {
				t.Fatalf("Collect value %d = %d", i, v)
			}
		}
	})
}

func TestAwaitAll(t *testing.T) {
	a, b, c := NewPromise[int](), NewPromise[int](), NewPromise[int]()
	g := AwaitAll(a.Future(), b.Future(), c.Future())
	b.Fail(errBoom)
	wantState(t, g, StatePending)
	c.Discard()
	wantState(t, g, StatePending)
	a.Set(1)
	fs, err := g.Get()
	if err != nil || len(fs) != 3 || fs[0] != a.Future() || fs[1] != b.Future() || fs[2] != c.Future() {
		t.Fatalf("AwaitAll: %v, %v", fs, err)
	}

	if e := AwaitAll[int](); !e.IsReady() || len(e.Value()) != 0 {
		t.Fatalf("AwaitAll(): %v", e)
	}

	x, y := NewPromise[int](), NewPromise[int]()
	x.Set(1)
	h := AwaitAll(x.Future(), y.Future())
	h.Discard()
	if !y.Future().HasDiscard() {
		t.Fatal("discard request not passed to inputs")
	}
	wantState(t, h, StateDiscarded)
}

func TestSelect(t *testing.T) {
	a, b := NewPromise[int](), NewPromise[int]()
	g := Select(a.Future(), b.Future())
	wantState(t, g, StatePending)
	b.Fail(errBoom)
	a.Set(1)
	if w := g.Value(); w != b.Future() {
		t.Fatalf("Select: %v, want the failed b", w)
	}

	if h := Select(NewPromise[int]().Future(), Ready(2)); h.Value().Value() != 2 {
		t.Fatalf("Select with a ready input: %v", h)
	}

	e := Select[int]()
	wantState(t, e, StatePending)
	e.Discard()
	wantState(t, e, StateDiscarded)

	c := NewPromise[int]()
	s := Select(c.Future())
	s.Discard()
	wantState(t, s, StateDiscarded)
	if c.Future().HasDiscard() {
		t.Fatal("Select passed a discard request to its inputs")
	}
}

// queue is an Executor that runs functions only when drained, like an
// actor's mailbox.
type queue struct {
	mu  sync.Mutex
	fns []func()
}

func (q *queue) exec(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
}

func (q *queue) drain() int {
	n := 0
	for {
		q.mu.Lock()
		if len(q.fns) == 0 {
			q.mu.Unlock()
			return n
		}
		fn := q.fns[0]
		q.fns = q.fns[1:]
		q.mu.Unlock()
		fn()
		n++
	}
}

func TestAsyncAndVia(t *testing.T) {
	t.Run("inline", func(t *testing.T) {
		g := Async(Inline, func() (int, error) { return 1, nil })
		if g.Value() != 1 {
			t.Fatalf("Async(Inline): %v", g)
		}
		if h := Async(Inline, func() (int, error) { return 0, errBoom }); h.Err() != errBoom {
			t.Fatalf("Async(Inline) failing: %v", h)
		}
	})
	t.Run("runs on the executor", func(t *testing.T) {
		var q queue
		p := NewPromise[int]()
		ran := false
		g := ThenF(p.Future(), Via(q.exec, func(v int) (string, error) { ran = true; return strconv.Itoa(v), nil }))
		p.Set(6)
		if ran || !g.IsPending() {
			t.Fatal("continuation ran on the completing goroutine")
		}
		if q.drain() != 1 || g.Value() != "6" {
			t.Fatalf("Via: %v", g)
		}
	})
	t.Run("discard before running skips fn", func(t *testing.T) {
		var q queue
		g := ThenF(Ready(1), Via(q.exec, func(int) (int, error) { t.Fatal("fn ran"); return 0, nil }))
		g.Discard()
		q.drain()
		wantState(t, g, StateDiscarded)
	})
}
