package tests

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// rateRun is a master with rate limits on a deterministic runtime.
type rateRun struct {
	inprocRun
	master process.UPID
}

func startRateRun(t *testing.T, limits *master.RateLimits) rateRun {
	t.Helper()
	rt := deterministicRuntime(t, 1)
	t.Cleanup(rt.Close)
	pid, err := master.New(master.Config{RateLimits: limits}).Start(rt)
	if err != nil {
		t.Fatal(err)
	}
	r := rateRun{inprocRun: inprocRun{t: t, rt: rt}, master: pid}
	r.advance(0)
	return r
}

// framework registers a framework (our driver) with principal ("" for
// none).
func (r rateRun) framework(name, principal string) (*scheduler.Driver, *cluster.Scheduler) {
	r.t.Helper()
	s := cluster.NewScheduler()
	registered := s.NextRegistered()
	info := cluster.FrameworkInfo(name)
	if principal != "" {
		info.Principal = proto.String(principal)
	}
	d := scheduler.NewDriver(r.rt, s, info, r.master, scheduler.Options{})
	if _, err := d.Start(); err != nil {
		r.t.Fatal(err)
	}
	await(r.inprocRun, registered)
	return d, s
}

// revive sends n ReviveOffersMessages from the driver's pid at once.
func (r rateRun) revive(d *scheduler.Driver, fid string, n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		if err := r.rt.Send(d.PID(), r.master, &messages.ReviveOffersMessage{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}}); err != nil {
			r.t.Fatal(err)
		}
	}
	r.advance(0)
}

// metrics reads the runtime's metrics (driving the deterministic
// dispatcher while the gauges dispatch into processes).
func (r rateRun) metrics() map[string]float64 {
	r.t.Helper()
	pr := future.NewPromise[map[string]float64]()
	go func() { pr.Set(r.rt.Metrics().Snapshot(context.Background())) }()
	return await(r.inprocRun, pr.Future())
}

// expect checks metrics by name (-1: absent).
func (r rateRun) expect(when string, want map[string]float64) {
	r.t.Helper()
	snap := r.metrics()
	for name, v := range want {
		got, ok := snap[name]
		if !ok {
			got = -1
		}
		if got != v {
			r.t.Errorf("%s: %s = %v, want %v", when, name, got, v)
		}
	}
}

func fidOf(d *scheduler.Driver) string { return d.FrameworkID().GetValue() }

// With qps 1 for a principal, messages sent at once are served one a
// second (virtual time), the first at once, and counted per principal.
func TestRateLimitServesAtTheRate(t *testing.T) {
	r := startRateRun(t, &master.RateLimits{Limits: []master.PrincipalLimit{{Principal: "foo", Throttle: &master.Throttle{QPS: 1}}}})
	d, _ := r.framework("f", "foo")
	r.expect("registered", map[string]float64{"frameworks/foo/messages_received": 0, "frameworks/foo/messages_processed": 0})
	r.revive(d, fidOf(d), 3)
	r.expect("at once", map[string]float64{
		"frameworks/foo/messages_received": 3, "frameworks/foo/messages_processed": 1, "master/messages_revive_offers": 1,
	})
	r.advance(999 * time.Millisecond)
	r.expect("before a second", map[string]float64{"frameworks/foo/messages_processed": 1})
	r.advance(time.Millisecond)
	r.expect("after a second", map[string]float64{"frameworks/foo/messages_processed": 2, "master/messages_revive_offers": 2})
	r.advance(time.Second)
	r.expect("after two seconds", map[string]float64{"frameworks/foo/messages_processed": 3, "master/messages_revive_offers": 3})
}

// Over capacity a message is dropped and the framework gets a
// FrameworkErrorMessage (its driver aborts); its tasks are not killed and
// the framework is not removed; the queued messages are still served.
func TestRateLimitOverCapacity(t *testing.T) {
	r := startRateRun(t, &master.RateLimits{Limits: []master.PrincipalLimit{{Principal: "foo", Throttle: &master.Throttle{QPS: 1, Capacity: 2}}}})
	d, s := r.framework("f", "foo")
	errored := s.NextError()
	r.revive(d, fidOf(d), 4)
	if msg := await(r.inprocRun, errored); msg != "Message mesos.internal.ReviveOffersMessage dropped: capacity(2) exceeded" {
		t.Fatalf("error %q", msg)
	}
	// The fifth: the aborting driver's DeactivateFrameworkMessage, dropped
	// as well (the queue is still full), as Mesos's would be.
	r.expect("at once", map[string]float64{"frameworks/foo/messages_received": 5, "frameworks/foo/messages_processed": 1})
	r.advance(time.Second)
	r.advance(time.Second)
	r.advance(time.Second)
	r.expect("later", map[string]float64{
		"frameworks/foo/messages_processed": 3, "master/messages_revive_offers": 3,
		"master/frameworks_active": 1, // its driver aborted; the master keeps it
	})
}

// Unlisted principals and frameworks without one share the aggregate
// default; a principal listed without qps is not throttled.
func TestRateLimitAggregateDefault(t *testing.T) {
	r := startRateRun(t, &master.RateLimits{
		Limits:           []master.PrincipalLimit{{Principal: "free"}},
		AggregateDefault: &master.Throttle{QPS: 0.5},
	})
	bar, _ := r.framework("bar", "bar")
	anon, _ := r.framework("anon", "")
	free, _ := r.framework("free", "free")
	r.revive(bar, fidOf(bar), 1)
	r.revive(anon, fidOf(anon), 1)
	r.revive(free, fidOf(free), 2)
	r.expect("at once", map[string]float64{
		"master/messages_revive_offers":     3, // bar's, and free's two
		"frameworks/bar/messages_processed": 1, "frameworks/free/messages_processed": 2,
	})
	r.advance(2 * time.Second)
	r.expect("after the default's interval", map[string]float64{"master/messages_revive_offers": 4})
}

// Counters live while a framework with the principal is registered: kept
// across failover, removed with the last framework.
func TestRateLimitCountersFollowFrameworks(t *testing.T) {
	r := startRateRun(t, nil)
	d, _ := r.framework("f", "foo")
	fid := fidOf(d)
	r.revive(d, fid, 2)
	r.expect("no limits", map[string]float64{"frameworks/foo/messages_received": 2, "frameworks/foo/messages_processed": 2})

	// A new scheduler instance fails over: same counters.
	s2 := cluster.NewScheduler()
	registered := s2.NextRegistered()
	info := cluster.FrameworkInfo("f")
	info.Principal, info.Id = proto.String("foo"), &mesos.FrameworkID{Value: proto.String(fid)}
	d2 := scheduler.NewDriver(r.rt, s2, info, r.master, scheduler.Options{})
	if _, err := d2.Start(); err != nil {
		t.Fatal(err)
	}
	await(r.inprocRun, registered)
	r.revive(d2, fid, 1)
	r.expect("after failover", map[string]float64{"frameworks/foo/messages_received": 3, "frameworks/foo/messages_processed": 3})

	if _, err := d2.Stop(false); err != nil {
		t.Fatal(err)
	}
	r.advance(0)
	r.expect("removed", map[string]float64{"frameworks/foo/messages_received": -1, "frameworks/foo/messages_processed": -1})
}

// v1 calls go through the same limits: a call over capacity answers 429
// and the subscription gets an ERROR event.
func TestRateLimitV1Calls(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		RateLimits: &master.RateLimits{Limits: []master.PrincipalLimit{{Principal: "foo", Throttle: &master.Throttle{QPS: 1, Capacity: 1}}}},
	}})
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1","principal":"foo"}}}`)
	fid, _ := dig(cl.next("SUBSCRIBED"), "subscribed", "framework_id", "value").(string)
	revive := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"REVIVE"}`, fid)
	for i, want := range []int{http.StatusAccepted, http.StatusAccepted, http.StatusTooManyRequests} {
		if code := cl.call(revive, cl.streamID); code != want {
			t.Fatalf("REVIVE %d: %d, want %d", i, code, want)
		}
	}
	if ev := cl.next("ERROR"); dig(ev, "error", "message") != "Message mesos.scheduler.Call.REVIVE dropped: capacity(1) exceeded" {
		t.Fatalf("ERROR event %v", ev)
	}
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["frameworks/foo/messages_received"] != 3 || snap["frameworks/foo/messages_processed"] != 1 {
		t.Fatalf("counters received %v processed %v", snap["frameworks/foo/messages_received"], snap["frameworks/foo/messages_processed"])
	}
	c.Advance(time.Second)
	if snap := c.RT.Metrics().Snapshot(t.Context()); snap["frameworks/foo/messages_processed"] != 2 {
		t.Fatalf("after a second: processed %v", snap["frameworks/foo/messages_processed"])
	}
}
