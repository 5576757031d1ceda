package process

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomesos/gomesos/actor"
)

// Filters are the runtime's fault-injection seam. A filter matches events
// on one side of their trip:
//
//   - Receiving: where the receiving process dequeues the event, just
//     before serving it, as libprocess's filters do. Only processes of this
//     runtime are seen; messages that came over the wire are seen here too.
//   - Sending: where Send or Post is called (before local delivery or the
//     wire) and where a dispatch is made (before it is queued).
//
// Filters are matched newest first; the first one that matches decides
// what happens to the event. Timers, HTTP requests and termination are
// never filtered, and exited events only on the receiving side.
//
// An event that a filter held and later released, or copied, is matched
// again by the other filters (never by the one that released or copied
// it), so an older expectation still sees it.
//
// Held events and Settle: an event held until a virtual deadline (HoldFor)
// is released by a Clock timer, so Settle waits for it once the paused
// clock reaches the deadline, like any due timer, and Advance past the
// deadline delivers it. An event held until Filter.Release is NOT counted
// as in flight: Settle returns while it is held (otherwise Settle would
// block until the test itself released it, which it cannot do while
// blocked in Settle).

// Side says where a filter sees events.
type Side uint8

const (
	// Receiving filters see an event where the receiving process dequeues
	// it.
	Receiving Side = iota
	// Sending filters see a message where it is sent and a dispatch where
	// it is made.
	Sending
)

func (s Side) String() string {
	if s == Sending {
		return "sending"
	}
	return "receiving"
}

// EventKind is the kind of event a filter matches.
type EventKind uint8

const (
	// KindMessage is a named message (Send, Post, or from the wire).
	KindMessage EventKind = iota
	// KindDispatch is a function dispatched to a process (Dispatch, Run,
	// Defer, Delay).
	KindDispatch
	// KindExited tells a linker that a linked process ended.
	KindExited
)

type actionOp uint8

const (
	opPass actionOp = iota
	opDrop
	opHold
	opDuplicate
	opReorder
)

// Action is what a filter does with the events it acts on.
type Action struct {
	op     actionOp
	delay  time.Duration // opHold: release after this long; 0 = on Release
	copies int           // opDuplicate
	order  []int         // opReorder
}

// Pass lets the event through unchanged; the filter only observes it.
func Pass() Action { return Action{op: opPass} }

// Drop discards the event.
func Drop() Action { return Action{op: opDrop} }

// Hold keeps the event until Filter.Release.
func Hold() Action { return Action{op: opHold} }

// HoldFor keeps the event until d has passed on the runtime's Clock (or
// Filter.Release comes first).
func HoldFor(d time.Duration) Action { return Action{op: opHold, delay: d} }

// Duplicate delivers the event and then copies more copies of it.
func Duplicate(copies int) Action { return Action{op: opDuplicate, copies: copies} }

// Reorder holds matching events until len(order) are held, then releases
// that batch in the given order: order lists arrival indexes (0 first). It
// panics unless order is a permutation of 0..len(order)-1 (a mistake in
// the test). With an unlimited filter each following batch is reordered
// the same way.
func Reorder(order ...int) Action {
	seen := make([]bool, len(order))
	for _, i := range order {
		if i < 0 || i >= len(order) || seen[i] {
			panic(fmt.Sprintf("process.Reorder%v: not a permutation of 0..%d", order, len(order)-1))
		}
		seen[i] = true
	}
	if len(order) == 0 {
		panic("process.Reorder: no order given")
	}
	return Action{op: opReorder, order: slices.Clone(order)}
}

// Reversed is Reorder of n events, released last first.
func Reversed(n int) Action {
	order := make([]int, n)
	for i := range order {
		order[i] = n - 1 - i
	}
	return Reorder(order...)
}

// Rule describes a filter: which events it matches and what it does.
type Rule struct {
	Side Side
	Kind EventKind
	// Name is the message name ("" for any). Messages only.
	Name string
	// Method is the dispatched function (a method value such as s.work, a
	// method expression, or nil for any). Dispatches only.
	Method any
	// From is the message sender, or the process that ended for an exited
	// event; Any (the zero UPID) for any. Dispatches have no sender.
	From UPID
	// To is the receiver, dispatch target or linker; Any for any.
	To UPID
	// Where, if set, is a further predicate on messages. It runs under
	// the filters' lock: it must not block or touch filters.
	Where func(*Message) bool
	// Action is what happens to the events the filter acts on.
	Action Action
	// Skip lets this many matches pass untouched (and uncounted) first.
	Skip int
	// Limit is how many matches the filter acts on (0: every one). Once
	// reached the filter retires, unless KeepCounting.
	Limit int
	// KeepCounting keeps a filter whose Limit is reached matching: later
	// matches pass untouched but count in Matched (for expectations that
	// check a count).
	KeepCounting bool
	// OnMatch, if set, is called with each event the filter acts on,
	// before the action takes effect. It runs on the goroutine that sent
	// or serves the event and must not block.
	OnMatch func(Intercepted)
}

// Intercepted describes an event a filter acted on.
type Intercepted struct {
	Side Side
	Kind EventKind
	// From is the sender of a message, or the process that ended.
	From UPID
	// To is the receiver, dispatch target or linker.
	To UPID
	// Message is the message (KindMessage).
	Message *Message
	// Method names the dispatched function (KindDispatch).
	Method string
}

// Filter is an installed Rule.
type Filter struct {
	set    *filterSet
	rule   Rule
	method string // the name of rule.Method

	// guarded by set.mu
	skip    int
	matched int
	acted   int
	retired bool
	held    []*heldEvent
}

type heldEvent struct {
	again func()
	timer *Timer
}

// AddFilter installs r and returns the installed filter.
func (rt *Runtime) AddFilter(r Rule) *Filter {
	f := &Filter{set: &rt.filters, rule: r, skip: r.Skip}
	f.rule.Action.order = slices.Clone(r.Action.order)
	if r.Method != nil {
		f.method = funcName(r.Method)
	}
	rt.filters.add(rt, f)
	return f
}

// Matched reports how many events matched the filter (after Skip),
// including those passed untouched after its Limit. Safe from any
// goroutine.
func (f *Filter) Matched() int {
	f.set.mu.Lock()
	defer f.set.mu.Unlock()
	return f.matched
}

// Held reports how many events the filter holds. Safe from any goroutine.
func (f *Filter) Held() int {
	f.set.mu.Lock()
	defer f.set.mu.Unlock()
	return len(f.held)
}

// Release releases every held event, in arrival order, and reports how
// many it released. Released events are matched by the other filters and
// then delivered as if just sent (Sending) or queued again at the back of
// the receiver's mailbox (Receiving).
func (f *Filter) Release() int {
	f.set.mu.Lock()
	batch := f.held
	f.held = nil
	f.set.mu.Unlock()
	f.set.release(batch)
	return len(batch)
}

// ReleaseOrder releases the held events at the given arrival indexes (0
// is the oldest held), in that order; the others stay held.
func (f *Filter) ReleaseOrder(order ...int) error {
	f.set.mu.Lock()
	seen := make([]bool, len(f.held))
	for _, i := range order {
		if i < 0 || i >= len(f.held) || seen[i] {
			n := len(f.held)
			f.set.mu.Unlock()
			return fmt.Errorf("release order %v: index %d invalid with %d held", order, i, n)
		}
		seen[i] = true
	}
	batch := make([]*heldEvent, 0, len(order))
	for _, i := range order {
		batch = append(batch, f.held[i])
	}
	kept := f.held[:0:0]
	for i, h := range f.held {
		if !seen[i] {
			kept = append(kept, h)
		}
	}
	f.held = kept
	f.set.mu.Unlock()
	f.set.release(batch)
	return nil
}

// Remove uninstalls the filter; the events it still holds are discarded.
func (f *Filter) Remove() { f.set.remove(func(g *Filter) bool { return g == f }) }

// RemoveFilters uninstalls every filter for which pred is true.
func (rt *Runtime) RemoveFilters(pred func(*Filter) bool) { rt.filters.remove(pred) }

type filterSet struct {
	active atomic.Bool // any filter installed: the hot path's only check
	mu     sync.Mutex
	rt     *Runtime
	list   []*Filter // oldest first
}

func (s *filterSet) add(rt *Runtime, f *Filter) {
	s.mu.Lock()
	s.rt = rt // read only by filter code, which runs after this store
	s.list = append(s.list, f)
	s.active.Store(true)
	s.mu.Unlock()
}

func (s *filterSet) remove(pred func(*Filter) bool) {
	var dropped []*heldEvent
	s.mu.Lock()
	kept := s.list[:0]
	for _, f := range s.list {
		if pred(f) {
			dropped = append(dropped, f.held...)
			f.held = nil
			continue
		}
		kept = append(kept, f)
	}
	clear(s.list[len(kept):])
	s.list = kept
	s.active.Store(len(kept) > 0)
	s.mu.Unlock()
	for _, h := range dropped {
		if h.timer != nil {
			s.rt.clock.Cancel(h.timer)
		}
	}
}

// release delivers held events in the order given, cancelling their
// timers.
func (s *filterSet) release(batch []*heldEvent) {
	for _, h := range batch {
		if h.timer != nil {
			s.rt.clock.Cancel(h.timer)
		}
		h.again()
	}
}

// releaseOne is a HoldFor timer firing: it releases h if still held.
func (s *filterSet) releaseOne(f *Filter, h *heldEvent) {
	s.mu.Lock()
	i := slices.Index(f.held, h)
	if i < 0 {
		s.mu.Unlock()
		return
	}
	f.held = slices.Delete(f.held, i, i+1)
	s.mu.Unlock()
	h.again()
}

// candidate is an event being matched.
type candidate struct {
	side   Side
	kind   EventKind
	from   UPID
	to     UPID
	msg    *Message
	method any
	mname  string
	named  bool
	passed []*Filter // filters that already held or copied this event
	// deliver, when sending, delivers the event past the filters.
	deliver func()
}

func (c *candidate) methodName() string {
	if !c.named {
		c.mname, c.named = funcName(c.method), true
	}
	return c.mname
}

func (f *Filter) matches(c *candidate) bool {
	r := &f.rule
	if f.retired || r.Side != c.side || r.Kind != c.kind ||
		(r.To != Any && r.To != c.to) || (r.From != Any && r.From != c.from) {
		return false
	}
	switch c.kind {
	case KindMessage:
		if (r.Name != "" && r.Name != c.msg.Name) || (r.Where != nil && !r.Where(c.msg)) {
			return false
		}
	case KindDispatch:
		if f.method != "" && f.method != c.methodName() {
			return false
		}
	}
	return !slices.Contains(c.passed, f)
}

// apply runs c past the filters. again re-enters an event (a released or
// copied one) with the filters it has passed, delivering it if none
// consumes it. apply reports whether the event is consumed (dropped or
// held) rather than delivered now.
func (s *filterSet) apply(c *candidate, again func(passed []*Filter)) bool {
	var f *Filter
	var act bool
	var batch []*heldEvent
	var hold *heldEvent
	s.mu.Lock()
	for i := len(s.list) - 1; i >= 0; i-- {
		g := s.list[i]
		if !g.matches(c) {
			continue
		}
		if g.skip > 0 {
			g.skip--
			continue
		}
		f = g
		break
	}
	if f == nil {
		s.mu.Unlock()
		return false
	}
	f.matched++
	r := &f.rule
	if r.Limit == 0 || f.acted < r.Limit {
		act = true
		f.acted++
		if r.Limit > 0 && f.acted == r.Limit && !r.KeepCounting {
			f.retired = true
		}
	}
	passed := append(slices.Clip(c.passed), f)
	if act && (r.Action.op == opHold || r.Action.op == opReorder) {
		hold = &heldEvent{again: func() { again(passed) }}
		f.held = append(f.held, hold)
		if n := len(r.Action.order); r.Action.op == opReorder && len(f.held) >= n {
			for _, i := range r.Action.order {
				batch = append(batch, f.held[i])
			}
			f.held = slices.Delete(f.held, 0, n)
		}
	}
	s.mu.Unlock()
	if !act {
		return false
	}
	if r.OnMatch != nil {
		r.OnMatch(c.intercepted())
	}
	switch r.Action.op {
	case opDrop:
		return true
	case opHold:
		if d := r.Action.delay; d > 0 {
			s.mu.Lock()
			if slices.Contains(f.held, hold) {
				hold.timer = s.rt.clock.Timer(d, func() { s.releaseOne(f, hold) })
			}
			s.mu.Unlock()
		}
		return true
	case opReorder:
		s.release(batch)
		return true
	case opDuplicate:
		// Sending: the original, then its copies, go on past the older
		// filters, so that a hold among them holds them all, in order (a
		// copy never overtakes what a delayed link still holds). When
		// receiving, the original is served as soon as this returns and
		// the copies are queued again.
		if c.deliver != nil {
			for range r.Action.copies + 1 {
				again(passed)
			}
			return true
		}
		for range r.Action.copies {
			again(passed)
		}
		return false
	}
	return false
}

func (c *candidate) intercepted() Intercepted {
	ic := Intercepted{Side: c.side, Kind: c.kind, From: c.from, To: c.to}
	if c.msg != nil {
		m := *c.msg
		ic.Message = &m
	}
	if c.kind == KindDispatch {
		ic.Method = c.methodName()
	}
	return ic
}

// received runs a dequeued event past the receiving filters of process p
// and reports whether it is consumed (not to be served now).
func (s *filterSet) received(p *Process, ev actor.Event) bool {
	var c candidate
	var again func(passed []*Filter)
	switch e := ev.(type) {
	case *messageEvent:
		c = candidate{kind: KindMessage, from: e.msg.From, to: p.self, msg: &e.msg, passed: e.passed}
		m := e.msg
		again = func(passed []*Filter) {
			if !p.post(queuedMessages, &messageEvent{msg: m, passed: passed}) {
				p.rt.logger.Debug("dropping released message: process is gone", "name", m.Name, "to", m.To.String())
				p.rt.droppedNoProc.Inc()
			}
		}
	case *dispatchEvent:
		c = candidate{kind: KindDispatch, to: p.self, method: e.method, passed: e.passed}
		fn, method, abandon := e.fn, e.method, e.abandon
		again = func(passed []*Filter) {
			if !p.post(queuedDispatches, &dispatchEvent{fn: fn, method: method, abandon: abandon, passed: passed}) && abandon != nil {
				abandon()
			}
		}
	case *exitedEvent:
		c = candidate{kind: KindExited, from: e.pid, to: p.self, passed: e.passed}
		pid := e.pid
		again = func(passed []*Filter) { p.ref.Post(&exitedEvent{pid: pid, passed: passed}) }
	default:
		return false
	}
	c.side = Receiving
	return s.apply(&c, again)
}

// sent runs a message being sent past the sending filters and reports
// whether it is consumed (not to be routed now).
func (s *filterSet) sent(m Message, passed []*Filter) bool {
	c := candidate{side: Sending, kind: KindMessage, from: m.From, to: m.To, msg: &m, passed: passed}
	c.deliver = func() { s.rt.post(m.From, m.To, m.Name, m.Body) }
	return s.apply(&c, func(passed []*Filter) {
		if !s.sent(m, passed) {
			s.rt.post(m.From, m.To, m.Name, m.Body)
		}
	})
}

// dispatched runs a dispatch being made past the sending filters and
// reports whether it is consumed (not to be queued now).
func (s *filterSet) dispatched(pid UPID, method any, run, abandon func(), passed []*Filter) bool {
	c := candidate{side: Sending, kind: KindDispatch, to: pid, method: method, passed: passed}
	c.deliver = func() { s.rt.queueDispatch(pid, method, run, abandon) }
	return s.apply(&c, func(passed []*Filter) {
		if !s.dispatched(pid, method, run, abandon, passed) {
			s.rt.queueDispatch(pid, method, run, abandon)
		}
	})
}

// String describes the filter's rule, for test failures.
func (f *Filter) String() string {
	r := &f.rule
	var what string
	switch r.Kind {
	case KindMessage:
		what = "message " + r.Name
		if r.Name == "" {
			what = "any message"
		}
	case KindDispatch:
		what = "dispatch " + f.method
		if f.method == "" {
			what = "any dispatch"
		}
	case KindExited:
		what = "exited"
	}
	return fmt.Sprintf("%s from %s to %s (%s)", what, anyPID(r.From), anyPID(r.To), r.Side)
}

func anyPID(u UPID) string {
	if u == Any {
		return "any"
	}
	return u.String()
}
