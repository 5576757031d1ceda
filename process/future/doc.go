// Package future provides libprocess-style futures and promises.
//
// A [Promise] is the producer's side of a value that will be known later;
// its [Future] is the consumer's side. A future is in one of four states:
// pending, ready (it has a value), failed (it has an error) or discarded
// (the producer gave up). The first transition out of pending wins; a
// completed future never changes again.
//
// Discarding is cooperative. A consumer calls [Future.Discard] to ask for a
// discard; that only records the request ([Future.HasDiscard]) and tells
// the producer through [Future.OnDiscard] callbacks. The producer decides
// whether to honour it, by calling [Promise.Discard], or to complete the
// future some other way.
//
// # Callbacks
//
// OnReady, OnFailed, OnDiscarded and OnAny register callbacks for
// completion. A callback registered on a future that is already complete
// runs at once, on the registering goroutine; otherwise it runs on the
// goroutine that completes the future, after the transition. Callbacks
// registered before completion run in registration order. No callback ever
// runs while the future's internal lock is held, so a callback may freely
// register callbacks on, query, discard or complete this or any other
// future.
//
// A callback that panics unwinds the goroutine that ran it, and the
// callbacks after it do not run; the future's state is already settled.
//
// Callbacks run on whatever goroutine completes the future. An actor that
// must run a continuation on its own goroutine wraps the callback with the
// runtime's defer helpers (or an [Executor], see [Via] and [Async]); this
// package knows nothing about actors.
//
// # Combinators
//
// Go methods cannot introduce type parameters, so the combinators are
// package functions: [Then], [ThenF], [Repair], [RepairF], [After],
// [Collect], [AwaitAll] and [Select]. Failure and discard flow downstream
// through them; discard requests flow upstream.
//
// # Zero values
//
// The zero [Future] is a future that nobody can complete, like a
// default-constructed libprocess Future: it is pending forever, its
// callbacks never run, Discard does nothing, [Future.Done] returns a nil
// channel, [Future.Get] blocks forever and [Future.Await] returns false
// after the timeout. Combinators over it (Then, Associate, Collect,
// ...) stay pending too. The zero [Promise] is a usable pending promise; a
// Promise must not be copied after first use.
package future
