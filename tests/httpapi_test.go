package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/tests/cluster"
)

// v1Client is a v1 scheduler HTTP API client speaking JSON, as an HTTP
// framework would (field names of the v1 protos: agent_id, not slave_id).
type v1Client struct {
	t        *testing.T
	c        *cluster.Cluster
	url      string
	streamID string
	events   chan map[string]any
	body     io.ReadCloser
}

// subscribeV1 posts the SUBSCRIBE call (JSON) and follows its stream.
func subscribeV1(t *testing.T, c *cluster.Cluster, subscribe string) *v1Client {
	t.Helper()
	cl := &v1Client{t: t, c: c, url: fmt.Sprintf("http://%s/api/v1/scheduler", c.RT.Addr()), events: make(chan map[string]any, 128)}
	req, _ := http.NewRequest(http.MethodPost, cl.url, strings.NewReader(subscribe))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Accept", "application/json")
	req.Header.Add("Accept", "application/json") // mesos-go's v1 client sends it twice
	pr := future.NewPromise[*http.Response]()
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		pr.Set(resp)
	}()
	resp := cluster.Await(c, pr.Future())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Mesos-Stream-Id") == "" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("SUBSCRIBE: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	cl.streamID, cl.body = resp.Header.Get("Mesos-Stream-Id"), resp.Body
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(cl.events)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				return
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(buf, &ev) == nil {
				cl.events <- ev
			}
		}
	}()
	return cl
}

// next returns the next event of type typ, skipping heartbeats and
// offers (the allocator keeps offering what is left).
func (cl *v1Client) next(typ string) map[string]any {
	cl.t.Helper()
	return cl.nextSkipping(typ, func(other any) bool { return other == "HEARTBEAT" || other == "OFFERS" })
}

// nextSkipping returns the next event of type typ; events of the types
// skip accepts come before it, any other fails the test.
func (cl *v1Client) nextSkipping(typ string, skip func(typ any) bool) map[string]any {
	cl.t.Helper()
	pr := future.NewPromise[map[string]any]()
	go func() {
		for ev := range cl.events {
			if ev["type"] == typ {
				pr.Set(ev)
				return
			}
			if !skip(ev["type"]) {
				pr.Fail(fmt.Errorf("event %v while waiting for %s", ev, typ))
				return
			}
		}
		pr.Fail(fmt.Errorf("stream ended while waiting for %s", typ))
	}()
	return cluster.Await(cl.c, pr.Future())
}

// call posts a JSON call on the subscription's stream id.
func (cl *v1Client) call(body, stream string) int {
	cl.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, cl.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", stream)
	pr := future.NewPromise[int]()
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		resp.Body.Close()
		pr.Set(resp.StatusCode)
	}()
	return cluster.Await(cl.c, pr.Future())
}

func dig(v any, path ...string) any {
	for _, k := range path {
		switch m := v.(type) {
		case map[string]any:
			v = m[k]
		case []any:
			i, _ := strconv.Atoi(k)
			if i >= len(m) {
				return nil
			}
			v = m[i]
		default:
			return nil
		}
	}
	return v
}

func TestV1HTTPSchedulerAPI(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, nil)
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1 framework","failover_timeout":60}}}`)
	sub := cl.next("SUBSCRIBED")
	fid, _ := dig(sub, "subscribed", "framework_id", "value").(string)
	if fid == "" || dig(sub, "subscribed", "heartbeat_interval_seconds") != 15.0 {
		t.Fatalf("SUBSCRIBED event %v", sub)
	}

	c.Advance(time.Second)
	offers := cl.next("OFFERS")
	offerID, _ := dig(offers, "offers", "offers", "0", "id", "value").(string)
	agentID, _ := dig(offers, "offers", "offers", "0", "agent_id", "value").(string)
	if offerID == "" || agentID == "" {
		t.Fatalf("OFFERS event (v1 names) %v", offers)
	}

	// A call without the stream id is refused.
	accept := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"ACCEPT","accept":{"offer_ids":[{"value":%q}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[
		{"name":"t1","task_id":{"value":"t1"},"agent_id":{"value":%q},
		 "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":64}}],
		 "command":{"value":"sleep 1000"}}]}}],"filters":null}}`, fid, offerID, agentID)
	if code := cl.call(accept, "not-the-stream"); code != http.StatusBadRequest {
		t.Fatalf("call with a wrong stream id: %d", code)
	}
	if code := cl.call(accept, cl.streamID); code != http.StatusAccepted {
		t.Fatalf("ACCEPT: %d", code)
	}
	upd := cl.next("UPDATE")
	uuid, _ := dig(upd, "update", "status", "uuid").(string)
	if dig(upd, "update", "status", "state") != "TASK_RUNNING" || uuid == "" || dig(upd, "update", "status", "agent_id", "value") != agentID {
		t.Fatalf("UPDATE event %v", upd)
	}
	ack := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":%q},"task_id":{"value":"t1"},"uuid":%q}}`, fid, agentID, uuid)
	if code := cl.call(ack, cl.streamID); code != http.StatusAccepted {
		t.Fatalf("ACKNOWLEDGE: %d", code)
	}
	c.Settle()
	c.Advance(15 * time.Second)
	if ev := cl.next("HEARTBEAT"); ev["type"] != "HEARTBEAT" {
		t.Fatalf("heartbeat %v", ev)
	}

	kill := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"KILL","kill":{"task_id":{"value":"t1"}}}`, fid)
	if code := cl.call(kill, cl.streamID); code != http.StatusAccepted {
		t.Fatalf("KILL: %d", code)
	}
	if upd := cl.next("UPDATE"); dig(upd, "update", "status", "state") != "TASK_KILLED" {
		t.Fatalf("after KILL: %v", upd)
	}

	// Closing the stream disconnects the framework (it stays for its
	// failover timeout).
	exited := c.Expect.FutureExited(process.Any, c.MasterPID)
	cl.body.Close()
	cluster.Await(c, exited)
	c.Settle()
	_, state := get(t, c, "/master/state")
	if !bytes.Contains(state, []byte(`"active":false`)) || !bytes.Contains(state, []byte(fid)) {
		t.Fatalf("after the stream closed: %s", state)
	}
}

func TestV1HTTPProtobufAndResubscribe(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	url := fmt.Sprintf("http://%s/api/v1/scheduler", c.RT.Addr())
	call := &schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum(), Subscribe: &schedulerpb.Call_Subscribe{
		FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("pb"), FailoverTimeout: proto.Float64(60)},
	}}
	body, _ := proto.Marshal(call)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Accept", "application/x-protobuf")
	pr := future.NewPromise[*schedulerpb.Event]()
	done := make(chan struct{})
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/x-protobuf" {
			pr.Fail(fmt.Errorf("content type %q", resp.Header.Get("Content-Type")))
			return
		}
		r := bufio.NewReader(resp.Body)
		line, _ := r.ReadString('\n')
		n, _ := strconv.Atoi(strings.TrimSpace(line))
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			pr.Fail(err)
			return
		}
		ev := &schedulerpb.Event{}
		if err := proto.Unmarshal(buf, ev); err != nil {
			pr.Fail(err)
			return
		}
		pr.Set(ev)
		<-done // keep the stream open until the test closes it
	}()
	exited := c.Expect.FutureExited(process.Any, c.MasterPID)
	ev := cluster.Await(c, pr.Future())
	fid := ev.GetSubscribed().GetFrameworkId().GetValue()
	if ev.GetType() != schedulerpb.Event_SUBSCRIBED || fid == "" {
		t.Fatalf("first event %v", ev)
	}
	close(done)
	cluster.Await(c, exited)
	c.Settle()

	// The framework comes back on a new stream within its failover timeout.
	cl := subscribeV1(t, c, fmt.Sprintf(`{"framework_id":{"value":%q},"type":"SUBSCRIBE",
		"subscribe":{"framework_info":{"user":"test","name":"pb","failover_timeout":60,"id":{"value":%q}}}}`, fid, fid))
	if again := cl.next("SUBSCRIBED"); dig(again, "subscribed", "framework_id", "value") != fid {
		t.Fatalf("resubscribed as %v", again)
	}
	_, state := get(t, c, "/master/state")
	if !bytes.Contains(state, []byte(`"active":true`)) {
		t.Fatalf("framework not active after resubscribing: %s", state)
	}
}
