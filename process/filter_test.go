package process

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// counterProc records the values of the Int64Value messages it handles.
func counterProc(t *testing.T, rt *Runtime, id string) (*[]int64, UPID) {
	var seen []int64
	_, pid := spawn(t, rt, id, func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.Int64Value) { seen = append(seen, m.Value) })
	})
	return &seen, pid
}

func sendValues(rt *Runtime, from, to UPID, vals ...int64) {
	for _, v := range vals {
		_ = rt.Send(from, to, wrapperspb.Int64(v))
	}
}

func TestFutureProtobufSeesDequeuedMessage(t *testing.T) {
	both(t, testFutureProtobufSeesDequeuedMessage)
}

func testFutureProtobufSeesDequeuedMessage(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ex := Expect(t, rt)
	seen, pid := counterProc(t, rt, "r")
	from := rt.UPID("sender")
	f := FutureProtobuf[*wrapperspb.Int64Value](ex, from, pid)
	other := FutureProtobuf[*wrapperspb.Int64Value](ex, rt.UPID("someone-else"), Any)
	sendValues(rt, from, pid, 7, 8)
	rt.Clock().Settle()
	if m := await(t, rt, f); m.Value != 7 {
		t.Fatalf("future got %d, want the first message, 7", m.Value)
	}
	if len(*seen) != 2 {
		t.Fatalf("receiver handled %v; a future must not drop", *seen)
	}
	if !other.IsPending() {
		t.Fatal("an expectation for another sender matched")
	}
}

func TestDropProtobufAndNth(t *testing.T) { both(t, testDropProtobufAndNth) }

func testDropProtobufAndNth(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ex := Expect(t, rt)
	seen, pid := counterProc(t, rt, "r")
	dropped := DropProtobuf[*wrapperspb.Int64Value](ex, Any, pid, Nth(3))
	sendValues(rt, Any, pid, 1, 2, 3, 4, 5)
	rt.Clock().Settle()
	if m := await(t, rt, dropped); m.Value != 3 {
		t.Fatalf("dropped %d, want the third message", m.Value)
	}
	if want := []int64{1, 2, 4, 5}; !slices.Equal(*seen, want) {
		t.Fatalf("handled %v, want %v", *seen, want)
	}
}

func TestDropProtobufsAndRemoval(t *testing.T) { both(t, testDropProtobufsAndRemoval) }

func testDropProtobufsAndRemoval(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	ex := Expect(nil, rt)
	DropProtobufs[*wrapperspb.Int64Value](ex, Any, pid)
	sendValues(rt, Any, pid, 1, 2, 3)
	rt.Clock().Settle()
	if len(*seen) != 0 {
		t.Fatalf("handled %v while all were dropped", *seen)
	}
	ex.Remove()
	sendValues(rt, Any, pid, 4)
	rt.Clock().Settle()
	if want := []int64{4}; !slices.Equal(*seen, want) {
		t.Fatalf("after Remove handled %v, want %v", *seen, want)
	}
}

func TestNewestExpectationFirst(t *testing.T) { both(t, testNewestExpectationFirst) }

func testNewestExpectationFirst(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ex := Expect(t, rt)
	_, pid := counterProc(t, rt, "r")
	older := FutureProtobuf[*wrapperspb.Int64Value](ex, Any, pid)
	newer := DropProtobuf[*wrapperspb.Int64Value](ex, Any, pid)
	sendValues(rt, Any, pid, 1, 2)
	rt.Clock().Settle()
	if m := await(t, rt, newer); m.Value != 1 {
		t.Fatalf("newest expectation got %d, want 1", m.Value)
	}
	if m := await(t, rt, older); m.Value != 2 {
		t.Fatalf("older expectation got %d, want 2 once the newer retired", m.Value)
	}
}

type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Errorf(format string, args ...any) { f.errors = append(f.errors, format) }
func (f *fakeT) Cleanup(func())                    {}

func TestExpectNoFutureProtobufs(t *testing.T) { both(t, testExpectNoFutureProtobufs) }

func testExpectNoFutureProtobufs(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ft := &fakeT{}
	ex := Expect(ft, rt)
	_, pid := counterProc(t, rt, "r")
	ExpectNoFutureProtobufs[*wrapperspb.Int64Value](ex, Any, pid)
	rt.Clock().Settle()
	if len(ft.errors) != 0 {
		t.Fatal("failed before any message")
	}
	sendValues(rt, Any, pid, 1)
	rt.Clock().Settle()
	ex.Remove()
	if len(ft.errors) != 1 {
		t.Fatalf("got %d failures, want 1", len(ft.errors))
	}
}

type worker struct {
	Process
	hits int
}

func (w *worker) work() { w.hits++ }
func (w *worker) rest() {}

func TestDispatchFilters(t *testing.T) { both(t, testDispatchFilters) }

func testDispatchFilters(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ex := Expect(t, rt)
	w := &worker{}
	pid, err := rt.Spawn(w, "worker")
	if err != nil {
		t.Fatal(err)
	}
	seenRest := ex.FutureDispatch(pid, (*worker).rest)
	droppedWork := ex.DropDispatch(pid, w.work)
	Run(rt, pid, w.rest)
	Run(rt, pid, w.work)
	Run(rt, pid, w.work)
	rt.Clock().Settle()
	await(t, rt, seenRest)
	await(t, rt, droppedWork)
	if w.hits != 1 {
		t.Fatalf("work ran %d times, want 1 (first dispatch dropped)", w.hits)
	}
	ex.DropDispatches(pid, nil)
	Run(rt, pid, w.work)
	rt.Clock().Settle()
	if w.hits != 1 {
		t.Fatal("DropDispatches with any method let a dispatch through")
	}
}

func TestFutureExited(t *testing.T) { both(t, testFutureExited) }

func testFutureExited(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	ex := Expect(t, rt)
	_, a := spawn(t, rt, "a", nil)
	w, wpid := spawn(t, rt, "w", func(p *testProc) { p.Link(a) })
	dropped := ex.DropExited(a, wpid)
	rt.Clock().Settle()
	rt.Terminate(a)
	rt.Clock().Settle()
	if await(t, rt, dropped) != a || len(w.exited) != 0 {
		t.Fatalf("exited not dropped: %v", w.exited)
	}
}
