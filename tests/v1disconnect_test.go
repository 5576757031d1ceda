package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/tests/cluster"
)

// ended waits for the subscription stream to end (events other than
// heartbeats and offers fail the test).
func (cl *v1Client) ended() {
	cl.t.Helper()
	pr := future.NewPromise[struct{}]()
	go func() {
		for ev := range cl.events {
			if ev["type"] != "HEARTBEAT" && ev["type"] != "OFFERS" {
				pr.Fail(fmt.Errorf("event %v while waiting for the end of the stream", ev))
				return
			}
		}
		pr.Set(struct{}{})
	}()
	cluster.Await(cl.c, pr.Future())
}

func resubscribeJSON(fid string, force bool) string {
	return fmt.Sprintf(`{"framework_id":{"value":%q},"type":"SUBSCRIBE","subscribe":{"force":%t,
		"framework_info":{"user":"test","name":"v1","failover_timeout":60,"id":{"value":%q}}}}`, fid, force, fid)
}

// frameworkIDs reads the ids of /master/state's frameworks and
// completed_frameworks.
func frameworkIDs(t *testing.T, c *cluster.Cluster) (active, completed []string) {
	t.Helper()
	_, body := get(t, c, "/master/state")
	var st struct {
		Frameworks          []struct{ ID string } `json:"frameworks"`
		CompletedFrameworks []struct{ ID string } `json:"completed_frameworks"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Frameworks {
		active = append(active, f.ID)
	}
	for _, f := range st.CompletedFrameworks {
		completed = append(completed, f.ID)
	}
	return active, completed
}

// One subscription stream per framework id, the newest: as in Mesos 1.0
// (MESOS-4712), a SUBSCRIBE for a framework whose stream is still open
// fails that stream over (ERROR "Framework failed over", then it ends),
// with or without the 0.2x `force` field (accepted, no effect); only the
// new stream id is accepted afterwards.
func TestV1OneStreamPerFramework(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	old := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1","failover_timeout":60}}}`)
	fid, _ := dig(old.next("SUBSCRIBED"), "subscribed", "framework_id", "value").(string)
	revive := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"REVIVE"}`, fid)
	for _, force := range []bool{false, true} {
		next := subscribeV1(t, c, resubscribeJSON(fid, force))
		if ev := next.next("SUBSCRIBED"); dig(ev, "subscribed", "framework_id", "value") != fid {
			t.Fatalf("force=%t: new stream got %v", force, ev)
		}
		if ev := old.next("ERROR"); dig(ev, "error", "message") != "Framework failed over" {
			t.Fatalf("force=%t: old stream got %v", force, ev)
		}
		old.ended()
		if code := next.call(revive, old.streamID); code != http.StatusBadRequest {
			t.Fatalf("force=%t: a call on the old stream id: %d", force, code)
		}
		if code := next.call(revive, next.streamID); code != http.StatusAccepted {
			t.Fatalf("force=%t: a call on the new stream id: %d", force, code)
		}
		old = next
	}
	if active, _ := frameworkIDs(t, c); len(active) != 1 {
		t.Fatalf("frameworks %v", active)
	}
}

// When the stream drops the framework is disconnected: its calls get 403
// until it subscribes again, and its failover timeout starts; a framework
// that does not come back within it is removed. Calls for a framework the
// master does not know get 400.
func TestV1DisconnectStartsFailoverTimeout(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1","failover_timeout":60}}}`)
	fid, _ := dig(cl.next("SUBSCRIBED"), "subscribed", "framework_id", "value").(string)
	revive := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"REVIVE"}`, fid)
	if code := cl.call(`{"framework_id":{"value":"no-such-framework"},"type":"REVIVE"}`, cl.streamID); code != http.StatusBadRequest {
		t.Fatalf("a call for an unknown framework: %d", code)
	}

	exited := c.Expect.FutureExited(process.Any, c.MasterPID)
	cl.body.Close()
	cluster.Await(c, exited)
	c.Settle()
	if code := cl.call(revive, cl.streamID); code != http.StatusForbidden {
		t.Fatalf("a call after the stream dropped: %d", code)
	}

	c.Advance(59 * time.Second)
	if active, _ := frameworkIDs(t, c); len(active) != 1 || active[0] != fid {
		t.Fatalf("within the failover timeout: frameworks %v", active)
	}
	c.Advance(2 * time.Second)
	active, completed := frameworkIDs(t, c)
	if len(active) != 0 || len(completed) != 1 || completed[0] != fid {
		t.Fatalf("past the failover timeout: frameworks %v, completed %v", active, completed)
	}
	late := subscribeV1(t, c, resubscribeJSON(fid, false))
	if ev := late.next("ERROR"); dig(ev, "error", "message") != "Framework has been removed" {
		t.Fatalf("subscribing after removal: %v", ev)
	}
}

// A framework that resubscribes within its failover timeout keeps it:
// the timer started at the disconnection does not remove it later.
func TestV1ResubscribeStopsFailoverTimeout(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1","failover_timeout":60}}}`)
	fid, _ := dig(cl.next("SUBSCRIBED"), "subscribed", "framework_id", "value").(string)
	exited := c.Expect.FutureExited(process.Any, c.MasterPID)
	cl.body.Close()
	cluster.Await(c, exited)
	c.Advance(30 * time.Second)
	again := subscribeV1(t, c, resubscribeJSON(fid, false))
	again.next("SUBSCRIBED")
	c.Advance(60 * time.Second)
	if active, _ := frameworkIDs(t, c); len(active) != 1 || active[0] != fid {
		t.Fatalf("after the old timeout: frameworks %v", active)
	}
}

// HEARTBEAT events come every heartbeat_interval_seconds (15) of master
// time, on the subscription stream only.
func TestV1Heartbeats(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1"}}}`)
	sub := cl.next("SUBSCRIBED")
	if dig(sub, "subscribed", "heartbeat_interval_seconds") != 15.0 {
		t.Fatalf("SUBSCRIBED %v", sub)
	}
	for i := 0; i < 3; i++ {
		c.Advance(15 * time.Second)
		if ev := cl.next("HEARTBEAT"); len(ev) != 1 {
			t.Fatalf("heartbeat %d: %v", i, ev)
		}
	}
}
