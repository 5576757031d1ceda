// Package processtest holds the expectation helpers of process tests, in
// the style of Mesos's FUTURE_PROTOBUF and DROP_PROTOBUFS: futures for
// messages, dispatches and exited events, drops, holds, delays, copies and
// reorderings, and counted expectations checked when the test ends. They
// are built on the runtime's filters (process.Rule); this package, not the
// runtime, is where the testing package is imported.
//
// Expectations are matched newest first and the first that matches
// decides, as filters are. By default an expectation watches the
// receiving side (where the receiver dequeues the event); Sending() makes
// it watch where the message is sent or the dispatch made.
package processtest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Expectations is a test's set of expectations on one runtime. Expect
// checks its counted expectations and removes them all when the test ends.
type Expectations struct {
	t  testing.TB
	rt *process.Runtime

	mu      sync.Mutex
	filters []*process.Filter
	checks  []func(testing.TB)
}

// Expect returns an empty set of expectations on rt. With t, the set is
// verified (Verify) and removed when the test ends (t.Cleanup), and
// unexpected events fail t. t may be nil outside tests: then call Remove
// yourself; counted expectations and ExpectNo* report nothing.
func Expect(t testing.TB, rt *process.Runtime) *Expectations {
	e := &Expectations{t: t, rt: rt}
	if t != nil {
		t.Cleanup(func() {
			e.Verify()
			e.Remove()
		})
	}
	return e
}

// Runtime returns the runtime the expectations watch.
func (e *Expectations) Runtime() *process.Runtime { return e.rt }

// Verify reports every counted expectation (Times, AtMost) whose count is
// not met to the test. Expect calls it when the test ends.
func (e *Expectations) Verify() {
	e.mu.Lock()
	checks := append([]func(testing.TB){}, e.checks...)
	e.mu.Unlock()
	if e.t == nil {
		return
	}
	for _, c := range checks {
		c(e.t)
	}
}

// Remove uninstalls every expectation of this set; events they hold are
// discarded.
func (e *Expectations) Remove() {
	e.mu.Lock()
	fs := e.filters
	e.filters, e.checks = nil, nil
	e.mu.Unlock()
	for _, f := range fs {
		f.Remove()
	}
}

// Option refines an expectation.
type Option func(*config)

type config struct {
	rule   process.Rule
	times  int
	atMost int
}

// Nth makes the expectation apply from the n-th matching event (1-based);
// earlier matches pass it by untouched.
func Nth(n int) Option {
	return func(c *config) {
		if n > 1 {
			c.rule.Skip = n - 1
		}
	}
}

// Where adds a predicate on the message (for example on a Call's type).
func Where(pred func(*process.Message) bool) Option {
	return func(c *config) { c.rule.Where = pred }
}

// Sending makes the expectation watch the sending side: where the message
// is sent (Send, Post) or the dispatch made, on the runtime given to
// Expect, before local delivery or the wire.
func Sending() Option {
	return func(c *config) { c.rule.Side = process.Sending }
}

// Times makes the expectation act on n matching events and fails the test
// when it ends unless exactly n matched. Later matches pass untouched but
// are counted.
func Times(n int) Option {
	return func(c *config) {
		c.times, c.atMost = n, -1
		c.rule.Limit, c.rule.KeepCounting = n, true
	}
}

// AtMost makes the expectation act on up to n matching events and fails
// the test when it ends if more matched.
func AtMost(n int) Option {
	return func(c *config) {
		c.times, c.atMost = -1, n
		c.rule.Limit, c.rule.KeepCounting = n, true
	}
}

// install builds rule r (with defaults limit and act), applies opts and
// installs it, with its count check if any.
func (e *Expectations) install(r process.Rule, opts []Option) *process.Filter {
	c := config{rule: r, times: -1, atMost: -1}
	for _, o := range opts {
		o(&c)
	}
	f := e.rt.AddFilter(c.rule)
	desc := f.String()
	e.mu.Lock()
	e.filters = append(e.filters, f)
	switch {
	case c.times >= 0:
		n := c.times
		e.checks = append(e.checks, func(t testing.TB) {
			if got := f.Matched(); got != n {
				t.Errorf("expected %s %d times, matched %d", desc, n, got)
			}
		})
	case c.atMost >= 0:
		n := c.atMost
		e.checks = append(e.checks, func(t testing.TB) {
			if got := f.Matched(); got > n {
				t.Errorf("expected %s at most %d times, matched %d", desc, n, got)
			}
		})
	}
	e.mu.Unlock()
	return f
}

// unexpected returns an OnMatch that fails the test.
func (e *Expectations) unexpected() func(process.Intercepted) {
	return func(ic process.Intercepted) {
		if e.t == nil {
			return
		}
		switch ic.Kind {
		case process.KindMessage:
			e.t.Errorf("unexpected message %s from %s to %s (%s)", ic.Message.Name, ic.From, ic.To, ic.Side)
		case process.KindDispatch:
			e.t.Errorf("unexpected dispatch %s to %s (%s)", ic.Method, ic.To, ic.Side)
		default:
			e.t.Errorf("unexpected exited %s at %s", ic.From, ic.To)
		}
	}
}

// --- messages by name -------------------------------------------------

func messageRule(name string, from, to process.UPID, a process.Action, limit int) process.Rule {
	return process.Rule{Kind: process.KindMessage, Name: name, From: from, To: to, Action: a, Limit: limit}
}

func (e *Expectations) futureMessage(r process.Rule, opts []Option) future.Future[*process.Message] {
	pr := future.NewPromise[*process.Message]()
	r.OnMatch = func(ic process.Intercepted) { pr.Set(ic.Message) }
	e.install(r, opts)
	return pr.Future()
}

// FutureMessage returns a future for the first message named name (""
// for any) from from to to (process.Any for either); the message is still
// delivered.
func (e *Expectations) FutureMessage(name string, from, to process.UPID, opts ...Option) future.Future[*process.Message] {
	return e.futureMessage(messageRule(name, from, to, process.Pass(), 1), opts)
}

// DropMessage drops the first matching message; the future is satisfied
// with it.
func (e *Expectations) DropMessage(name string, from, to process.UPID, opts ...Option) future.Future[*process.Message] {
	return e.futureMessage(messageRule(name, from, to, process.Drop(), 1), opts)
}

// DropMessages drops every matching message until the test ends.
func (e *Expectations) DropMessages(name string, from, to process.UPID, opts ...Option) {
	e.install(messageRule(name, from, to, process.Drop(), 0), opts)
}

// ExpectNoFutureMessages fails the test if a matching message is seen.
func (e *Expectations) ExpectNoFutureMessages(name string, from, to process.UPID, opts ...Option) {
	r := messageRule(name, from, to, process.Pass(), 0)
	r.OnMatch = e.unexpected()
	e.install(r, opts)
}

// OnMessage applies action a to every matching message (Times or AtMost
// bound how many) and returns the filter, through which held messages are
// released.
func (e *Expectations) OnMessage(name string, from, to process.UPID, a process.Action, opts ...Option) *process.Filter {
	return e.install(messageRule(name, from, to, a, 0), opts)
}

// --- protobufs by type ------------------------------------------------

// ProtoName returns the message name of protobufs of type T.
func ProtoName[T proto.Message]() string {
	var zero T
	return string(zero.ProtoReflect().Descriptor().FullName())
}

func protoRule[T proto.Message](from, to process.UPID, a process.Action, limit int) process.Rule {
	return messageRule(ProtoName[T](), from, to, a, limit)
}

func futureProtobuf[T proto.Message](e *Expectations, r process.Rule, opts []Option) future.Future[T] {
	pr := future.NewPromise[T]()
	r.OnMatch = func(ic process.Intercepted) {
		var zero T
		m := zero.ProtoReflect().Type().New().Interface().(T)
		if err := proto.Unmarshal(ic.Message.Body, m); err != nil {
			pr.Fail(fmt.Errorf("decode %s: %w", ic.Message.Name, err))
			return
		}
		pr.Set(m)
	}
	e.install(r, opts)
	return pr.Future()
}

// FutureProtobuf returns a future for the first message of type T from
// from to to, decoded; the message is still delivered.
func FutureProtobuf[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) future.Future[T] {
	return futureProtobuf[T](e, protoRule[T](from, to, process.Pass(), 1), opts)
}

// DropProtobuf drops the first message of type T from from to to; the
// future is satisfied with it, decoded.
func DropProtobuf[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) future.Future[T] {
	return futureProtobuf[T](e, protoRule[T](from, to, process.Drop(), 1), opts)
}

// DropProtobufs drops every message of type T from from to to.
func DropProtobufs[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) {
	e.install(protoRule[T](from, to, process.Drop(), 0), opts)
}

// ExpectNoFutureProtobufs fails the test if a message of type T from from
// to to is seen.
func ExpectNoFutureProtobufs[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) {
	r := protoRule[T](from, to, process.Pass(), 0)
	r.OnMatch = e.unexpected()
	e.install(r, opts)
}

// OnProtobuf applies action a to every message of type T from from to to
// (Times or AtMost bound how many) and returns the filter.
func OnProtobuf[T proto.Message](e *Expectations, from, to process.UPID, a process.Action, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, a, 0), opts)
}

// HoldProtobuf holds the first message of type T from from to to until
// the returned filter's Release. A held message does not keep Settle
// waiting.
func HoldProtobuf[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.Hold(), 1), opts)
}

// HoldProtobufs holds every message of type T from from to to until
// Release.
func HoldProtobufs[T proto.Message](e *Expectations, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.Hold(), 0), opts)
}

// DelayProtobuf holds the first message of type T from from to to until d
// has passed on the runtime's clock.
func DelayProtobuf[T proto.Message](e *Expectations, d time.Duration, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.HoldFor(d), 1), opts)
}

// DelayProtobufs holds every message of type T from from to to for d on
// the runtime's clock.
func DelayProtobufs[T proto.Message](e *Expectations, d time.Duration, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.HoldFor(d), 0), opts)
}

// DuplicateProtobuf delivers the first message of type T from from to to
// and copies more copies of it.
func DuplicateProtobuf[T proto.Message](e *Expectations, copies int, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.Duplicate(copies), 1), opts)
}

// ReorderProtobufs holds the first len(order) messages of type T from
// from to to and then delivers them in the given order of arrival indexes
// (see process.Reorder; process.Reversed gives the reverse order).
func ReorderProtobufs[T proto.Message](e *Expectations, order []int, from, to process.UPID, opts ...Option) *process.Filter {
	return e.install(protoRule[T](from, to, process.Reorder(order...), len(order)), opts)
}

// --- dispatches -------------------------------------------------------

func dispatchRule(to process.UPID, method any, a process.Action, limit int) process.Rule {
	return process.Rule{Kind: process.KindDispatch, To: to, Method: method, Action: a, Limit: limit}
}

func (e *Expectations) futureDispatch(r process.Rule, opts []Option) future.Future[future.Nothing] {
	pr := future.NewPromise[future.Nothing]()
	r.OnMatch = func(process.Intercepted) { pr.Set(future.Nothing{}) }
	e.install(r, opts)
	return pr.Future()
}

// FutureDispatch returns a future for the first dispatch of method (a
// method value such as s.registered, a method expression, or nil for any)
// to process to; the dispatch still runs.
func (e *Expectations) FutureDispatch(to process.UPID, method any, opts ...Option) future.Future[future.Nothing] {
	return e.futureDispatch(dispatchRule(to, method, process.Pass(), 1), opts)
}

// DropDispatch drops the first matching dispatch; its result future stays
// pending.
func (e *Expectations) DropDispatch(to process.UPID, method any, opts ...Option) future.Future[future.Nothing] {
	return e.futureDispatch(dispatchRule(to, method, process.Drop(), 1), opts)
}

// DropDispatches drops every matching dispatch.
func (e *Expectations) DropDispatches(to process.UPID, method any, opts ...Option) {
	e.install(dispatchRule(to, method, process.Drop(), 0), opts)
}

// ExpectNoFutureDispatches fails the test if a matching dispatch is seen.
func (e *Expectations) ExpectNoFutureDispatches(to process.UPID, method any, opts ...Option) {
	r := dispatchRule(to, method, process.Pass(), 0)
	r.OnMatch = e.unexpected()
	e.install(r, opts)
}

// OnDispatch applies action a to every matching dispatch (Times or AtMost
// bound how many) and returns the filter.
func (e *Expectations) OnDispatch(to process.UPID, method any, a process.Action, opts ...Option) *process.Filter {
	return e.install(dispatchRule(to, method, a, 0), opts)
}

// HoldDispatch holds the first matching dispatch until Release.
func (e *Expectations) HoldDispatch(to process.UPID, method any, opts ...Option) *process.Filter {
	return e.install(dispatchRule(to, method, process.Hold(), 1), opts)
}

// DelayDispatch holds the first matching dispatch until d has passed on
// the runtime's clock.
func (e *Expectations) DelayDispatch(d time.Duration, to process.UPID, method any, opts ...Option) *process.Filter {
	return e.install(dispatchRule(to, method, process.HoldFor(d), 1), opts)
}

// DuplicateDispatch runs the first matching dispatch 1+copies times; its
// result future takes the first result.
func (e *Expectations) DuplicateDispatch(copies int, to process.UPID, method any, opts ...Option) *process.Filter {
	return e.install(dispatchRule(to, method, process.Duplicate(copies), 1), opts)
}

// ReorderDispatches holds the first len(order) matching dispatches and
// then runs them in the given order of arrival indexes.
func (e *Expectations) ReorderDispatches(order []int, to process.UPID, method any, opts ...Option) *process.Filter {
	return e.install(dispatchRule(to, method, process.Reorder(order...), len(order)), opts)
}

// --- exited -----------------------------------------------------------

func (e *Expectations) futureExited(from, to process.UPID, a process.Action, opts []Option) future.Future[process.UPID] {
	pr := future.NewPromise[process.UPID]()
	r := process.Rule{Kind: process.KindExited, From: from, To: to, Action: a, Limit: 1}
	r.OnMatch = func(ic process.Intercepted) { pr.Set(ic.From) }
	e.install(r, opts)
	return pr.Future()
}

// FutureExited returns a future for the first exited event telling linker
// to that from ended; the event is still served.
func (e *Expectations) FutureExited(from, to process.UPID, opts ...Option) future.Future[process.UPID] {
	return e.futureExited(from, to, process.Pass(), opts)
}

// DropExited drops the first matching exited event.
func (e *Expectations) DropExited(from, to process.UPID, opts ...Option) future.Future[process.UPID] {
	return e.futureExited(from, to, process.Drop(), opts)
}
