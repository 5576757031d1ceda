package process

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/process/future"
)

// pingPong spawns a ponger on b and a pinger on a and plays n rounds.
func pingPong(t *testing.T, a, b *Runtime, n int64) {
	done := future.NewPromise[int64]()
	_, pong := spawn(t, b, "ponger", func(p *testProc) {
		Install(&p.Process, func(from UPID, m *wrapperspb.Int64Value) {
			if err := p.Send(from, wrapperspb.Int64(m.Value+1)); err != nil {
				t.Errorf("pong: %v", err)
			}
		})
	})
	_, _ = spawn(t, a, "pinger", func(p *testProc) {
		Install(&p.Process, func(from UPID, m *wrapperspb.Int64Value) {
			if from != pong {
				t.Errorf("pong came from %s, want %s", from, pong)
			}
			if m.Value >= n {
				done.Set(m.Value)
				return
			}
			_ = p.Send(pong, wrapperspb.Int64(m.Value+1))
		})
		_ = p.Send(pong, wrapperspb.Int64(0))
	})
	if got := await(t, a, done.Future()); got < n {
		t.Fatalf("ping-pong ended at %d, want at least %d", got, n)
	}
}

func TestPingPongLocal(t *testing.T) { both(t, testPingPongLocal) }

func testPingPongLocal(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	pingPong(t, rt, rt, 1000)
}

func TestPingPongRemote(t *testing.T) { both(t, testPingPongRemote) }

func testPingPongRemote(t *testing.T, base Options) {
	a := newRuntime(t, with(base, Options{}))
	b := newRuntime(t, with(base, Options{DispatchWith: a}))
	pingPong(t, a, b, 1000)
}

func TestSpawnIDs(t *testing.T) { both(t, testSpawnIDs) }

func testSpawnIDs(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	if got := rt.GenerateID("slave"); got != "slave(1)" {
		t.Fatalf("first id %q, want slave(1)", got)
	}
	if got := rt.GenerateID("slave"); got != "slave(2)" {
		t.Fatalf("second id %q, want slave(2)", got)
	}
	_, pid := spawn(t, rt, "dup", nil)
	if _, err := rt.Spawn(&testProc{}, "dup"); !errors.Is(err, ErrIDTaken) {
		t.Fatalf("second spawn of dup: %v, want ErrIDTaken", err)
	}
	rt.Terminate(pid)
	rt.Wait(pid)
	if _, err := rt.Spawn(&testProc{}, "dup"); err != nil {
		t.Fatalf("id of a terminated process is reusable: %v", err)
	}
	anon, err := rt.Spawn(&testProc{}, "")
	if err != nil || !strings.HasPrefix(anon.ID, "(") {
		t.Fatalf("anonymous spawn gave %v, %v", anon, err)
	}
}

func TestLocalSendCopiesBytes(t *testing.T) { both(t, testLocalSendCopiesBytes) }

func testLocalSendCopiesBytes(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	got := future.NewPromise[string]()
	_, pid := spawn(t, rt, "r", func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.StringValue) { got.Set(m.Value) })
	})
	msg := wrapperspb.String("before")
	if err := rt.Send(Any, pid, msg); err != nil {
		t.Fatal(err)
	}
	msg.Value = "after" // the receiver must not see this
	if v := await(t, rt, got.Future()); v != "before" {
		t.Fatalf("receiver saw %q, want the value at send time", v)
	}
}

func TestMalformedAndUnknownMessagesAreDropped(t *testing.T) {
	both(t, testMalformedAndUnknownMessagesAreDropped)
}

func testMalformedAndUnknownMessagesAreDropped(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	var served atomic.Int32
	_, pid := spawn(t, rt, "r", func(p *testProc) {
		Install(&p.Process, func(UPID, *wrapperspb.Int64Value) { served.Add(1) })
	})
	rt.Post(Any, pid, "google.protobuf.Int64Value", []byte{0x08}) // truncated varint
	rt.Post(Any, pid, "no.such.Message", nil)
	rt.Post(Any, rt.UPID("nobody"), "google.protobuf.Int64Value", nil)
	rt.Clock().Settle()
	if served.Load() != 0 {
		t.Fatal("a malformed body reached the handler")
	}
	for name, c := range map[string]float64{
		"malformed":  rt.droppedBadBody.Value(),
		"unknown":    rt.droppedUnknown.Value(),
		"no process": rt.droppedNoProc.Value(),
	} {
		if c != 1 {
			t.Errorf("%s drop counter = %v, want 1", name, c)
		}
	}
}

func TestDelegateForwardsUnhandledMessages(t *testing.T) {
	both(t, testDelegateForwardsUnhandledMessages)
}

func testDelegateForwardsUnhandledMessages(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	got := future.NewPromise[UPID]()
	_, target := spawn(t, rt, "target", func(p *testProc) {
		Install(&p.Process, func(from UPID, _ *wrapperspb.Int64Value) { got.Set(from) })
	})
	_, front := spawn(t, rt, "front", func(p *testProc) {
		p.Delegate("google.protobuf.Int64Value", target)
	})
	sender := rt.UPID("someone")
	_ = rt.Send(sender, front, wrapperspb.Int64(1))
	if from := await(t, rt, got.Future()); from != sender {
		t.Fatalf("delegated message from %s, want the original sender %s", from, sender)
	}
}

func TestDispatchDeferAndTerminated(t *testing.T) { both(t, testDispatchDeferAndTerminated) }

func testDispatchDeferAndTerminated(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	p, pid := spawn(t, rt, "counter", nil)
	n := 0
	for i := 0; i < 10; i++ {
		Run(rt, pid, func() { n++ })
	}
	if v := await(t, rt, Dispatch(rt, pid, func() int { return n })); v != 10 {
		t.Fatalf("dispatches ran %d times, want 10", v)
	}
	inner := future.NewPromise[string]()
	f := DispatchF(rt, pid, func() future.Future[string] { return inner.Future() })
	Defer1(rt, pid, func(s string) { inner.Set(s + "!") })("done")
	if v := await(t, rt, f); v != "done!" {
		t.Fatalf("DispatchF = %q", v)
	}
	_ = p
	rt.Terminate(pid)
	rt.Wait(pid)
	late := Dispatch(rt, pid, func() int { return 1 })
	if !late.Await(wait) || !errors.Is(late.Err(), ErrTerminated) {
		t.Fatalf("dispatch to a terminated process: %v, want ErrTerminated", late.Err())
	}
}

func TestTerminateInjectSkipsQueuedEvents(t *testing.T) {
	rt := newRuntime(t, Options{Deterministic: true, Seed: 1, NoNetwork: true})
	ran := 0
	finalized := false
	p, pid := spawn(t, rt, "p", nil)
	p.final = func() { finalized = true }
	rt.Clock().Settle()
	for i := 0; i < 5; i++ {
		Run(rt, pid, func() { ran++ })
	}
	queued := Dispatch(rt, pid, func() int { return 1 })
	rt.Terminate(pid)
	rt.Clock().Settle()
	if ran != 0 || !finalized {
		t.Fatalf("after an injected terminate: %d queued events ran, finalized=%v", ran, finalized)
	}
	if !errors.Is(queued.Err(), ErrTerminated) {
		t.Fatalf("queued dispatch: %v, want ErrTerminated", queued.Err())
	}

	q, qid := spawn(t, rt, "q", nil)
	_ = q
	rt.Clock().Settle()
	for i := 0; i < 5; i++ {
		Run(rt, qid, func() { ran++ })
	}
	rt.TerminateAfterQueued(qid)
	rt.Clock().Settle()
	if ran != 5 {
		t.Fatalf("terminate after queued: %d events ran, want 5", ran)
	}
}

func TestPanicEndsProcessAndNotifiesLinkers(t *testing.T) {
	both(t, testPanicEndsProcessAndNotifiesLinkers)
}

func testPanicEndsProcessAndNotifiesLinkers(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	_, bad := spawn(t, rt, "bad", func(p *testProc) {
		Install(&p.Process, func(UPID, *wrapperspb.Int64Value) { panic("boom") })
	})
	w, _ := spawn(t, rt, "watcher", func(p *testProc) { p.Link(bad) })
	rt.Clock().Settle()
	_ = rt.Send(Any, bad, wrapperspb.Int64(1))
	rt.Clock().Settle()
	if len(w.exited) != 1 || w.exited[0] != bad {
		t.Fatalf("watcher saw exits %v, want [%s]", w.exited, bad)
	}
	// The runtime goes on.
	if v := await(t, rt, Dispatch(rt, w.Self(), func() string { return "alive" })); v != "alive" {
		t.Fatal("runtime stopped after a panic")
	}
}

func TestLinkLocal(t *testing.T) { both(t, testLinkLocal) }

func testLinkLocal(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	_, a := spawn(t, rt, "a", nil)
	w1, _ := spawn(t, rt, "w1", func(p *testProc) { p.Link(a); p.Link(a) })
	w2, _ := spawn(t, rt, "w2", func(p *testProc) { p.Link(a) })
	w3, _ := spawn(t, rt, "w3", func(p *testProc) { p.Link(rt.UPID("never-spawned")) })
	rt.Clock().Settle()
	if len(w3.exited) != 1 {
		t.Fatalf("link to a dead process: exits %v, want one at once", w3.exited)
	}
	if len(w1.exited)+len(w2.exited) != 0 {
		t.Fatal("exited before the linkee ended")
	}
	rt.Terminate(a)
	rt.Clock().Settle()
	if len(w1.exited) != 1 || len(w2.exited) != 1 {
		t.Fatalf("exits after terminate: w1 %v, w2 %v; want one each", w1.exited, w2.exited)
	}
}

func TestLinkRemoteExitedWhenConnectionBreaks(t *testing.T) {
	both(t, testLinkRemoteExitedWhenConnectionBreaks)
}

func testLinkRemoteExitedWhenConnectionBreaks(t *testing.T, base Options) {
	a := newRuntime(t, with(base, Options{}))
	b := newRuntime(t, with(base, Options{DispatchWith: a}))
	_, remote := spawn(t, b, "remote", nil)
	exited := future.NewPromise[UPID]()
	_, _ = spawn(t, a, "linker", func(p *testProc) {
		p.onExit = func(pid UPID) { exited.Set(pid) }
		p.Link(remote)
	})
	// Let the link's connection come up with a message round trip.
	got := future.NewPromise[bool]()
	_, _ = spawn(t, b, "echo", func(p *testProc) {
		Install(&p.Process, func(UPID, *wrapperspb.BoolValue) { got.Set(true) })
	})
	_ = a.Send(a.UPID("linker"), b.UPID("echo"), wrapperspb.Bool(true))
	await(t, a, got.Future())
	if exited.Future().IsReady() {
		t.Fatal("exited while the peer is up")
	}
	b.Close() // kills the peer's end of the connection
	if pid := await(t, a, exited.Future()); pid != remote {
		t.Fatalf("exited for %s, want %s", pid, remote)
	}
}

func TestLinkRemoteRefusedConnection(t *testing.T) { both(t, testLinkRemoteRefusedConnection) }

func testLinkRemoteRefusedConnection(t *testing.T, base Options) {
	a := newRuntime(t, with(base, Options{}))
	b := newRuntime(t, with(base, Options{DispatchWith: a}))
	gone := b.UPID("x")
	b.Close()
	exited := future.NewPromise[UPID]()
	_, _ = spawn(t, a, "linker", func(p *testProc) {
		p.onExit = func(pid UPID) { exited.Set(pid) }
		p.Link(gone)
	})
	if pid := await(t, a, exited.Future()); pid != gone {
		t.Fatalf("exited for %s, want %s", pid, gone)
	}
}

// httpGet fetches path from rt's port on another goroutine while the test
// goroutine waits (driving a deterministic runtime's dispatcher).
func httpGet(t *testing.T, rt *Runtime, path string) (int, string) {
	t.Helper()
	type result struct {
		code int
		body string
	}
	pr := future.NewPromise[result]()
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s%s", rt.Addr(), path))
		if err != nil {
			pr.Fail(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pr.Set(result{resp.StatusCode, string(b)})
	}()
	r := await(t, rt, pr.Future())
	return r.code, r.body
}

func TestHTTPRoutes(t *testing.T) { both(t, testHTTPRoutes) }

func testHTTPRoutes(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{Delegate: "master"}))
	var handledOn atomic.Value
	_, pid := spawn(t, rt, "master", func(p *testProc) {
		p.Route("/state", "state", func(r *http.Request) future.Future[*Response] {
			return OK("text/plain", []byte("state:"+r.URL.Path))
		})
		p.Route("/state/sub", "sub", func(*http.Request) future.Future[*Response] {
			return OK("text/plain", []byte("sub"))
		})
		p.Route("/async", "async", func(*http.Request) future.Future[*Response] {
			// Completed later by a dispatch to the same process.
			pr := future.NewPromise[*Response]()
			Run(rt, p.Self(), func() {
				handledOn.Store(p.Self().ID)
				pr.Associate(OK("text/plain", []byte("later")))
			})
			return pr.Future()
		})
	})
	_ = pid
	cases := []struct{ path, want string }{
		{"/master/state", "state:/master/state"},
		{"/master/state/sub/deeper", "sub"},
		{"/master/state/other", "state:/master/state/other"},
		{"/state", "state:/state"}, // through the delegate
		{"/master/async", "later"},
	}
	for _, c := range cases {
		code, body := httpGet(t, rt, c.path)
		if code != 200 || body != c.want {
			t.Errorf("GET %s = %d %q, want 200 %q", c.path, code, body, c.want)
		}
	}
	if code, _ := httpGet(t, rt, "/master/nothing"); code != 404 {
		t.Errorf("GET of an unrouted path = %d, want 404", code)
	}
	if code, body := httpGet(t, rt, "/metrics/snapshot"); code != 200 || !strings.Contains(body, `"libprocess\/dropped_messages_no_process"`) {
		t.Errorf("GET /metrics/snapshot = %d %s", code, body)
	}
	if code, body := httpGet(t, rt, "/metrics"); code != 200 || !strings.Contains(body, "libprocess_dropped_messages_no_process") {
		t.Errorf("GET /metrics = %d %s", code, body)
	}
}
