package future

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDiscarded is the error Get and Err report for a discarded future.
var ErrDiscarded = errors.New("future discarded")

// errNilFailure stands in for the nil error passed to Promise.Fail or
// returned with no value by a combinator callback, so that a failed future
// always has a non-nil error.
var errNilFailure = errors.New("future failed with a nil error")

// Nothing is the value of a future that only signals completion.
type Nothing struct{}

// State is the state of a future.
type State uint32

// The states of a future. Every future starts Pending and makes at most
// one transition, to one of the other three.
const (
	StatePending State = iota
	StateReady
	StateFailed
	StateDiscarded
)

// String returns "pending", "ready", "failed" or "discarded".
func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateReady:
		return "ready"
	case StateFailed:
		return "failed"
	case StateDiscarded:
		return "discarded"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// listener is told once that a future completed. The exported callback
// kinds and the combinators' internal nodes all implement it, so storing a
// callback never allocates beyond what the caller already allocated.
type listener[T any] interface {
	fire(s *state[T])
}

// discardListener is told that a discard was requested.
type discardListener interface {
	discardRequested()
}

// state is the shared body of a future and its promise.
type state[T any] struct {
	st         atomic.Uint32 // State; written under mu, read anywhere
	discard    atomic.Bool   // a discard was requested; written under mu
	associated bool          // completed only through Associate's mirror; under mu

	mu    sync.Mutex
	value T
	err   error
	done  chan struct{} // made on demand; closed on completion

	// Completion and discard-request listeners, each in registration
	// order. The first of each kind is kept inline, so the common case of
	// one callback needs no allocation beyond the state itself.
	cb0  listener[T]
	dcb0 discardListener
	more *overflow[T]
}

// overflow holds the listeners after the first of each kind.
type overflow[T any] struct {
	cbs  []listener[T]
	dcbs []discardListener
}

// closed is returned by Done for futures that are already complete.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (s *state[T]) state() State { return State(s.st.Load()) }

func (s *state[T]) pending() bool { return s.st.Load() == uint32(StatePending) }

// complete makes the transition out of pending and runs the listeners.
// mirror is true for completions coming from an associated future, which
// are the only ones allowed once the promise is associated.
func (s *state[T]) complete(to State, v T, err error, mirror bool) bool {
	s.mu.Lock()
	if !s.pending() || (s.associated && !mirror) {
		s.mu.Unlock()
		return false
	}
	s.value, s.err = v, err
	cb0, more := s.cb0, s.more
	// No discard request can follow completion, so drop those listeners.
	s.cb0, s.dcb0, s.more = nil, nil, nil
	s.st.Store(uint32(to))
	if s.done != nil {
		close(s.done)
	}
	s.mu.Unlock()

	if cb0 != nil {
		cb0.fire(s)
	}
	if more != nil {
		for _, l := range more.cbs {
			l.fire(s)
		}
	}
	return true
}

// fire makes s mirror src; it is the listener Associate registers.
func (s *state[T]) fire(src *state[T]) {
	s.complete(src.state(), src.value, src.err, true)
}

// discardRequested passes a discard request on to s; it is the discard
// listener that makes requests flow upstream.
func (s *state[T]) discardRequested() {
	if s != nil {
		s.requestDiscard()
	}
}

// on registers l, or runs it now if s is complete.
func (s *state[T]) on(l listener[T]) {
	if s.pending() {
		s.mu.Lock()
		if s.pending() {
			if s.cb0 == nil {
				s.cb0 = l
			} else {
				o := s.overflow()
				o.cbs = append(o.cbs, l)
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	l.fire(s)
}

// onDiscard registers l for a discard request, runs it now if one was
// already made, and drops it if s completed without one.
func (s *state[T]) onDiscard(l discardListener) {
	s.mu.Lock()
	switch {
	case s.discard.Load():
		s.mu.Unlock()
		l.discardRequested()
		return
	case s.pending():
		if s.dcb0 == nil {
			s.dcb0 = l
		} else {
			o := s.overflow()
			o.dcbs = append(o.dcbs, l)
		}
	}
	s.mu.Unlock()
}

func (s *state[T]) requestDiscard() bool {
	s.mu.Lock()
	if !s.pending() || s.discard.Load() {
		s.mu.Unlock()
		return false
	}
	s.discard.Store(true)
	d0 := s.dcb0
	var ds []discardListener
	if s.more != nil {
		ds, s.more.dcbs = s.more.dcbs, nil
	}
	s.dcb0 = nil
	s.mu.Unlock()

	if d0 != nil {
		d0.discardRequested()
	}
	for _, l := range ds {
		l.discardRequested()
	}
	return true
}

// overflow returns s.more, making it if need be; s.mu must be held.
func (s *state[T]) overflow() *overflow[T] {
	if s.more == nil {
		s.more = new(overflow[T])
	}
	return s.more
}

// associate makes s mirror f, with discard requests on s flowing to f.
func (s *state[T]) associate(f Future[T]) bool {
	s.mu.Lock()
	if !s.pending() || s.associated {
		s.mu.Unlock()
		return false
	}
	s.associated = true
	s.mu.Unlock()
	switch {
	case f.s == nil:
		// The zero future never completes, and nobody can hear a request.
	case !f.s.pending():
		// Nothing to pass a discard request on to: just mirror it.
		s.fire(f.s)
	default:
		s.onDiscard(f.s)
		f.s.on(s)
	}
	return true
}

// The callback kinds, as listeners. Converting a func to one of these and
// storing it in an interface does not allocate.
type (
	readyFunc[T any]     func(T)
	failedFunc[T any]    func(error)
	discardedFunc[T any] func()
	anyFunc[T any]       func(Future[T])
	discardFunc          func()
)

func (fn readyFunc[T]) fire(s *state[T]) {
	if s.state() == StateReady {
		fn(s.value)
	}
}

func (fn failedFunc[T]) fire(s *state[T]) {
	if s.state() == StateFailed {
		fn(s.err)
	}
}

func (fn discardedFunc[T]) fire(s *state[T]) {
	if s.state() == StateDiscarded {
		fn()
	}
}

func (fn anyFunc[T]) fire(s *state[T]) { fn(Future[T]{s}) }

func (fn discardFunc) discardRequested() { fn() }

// Promise is the producer's side of a future. Create one with NewPromise
// (the zero Promise is also ready to use) and hand out its Future. A
// Promise must not be copied after first use.
type Promise[T any] struct {
	s state[T]
}

// NewPromise returns a new pending promise.
func NewPromise[T any]() *Promise[T] { return new(Promise[T]) }

// Future returns the promise's future. Every call returns the same future.
func (p *Promise[T]) Future() Future[T] { return Future[T]{&p.s} }

// Set makes the future ready with v. It reports whether this call
// completed the future: false if it was already complete or the promise is
// associated with another future.
func (p *Promise[T]) Set(v T) bool { return p.s.complete(StateReady, v, nil, false) }

// Fail makes the future fail with err (a nil err is replaced by a non-nil
// error saying so). It reports whether this call completed the future.
func (p *Promise[T]) Fail(err error) bool {
	if err == nil {
		err = errNilFailure
	}
	var zero T
	return p.s.complete(StateFailed, zero, err, false)
}

// Discard makes the future discarded: the producer gives up, whether or
// not a consumer asked it to. It reports whether this call completed the
// future.
func (p *Promise[T]) Discard() bool {
	var zero T
	return p.s.complete(StateDiscarded, zero, nil, false)
}

// Associate makes the promise's future mirror f: when f completes, the
// promise's future completes the same way, and a discard request on the
// promise's future (made before or after this call) is passed on to f.
// From then on Set, Fail, Discard and Associate on p return false. It
// reports false, and does nothing, if the promise is already complete or
// associated. Associating with the zero Future leaves the promise pending
// forever.
func (p *Promise[T]) Associate(f Future[T]) bool { return p.s.associate(f) }

// Future is the consumer's side of a value that may not be known yet. It
// is a small handle: copy it freely; two copies of one future compare
// equal. See the package documentation for the meaning of the zero Future.
type Future[T any] struct {
	s *state[T]
}

// Ready returns a future that is already ready with v.
func Ready[T any](v T) Future[T] {
	s := &state[T]{value: v}
	s.st.Store(uint32(StateReady))
	return Future[T]{s}
}

// Failed returns a future that has already failed with err (a nil err is
// replaced by a non-nil error saying so).
func Failed[T any](err error) Future[T] {
	if err == nil {
		err = errNilFailure
	}
	s := &state[T]{err: err}
	s.st.Store(uint32(StateFailed))
	return Future[T]{s}
}

// Discarded returns a future that is already discarded.
func Discarded[T any]() Future[T] {
	s := &state[T]{}
	s.st.Store(uint32(StateDiscarded))
	return Future[T]{s}
}

// State returns the future's current state.
func (f Future[T]) State() State {
	if f.s == nil {
		return StatePending
	}
	return f.s.state()
}

// IsPending reports whether the future is not complete yet.
func (f Future[T]) IsPending() bool { return f.State() == StatePending }

// IsReady reports whether the future has a value.
func (f Future[T]) IsReady() bool { return f.State() == StateReady }

// IsFailed reports whether the future failed.
func (f Future[T]) IsFailed() bool { return f.State() == StateFailed }

// IsDiscarded reports whether the future was discarded.
func (f Future[T]) IsDiscarded() bool { return f.State() == StateDiscarded }

// HasDiscard reports whether a consumer asked for the future to be
// discarded. The request is remembered whatever the producer did with it.
func (f Future[T]) HasDiscard() bool { return f.s != nil && f.s.discard.Load() }

// Value returns the future's value if it is ready, else the zero T. It
// never blocks.
func (f Future[T]) Value() T {
	if f.IsReady() {
		return f.s.value
	}
	var zero T
	return zero
}

// Err returns the failure of a failed future, ErrDiscarded for a discarded
// one, and nil for a pending or ready one. It never blocks.
func (f Future[T]) Err() error {
	switch f.State() {
	case StateFailed:
		return f.s.err
	case StateDiscarded:
		return ErrDiscarded
	}
	return nil
}

// Get waits until the future is complete and returns its value, or its
// error if it failed, or ErrDiscarded if it was discarded. Get blocks its
// goroutine: do not call it from an actor's handler on a future that the
// actor itself must complete; register a callback instead.
func (f Future[T]) Get() (T, error) {
	<-f.Done()
	return f.Value(), f.Err()
}

// Done returns a channel that is closed when the future completes, for
// use in select statements. The zero Future returns a nil channel.
func (f Future[T]) Done() <-chan struct{} {
	s := f.s
	if s == nil {
		return nil
	}
	if !s.pending() {
		return closed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pending() {
		return closed
	}
	if s.done == nil {
		s.done = make(chan struct{})
	}
	return s.done
}

// Await waits up to timeout of wall-clock time for the future to complete
// and reports whether it did. It is meant for tests and for goroutines
// that are not actors; it does not follow a paused process clock. A
// timeout of zero or less only checks.
func (f Future[T]) Await(timeout time.Duration) bool {
	if !f.IsPending() {
		return true
	}
	if f.s == nil || timeout <= 0 {
		return false
	}
	t := time.NewTimer(timeout) // wall-clock: Await is bounded in real time by contract
	defer t.Stop()
	select {
	case <-f.Done():
		return true
	case <-t.C:
		return !f.IsPending()
	}
}

// Discard asks the producer to discard the future. It records the request
// and runs the OnDiscard callbacks; the future itself stays pending until
// the producer acts. It reports whether this call made the request: false
// if the future is already complete or a discard was already requested.
func (f Future[T]) Discard() bool {
	return f.s != nil && f.s.requestDiscard()
}

// OnReady registers fn to run with the value if the future becomes ready,
// and returns f for chaining. See the package documentation for when and
// where callbacks run.
func (f Future[T]) OnReady(fn func(T)) Future[T] {
	if f.s != nil && fn != nil {
		f.s.on(readyFunc[T](fn))
	}
	return f
}

// OnFailed registers fn to run with the error if the future fails, and
// returns f.
func (f Future[T]) OnFailed(fn func(error)) Future[T] {
	if f.s != nil && fn != nil {
		f.s.on(failedFunc[T](fn))
	}
	return f
}

// OnDiscarded registers fn to run if the future is discarded, and returns
// f.
func (f Future[T]) OnDiscarded(fn func()) Future[T] {
	if f.s != nil && fn != nil {
		f.s.on(discardedFunc[T](fn))
	}
	return f
}

// OnAny registers fn to run with the future when it completes, in any
// state, and returns f.
func (f Future[T]) OnAny(fn func(Future[T])) Future[T] {
	if f.s != nil && fn != nil {
		f.s.on(anyFunc[T](fn))
	}
	return f
}

// OnDiscard registers fn to run when a discard is requested, and returns
// f. It runs at once if a discard was already requested, and never if the
// future completes without one. Producers use it to learn that nobody
// wants the result any more.
func (f Future[T]) OnDiscard(fn func()) Future[T] {
	if f.s != nil && fn != nil {
		f.s.onDiscard(discardFunc(fn))
	}
	return f
}

// String describes the future's state (and value or error), e.g.
// "Future[int] ready: 42". It never blocks.
func (f Future[T]) String() string {
	var b []byte
	b = fmt.Appendf(b, "Future[%s] %s", reflect.TypeFor[T](), f.State())
	switch f.State() {
	case StateReady:
		b = fmt.Appendf(b, ": %v", f.s.value)
	case StateFailed:
		b = fmt.Appendf(b, ": %v", f.s.err)
	}
	if f.HasDiscard() {
		b = append(b, " (discard requested)"...)
	}
	return string(b)
}
