package process

import (
	"container/heap"
	"sync"
	"time"

	"github.com/gomesos/gomesos/actor"
	"github.com/gomesos/gomesos/process/walltime"
)

// Clock is the runtime's time source. Running, it is wall-clock time and
// timers fire on their own. Paused, time stands still: it moves only by
// Advance or Update, which step from one due deadline to the next as
// libprocess does: a timer's callback, and the work it sets off, see
// Now() equal to the timer's deadline, and a timer armed meanwhile fires
// in the same Advance when it falls due before its end. Timers with equal
// deadlines fire in creation order. Components and tests take all time
// from here, never from package time.
type Clock struct {
	rt   *Runtime // nil for a Network's clock
	net  *Network // set for a Network's clock: settling is the network's own
	real walltime.Clock

	mu         sync.Mutex
	paused     bool
	virtual    time.Time // the time while paused
	timers     timerHeap
	seq        uint64
	wallCancel func() bool // the real timer armed for the earliest timer while running
	firing     int         // timer batches being fired
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
	return c.real.Now()
}

// Real returns the clock's real-time side, for timeouts at the edge of
// the OS (socket dial and idle timeouts, bounds on metrics pulls) that
// must run even while the clock is paused.
func (c *Clock) Real() walltime.Clock { return c.real }

// Pause freezes time at its current value and turns on event accounting
// so that Settle sees every event posted from now on.
func (c *Clock) Pause() {
	if c.rt != nil {
		c.rt.sys.Track(true)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return
	}
	c.virtual = c.real.Now()
	c.paused = true
	if c.wallCancel != nil {
		c.wallCancel()
		c.wallCancel = nil
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

// Advance moves paused time forward by d. It steps through the timers
// due by then in deadline order: time moves to the first one's deadline,
// it fires, the runtimes settle (so the work it set off sees that time),
// and so on, timers armed meanwhile included; finally time is set to the
// end. Call it from outside any process. It does nothing when running.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	if !c.paused {
		c.mu.Unlock()
		return
	}
	target := c.virtual.Add(d)
	c.mu.Unlock()
	c.advanceTo(target)
}

// Update moves paused time to t if t is later, stepping through the
// timers due by then as Advance does; time never goes backwards.
func (c *Clock) Update(t time.Time) {
	c.mu.Lock()
	if !c.paused || !t.After(c.virtual) {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.advanceTo(t)
}

// advanceTo fires, one at a time and settling after each, every timer
// due by target, with time set to each one's deadline; then time is set
// to target.
func (c *Clock) advanceTo(target time.Time) {
	for {
		c.mu.Lock()
		if !c.paused {
			c.mu.Unlock()
			return
		}
		if len(c.timers) == 0 || c.timers[0].deadline.After(target) {
			if target.After(c.virtual) {
				c.virtual = target
			}
			c.mu.Unlock()
			return
		}
		t := heap.Pop(&c.timers).(*Timer)
		if t.deadline.After(c.virtual) {
			c.virtual = t.deadline
		}
		c.firing++
		c.mu.Unlock()
		t.fn()
		c.mu.Lock()
		c.firing--
		c.mu.Unlock()
		c.settle()
	}
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

// Settle blocks until nothing is under way anywhere in this OS process:
// no event is queued or running in any runtime (every runtime's event
// accounting is turned on), no message written by one runtime to another
// runtime of this OS process is still on its way to the receiving
// mailbox, no HTTP request is being served by a route (until its response
// future is set), no counted future (Count) is pending, and no timer is
// due on any paused clock. Due timers fire at the current time. Work that
// comes from outside afterwards (another OS process, a test goroutine) is
// not waited for. Call it from outside any process.
//
// The clock of a Network settles that network alone: its runtimes, its
// queue and its timers.
func (c *Clock) Settle() {
	if c.rt != nil {
		c.rt.sys.Track(true)
	}
	c.settle()
}

func (c *Clock) settle() {
	if c.net != nil {
		c.net.settle()
		return
	}
	settleAll()
}

// Settled reports whether the clock is paused and no timer is due.
func (c *Clock) Settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused && c.firing == 0 && (len(c.timers) == 0 || c.timers[0].deadline.After(c.virtual))
}

// settleAll waits for every runtime of the OS process (see Settle).
func settleAll() {
	actor.TrackAll()
	for {
		actor.WaitAllIdle()
		fired := 0
		for _, rt := range liveRuntimes() {
			if rt.clock.net == nil {
				fired += rt.clock.fireDue()
			}
		}
		if fired == 0 && actor.AllIdle() {
			return
		}
	}
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
	if c.wallCancel != nil {
		c.wallCancel()
		c.wallCancel = nil
	}
	if len(c.timers) == 0 {
		return
	}
	d := c.real.Until(c.timers[0].deadline)
	c.wallCancel = c.real.AfterFunc(d, func() { c.fireDue() })
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
