package process

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the runtime's time source. Running, it is wall-clock time and
// timers fire on their own. Paused, time stands still: it moves only by
// Advance or Update, and timers fire only when time is moved past their
// deadline, in deadline order (ties in creation order). Components and
// tests take all time from here, never from package time.
type Clock struct {
	rt *Runtime

	mu      sync.Mutex
	paused  bool
	virtual time.Time // the time while paused
	timers  timerHeap
	seq     uint64
	wall    *time.Timer // armed for the earliest timer while running
	firing  int         // timer batches being fired
}

// Timer is a pending timer; cancel it with Clock.Cancel.
type Timer struct {
	deadline time.Time
	seq      uint64
	fn       func()
	index    int // in the heap; -1 when fired or cancelled
}

// Deadline returns when the timer fires (or fired).
func (t *Timer) Deadline() time.Time { return t.deadline }

func newClock(rt *Runtime) *Clock { return &Clock{rt: rt} }

// Now returns the current time: virtual when paused, else wall time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.paused {
		return c.virtual
	}
	return time.Now() // wall-clock: the clock's own source of real time
}

// Pause freezes time at its current value and turns on event accounting
// so that Settle sees every event posted from now on.
func (c *Clock) Pause() {
	c.rt.sys.Track(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return
	}
	c.virtual = time.Now() // wall-clock: freezing the current time
	c.paused = true
	if c.wall != nil {
		c.wall.Stop()
		c.wall = nil
	}
}

// Resume goes back to wall-clock time; timers now due fire.
func (c *Clock) Resume() {
	c.mu.Lock()
	if !c.paused {
		c.mu.Unlock()
		return
	}
	c.paused = false
	c.armLocked()
	c.mu.Unlock()
}

// Paused reports whether the clock is paused.
func (c *Clock) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// Advance moves paused time forward by d and fires every timer now due, in
// deadline order, on the calling goroutine. It does nothing when running.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	if !c.paused {
		c.mu.Unlock()
		return
	}
	c.virtual = c.virtual.Add(d)
	c.mu.Unlock()
	c.fireDue()
}

// Update moves paused time to t if t is later, firing due timers; time
// never goes backwards.
func (c *Clock) Update(t time.Time) {
	c.mu.Lock()
	if !c.paused || !t.After(c.virtual) {
		c.mu.Unlock()
		return
	}
	c.virtual = t
	c.mu.Unlock()
	c.fireDue()
}

// Timer calls fn once d from now (by this clock). fn runs on whichever
// goroutine moves time past the deadline (Advance, or the wall-clock timer
// goroutine), so it should only post work, e.g. dispatch to a process.
func (c *Clock) Timer(d time.Duration, fn func()) *Timer {
	c.mu.Lock()
	t := &Timer{deadline: c.nowLocked().Add(d), seq: c.seq, fn: fn}
	c.seq++
	heap.Push(&c.timers, t)
	if !c.paused && c.timers[0] == t {
		c.armLocked()
	}
	c.mu.Unlock()
	return t
}

// Cancel stops t; it reports whether t was still pending.
func (c *Clock) Cancel(t *Timer) bool {
	if t == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	return true
}

// AfterFunc is Timer with a cancel function; it makes Clock usable as
// future.Timers, so Future timeouts obey a paused clock.
func (c *Clock) AfterFunc(d time.Duration, fn func()) (cancel func() bool) {
	t := c.Timer(d, fn)
	return func() bool { return c.Cancel(t) }
}

// Settle blocks until no event is queued or running anywhere in the
// runtime and no timer is due at the current (paused) time. With the clock
// running it waits only for events. It does not wait for bytes on sockets
// or for other OS processes.
func (c *Clock) Settle() {
	c.rt.sys.Track(true)
	for {
		c.rt.sys.WaitIdle()
		if c.fireDue() == 0 && c.rt.sys.InFlight() == 0 {
			return
		}
	}
}

// Settled reports whether the clock is paused and no timer is due.
func (c *Clock) Settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused && c.firing == 0 && (len(c.timers) == 0 || c.timers[0].deadline.After(c.virtual))
}

// fireDue runs every timer due now, in deadline order, including ones that
// the fired thunks create already due. It returns how many fired.
func (c *Clock) fireDue() int {
	n := 0
	c.mu.Lock()
	c.firing++
	for len(c.timers) > 0 && !c.timers[0].deadline.After(c.nowLocked()) {
		t := heap.Pop(&c.timers).(*Timer)
		c.mu.Unlock()
		t.fn()
		n++
		c.mu.Lock()
	}
	c.firing--
	if !c.paused {
		c.armLocked()
	}
	c.mu.Unlock()
	return n
}

// armLocked points the wall-clock timer at the earliest deadline.
func (c *Clock) armLocked() {
	if c.wall != nil {
		c.wall.Stop()
		c.wall = nil
	}
	if len(c.timers) == 0 {
		return
	}
	d := time.Until(c.timers[0].deadline) // wall-clock: the running clock's timer
	c.wall = time.AfterFunc(d, func() { c.fireDue() })
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline.Equal(h[j].deadline) {
		return h[i].seq < h[j].seq
	}
	return h[i].deadline.Before(h[j].deadline)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
