package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// as sends an operator request with HTTP Basic credentials ("" none).
func as(t *testing.T, c *cluster.Cluster, creds, method, path, body string) answer {
	t.Helper()
	h := map[string]string{}
	if creds != "" {
		h["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
	}
	return request(t, c, method, path, body, h)
}

// opCase is an operator request and the answer expected: its status and
// a part of its body.
type opCase struct {
	creds, method, path, body string
	code                      int
	says                      string
}

func expectAnswers(t *testing.T, c *cluster.Cluster, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		got := as(t, c, tc.creds, tc.method, tc.path, tc.body)
		if got.code != tc.code || !strings.Contains(got.body, tc.says) {
			t.Fatalf("%s %s %s as %q: %d %q, want %d %q", tc.method, tc.path, tc.body, tc.creds, got.code, got.body, tc.code, tc.says)
		}
	}
}

func quotaCluster(t *testing.T) *cluster.Cluster {
	return cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Credentials: map[string]string{"ops": "opspass", "dev": "devpass"},
		Authorizer: mustACLs(t, `{
			"set_quotas": [
				{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
				{"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}],
			"remove_quotas": [
				{"principals": {"values": ["ops"]}, "quota_principals": {"type": "ANY"}},
				{"principals": {"type": "ANY"}, "quota_principals": {"type": "NONE"}}],
			"get_quotas": [
				{"principals": {"values": ["dev"]}, "roles": {"values": ["other"]}},
				{"principals": {"values": ["dev"]}, "roles": {"type": "NONE"}}]}`),
	}})
}

// /master/quota end to end: credentials (401), ACLs (403), Mesos 1.0's
// checks (400), the capacity heuristic (409, force), GET filtered by
// get_quotas, DELETE; and the allocator holding back what a quota role
// without frameworks is guaranteed.
func TestQuotaEndpoint(t *testing.T) {
	c := quotaCluster(t)
	for _, h := range []string{"a", "b"} {
		cluster.Await(c, c.StartFakeSlaveOn(h, "cpus:2;mem:1024").Registered())
	}
	const q = `{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}},{"name":"mem","type":"SCALAR","scalar":{"value":1024}}]}`
	expectAnswers(t, c, []opCase{
		{"", "POST", "/master/quota", q, http.StatusUnauthorized, ""},
		{"ops:wrong", "POST", "/master/quota", q, http.StatusUnauthorized, ""},
		{"dev:devpass", "POST", "/master/quota", q, http.StatusForbidden, "Not authorized to set quota for role 'q'"},
		{"ops:opspass", "POST", "/master/quota", `{"role":`, http.StatusBadRequest, "Failed to parse set quota request JSON"},
		{"ops:opspass", "POST", "/master/quota", `{"role":"*","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, http.StatusBadRequest, "must not specify the default '*' role"},
		{"ops:opspass", "POST", "/master/quota", `{"role":"q","guarantee":[]}`, http.StatusBadRequest, "QuotaInfo with empty 'guarantee'"},
		{"ops:opspass", "POST", "/master/quota", `{"role":"q","guarantee":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]}`, http.StatusBadRequest, "non-scalar"},
		{"ops:opspass", "POST", "/master/quota", `{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":100}}]}`, http.StatusConflict, "the force flag can be used"},
		{"ops:opspass", "PUT", "/master/quota", q, http.StatusMethodNotAllowed, ""},
		{"ops:opspass", "POST", "/master/quota", q, http.StatusOK, ""},
		{"ops:opspass", "POST", "/master/quota", q, http.StatusBadRequest, "which already has quota"},
		{"ops:opspass", "POST", "/master/quota", `{"force":true,"role":"other","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":100}}]}`, http.StatusOK, ""},
		{"ops:opspass", "DELETE", "/master/quota/none", "", http.StatusBadRequest, "Role 'none' has no quota set"},
		{"ops:opspass", "DELETE", "/master/quota", "", http.StatusBadRequest, "3 tokens"},
		{"dev:devpass", "DELETE", "/master/quota/other", "", http.StatusForbidden, "Not authorized to remove quota"},
	})
	var status struct {
		Infos []struct {
			Role, Principal string
		}
	}
	// ops is in no get_quotas rule: permissive, it sees them all.
	got := as(t, c, "ops:opspass", "GET", "/master/quota", "")
	if err := json.Unmarshal([]byte(got.body), &status); err != nil || len(status.Infos) != 2 || status.Infos[0].Role != "other" || status.Infos[1].Principal != "ops" {
		t.Fatalf("GET as ops: %d %s", got.code, got.body)
	}
	status.Infos = nil
	got = as(t, c, "dev:devpass", "GET", "/master/quota", "")
	if err := json.Unmarshal([]byte(got.body), &status); err != nil || len(status.Infos) != 1 || status.Infos[0].Role != "other" {
		t.Fatalf("GET as dev (get_quotas: only 'other'): %s", got.body)
	}
	if got := as(t, c, "ops:opspass", "DELETE", "/master/quota/other", ""); got.code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", got.code, got.body)
	}

	// q has no framework: a framework of another role is offered one
	// slave only, the other is held for q's guarantee.
	_, sched, _ := startFramework(t, c, cluster.FrameworkInfo("greedy"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	if got := cluster.Await(c, offers); len(got) != 1 {
		t.Fatalf("offered %d slaves, want 1 (the other held for q's quota)", len(got))
	}
	more := sched.NextOffers()
	c.Advance(10 * time.Second)
	cluster.AssertPending(c, more)
	if got := as(t, c, "ops:opspass", "DELETE", "/master/quota/q", ""); got.code != http.StatusOK {
		t.Fatalf("DELETE q: %d %s", got.code, got.body)
	}
	c.Advance(time.Second)
	if got := cluster.Await(c, more); len(got) != 1 {
		t.Fatalf("after the quota was removed: %v", got)
	}
}

// waitEvent returns the next v1 event of type typ, skipping any other.
func (cl *v1Client) waitEvent(typ string) map[string]any {
	cl.t.Helper()
	return cl.nextSkipping(typ, func(any) bool { return true })
}

// Maintenance end to end with a v1 framework: a schedule makes a machine
// DRAINING, the framework running a task there gets an inverse offer
// (INVERSE_OFFERS) and offers of that machine carry the unavailability;
// it accepts, later declines, as /maintenance/status shows; the machine
// goes DOWN (its slave is shut down and removed, the task lost, a slave
// there cannot register), then UP (it can).
func TestMaintenanceInverseOffersAndMachineDownUp(t *testing.T) {
	c := quotaCluster(t)
	a := c.StartFakeSlaveOn("a", "cpus:2;mem:1024")
	cluster.Await(c, a.Registered())
	cl := subscribeV1(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1 framework","failover_timeout":60}}}`)
	fid, _ := dig(cl.waitEvent("SUBSCRIBED"), "subscribed", "framework_id", "value").(string)
	c.Advance(time.Second)
	offers := cl.waitEvent("OFFERS")
	offerID, _ := dig(offers, "offers", "offers", "0", "id", "value").(string)
	agentID, _ := dig(offers, "offers", "offers", "0", "agent_id", "value").(string)
	accept := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"ACCEPT","accept":{"offer_ids":[{"value":%q}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[
		{"name":"t1","task_id":{"value":"t1"},"agent_id":{"value":%q},
		 "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":64}}],
		 "command":{"value":"sleep 1000"}}]}}]}}`, fid, offerID, agentID)
	if code := cl.call(accept, cl.streamID); code != http.StatusAccepted {
		t.Fatalf("ACCEPT: %d", code)
	}
	cl.waitEvent("UPDATE")

	machine := `{"hostname":"a","ip":"127.0.0.1"}`
	start := c.RT.Clock().Now().Add(time.Hour).UnixNano()
	schedule := fmt.Sprintf(`{"windows":[{"machine_ids":[%s],"unavailability":{"start":{"nanoseconds":%d}}}]}`, machine, start)
	expectAnswers(t, c, []opCase{
		{"", "POST", "/master/maintenance/schedule", schedule, http.StatusUnauthorized, ""},
		{"ops:opspass", "POST", "/master/maintenance/schedule", `{"windows":[{"machine_ids":[],"unavailability":{"start":{"nanoseconds":1}}}]}`, http.StatusBadRequest, "is empty"},
		{"ops:opspass", "POST", "/master/machine/down", `[` + machine + `]`, http.StatusBadRequest, "is not part of a maintenance schedule"},
		{"ops:opspass", "POST", "/master/maintenance/schedule", schedule, http.StatusOK, ""},
		{"ops:opspass", "POST", "/master/machine/up", `[` + machine + `]`, http.StatusBadRequest, "is not in DOWN mode"},
	})

	// The framework holds a task on a: it is asked to give it back.
	inv := cl.waitEvent("INVERSE_OFFERS")
	ioID, _ := dig(inv, "inverse_offers", "inverse_offers", "0", "id", "value").(string)
	if ioID == "" || dig(inv, "inverse_offers", "inverse_offers", "0", "agent_id", "value") != agentID ||
		dig(inv, "inverse_offers", "inverse_offers", "0", "unavailability", "start", "nanoseconds") != float64(start) {
		t.Fatalf("INVERSE_OFFERS event %v", inv)
	}
	// Offers of a now carry the unavailability (once the filter of the
	// ACCEPT, 5 s, ran out).
	c.Advance(6 * time.Second)
	if o := cl.waitEvent("OFFERS"); dig(o, "offers", "offers", "0", "unavailability", "start", "nanoseconds") != float64(start) {
		t.Fatalf("offer of a draining machine: %v", o)
	}
	statusOf := func() string {
		t.Helper()
		got := as(t, c, "ops:opspass", "GET", "/master/maintenance/status", "")
		if got.code != http.StatusOK {
			t.Fatalf("status: %d %s", got.code, got.body)
		}
		return got.body
	}
	if s := statusOf(); !strings.Contains(s, `"draining_machines":[{"id":{"hostname":"a","ip":"127.0.0.1"}}]`) {
		t.Fatalf("status before an answer: %s", s)
	}
	answer := func(typ, field, id string) {
		t.Helper()
		call := fmt.Sprintf(`{"framework_id":{"value":%q},"type":%q,%q:{"inverse_offer_ids":[{"value":%q}]}}`, fid, typ, field, id)
		if code := cl.call(call, cl.streamID); code != http.StatusAccepted {
			t.Fatalf("%s: %d", typ, code)
		}
		c.Settle()
	}
	answer("ACCEPT_INVERSE_OFFERS", "accept_inverse_offers", ioID)
	if s := statusOf(); !strings.Contains(s, `"status":"ACCEPT"`) || !strings.Contains(s, fid) {
		t.Fatalf("status after ACCEPT: %s", s)
	}
	// After the answer's filter (5 s), a new inverse offer comes.
	c.Advance(6 * time.Second)
	inv = cl.waitEvent("INVERSE_OFFERS")
	answer("DECLINE_INVERSE_OFFERS", "decline_inverse_offers", dig(inv, "inverse_offers", "inverse_offers", "0", "id", "value").(string))
	if s := statusOf(); !strings.Contains(s, `"status":"DECLINE"`) {
		t.Fatalf("status after DECLINE: %s", s)
	}

	// DOWN: the slave is shut down and removed, its task lost.
	if got := as(t, c, "ops:opspass", "POST", "/master/machine/down", `[`+machine+`]`); got.code != http.StatusOK {
		t.Fatalf("down: %d %s", got.code, got.body)
	}
	if upd := cl.waitEvent("UPDATE"); dig(upd, "update", "status", "state") != "TASK_LOST" {
		t.Fatalf("task on the machine taken down: %v", upd)
	}
	c.Settle()
	if a.Shutdown != "Operator initiated 'Machine DOWN'" {
		t.Fatalf("slave told %q", a.Shutdown)
	}
	if s := statusOf(); !strings.Contains(s, `"down_machines":[{"hostname":"a","ip":"127.0.0.1"}]`) || strings.Contains(s, "draining") {
		t.Fatalf("status after DOWN: %s", s)
	}
	again := c.StartFakeSlaveOn("a", "cpus:2;mem:1024")
	c.Settle()
	if again.Shutdown != "Machine is `DOWN`" || again.Registered().IsReady() {
		t.Fatalf("a slave on a DOWN machine: %q", again.Shutdown)
	}
	// A schedule may not leave a DOWN machine out.
	if got := as(t, c, "ops:opspass", "POST", "/master/maintenance/schedule", `{"windows":[]}`); got.code != http.StatusBadRequest || !strings.Contains(got.body, "is deactivated") {
		t.Fatalf("schedule without the DOWN machine: %d %s", got.code, got.body)
	}

	// UP: out of the schedule; a slave there registers.
	if got := as(t, c, "ops:opspass", "POST", "/master/machine/up", `[`+machine+`]`); got.code != http.StatusOK {
		t.Fatalf("up: %d %s", got.code, got.body)
	}
	if s := statusOf(); s != "{}" {
		t.Fatalf("status after UP: %s", s)
	}
	if got := as(t, c, "ops:opspass", "GET", "/master/maintenance/schedule", ""); got.body != "{}" {
		t.Fatalf("schedule after UP: %s", got.body)
	}
	cluster.Await(c, c.StartFakeSlaveOn("a", "cpus:2;mem:1024").Registered())
}
