package process

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/gomesos/gomesos/process/future"
)

// Dispatch runs fn on process pid (as an event in its mailbox) and returns
// a future for its result. If pid is not a live local process, or
// terminates before the event is served, the future fails with
// ErrTerminated. A panic in fn ends the process, as in any handler.
func Dispatch[R any](rt *Runtime, pid UPID, fn func() R) future.Future[R] {
	pr := future.NewPromise[R]()
	rt.dispatch(pid, fn, func() { pr.Set(fn()) }, func() { pr.Fail(terminated(pid)) })
	return pr.Future()
}

// DispatchF runs fn on process pid and returns a future that mirrors the
// future fn returns.
func DispatchF[R any](rt *Runtime, pid UPID, fn func() future.Future[R]) future.Future[R] {
	pr := future.NewPromise[R]()
	rt.dispatch(pid, fn, func() { pr.Associate(fn()) }, func() { pr.Fail(terminated(pid)) })
	return pr.Future()
}

// Run runs fn on process pid without a result. It reports false when pid is
// not a live local process.
func Run(rt *Runtime, pid UPID, fn func()) bool {
	return rt.dispatch(pid, fn, fn, nil)
}

// Defer returns a function that, when called from any goroutine, runs fn
// on process pid: the libprocess idiom for continuations, e.g.
// f.OnReady(process.Defer1(rt, self, p.registered)).
func Defer(rt *Runtime, pid UPID, fn func()) func() {
	return func() { rt.dispatch(pid, fn, fn, nil) }
}

// Defer1 is Defer for a callback taking one argument.
func Defer1[A any](rt *Runtime, pid UPID, fn func(A)) func(A) {
	return func(a A) { rt.dispatch(pid, fn, func() { fn(a) }, nil) }
}

// Delay runs fn on process pid once d has passed on the runtime's clock.
// Cancel the returned timer with Clock.Cancel.
func Delay(rt *Runtime, d time.Duration, pid UPID, fn func()) *Timer {
	return rt.clock.Timer(d, func() { rt.dispatch(pid, fn, fn, nil) })
}

// Delay runs fn on this process once d has passed on the runtime's clock.
func (p *Process) Delay(d time.Duration, fn func()) *Timer { return Delay(p.rt, d, p.self, fn) }

// Defer returns a function that runs fn on this process when called from
// any goroutine.
func (p *Process) Defer(fn func()) func() { return Defer(p.rt, p.self, fn) }

func (rt *Runtime) dispatch(pid UPID, method any, run, abandon func()) bool {
	if rt.filters.active.Load() && rt.filters.dispatched(pid, method, run, abandon, nil) {
		return true
	}
	return rt.queueDispatch(pid, method, run, abandon)
}

// queueDispatch queues a dispatch past the sending filters.
func (rt *Runtime) queueDispatch(pid UPID, method any, run, abandon func()) bool {
	var p *Process
	if rt.IsLocal(pid) {
		p = rt.lookup(pid.ID)
	}
	if p == nil || !p.post(queuedDispatches, &dispatchEvent{fn: run, method: method, abandon: abandon}) {
		if abandon != nil {
			abandon()
		}
		return false
	}
	return true
}

func terminated(pid UPID) error { return fmt.Errorf("dispatch to %s: %w", pid, ErrTerminated) }

// funcName names a function for dispatch filters and traces: method values
// and method expressions of the same method get the same name.
func funcName(fn any) string {
	if fn == nil {
		return ""
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func {
		return fmt.Sprint(fn)
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	return strings.TrimSuffix(f.Name(), "-fm")
}
