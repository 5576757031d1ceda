package process

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/process/future"
)

func TestSettleWaitsForWireMessages(t *testing.T) { both(t, testSettleWaitsForWireMessages) }

// A message sent from one runtime to another runtime of this OS process
// is in flight until the receiver has handled it: Settle on either
// runtime waits for it.
func testSettleWaitsForWireMessages(t *testing.T, base Options) {
	rt1 := newRuntime(t, with(base, Options{}))
	rt2 := newRuntime(t, with(base, Options{}))
	rt1.Clock().Pause()
	rt2.Clock().Pause()
	var got atomic.Int64
	_, dst := spawn(t, rt2, "sink", func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.Int64Value) { got.Store(m.Value) })
	})
	_, src := spawn(t, rt1, "source", nil)
	rt1.Clock().Settle()
	for i := int64(1); i <= 200; i++ {
		if err := rt1.Send(src, dst, wrapperspb.Int64(i)); err != nil {
			t.Fatal(err)
		}
		settler := rt1
		if i%2 == 0 {
			settler = rt2
		}
		settler.Clock().Settle()
		if g := got.Load(); g != i {
			t.Fatalf("after send %d and Settle the receiver has handled message %d", i, g)
		}
	}
}

func TestSettleWaitsForHTTPRequests(t *testing.T) { both(t, testSettleWaitsForHTTPRequests) }

// A request being served counts until its response is set: Settle after
// the handler has started waits for the work the handler still does.
func testSettleWaitsForHTTPRequests(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{}))
	rt.Clock().Pause()
	var handled atomic.Int64
	_, worker := spawn(t, rt, "worker", nil)
	entered := make(chan int64, 1)
	_, _ = spawn(t, rt, "web", func(p *testProc) {
		// Handler runs the blocking handler on a goroutine of its own,
		// outside every mailbox: only the request's own count covers it.
		p.Route("/work", "", Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := handled.Load() + 1
			entered <- n
			// A round trip through a process, then the work itself.
			if _, err := Dispatch(rt, worker, func() int { return 0 }).Get(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			Run(rt, worker, func() { handled.Store(n) })
			fmt.Fprintln(w, n)
		})))
	})
	rt.Clock().Settle()
	url := "http://" + rt.Addr().String() + "/web/work"
	for i := int64(1); i <= 100; i++ {
		type result struct {
			body string
			err  error
		}
		res := make(chan result, 1)
		go func() {
			resp, err := http.Get(url)
			if err != nil {
				res <- result{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			res <- result{string(b), err}
		}()
		// Drive the runtime until the handler has started (a
		// deterministic runtime runs only when driven).
		var n int64
		for started := false; !started; {
			select {
			case n = <-entered:
				started = true
			case <-readyChan(rt):
				rt.det.RunUntilIdle()
			case <-time.After(wait): // wall-clock: failure bound only
				t.Fatal("handler never entered")
			}
		}
		rt.Clock().Settle()
		if g := handled.Load(); g != n {
			t.Fatalf("request %d: after Settle the handler's work has reached %d", n, g)
		}
		select {
		case r := <-res:
			if r.err != nil || r.body != fmt.Sprintln(n) {
				t.Fatalf("request %d: response %q, %v", n, r.body, r.err)
			}
		case <-time.After(wait): // wall-clock: failure bound only
			t.Fatal("no response")
		}
	}
}

func TestCountedFutureHoldsSettle(t *testing.T) { both(t, testCountedFutureHoldsSettle) }

// A counted future completed by a goroutine outside the runtime holds
// Settle until it completes; the continuation deferred onto the process
// has run when Settle returns.
func testCountedFutureHoldsSettle(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	var got atomic.Int64
	_, pid := spawn(t, rt, "p", nil)
	for i := int64(1); i <= 50; i++ {
		pr := future.NewPromise[int64]()
		start := make(chan struct{})
		Run(rt, pid, func() {
			Count(rt, pr.Future()).OnReady(Defer1(rt, pid, func(v int64) { got.Store(v) }))
			close(start)
		})
		go func() {
			<-start
			pr.Set(i)
		}()
		rt.Clock().Settle()
		if g := got.Load(); g != i {
			t.Fatalf("after Settle the continuation saw %d, want %d", g, i)
		}
	}
	// A counted future that completes with nothing deferred still lets
	// Settle return once it completes.
	pr := future.NewPromise[int]()
	Count(rt, pr.Future())
	go pr.Set(1)
	rt.Clock().Settle()
	if !pr.Future().IsReady() {
		t.Fatal("Settle returned before the counted future completed")
	}
	// Completed and zero futures are not counted.
	Count(rt, future.Ready(1))
	Count(rt, future.Future[int]{})
	rt.Clock().Settle()
}

func TestTimerSeesItsDeadline(t *testing.T) { both(t, testTimerSeesItsDeadline) }

// Timers and the dispatches they post see Now() equal to their deadline,
// however far one Advance goes; a timer re-armed in its callback fires
// again in the same Advance.
func testTimerSeesItsDeadline(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	c := rt.Clock()
	c.Pause()
	start := c.Now()
	var seen []time.Duration
	var pings []time.Duration
	p, _ := spawn(t, rt, "pinger", nil)
	var ping func()
	ping = func() {
		pings = append(pings, c.Now().Sub(start))
		p.Delay(15*time.Second, ping)
	}
	Run(rt, p.Self(), func() { p.Delay(15*time.Second, ping) })
	c.Settle()
	c.Timer(10*time.Second, func() { seen = append(seen, c.Now().Sub(start)) })
	Delay(rt, 7*time.Second, p.Self(), func() { seen = append(seen, c.Now().Sub(start)) })
	c.Advance(60 * time.Second)
	c.Settle()
	if want := fmt.Sprint([]time.Duration{7 * time.Second, 10 * time.Second}); fmt.Sprint(seen) != want {
		t.Fatalf("timers saw %v, want %v", seen, want)
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, 45 * time.Second, 60 * time.Second}
	if fmt.Sprint(pings) != fmt.Sprint(want) {
		t.Fatalf("a 15 s ping over a 60 s Advance fired at %v, want %v", pings, want)
	}
	if got := c.Now().Sub(start); got != 60*time.Second {
		t.Fatalf("Advance ended at %v, want 60s", got)
	}
	// Update steps through deadlines the same way.
	c.Update(start.Add(90 * time.Second))
	c.Settle()
	if len(pings) != 6 || pings[5] != 90*time.Second {
		t.Fatalf("after Update to 90s pings are %v", pings)
	}
}

func TestTraceCoversBodies(t *testing.T) {
	run := func(v int64) uint64 {
		rt := newRuntime(t, Options{Deterministic: true, Seed: 3, NoNetwork: true})
		_, pid := spawn(t, rt, "p", func(p *testProc) {
			Install(&p.Process, func(UPID, *wrapperspb.Int64Value) {})
		})
		_ = rt.Send(rt.UPID("outside"), pid, wrapperspb.Int64(v))
		rt.Clock().Settle()
		return rt.Deterministic().Trace()
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Fatalf("same run, different traces: %x %x", a, b)
	}
	if a == c {
		t.Fatalf("runs differing in one body byte gave the same trace %x", a)
	}
}
