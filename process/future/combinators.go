package future

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Timers is the clock service After uses; process.Clock implements it, so
// timeouts obey a paused clock.
type Timers interface {
	// AfterFunc arranges for fn to run once d has passed, and returns a
	// function that cancels it and reports whether it was still pending.
	AfterFunc(d time.Duration, fn func()) (cancel func() bool)
}

// The small completion helpers the combinators share.

func setState[T any](s *state[T], v T) bool { return s.complete(StateReady, v, nil, false) }

func failState[T any](s *state[T], err error) bool {
	if err == nil {
		err = errNilFailure
	}
	var zero T
	return s.complete(StateFailed, zero, err, false)
}

func discardState[T any](s *state[T]) bool {
	var zero T
	return s.complete(StateDiscarded, zero, nil, false)
}

func mustFunc(ok bool, name string) {
	if !ok {
		panic("future." + name + ": nil function")
	}
}

// thenNode is the state of one Then/ThenF step: the result's promise and
// the continuation. It listens on the upstream future.
type thenNode[T, U any] struct {
	p   Promise[U]
	fn  func(T) (U, error) // Then
	fnf func(T) Future[U]  // ThenF
}

func (n *thenNode[T, U]) fire(src *state[T]) {
	switch src.state() {
	case StateReady:
		// A discard was asked for while the upstream was pending: honour
		// it here rather than start the continuation nobody wants.
		if src.discard.Load() || n.p.s.discard.Load() {
			discardState(&n.p.s)
			return
		}
		if n.fnf != nil {
			n.p.s.associate(n.fnf(src.value))
			return
		}
		if v, err := n.fn(src.value); err != nil {
			failState(&n.p.s, err)
		} else {
			setState(&n.p.s, v)
		}
	case StateFailed:
		failState(&n.p.s, src.err)
	case StateDiscarded:
		discardState(&n.p.s)
	}
}

func newThen[T, U any](f Future[T], n *thenNode[T, U]) Future[U] {
	if f.s != nil {
		n.p.s.onDiscard(f.s)
		f.s.on(n)
	}
	return n.p.Future()
}

// Then returns a future for fn applied to f's value. If f fails or is
// discarded, so is the result (with the same error), and fn is not
// called; an error returned by fn fails the result. A discard request on
// the result is passed on to f. If f becomes ready although a discard was
// requested, fn is not called and the result is discarded. fn runs on the
// goroutine that completes f (or on the caller's, if f is already
// complete).
func Then[T, U any](f Future[T], fn func(T) (U, error)) Future[U] {
	mustFunc(fn != nil, "Then")
	return newThen(f, &thenNode[T, U]{fn: fn})
}

// ThenF is Then for a continuation that returns a future: the result
// mirrors the future fn returns. A discard request on the result is passed
// on to f and, once fn has run, to the future fn returned.
func ThenF[T, U any](f Future[T], fn func(T) Future[U]) Future[U] {
	mustFunc(fn != nil, "ThenF")
	return newThen(f, &thenNode[T, U]{fnf: fn})
}

// repairNode is the state of one Repair/RepairF step.
type repairNode[T any] struct {
	p   Promise[T]
	fn  func(error) (T, error)
	fnf func(error) Future[T]
}

func (n *repairNode[T]) fire(src *state[T]) {
	if src.state() != StateFailed {
		n.p.s.fire(src)
		return
	}
	if n.fnf != nil {
		n.p.s.associate(n.fnf(src.err))
		return
	}
	if v, err := n.fn(src.err); err != nil {
		failState(&n.p.s, err)
	} else {
		setState(&n.p.s, v)
	}
}

func newRepair[T any](f Future[T], n *repairNode[T]) Future[T] {
	if f.s != nil {
		n.p.s.onDiscard(f.s)
		f.s.on(n)
	}
	return n.p.Future()
}

// Repair returns a future that mirrors f, except that if f fails, fn is
// called with the error and its result (a value, or an error that fails
// the result) takes f's place. A discard request on the result is passed
// on to f.
func Repair[T any](f Future[T], fn func(error) (T, error)) Future[T] {
	mustFunc(fn != nil, "Repair")
	return newRepair(f, &repairNode[T]{fn: fn})
}

// RepairF is Repair for a repair function that returns a future, which
// the result then mirrors. A discard request on the result is passed on to
// f and, once fn has run, to the future fn returned.
func RepairF[T any](f Future[T], fn func(error) Future[T]) Future[T] {
	mustFunc(fn != nil, "RepairF")
	return newRepair(f, &repairNode[T]{fnf: fn})
}

// afterNode is the state of an After: whichever of the timer and the
// upstream's completion wins the latch decides the result.
type afterNode[T any] struct {
	p      Promise[T]
	up     Future[T]
	fn     func(Future[T]) Future[T]
	latch  atomic.Bool
	cancel func() bool
}

func (n *afterNode[T]) fire(src *state[T]) {
	if n.latch.CompareAndSwap(false, true) {
		if n.cancel != nil {
			n.cancel()
		}
		n.p.s.fire(src)
	}
}

func (n *afterNode[T]) expire() {
	if n.latch.CompareAndSwap(false, true) {
		n.p.s.associate(n.fn(n.up))
	}
}

// After returns a future that mirrors f if f completes within d, as
// measured by timers (so a paused process clock holds the timeout back).
// If the timer fires first, the result mirrors fn(f) instead; fn typically
// discards f and returns a failure or a default. If f completes first the
// timer is cancelled. A discard request on the result is passed on to f
// and, once the timer has fired, to the future fn returned. If f is
// already complete, After returns f and starts no timer.
func After[T any](f Future[T], timers Timers, d time.Duration, fn func(Future[T]) Future[T]) Future[T] {
	mustFunc(fn != nil, "After")
	if f.s != nil && !f.s.pending() {
		return f
	}
	n := &afterNode[T]{up: f, fn: fn}
	if f.s != nil {
		n.p.s.onDiscard(f.s)
	}
	// The timer may fire before the listener below is registered: the
	// latch settles that race, and cancel is set before anything reads it.
	n.cancel = timers.AfterFunc(d, n.expire)
	if f.s != nil {
		f.s.on(n)
	}
	return n.p.Future()
}

// collectNode is the state of a Collect.
type collectNode[T any] struct {
	p         Promise[[]T]
	inputs    []Future[T]
	values    []T
	remaining atomic.Int64
	slots     []collectSlot[T]
}

// collectSlot listens on input i of a Collect.
type collectSlot[T any] struct {
	n *collectNode[T]
	i int
}

func (c *collectSlot[T]) fire(src *state[T]) {
	n := c.n
	switch src.state() {
	case StateReady:
		n.values[c.i] = src.value
		// The atomic decrement orders every slot's write to values before
		// the read by whichever slot brings the count to zero.
		if n.remaining.Add(-1) == 0 {
			setState(&n.p.s, n.values)
		}
	case StateFailed:
		failState(&n.p.s, fmt.Errorf("collect: input %d of %d failed: %w", c.i, len(n.inputs), src.err))
	case StateDiscarded:
		failState(&n.p.s, fmt.Errorf("collect: input %d of %d: %w", c.i, len(n.inputs), ErrDiscarded))
	}
}

// discardRequested honours a discard request on the result, then passes it
// to every input. The result is discarded first so that inputs discarded
// in response cannot turn it into a failure.
func (n *collectNode[T]) discardRequested() {
	discardState(&n.p.s)
	discardAll(n.inputs)
}

func discardAll[T any](fs []Future[T]) {
	for _, f := range fs {
		f.Discard()
	}
}

// Collect returns a future for the values of all of fs, in input order,
// ready once every input is ready. It fails as soon as any input fails or
// is discarded, with an error that wraps the input's error (or
// ErrDiscarded) and names its position; the other inputs are left alone.
// A discard request on the result discards the result and is passed on
// to every input. With no inputs the result is ready with an empty slice.
func Collect[T any](fs ...Future[T]) Future[[]T] {
	if len(fs) == 0 {
		return Ready([]T{})
	}
	n := &collectNode[T]{
		inputs: append([]Future[T](nil), fs...),
		values: make([]T, len(fs)),
		slots:  make([]collectSlot[T], len(fs)),
	}
	n.remaining.Store(int64(len(fs)))
	n.p.s.onDiscard(n)
	for i, f := range n.inputs {
		n.slots[i] = collectSlot[T]{n: n, i: i}
		if f.s != nil {
			f.s.on(&n.slots[i])
		}
	}
	return n.p.Future()
}

// awaitNode is the state of an AwaitAll; it listens on every input.
type awaitNode[T any] struct {
	p         Promise[[]Future[T]]
	inputs    []Future[T]
	remaining atomic.Int64
}

func (n *awaitNode[T]) fire(*state[T]) {
	if n.remaining.Add(-1) == 0 {
		setState(&n.p.s, n.inputs)
	}
}

// discardRequested is as for Collect.
func (n *awaitNode[T]) discardRequested() {
	discardState(&n.p.s)
	discardAll(n.inputs)
}

// AwaitAll returns a future that becomes ready, with the input futures in
// input order, once every one of fs has completed in any state. A discard
// request on the result discards the result and is passed on to every
// input. With no inputs the result is ready with an empty slice.
func AwaitAll[T any](fs ...Future[T]) Future[[]Future[T]] {
	if len(fs) == 0 {
		return Ready([]Future[T]{})
	}
	n := &awaitNode[T]{inputs: append([]Future[T](nil), fs...)}
	n.remaining.Store(int64(len(fs)))
	n.p.s.onDiscard(n)
	for _, f := range n.inputs {
		if f.s != nil {
			f.s.on(n)
		}
	}
	return n.p.Future()
}

// selectNode is the state of a Select.
type selectNode[T any] struct {
	p Promise[Future[T]]
}

func (n *selectNode[T]) fire(src *state[T]) { setState(&n.p.s, Future[T]{src}) }

func (n *selectNode[T]) discardRequested() { discardState(&n.p.s) }

// Select returns a future that becomes ready with the first of fs to
// complete, in whatever state. A discard request on the result discards
// the result; the inputs are left alone, since the caller still holds
// them. With no inputs the result stays pending (until a discard is
// requested), like an empty select statement.
func Select[T any](fs ...Future[T]) Future[Future[T]] {
	n := &selectNode[T]{}
	n.p.s.onDiscard(n)
	for _, f := range fs {
		if f.s != nil {
			f.s.on(n)
		}
	}
	return n.p.Future()
}
