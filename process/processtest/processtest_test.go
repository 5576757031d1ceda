package processtest_test

import (
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/processtest"
)

// wait bounds every wait: a failure guard, never a way to let time pass.
const wait = 15 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newRuntime(t testing.TB, opts process.Options) *process.Runtime {
	t.Helper()
	if !opts.Bind.IsValid() {
		opts.Bind = netip.MustParseAddrPort("127.0.0.1:0")
		if opts.NoNetwork {
			opts.Bind = netip.MustParseAddrPort("127.0.0.1:5050")
		}
	}
	opts.Testing = true
	opts.Logger = quiet
	rt, err := process.New(opts)
	if err != nil {
		t.Fatalf("new runtime: %v", err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	return rt
}

func await[T any](t testing.TB, rt *process.Runtime, f future.Future[T]) T {
	t.Helper()
	if !process.Await(rt, f, wait) {
		t.Fatalf("future still pending after %v", wait)
	}
	v, err := f.Get()
	if err != nil {
		t.Fatalf("future failed: %v", err)
	}
	return v
}

// recorder keeps the values of the Int64Value messages and of the add
// dispatches it serves, in order.
type recorder struct {
	process.Process
	seen []int64
}

func (r *recorder) Initialize() {
	process.Install(&r.Process, func(_ process.UPID, m *wrapperspb.Int64Value) { r.seen = append(r.seen, m.Value) })
	process.Install(&r.Process, func(process.UPID, *wrapperspb.StringValue) {})
}

func (r *recorder) add(v int64) { r.seen = append(r.seen, v) }

// env is a sender and a receiving recorder, in one runtime or in two on
// loopback.
type env struct {
	t          *testing.T
	send, recv *process.Runtime
	from, to   process.UPID
	rec        *recorder
	remote     bool
}

func newEnv(t *testing.T, det, remote bool) *env {
	var opts process.Options
	if det {
		opts = process.Options{Deterministic: true, Seed: 7}
	}
	e := &env{t: t, remote: remote}
	if remote {
		e.recv = newRuntime(t, opts)
		if det {
			opts.DispatchWith = e.recv
		}
		e.send = newRuntime(t, opts)
	} else {
		opts.NoNetwork = true
		e.recv = newRuntime(t, opts)
		e.send = e.recv
	}
	e.rec = &recorder{}
	pid, err := e.recv.Spawn(e.rec, "recorder")
	if err != nil {
		t.Fatal(err)
	}
	e.to = pid
	e.from = e.send.UPID("sender")
	e.settle()
	return e
}

// expect returns expectations on the side's runtime, with the option that
// picks the side.
func (e *env) expect(side process.Side) (*processtest.Expectations, []processtest.Option) {
	if side == process.Sending {
		return processtest.Expect(e.t, e.send), []processtest.Option{processtest.Sending()}
	}
	return processtest.Expect(e.t, e.recv), nil
}

func (e *env) clock(side process.Side) *process.Clock {
	if side == process.Sending {
		return e.send.Clock()
	}
	return e.recv.Clock()
}

func (e *env) sendValues(vals ...int64) {
	for _, v := range vals {
		if err := e.send.Send(e.from, e.to, wrapperspb.Int64(v)); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) settle() {
	e.send.Clock().Settle()
	e.recv.Clock().Settle()
}

// values waits until everything sent so far has been handled (a marker
// sent on the same path behind it has been dequeued) and returns the
// values the recorder handled.
func (e *env) values() []int64 {
	e.t.Helper()
	e.settle()
	if e.remote {
		ex := processtest.Expect(nil, e.recv)
		defer ex.Remove()
		marker := processtest.FutureProtobuf[*wrapperspb.StringValue](ex, e.from, e.to)
		if err := e.send.Send(e.from, e.to, wrapperspb.String("marker")); err != nil {
			e.t.Fatal(err)
		}
		await(e.t, e.recv, marker)
		e.settle()
	}
	return await(e.t, e.recv, process.Dispatch(e.recv, e.to, func() []int64 { return slices.Clone(e.rec.seen) }))
}

func (e *env) want(want ...int64) {
	e.t.Helper()
	if got := e.values(); !slices.Equal(got, want) {
		e.t.Fatalf("handled %v, want %v", got, want)
	}
}

// matrix runs fn for each dispatcher, each side and local and remote.
func matrix(t *testing.T, fn func(t *testing.T, e *env, side process.Side)) {
	for _, det := range []bool{false, true} {
		for _, remote := range []bool{false, true} {
			for _, side := range []process.Side{process.Receiving, process.Sending} {
				name := "goroutines"
				if det {
					name = "deterministic"
				}
				name += map[bool]string{false: "/local", true: "/remote"}[remote] + "/" + side.String()
				t.Run(name, func(t *testing.T) { fn(t, newEnv(t, det, remote), side) })
			}
		}
	}
}

func TestFutureProtobuf(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		f := processtest.FutureProtobuf[*wrapperspb.Int64Value](ex, e.from, e.to, opts...)
		other := processtest.FutureProtobuf[*wrapperspb.Int64Value](ex, e.send.UPID("someone-else"), process.Any, opts...)
		e.sendValues(7, 8)
		if m := await(t, e.recv, f); m.Value != 7 {
			t.Fatalf("future got %d, want the first message, 7", m.Value)
		}
		e.want(7, 8)
		if !other.IsPending() {
			t.Fatal("an expectation for another sender matched")
		}
	})
}

func TestDropProtobufNth(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		dropped := processtest.DropProtobuf[*wrapperspb.Int64Value](ex, process.Any, e.to, append(opts, processtest.Nth(2))...)
		e.sendValues(1, 2, 3)
		if m := await(t, e.recv, dropped); m.Value != 2 {
			t.Fatalf("dropped %d, want the second message", m.Value)
		}
		e.want(1, 3)
	})
}

func TestDropProtobufsWhere(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		odd := func(m *process.Message) bool { return len(m.Body) > 1 && m.Body[1]%2 == 1 }
		processtest.DropProtobufs[*wrapperspb.Int64Value](ex, e.from, process.Any, append(opts, processtest.Where(odd))...)
		e.sendValues(1, 2, 3, 4)
		e.want(2, 4)
	})
}

func TestHoldAndRelease(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		h := processtest.HoldProtobuf[*wrapperspb.Int64Value](ex, e.from, e.to, opts...)
		e.sendValues(1, 2)
		// Settle (inside values) returns with the message held.
		e.want(2)
		if h.Held() != 1 {
			t.Fatalf("held %d, want 1", h.Held())
		}
		if n := h.Release(); n != 1 {
			t.Fatalf("released %d, want 1", n)
		}
		e.want(2, 1)
	})
}

func TestHoldUntilDeadline(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		processtest.DelayProtobuf[*wrapperspb.Int64Value](ex, 10*time.Second, e.from, e.to, opts...)
		e.sendValues(1, 2)
		e.want(2)
		e.clock(side).Advance(9 * time.Second)
		e.want(2)
		e.clock(side).Advance(time.Second)
		e.want(2, 1)
	})
}

func TestDuplicate(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		processtest.DuplicateProtobuf[*wrapperspb.Int64Value](ex, 2, e.from, e.to, opts...)
		e.sendValues(1)
		e.want(1, 1, 1)
		e.sendValues(2)
		e.want(1, 1, 1, 2)
	})
}

func TestReorder(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		processtest.ReorderProtobufs[*wrapperspb.Int64Value](ex, []int{1, 2, 0}, e.from, e.to, opts...)
		e.sendValues(1, 2)
		e.want()
		e.sendValues(3)
		e.want(2, 3, 1)
		e.sendValues(4)
		e.want(2, 3, 1, 4)
	})
}

func TestReleaseReversed(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		h := processtest.HoldProtobufs[*wrapperspb.Int64Value](ex, e.from, e.to, opts...)
		e.sendValues(1, 2, 3)
		e.want()
		if err := h.ReleaseOrder(2, 1, 0); err != nil {
			t.Fatal(err)
		}
		e.want(3, 2, 1)
	})
}

// A released message passes the filter that held it but is matched by
// the older expectations.
func TestReleasedMessageMeetsOlderExpectations(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		seen := processtest.FutureProtobuf[*wrapperspb.Int64Value](ex, e.from, e.to, opts...)
		h := processtest.HoldProtobuf[*wrapperspb.Int64Value](ex, e.from, e.to, opts...)
		e.sendValues(1)
		e.want()
		if !seen.IsPending() {
			t.Fatal("older expectation saw a held message")
		}
		h.Release()
		if m := await(t, e.recv, seen); m.Value != 1 {
			t.Fatalf("older expectation got %d, want 1", m.Value)
		}
		e.want(1)
	})
}

func TestNewestExpectationFirst(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ex, opts := e.expect(side)
		older := processtest.FutureProtobuf[*wrapperspb.Int64Value](ex, process.Any, e.to, opts...)
		newer := processtest.DropProtobuf[*wrapperspb.Int64Value](ex, process.Any, e.to, opts...)
		e.sendValues(1, 2)
		if m := await(t, e.recv, newer); m.Value != 1 {
			t.Fatalf("newest expectation got %d, want 1", m.Value)
		}
		if m := await(t, e.recv, older); m.Value != 2 {
			t.Fatalf("older expectation got %d, want 2 once the newer retired", m.Value)
		}
		e.want(2)
	})
}

// fakeT records failures and cleanups instead of failing the test.
type fakeT struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Errorf(format string, args ...any) { f.errors = append(f.errors, format) }
func (f *fakeT) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }

// end runs the cleanups, as the end of a test would.
func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestCounted(t *testing.T) {
	cases := []struct {
		name     string
		sent     int
		opt      processtest.Option
		failures int
	}{
		{"times met", 2, processtest.Times(2), 0},
		{"times short", 1, processtest.Times(2), 1},
		{"times exceeded", 3, processtest.Times(2), 1},
		{"at most met", 2, processtest.AtMost(2), 0},
		{"at most under", 0, processtest.AtMost(2), 0},
		{"at most exceeded", 3, processtest.AtMost(2), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, false, false)
			ft := &fakeT{}
			ex := processtest.Expect(ft, e.recv)
			processtest.FutureProtobuf[*wrapperspb.Int64Value](ex, process.Any, e.to, c.opt)
			for i := range c.sent {
				e.sendValues(int64(i))
			}
			e.settle()
			ft.end()
			if len(ft.errors) != c.failures {
				t.Fatalf("got failures %q, want %d", ft.errors, c.failures)
			}
		})
	}
}

// Times(n) on a drop acts on n messages only; later ones pass and count.
func TestTimesBoundsTheAction(t *testing.T) {
	e := newEnv(t, false, false)
	ft := &fakeT{}
	ex := processtest.Expect(ft, e.recv)
	processtest.DropProtobufs[*wrapperspb.Int64Value](ex, process.Any, e.to, processtest.Times(2))
	e.sendValues(1, 2, 3)
	e.want(3)
	ft.end()
	if len(ft.errors) != 1 {
		t.Fatalf("got failures %q, want one (3 matched, 2 expected)", ft.errors)
	}
}

func TestExpectNoFutureProtobufs(t *testing.T) {
	matrix(t, func(t *testing.T, e *env, side process.Side) {
		ft := &fakeT{}
		rt := e.recv
		var opts []processtest.Option
		if side == process.Sending {
			rt, opts = e.send, []processtest.Option{processtest.Sending()}
		}
		ex := processtest.Expect(ft, rt)
		processtest.ExpectNoFutureProtobufs[*wrapperspb.Int64Value](ex, process.Any, e.to, opts...)
		e.settle()
		if len(ft.errors) != 0 {
			t.Fatal("failed before any message")
		}
		e.sendValues(1)
		e.want(1)
		ft.end()
		if len(ft.errors) != 1 {
			t.Fatalf("got %d failures, want 1", len(ft.errors))
		}
	})
}

func TestMessagesByName(t *testing.T) {
	e := newEnv(t, false, false)
	ex := processtest.Expect(t, e.recv)
	name := processtest.ProtoName[*wrapperspb.Int64Value]()
	f := ex.FutureMessage(name, e.from, e.to)
	d := ex.DropMessage(name, e.from, e.to)
	e.sendValues(1, 2)
	if m := await(t, e.recv, d); m.Name != name || m.From != e.from {
		t.Fatalf("dropped %+v", m)
	}
	await(t, e.recv, f)
	ex.DropMessages("", e.from, process.Any)
	e.sendValues(3)
	e.want(2)
	ex.Remove()
	h := ex.OnMessage(name, e.from, e.to, process.Reversed(2))
	e.sendValues(4, 5)
	e.want(2, 5, 4)
	if h.Matched() != 2 {
		t.Fatalf("matched %d, want 2", h.Matched())
	}
}

type worker struct {
	process.Process
	seen []int64
}

func (w *worker) add(v int64) { w.seen = append(w.seen, v) }
func (w *worker) rest()       {}

// dispatchMatrix runs fn for each dispatcher and each side.
func dispatchMatrix(t *testing.T, fn func(t *testing.T, rt *process.Runtime, ex *processtest.Expectations, opts []processtest.Option, w *worker, pid process.UPID)) {
	for _, det := range []bool{false, true} {
		for _, side := range []process.Side{process.Receiving, process.Sending} {
			name := map[bool]string{false: "goroutines", true: "deterministic"}[det] + "/" + side.String()
			t.Run(name, func(t *testing.T) {
				opts := process.Options{NoNetwork: true}
				if det {
					opts.Deterministic, opts.Seed = true, 7
				}
				rt := newRuntime(t, opts)
				w := &worker{}
				pid, err := rt.Spawn(w, "worker")
				if err != nil {
					t.Fatal(err)
				}
				var o []processtest.Option
				if side == process.Sending {
					o = []processtest.Option{processtest.Sending()}
				}
				fn(t, rt, processtest.Expect(t, rt), o, w, pid)
			})
		}
	}
}

func adds(rt *process.Runtime, w *worker, pid process.UPID, vals ...int64) {
	for _, v := range vals {
		process.Defer1(rt, pid, w.add)(v)
	}
}

func seen(t *testing.T, rt *process.Runtime, w *worker, pid process.UPID, want ...int64) {
	t.Helper()
	rt.Clock().Settle()
	got := await(t, rt, process.Dispatch(rt, pid, func() []int64 { return slices.Clone(w.seen) }))
	if !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

func TestDispatchFutureAndDrop(t *testing.T) {
	dispatchMatrix(t, func(t *testing.T, rt *process.Runtime, ex *processtest.Expectations, opts []processtest.Option, w *worker, pid process.UPID) {
		rested := ex.FutureDispatch(pid, (*worker).rest, opts...)
		dropped := ex.DropDispatch(pid, w.add, append(opts, processtest.Nth(2))...)
		process.Run(rt, pid, w.rest)
		adds(rt, w, pid, 1, 2, 3)
		await(t, rt, rested)
		await(t, rt, dropped)
		seen(t, rt, w, pid, 1, 3)
		ex.DropDispatches(pid, w.add, opts...)
		adds(rt, w, pid, 4)
		seen(t, rt, w, pid, 1, 3)
	})
}

func TestDispatchHoldAndDelay(t *testing.T) {
	dispatchMatrix(t, func(t *testing.T, rt *process.Runtime, ex *processtest.Expectations, opts []processtest.Option, w *worker, pid process.UPID) {
		h := ex.HoldDispatch(pid, w.add, opts...)
		ex.DelayDispatch(5*time.Second, pid, w.add, append(opts, processtest.Nth(2))...)
		adds(rt, w, pid, 1, 2, 3)
		seen(t, rt, w, pid, 3)
		rt.Clock().Advance(5 * time.Second)
		seen(t, rt, w, pid, 3, 2)
		h.Release()
		seen(t, rt, w, pid, 3, 2, 1)
	})
}

func TestDispatchDuplicateAndReorder(t *testing.T) {
	dispatchMatrix(t, func(t *testing.T, rt *process.Runtime, ex *processtest.Expectations, opts []processtest.Option, w *worker, pid process.UPID) {
		ex.DuplicateDispatch(1, pid, w.add, opts...)
		adds(rt, w, pid, 1)
		seen(t, rt, w, pid, 1, 1)
		ex.ReorderDispatches([]int{2, 1, 0}, pid, w.add, opts...)
		adds(rt, w, pid, 2, 3, 4)
		seen(t, rt, w, pid, 1, 1, 4, 3, 2)
	})
}

// A dispatch held at the receiver whose process ends before release
// fails its future with ErrTerminated.
func TestHeldDispatchToEndedProcess(t *testing.T) {
	dispatchMatrix(t, func(t *testing.T, rt *process.Runtime, ex *processtest.Expectations, opts []processtest.Option, w *worker, pid process.UPID) {
		h := ex.HoldDispatch(pid, nil, opts...)
		f := process.Dispatch(rt, pid, func() int { return 1 })
		rt.Clock().Settle()
		rt.Terminate(pid)
		rt.Wait(pid)
		h.Release()
		rt.Clock().Settle()
		if !process.Await(rt, f, wait) {
			t.Fatal("dispatch future still pending")
		}
		if _, err := f.Get(); err == nil {
			t.Fatal("dispatch to an ended process succeeded")
		}
	})
}

func TestExited(t *testing.T) {
	for _, det := range []bool{false, true} {
		t.Run(map[bool]string{false: "goroutines", true: "deterministic"}[det], func(t *testing.T) {
			rt := newRuntime(t, process.Options{NoNetwork: true, Deterministic: det, Seed: 7})
			ex := processtest.Expect(t, rt)
			a, err := rt.Spawn(&worker{}, "a")
			if err != nil {
				t.Fatal(err)
			}
			l := &linker{target: a}
			lpid, err := rt.Spawn(l, "linker")
			if err != nil {
				t.Fatal(err)
			}
			seenExit := ex.FutureExited(a, lpid)
			dropped := ex.DropExited(a, lpid)
			rt.Clock().Settle()
			rt.Terminate(a)
			rt.Clock().Settle()
			if await(t, rt, dropped) != a {
				t.Fatal("wrong pid dropped")
			}
			if !seenExit.IsPending() {
				t.Fatal("older expectation saw the dropped exited event")
			}
			if n := await(t, rt, process.Dispatch(rt, lpid, func() int { return l.exits })); n != 0 {
				t.Fatalf("exited served %d times after a drop", n)
			}
		})
	}
}

type linker struct {
	process.Process
	target process.UPID
	exits  int
}

func (l *linker) Initialize()         { l.Link(l.target) }
func (l *linker) Exited(process.UPID) { l.exits++ }
