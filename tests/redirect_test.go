package tests

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/tests/cluster"
)

// answer is one HTTP answer, redirects not followed.
type answer struct {
	code     int
	location string
	body     string
}

// request sends method path (with a JSON body if given) to c's master
// without following redirects.
func request(t *testing.T, c *cluster.Cluster, method, path, body string, header map[string]string) answer {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pr := future.NewPromise[answer]()
	go func() {
		req, err := http.NewRequest(method, fmt.Sprintf("http://%s%s", c.RT.Addr(), path), strings.NewReader(body))
		if err != nil {
			pr.Fail(err)
			return
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pr.Set(answer{resp.StatusCode, resp.Header.Get("Location"), string(b)})
	}()
	return cluster.Await(c, pr.Future())
}

// A master that does not lead answers the v1 scheduler API and
// /master/redirect with 307 to the leader (Location "//host:port/path",
// as Mesos writes it), or with 503 when it knows no leader; the leader's
// /master/redirect points at itself.
func TestNonLeaderRedirects(t *testing.T) {
	g := detector.NewGroup()
	leader := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Contender: g.Contender(), Detector: g.Detector()}})
	standby := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Contender: g.Contender(), Detector: g.Detector()}})
	// This one contends in the same group but follows an empty one: it
	// never leads and knows no leader.
	lost := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Contender: g.Contender(), Detector: detector.NewGroup().Detector()}})
	leader.Settle()
	standby.Settle()
	lost.Settle()

	info := leader.Master.Info()
	base := fmt.Sprintf("//%s:%d", info.GetHostname(), info.GetPort())
	json := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	subscribe := `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`
	teardown := `{"framework_id":{"value":"F"},"type":"TEARDOWN"}`

	for _, tc := range []struct {
		name      string
		c         *cluster.Cluster
		method    string
		path      string
		body      string
		header    map[string]string
		code      int
		location  string
		bodyMatch string
	}{
		{"standby SUBSCRIBE", standby, http.MethodPost, "/api/v1/scheduler", subscribe, json, http.StatusTemporaryRedirect, base + "/api/v1/scheduler", ""},
		{"standby call", standby, http.MethodPost, "/api/v1/scheduler", teardown, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": "x"}, http.StatusTemporaryRedirect, base + "/api/v1/scheduler", ""},
		{"standby /master/redirect", standby, http.MethodGet, "/master/redirect", "", nil, http.StatusTemporaryRedirect, base, ""},
		{"leader /master/redirect", leader, http.MethodGet, "/master/redirect", "", nil, http.StatusTemporaryRedirect, base, ""},
		{"no leader SUBSCRIBE", lost, http.MethodPost, "/api/v1/scheduler", subscribe, json, http.StatusServiceUnavailable, "", "No leader elected"},
		{"no leader call", lost, http.MethodPost, "/api/v1/scheduler", teardown, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": "x"}, http.StatusServiceUnavailable, "", "No leader elected"},
		{"no leader /master/redirect", lost, http.MethodGet, "/master/redirect", "", nil, http.StatusServiceUnavailable, "", "No leader elected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := request(t, tc.c, tc.method, tc.path, tc.body, tc.header)
			if a.code != tc.code || a.location != tc.location || !strings.Contains(a.body, tc.bodyMatch) {
				t.Fatalf("got %d Location %q %q; want %d Location %q", a.code, a.location, a.body, tc.code, tc.location)
			}
		})
	}
}
