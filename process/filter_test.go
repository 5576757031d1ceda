package process

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/process/future"
)

// The expectation helpers built on filters are tested in processtest;
// these tests cover the mechanism itself.

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

var int64Name = string((&wrapperspb.Int64Value{}).ProtoReflect().Descriptor().FullName())

func TestFiltersFlagTracksInstalledFilters(t *testing.T) {
	rt := newRuntime(t, Options{NoNetwork: true})
	if rt.filters.active.Load() {
		t.Fatal("filters active with none installed")
	}
	a := rt.AddFilter(Rule{Kind: KindMessage, Action: Drop()})
	b := rt.AddFilter(Rule{Kind: KindDispatch, Side: Sending, Action: Drop()})
	a.Remove()
	if !rt.filters.active.Load() {
		t.Fatal("filters inactive with one installed")
	}
	b.Remove()
	if rt.filters.active.Load() {
		t.Fatal("filters active after every one was removed")
	}
}

// A message held until Release does not count as in flight: Settle
// returns while it is held.
func TestHeldMessageDoesNotBlockSettle(t *testing.T) { both(t, testHeldMessageDoesNotBlockSettle) }

func testHeldMessageDoesNotBlockSettle(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	for _, side := range []Side{Receiving, Sending} {
		*seen = nil
		f := rt.AddFilter(Rule{Side: side, Kind: KindMessage, Name: int64Name, To: pid, Action: Hold()})
		sendValues(rt, Any, pid, 1, 2)
		rt.Clock().Settle()
		if len(*seen) != 0 || f.Held() != 2 {
			t.Fatalf("%s: handled %v with %d held, want nothing handled and 2 held", side, *seen, f.Held())
		}
		f.Release()
		rt.Clock().Settle()
		if want := []int64{1, 2}; !slices.Equal(*seen, want) {
			t.Fatalf("%s: handled %v after release, want %v", side, *seen, want)
		}
		f.Remove()
	}
}

// A message held until a virtual deadline is released by the clock: an
// Advance to the deadline delivers it and Settle waits for it.
func TestHoldForDeadline(t *testing.T) { both(t, testHoldForDeadline) }

func testHoldForDeadline(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	for _, side := range []Side{Receiving, Sending} {
		*seen = nil
		f := rt.AddFilter(Rule{Side: side, Kind: KindMessage, To: pid, Action: HoldFor(3 * time.Second)})
		sendValues(rt, Any, pid, 1)
		rt.Clock().Settle()
		rt.Clock().Advance(2 * time.Second)
		rt.Clock().Settle()
		if len(*seen) != 0 {
			t.Fatalf("%s: delivered %v before the deadline", side, *seen)
		}
		rt.Clock().Advance(time.Second)
		rt.Clock().Settle()
		if want := []int64{1}; !slices.Equal(*seen, want) || f.Held() != 0 {
			t.Fatalf("%s: handled %v (%d held) at the deadline, want %v", side, *seen, f.Held(), want)
		}
		f.Remove()
	}
}

// Removing a filter discards what it holds and cancels their timers.
func TestRemoveDiscardsHeld(t *testing.T) { both(t, testRemoveDiscardsHeld) }

func testRemoveDiscardsHeld(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	f := rt.AddFilter(Rule{Kind: KindMessage, To: pid, Action: HoldFor(time.Second)})
	sendValues(rt, Any, pid, 1)
	rt.Clock().Settle()
	f.Remove()
	rt.Clock().Advance(time.Minute)
	rt.Clock().Settle()
	if len(*seen) != 0 || f.Held() != 0 || f.Release() != 0 {
		t.Fatalf("removed filter delivered %v", *seen)
	}
}

func TestReleaseOrderChecksIndexes(t *testing.T) {
	rt := newRuntime(t, Options{NoNetwork: true})
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	f := rt.AddFilter(Rule{Kind: KindMessage, To: pid, Action: Hold()})
	sendValues(rt, Any, pid, 1, 2, 3)
	rt.Clock().Settle()
	for _, bad := range [][]int{{3}, {-1}, {0, 0}} {
		if err := f.ReleaseOrder(bad...); err == nil {
			t.Fatalf("ReleaseOrder%v with 3 held succeeded", bad)
		}
	}
	if err := f.ReleaseOrder(2); err != nil {
		t.Fatal(err)
	}
	rt.Clock().Settle()
	if err := f.ReleaseOrder(1, 0); err != nil {
		t.Fatal(err)
	}
	rt.Clock().Settle()
	if want := []int64{3, 2, 1}; !slices.Equal(*seen, want) {
		t.Fatalf("handled %v, want %v", *seen, want)
	}
}

// Skip, Limit and KeepCounting: the filter acts on the matches after
// Skip, up to Limit, and counts the rest.
func TestSkipLimitAndCount(t *testing.T) { both(t, testSkipLimitAndCount) }

func testSkipLimitAndCount(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	var acted []int64
	f := rt.AddFilter(Rule{
		Kind: KindMessage, To: pid, Action: Drop(), Skip: 1, Limit: 2, KeepCounting: true,
		OnMatch: func(ic Intercepted) {
			m := &wrapperspb.Int64Value{}
			if err := proto.Unmarshal(ic.Message.Body, m); err != nil {
				t.Error(err)
			}
			acted = append(acted, m.Value)
		},
	})
	sendValues(rt, Any, pid, 1, 2, 3, 4, 5)
	rt.Clock().Settle()
	if want := []int64{1, 4, 5}; !slices.Equal(*seen, want) {
		t.Fatalf("handled %v, want %v", *seen, want)
	}
	if want := []int64{2, 3}; !slices.Equal(acted, want) {
		t.Fatalf("acted on %v, want %v", acted, want)
	}
	if f.Matched() != 4 {
		t.Fatalf("matched %d, want 4 (the skipped one not counted)", f.Matched())
	}
}

// Sending-side filters see a message sent to a remote process before the
// wire, and receiving-side ones on the other runtime see it dequeued.
func TestFiltersOnBothRuntimes(t *testing.T) { both(t, testFiltersOnBothRuntimes) }

func testFiltersOnBothRuntimes(t *testing.T, base Options) {
	recv := newRuntime(t, with(base, Options{}))
	opts := with(base, Options{})
	if base.Deterministic {
		opts.DispatchWith = recv
	}
	send := newRuntime(t, opts)
	_, pid := counterProc(t, recv, "r")
	var sent, received []Intercepted
	send.AddFilter(Rule{Side: Sending, Kind: KindMessage, To: pid, Action: Pass(), OnMatch: func(ic Intercepted) { sent = append(sent, ic) }})
	done := future.NewPromise[future.Nothing]()
	recv.AddFilter(Rule{Kind: KindMessage, To: pid, Action: Pass(), OnMatch: func(ic Intercepted) {
		received = append(received, ic)
		done.Set(future.Nothing{})
	}})
	from := send.UPID("sender")
	sendValues(send, from, pid, 1)
	if len(sent) != 1 || sent[0].Side != Sending || sent[0].From != from || sent[0].Message.Name != int64Name {
		t.Fatalf("sending side saw %+v", sent)
	}
	if !Await(recv, done.Future(), wait) {
		t.Fatal("message never dequeued")
	}
	if len(received) != 1 || received[0].Side != Receiving || received[0].From != from || received[0].To != pid {
		t.Fatalf("receiving side saw %+v", received)
	}
}

func TestReorderRejectsNonPermutations(t *testing.T) {
	for _, bad := range [][]int{nil, {1}, {0, 0}, {0, 2}, {-1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Reorder%v did not panic", bad)
				}
			}()
			Reorder(bad...)
		}()
	}
	if got := Reversed(3).order; !slices.Equal(got, []int{2, 1, 0}) {
		t.Fatalf("Reversed(3) = %v", got)
	}
}

// A copy made while an older filter holds a link's messages is held
// with the original, in order: it never overtakes what the link holds.
func TestDuplicateBehindAHold(t *testing.T) { both(t, testDuplicateBehindAHold) }

func testDuplicateBehindAHold(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	seen, pid := counterProc(t, rt, "r")
	hold := rt.AddFilter(Rule{Side: Sending, Kind: KindMessage, To: pid, Action: HoldFor(5 * time.Second)})
	dup := rt.AddFilter(Rule{Side: Sending, Kind: KindMessage, To: pid, Name: int64Name, Action: Duplicate(1), Limit: 1})
	sendValues(rt, Any, pid, 1, 2)
	rt.Clock().Settle()
	if len(*seen) != 0 || hold.Held() != 3 {
		t.Fatalf("delivered %v with %d held before the deadline, want nothing and 3 held", *seen, hold.Held())
	}
	rt.Clock().Advance(5 * time.Second)
	rt.Clock().Settle()
	if want := []int64{1, 1, 2}; !slices.Equal(*seen, want) {
		t.Fatalf("handled %v, want %v", *seen, want)
	}
	hold.Remove()
	dup.Remove()
}
