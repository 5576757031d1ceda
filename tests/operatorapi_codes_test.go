package tests

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/recordio"
	"github.com/gomesos/gomesos/tests/cluster"
)

// opPost posts body to the operator API at path with the given headers
// and returns the status and body.
func opPost(t *testing.T, c *cluster.Cluster, method, path, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+c.RT.Addr().String()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The operator API's answers to bad requests, on the master and on the
// slave, as Mesos gives them; operations need the credentials the
// reservation endpoints need (401).
func TestOperatorAPIStatusCodes(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Credentials: map[string]string{"ops": "secret"}}})
	_, slavePID, _ := c.StartSlave(slaveResources, nil)
	json := map[string]string{"Content-Type": "application/json"}
	for _, path := range []string{"/api/v1", "/" + slavePID.ID + "/api/v1"} {
		for _, tc := range []struct {
			name, method, body string
			hdr                map[string]string
			code               int
			contains           string
		}{
			{"GET", "GET", `{"type":"GET_HEALTH"}`, json, 405, "POST"},
			{"no content type", "POST", `{"type":"GET_HEALTH"}`, nil, 400, "Content-Type"},
			{"text", "POST", `{"type":"GET_HEALTH"}`, map[string]string{"Content-Type": "text/plain"}, 415, "application/json"},
			{"bad JSON", "POST", `{"type":`, json, 400, "JSON"},
			{"bad protobuf", "POST", "\xff", map[string]string{"Content-Type": "application/x-protobuf"}, 400, "protobuf"},
			{"no type", "POST", `{}`, json, 400, "Expecting 'type' to be present"},
			{"no body", "POST", `{"type":"READ_FILE"}`, json, 400, "Expecting 'read_file' to be present"},
			{"not acceptable", "POST", `{"type":"GET_HEALTH"}`, map[string]string{"Content-Type": "application/json", "Accept": "text/html"}, 406, "Accept"},
			{"unknown", "POST", `{"type":"UNKNOWN"}`, json, 501, ""},
			{"health", "POST", `{"type":"GET_HEALTH"}`, json, 200, `"healthy":true`},
		} {
			code, body := opPost(t, c, tc.method, path, tc.body, tc.hdr)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s: %d %q, want %d with %q", path, tc.name, code, body, tc.code, tc.contains)
			}
		}
	}
	reserve := `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"` + slaveID(t, c) +
		`"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"ops","reservation":{"principal":"ops"}}]}}`
	if code, body := opPost(t, c, "POST", "/api/v1", reserve, json); code != 401 {
		t.Errorf("reserve without credentials: %d %s", code, body)
	}
	creds := map[string]string{"Content-Type": "application/json", "Authorization": "Basic b3BzOnNlY3JldA=="} // ops:secret
	if code, body := opPost(t, c, "POST", "/api/v1", reserve, creds); code != 202 {
		t.Errorf("reserve: %d %s", code, body)
	}
	if code, body := opPost(t, c, "POST", "/api/v1", `{"type":"GET_AGENTS"}`, json); code != 200 || !strings.Contains(body, `"role":"ops"`) {
		t.Errorf("agents after the reservation: %d %s", code, body)
	}
}

// SUBSCRIBE in protobuf with a hand-written client: SUBSCRIBED, then
// AGENT_ADDED when a slave registers.
func TestOperatorSubscribeProtobuf(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	call, _ := proto.Marshal(&masterpb.Call{Type: masterpb.Call_SUBSCRIBE.Enum()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+c.RT.Addr().String()+"/api/v1", strings.NewReader(string(call)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Accept", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	events := make(chan *masterpb.Event, 16)
	go func() {
		defer close(events)
		rd := recordio.NewReader(bufio.NewReader(resp.Body), 1<<24)
		for {
			rec, err := rd.ReadRecord()
			if err != nil {
				return
			}
			ev := &masterpb.Event{}
			if proto.Unmarshal(rec, ev) == nil {
				events <- ev
			}
		}
	}()
	next := func() *masterpb.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(30 * time.Second): // wall-clock: a bound on the HTTP stream
			t.Fatal("no event")
			return nil
		}
	}
	if ev := next(); ev.GetType() != masterpb.Event_SUBSCRIBED || len(ev.GetSubscribed().GetGetState().GetGetAgents().GetAgents()) != 0 {
		t.Fatalf("first event %v", ev)
	}
	fs := c.StartFakeSlave("cpus:1;mem:128")
	c.Advance(time.Second)
	id := cluster.Await(c, fs.Registered())
	if ev := next(); ev.GetType() != masterpb.Event_AGENT_ADDED || ev.GetAgentAdded().GetAgent().GetAgentInfo().GetId().GetValue() != id.GetValue() {
		t.Fatalf("after registration %v", ev)
	}
}
