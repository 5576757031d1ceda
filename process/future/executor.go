package future

// Executor runs fn, now or later, on a goroutine of its choosing: an
// actor's mailbox, a worker, or the caller itself. It is how the runtime
// gives libprocess's defer to this package without the package knowing
// about actors: wrap a continuation with Via and it runs wherever the
// Executor puts it, not on whichever goroutine completed the future.
//
// An Executor that drops fn (for example because the target actor has
// terminated) leaves the futures of Async and Via pending.
type Executor func(fn func())

// Inline is the Executor that runs fn at once on the calling goroutine.
func Inline(fn func()) { fn() }

// asyncNode runs one function through an Executor and completes its
// promise with the result.
type asyncNode[U any] struct {
	p  Promise[U]
	fn func() (U, error)
}

func (n *asyncNode[U]) run() {
	// A discard asked for before fn got to run is honoured: fn is skipped.
	if n.p.s.discard.Load() {
		discardState(&n.p.s)
		return
	}
	if v, err := n.fn(); err != nil {
		failState(&n.p.s, err)
	} else {
		setState(&n.p.s, v)
	}
}

// Async runs fn through exec and returns a future for its result: ready
// with the value, or failed with the error fn returns. If a discard is
// requested before fn starts, fn is skipped and the future is discarded.
func Async[U any](exec Executor, fn func() (U, error)) Future[U] {
	mustFunc(exec != nil && fn != nil, "Async")
	n := &asyncNode[U]{fn: fn}
	exec(n.run)
	return n.p.Future()
}

// Via returns fn as a continuation that runs through exec, for ThenF:
//
//	future.ThenF(f, future.Via(exec, step))
//
// runs step on exec's goroutine once f is ready. A discard request on the
// result that arrives before step starts skips step (see Async).
func Via[T, U any](exec Executor, fn func(T) (U, error)) func(T) Future[U] {
	mustFunc(exec != nil && fn != nil, "Via")
	return func(v T) Future[U] {
		return Async(exec, func() (U, error) { return fn(v) })
	}
}
