package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/browser"
	"github.com/gomesos/gomesos/webui"
)

const (
	frameworkID = "20240101-000000-16777343-5050-1234-0000"
	slaveID     = "20240101-000000-16777343-5050-1234-S0"
	sandboxDir  = "/tmp/work/slaves/" + slaveID + "/frameworks/" + frameworkID + "/executors/sleepy-1/runs/c0ffee"
)

// masterState is a fixture shaped like master.stateJSON: one framework
// running one task and having finished another, on one slave whose pid
// points at slaveAddr.
func masterState(slaveAddr string) map[string]any {
	res := func(cpus, mem, disk float64) map[string]any {
		return map[string]any{"cpus": cpus, "mem": mem, "disk": disk, "gpus": 0.0, "ports": "[31000-32000]"}
	}
	task := func(id, state string, ts float64) map[string]any {
		return map[string]any{
			"id": id, "name": "task " + id, "framework_id": frameworkID, "executor_id": "",
			"slave_id": slaveID, "state": state, "resources": res(0.5, 64, 0),
			"statuses": []any{map[string]any{"state": state, "timestamp": ts}},
		}
	}
	return map[string]any{
		"version":            "1.0.0",
		"id":                 "20240101-000000-16777343-5050-1234",
		"pid":                "master@127.0.0.1:5050",
		"leader":             "master@127.0.0.1:5050",
		"hostname":           "localhost",
		"cluster":            "test-cluster",
		"start_time":         1704067200.25,
		"elected_time":       1704067200.5,
		"activated_slaves":   1,
		"deactivated_slaves": 0,
		"slaves": []any{map[string]any{
			"id": slaveID, "pid": "slave(1)@" + slaveAddr, "hostname": "localhost",
			"registered_time": 1704067201.0, "resources": res(4, 4096, 10240),
			"used_resources": res(0.5, 64, 0), "offered_resources": res(0, 0, 0),
			"attributes": map[string]any{}, "active": true, "version": "1.0.0",
		}},
		"frameworks": []any{map[string]any{
			"id": frameworkID, "name": "sleepy", "pid": "scheduler(1)@127.0.0.1:40000",
			"user": "root", "hostname": "localhost", "role": "*", "active": true, "connected": true,
			"registered_time": 1704067202.0, "resources": res(0.5, 64, 0), "used_resources": res(0.5, 64, 0),
			"offered_resources": res(0, 0, 0), "capabilities": []any{}, "offers": []any{}, "executors": []any{},
			"tasks":           []any{task("sleepy-1", "TASK_RUNNING", 1704067203)},
			"completed_tasks": []any{task("sleepy-0", "TASK_FINISHED", 1704067202.5)},
		}},
		"completed_frameworks":    []any{},
		"orphan_tasks":            []any{},
		"unregistered_frameworks": []any{},
		"flags":                   map[string]any{},
	}
}

// slaveState is a fixture shaped like slave.stateJSON for the slave of
// masterState.
func slaveState() map[string]any {
	return map[string]any{
		"id": slaveID, "pid": "slave(1)@127.0.0.1:5051", "hostname": "localhost",
		"frameworks": []any{map[string]any{
			"id": frameworkID, "name": "sleepy",
			"executors": []any{map[string]any{
				"id": "sleepy-1", "directory": sandboxDir,
				"tasks":           []any{map[string]any{"id": "sleepy-1", "state": "TASK_RUNNING"}},
				"queued_tasks":    []any{},
				"completed_tasks": []any{},
			}},
			"completed_executors": []any{},
		}},
		"completed_frameworks": []any{},
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fakeSlave serves /slave(1)/state, with a CORS header if cors.
func fakeSlave(t *testing.T, cors bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slave(1)/state" {
			http.NotFound(w, r)
			return
		}
		if cors {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		writeJSON(w, slaveState())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeMaster serves the web UI and state at /master/state.
func fakeMaster(t *testing.T, state http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/", webui.Handler())
	mux.HandleFunc("/master/state", state)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		t.Skipf("skipping web UI browser test: %v", err)
	}
}

func dump(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := browser.DumpDOM(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return dom
}

func screenshot(t *testing.T, url, name string) {
	t.Helper()
	dir := os.Getenv("GOMESOS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := browser.Screenshot(ctx, url, file, 1280, 1100); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

func TestBrowserRendersState(t *testing.T) {
	needBrowser(t)
	slave := fakeSlave(t, true)
	slaveAddr := strings.TrimPrefix(slave.URL, "http://")
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, masterState(slaveAddr))
	})

	dom := dump(t, master.URL+"/")
	if _, ok := browser.FindTag(dom, "body", "data-loaded", "true"); !ok {
		t.Fatalf("body has no data-loaded=\"true\":\n%s", dom)
	}
	if _, ok := browser.FindTag(dom, "div", "id", "error"); ok {
		t.Errorf("error banner shown:\n%s", dom)
	}
	row, ok := browser.FindTag(dom, "tr", "class", "task active-task", "data-task-id", "sleepy-1", "data-state", "TASK_RUNNING")
	if !ok {
		t.Fatalf("no active task row for sleepy-1 in TASK_RUNNING:\n%s", dom)
	}
	if row["data-framework-id"] != frameworkID || row["data-slave-id"] != slaveID {
		t.Errorf("task row = %v", row)
	}
	if _, ok := browser.FindTag(dom, "tr", "class", "task completed-task", "data-task-id", "sleepy-0", "data-state", "TASK_FINISHED"); !ok {
		t.Errorf("no completed task row for sleepy-0:\n%s", dom)
	}
	if _, ok := browser.FindTag(dom, "tr", "class", "framework", "data-framework-id", frameworkID, "data-active", "true"); !ok {
		t.Errorf("no framework row:\n%s", dom)
	}
	if _, ok := browser.FindTag(dom, "tr", "class", "slave", "data-slave-id", slaveID); !ok {
		t.Errorf("no slave row:\n%s", dom)
	}

	want := slave.URL + "/files/browse?path=" + url.QueryEscape(sandboxDir)
	want = strings.ReplaceAll(want, "+", "%20")
	link, ok := browser.FindTag(dom, "a", "class", "sandbox", "data-task-id", "sleepy-1")
	if !ok {
		t.Fatalf("no sandbox link for sleepy-1:\n%s", dom)
	}
	if link["data-sandbox"] != "resolved" || link["href"] != want {
		t.Errorf("sandbox link = %v, want resolved href %s", link, want)
	}

	for id, text := range map[string]string{
		"summary-cluster":          "test-cluster",
		"summary-version":          "1.0.0",
		"summary-leader":           "master@127.0.0.1:5050",
		"summary-activated-slaves": "1",
		"summary-frameworks":       "1",
		"summary-tasks-running":    "1",
		"summary-tasks-finished":   "1",
		"summary-tasks-failed":     "0",
		"summary-cpus-total":       "4",
		"summary-cpus-used":        "0.5",
		"summary-mem-total":        "4.0 GB",
		"summary-start-time":       "2024-01-01 00:00:00 UTC",
	} {
		if !strings.Contains(dom, `id="`+id+`">`+text+`<`) {
			t.Errorf("summary: #%s is not %q", id, text)
		}
	}
	screenshot(t, master.URL+"/", "webui.png")
}

func TestBrowserSandboxFallbackWithoutCORS(t *testing.T) {
	needBrowser(t)
	slave := fakeSlave(t, false)
	slaveAddr := strings.TrimPrefix(slave.URL, "http://")
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, masterState(slaveAddr))
	})
	dom := dump(t, master.URL+"/")
	link, ok := browser.FindTag(dom, "a", "class", "sandbox", "data-task-id", "sleepy-1")
	if !ok {
		t.Fatalf("no sandbox link for sleepy-1:\n%s", dom)
	}
	if link["data-sandbox"] != "fallback" || link["href"] != slave.URL+"/files/browse?path=" {
		t.Errorf("sandbox link = %v, want the fallback to %s/files/browse?path=", link, slave.URL)
	}
}

func TestBrowserShowsFetchError(t *testing.T) {
	needBrowser(t)
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	})
	dom := dump(t, master.URL+"/")
	banner, ok := browser.FindTag(dom, "div", "id", "error")
	if !ok {
		t.Fatalf("no error banner:\n%s", dom)
	}
	if banner["role"] != "alert" {
		t.Errorf("error banner = %v", banner)
	}
	if !strings.Contains(dom, "HTTP 503") {
		t.Errorf("error banner does not give the status:\n%s", dom)
	}
	if _, ok := browser.FindTag(dom, "body", "data-loaded", "true"); ok {
		t.Error("body data-loaded=\"true\" without a successful fetch")
	}
	if _, ok := browser.FindTag(dom, "body", "data-error", "true"); !ok {
		t.Error("body lacks data-error=\"true\"")
	}
}
