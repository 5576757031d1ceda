package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// get fetches a path from the cluster's port on another goroutine.
func get(t *testing.T, c *cluster.Cluster, path string) (int, []byte) {
	t.Helper()
	type result struct {
		code int
		body []byte
	}
	pr := future.NewPromise[result]()
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s%s", c.RT.Addr(), path))
		if err != nil {
			pr.Fail(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pr.Set(result{resp.StatusCode, b})
	}()
	r := cluster.Await(c, pr.Future())
	return r.code, r.body
}

func TestStateEndpoint(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	for _, path := range []string{"/master/state", "/master/state.json", "/state", "/state.json"} {
		code, body := get(t, c, path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		var state struct {
			Leader     string `json:"leader"`
			PID        string `json:"pid"`
			Frameworks []struct {
				ID    string `json:"id"`
				Tasks []struct {
					ID    string `json:"id"`
					State string `json:"state"`
				} `json:"tasks"`
			} `json:"frameworks"`
			Slaves []struct {
				ID        string             `json:"id"`
				Resources map[string]any     `json:"resources"`
				Used      map[string]float64 `json:"used_resources"`
			} `json:"slaves"`
		}
		if err := json.Unmarshal(body, &state); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
		if state.Leader != c.MasterPID.String() || state.PID != c.MasterPID.String() {
			t.Fatalf("leader %q pid %q, want both %q (mesos-go compares them)", state.Leader, state.PID, c.MasterPID)
		}
		if len(state.Frameworks) != 1 || state.Frameworks[0].ID != fid.GetValue() ||
			len(state.Frameworks[0].Tasks) != 1 || state.Frameworks[0].Tasks[0].State != "TASK_RUNNING" {
			t.Fatalf("frameworks in state: %+v", state.Frameworks)
		}
		if len(state.Slaves) != 1 || state.Slaves[0].Used["cpus"] != 1 {
			t.Fatalf("slaves in state: %+v", state.Slaves)
		}
	}
	if code, _ := get(t, c, "/master/health"); code != 200 {
		t.Fatalf("health: %d", code)
	}
	code, body := get(t, c, "/metrics/snapshot")
	var snap map[string]float64
	if err := json.Unmarshal(body, &snap); code != 200 || err != nil {
		t.Fatalf("snapshot: %d %v", code, err)
	}
	for _, k := range []string{"master/elected", "master/slaves_active", "master/tasks_running", "master/messages_register_slave", "master/outstanding_offers", "master/frameworks_active"} {
		if _, ok := snap[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
	if snap["master/tasks_running"] != 1 || snap["master/slaves_active"] != 1 {
		t.Errorf("tasks_running %v slaves_active %v", snap["master/tasks_running"], snap["master/slaves_active"])
	}
	_, body = get(t, c, "/master/tasks")
	var tasks struct {
		Tasks []map[string]any `json:"tasks"`
	}
	if err := json.Unmarshal(body, &tasks); err != nil || len(tasks.Tasks) != 1 {
		t.Fatalf("tasks: %v %s", err, body)
	}
	c.Advance(time.Second)
}
