package process

import (
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/actor"
	"github.com/gomesos/gomesos/process/future"
)

// Filters act where the receiving process dequeues an event, immediately
// before serving it, as in libprocess: an expectation is satisfied when the
// receiver is about to handle the event, and a dropped event is never
// handled. Only processes of this runtime are seen; timers and termination
// are never filtered. Expectations are matched newest first; the first one
// that matches decides, and one-shot expectations retire once satisfied.

type eventKind int

const (
	kindMessage eventKind = iota
	kindDispatch
	kindExited
)

type action int

const (
	actFuture   action = iota // satisfy once, deliver
	actDrop                   // satisfy once, drop
	actDropAll                // drop every match
	actExpectNo               // any match fails the test
)

type expectation struct {
	owner   *Expectations
	kind    eventKind
	name    string // message name, or dispatched function name ("" = any)
	from    UPID   // Any = wildcard
	to      UPID
	where   func(*Message) bool
	skip    int // matches to let pass before this one applies (Nth)
	act     action
	retired bool
	onMatch func(ev actor.Event)
}

type filterSet struct {
	active atomic.Bool
	mu     sync.Mutex
	exps   []*expectation // oldest first
}

func (f *filterSet) add(e *expectation) {
	f.mu.Lock()
	f.exps = append(f.exps, e)
	f.active.Store(true)
	f.mu.Unlock()
}

func (f *filterSet) removeOwner(o *Expectations) {
	f.mu.Lock()
	kept := f.exps[:0]
	for _, e := range f.exps {
		if e.owner != o {
			kept = append(kept, e)
		}
	}
	for i := len(kept); i < len(f.exps); i++ {
		f.exps[i] = nil
	}
	f.exps = kept
	f.active.Store(len(kept) > 0)
	f.mu.Unlock()
}

// drop runs ev past the expectations for receiver p and reports whether
// the event is to be dropped.
func (f *filterSet) drop(p *Process, ev actor.Event) bool {
	var kind eventKind
	var msg *Message
	var from UPID
	var name string
	switch e := ev.(type) {
	case *messageEvent:
		kind, msg, from, name = kindMessage, &e.msg, e.msg.From, e.msg.Name
	case *dispatchEvent:
		kind = kindDispatch
	case *exitedEvent:
		kind, from = kindExited, e.pid
	default:
		return false
	}
	var matched *expectation
	var fail *Expectations
	f.mu.Lock()
	for i := len(f.exps) - 1; i >= 0; i-- {
		e := f.exps[i]
		if e.retired || e.kind != kind || (e.to != Any && e.to != p.self) || (e.from != Any && e.from != from) {
			continue
		}
		switch kind {
		case kindMessage:
			if e.name != "" && e.name != name {
				continue
			}
			if e.where != nil && !e.where(msg) {
				continue
			}
		case kindDispatch:
			if e.name != "" && e.name != funcName(ev.(*dispatchEvent).method) {
				continue
			}
		}
		if e.skip > 0 {
			e.skip--
			continue
		}
		matched = e
		switch e.act {
		case actFuture, actDrop:
			e.retired = true
		case actExpectNo:
			fail = e.owner
		}
		break
	}
	f.mu.Unlock()
	if matched == nil {
		return false
	}
	if fail != nil && fail.t != nil {
		fail.t.Errorf("unexpected event at %s: %s", p.self, describe(ev))
	}
	if matched.onMatch != nil {
		matched.onMatch(ev)
	}
	return matched.act == actDrop || matched.act == actDropAll
}

// Expectations is a test's set of filters on one runtime: futures for
// messages and dispatches, drops, and "expect none" rules. Expect removes
// them all when the test ends.
type Expectations struct {
	rt *Runtime
	t  testing.TB
}

// Expect returns an empty set of expectations on rt, removed by t.Cleanup.
// t may be nil outside tests; then call Remove yourself.
func Expect(t testing.TB, rt *Runtime) *Expectations {
	e := &Expectations{rt: rt, t: t}
	if t != nil {
		t.Cleanup(e.Remove)
	}
	return e
}

// Remove uninstalls every expectation of this set.
func (e *Expectations) Remove() { e.rt.filters.removeOwner(e) }

// MatchOption refines which events an expectation matches.
type MatchOption func(*expectation)

// Nth makes the expectation apply to the n-th matching event (1-based)
// only; earlier matches pass it by untouched.
func Nth(n int) MatchOption {
	return func(e *expectation) {
		if n > 1 {
			e.skip = n - 1
		}
	}
}

// Where adds a predicate on the message (for example on a Call's type).
func Where(pred func(*Message) bool) MatchOption {
	return func(e *expectation) { e.where = pred }
}

func (e *Expectations) message(name string, from, to UPID, act action, opts []MatchOption) *expectation {
	x := &expectation{owner: e, kind: kindMessage, name: name, from: from, to: to, act: act}
	for _, o := range opts {
		o(x)
	}
	return x
}

func (e *Expectations) futureMessage(name string, from, to UPID, act action, opts []MatchOption) future.Future[*Message] {
	x := e.message(name, from, to, act, opts)
	pr := future.NewPromise[*Message]()
	x.onMatch = func(ev actor.Event) {
		m := ev.(*messageEvent).msg
		pr.Set(&m)
	}
	e.rt.filters.add(x)
	return pr.Future()
}

// FutureMessage returns a future for the first message named name (""
// for any) from from to to (Any for either); the message is still delivered.
func (e *Expectations) FutureMessage(name string, from, to UPID, opts ...MatchOption) future.Future[*Message] {
	return e.futureMessage(name, from, to, actFuture, opts)
}

// DropMessage drops the first matching message; the future is satisfied
// with it.
func (e *Expectations) DropMessage(name string, from, to UPID, opts ...MatchOption) future.Future[*Message] {
	return e.futureMessage(name, from, to, actDrop, opts)
}

// DropMessages drops every matching message until the test ends.
func (e *Expectations) DropMessages(name string, from, to UPID, opts ...MatchOption) {
	e.rt.filters.add(e.message(name, from, to, actDropAll, opts))
}

// ExpectNoFutureMessages fails the test if a matching message is dequeued.
func (e *Expectations) ExpectNoFutureMessages(name string, from, to UPID, opts ...MatchOption) {
	e.rt.filters.add(e.message(name, from, to, actExpectNo, opts))
}

func protoName[T proto.Message]() string {
	var zero T
	return string(zero.ProtoReflect().Descriptor().FullName())
}

func futureProtobuf[T proto.Message](e *Expectations, from, to UPID, act action, opts []MatchOption) future.Future[T] {
	x := e.message(protoName[T](), from, to, act, opts)
	pr := future.NewPromise[T]()
	x.onMatch = func(ev actor.Event) {
		var zero T
		m := zero.ProtoReflect().Type().New().Interface().(T)
		if err := proto.Unmarshal(ev.(*messageEvent).msg.Body, m); err != nil {
			pr.Fail(err)
			return
		}
		pr.Set(m)
	}
	e.rt.filters.add(x)
	return pr.Future()
}

// FutureProtobuf returns a future for the first message of type T from from
// to to, decoded; the message is still delivered.
func FutureProtobuf[T proto.Message](e *Expectations, from, to UPID, opts ...MatchOption) future.Future[T] {
	return futureProtobuf[T](e, from, to, actFuture, opts)
}

// DropProtobuf drops the first message of type T from from to to; the
// future is satisfied with it, decoded.
func DropProtobuf[T proto.Message](e *Expectations, from, to UPID, opts ...MatchOption) future.Future[T] {
	return futureProtobuf[T](e, from, to, actDrop, opts)
}

// DropProtobufs drops every message of type T from from to to.
func DropProtobufs[T proto.Message](e *Expectations, from, to UPID, opts ...MatchOption) {
	e.rt.filters.add(e.message(protoName[T](), from, to, actDropAll, opts))
}

// ExpectNoFutureProtobufs fails the test if a message of type T from from
// to to is dequeued.
func ExpectNoFutureProtobufs[T proto.Message](e *Expectations, from, to UPID, opts ...MatchOption) {
	e.rt.filters.add(e.message(protoName[T](), from, to, actExpectNo, opts))
}

func (e *Expectations) dispatch(to UPID, method any, act action) *expectation {
	return &expectation{owner: e, kind: kindDispatch, name: funcName(method), to: to, act: act}
}

func (e *Expectations) futureDispatch(to UPID, method any, act action) future.Future[future.Nothing] {
	x := e.dispatch(to, method, act)
	pr := future.NewPromise[future.Nothing]()
	x.onMatch = func(actor.Event) { pr.Set(future.Nothing{}) }
	e.rt.filters.add(x)
	return pr.Future()
}

// FutureDispatch returns a future for the first dispatch of method (a
// method value such as s.registered, a method expression, or nil for any)
// to process to; the dispatch still runs.
func (e *Expectations) FutureDispatch(to UPID, method any) future.Future[future.Nothing] {
	return e.futureDispatch(to, method, actFuture)
}

// DropDispatch drops the first matching dispatch.
func (e *Expectations) DropDispatch(to UPID, method any) future.Future[future.Nothing] {
	return e.futureDispatch(to, method, actDrop)
}

// DropDispatches drops every matching dispatch.
func (e *Expectations) DropDispatches(to UPID, method any) {
	e.rt.filters.add(e.dispatch(to, method, actDropAll))
}

// ExpectNoFutureDispatches fails the test if a matching dispatch is dequeued.
func (e *Expectations) ExpectNoFutureDispatches(to UPID, method any) {
	e.rt.filters.add(e.dispatch(to, method, actExpectNo))
}

// FutureExited returns a future for the first exited event telling linker
// to that from ended; the event is still served.
func (e *Expectations) FutureExited(from, to UPID) future.Future[UPID] {
	x := &expectation{owner: e, kind: kindExited, from: from, to: to, act: actFuture}
	pr := future.NewPromise[UPID]()
	x.onMatch = func(ev actor.Event) { pr.Set(ev.(*exitedEvent).pid) }
	e.rt.filters.add(x)
	return pr.Future()
}

// DropExited drops the first matching exited event.
func (e *Expectations) DropExited(from, to UPID) future.Future[UPID] {
	x := &expectation{owner: e, kind: kindExited, from: from, to: to, act: actDrop}
	pr := future.NewPromise[UPID]()
	x.onMatch = func(ev actor.Event) { pr.Set(ev.(*exitedEvent).pid) }
	e.rt.filters.add(x)
	return pr.Future()
}
