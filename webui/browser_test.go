package webui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gomesos/gomesos/internal/browser/browsertest"
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
			"webui_url":       "javascript:alert(1)",
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

// fakeSlave serves /slave(1)/state and a sandbox of one file, stdout,
// under /files, with a CORS header if cors.
func fakeSlave(t *testing.T, cors bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cors {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		switch {
		case r.URL.Path == "/slave(1)/state":
			writeJSON(w, slaveState())
		case r.URL.Path == "/files/browse" && r.URL.Query().Get("path") == sandboxDir:
			writeJSON(w, []any{map[string]any{"path": sandboxDir + "/stdout", "size": 6, "mode": "-rw-r--r--",
				"mtime": 1704067203, "nlink": 1, "uid": "root", "gid": "root"}})
		case r.URL.Path == "/files/read" && r.URL.Query().Get("path") == sandboxDir+"/stdout":
			if r.URL.Query().Get("offset") == "-1" {
				writeJSON(w, map[string]any{"offset": 6, "data": ""})
				return
			}
			writeJSON(w, map[string]any{"offset": 0, "data": "hello\n"})
		default:
			http.NotFound(w, r)
		}
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

func TestBrowserRendersState(t *testing.T) {
	browsertest.Need(t)
	slave := fakeSlave(t, true)
	slaveAddr := strings.TrimPrefix(slave.URL, "http://")
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, masterState(slaveAddr))
	})
	u := browsertest.Open(t, master.URL+"/")
	u.Attr(`body[data-loaded="true"]`, "data-loaded")
	u.Attr(`#view[data-page="overview"]`, "data-page")
	row := `tr.active-task[data-task-id="sleepy-1"][data-state="TASK_RUNNING"]`
	if fid := u.Attr(row, "data-framework-id"); fid != frameworkID {
		t.Errorf("task row framework = %q", fid)
	}
	u.Attr(`tr.completed-task[data-task-id="sleepy-0"][data-state="TASK_FINISHED"]`, "data-state")
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
		u.WaitText("#"+id, text)
	}
	// The framework's dominant share: 0.5 of 4 CPUs, 64 MB of 4 GB.
	if v := u.Attr(`svg[data-chart="framework-shares"] g.bar[data-label="sleepy"]`, "data-value"); v != "0.1250" {
		t.Errorf("framework share = %s, want 0.1250", v)
	}
	u.Attr(`svg[data-chart="allocation"] g.series[data-series="CPUs"]`, "data-points")

	// The sandbox link leads, through the slave's state, to the executor's
	// directory, and from there to the file.
	want := "#/slaves/" + slaveID + "/frameworks/" + frameworkID + "/executors/sleepy-1/browse"
	if href := u.Attr(`a.sandbox[data-task-id="sleepy-1"]`, "href"); href != want {
		t.Errorf("sandbox link = %s, want %s", href, want)
	}
	u.Click(`a.sandbox[data-task-id="sleepy-1"]`)
	u.Attr(`#view[data-page="browse"] tr.file[data-name="stdout"]`, "data-name")
	var hash string
	u.Eval("location.hash", &hash)
	if want := "#/slaves/" + slaveID + "/browse?path=" + url.QueryEscape(sandboxDir); hash != want {
		t.Errorf("location.hash = %s, want %s", hash, want)
	}
	u.Click(`tr.file[data-name="stdout"] a.view`)
	u.WaitText("#file-data", "hello")

	// The other pages.
	for hash, sel := range map[string]string{
		"#/frameworks":                `#frameworks tr.framework[data-framework-id="` + frameworkID + `"]`,
		"#/frameworks/" + frameworkID: `#framework-tasks tr[data-task-id="sleepy-1"]`,
		"#/slaves":                    `#slaves tr.slave[data-slave-id="` + slaveID + `"]`,
		"#/slaves/" + slaveID:         `#slave-executors tr.executor[data-executor-id="sleepy-1"]`,
		"#/offers":                    `#view[data-page="offers"] #offers`,
	} {
		u.Go(hash)
		u.Attr(sel, "id")
	}
	// A framework's webui_url that is not http(s) is shown, not linked.
	u.Go("#/frameworks/" + frameworkID)
	u.Attr(`#framework-tasks`, "id")
	var scripted int
	if u.Eval(`document.querySelectorAll('a[href^="javascript"]').length`, &scripted); scripted != 0 {
		t.Errorf("%d javascript: links on the framework's page", scripted)
	}
}

func TestBrowserSandboxWithoutCORS(t *testing.T) {
	browsertest.Need(t)
	slave := fakeSlave(t, false)
	slaveAddr := strings.TrimPrefix(slave.URL, "http://")
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, masterState(slaveAddr))
	})
	u := browsertest.Open(t, master.URL+"/#/slaves/"+slaveID+"/frameworks/"+frameworkID+"/executors/sleepy-1")
	u.Attr("#slave-error", "id")
}

func TestBrowserShowsFetchError(t *testing.T) {
	browsertest.Need(t)
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	})
	u := browsertest.Open(t, master.URL+"/")
	if role := u.Attr("div#error", "role"); role != "alert" {
		t.Errorf("error banner role = %q", role)
	}
	var text string
	u.Eval(`document.getElementById("error").textContent`, &text)
	if !strings.Contains(text, "HTTP 503") {
		t.Errorf("error banner %q does not give the status", text)
	}
	u.Attr(`body[data-error="true"]`, "data-error")
	var loaded bool
	if u.Eval(`document.body.hasAttribute("data-loaded")`, &loaded); loaded {
		t.Error("body data-loaded without a successful fetch")
	}
}

// The page stops polling while the tab is hidden and resumes, at once,
// when it is shown again.
func TestBrowserPollingPausedWhileHidden(t *testing.T) {
	browsertest.Need(t)
	var mu sync.Mutex
	fetches := 0
	master := fakeMaster(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		mu.Unlock()
		writeJSON(w, masterState("127.0.0.1:1"))
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return fetches
	}
	u := browsertest.Open(t, master.URL+"/")
	u.Attr(`body[data-loaded="true"]`, "data-loaded")
	u.Eval(`Object.defineProperty(document, "hidden", {configurable: true, get: function () { return true; }}); `+
		`document.dispatchEvent(new Event("visibilitychange")); true`, nil)
	// The poll after the tab was hidden finds it hidden and stops.
	u.Attr(`body[data-paused="true"]`, "data-paused")
	paused := count()
	var polls string
	u.Eval(`document.body.getAttribute("data-polls")`, &polls)
	u.Eval(`delete document.hidden; document.dispatchEvent(new Event("visibilitychange")); true`, nil)
	u.Attr(`body:not([data-paused])[data-polls]:not([data-polls="`+polls+`"])`, "data-polls")
	if got := count(); got <= paused {
		t.Errorf("state fetched %d times after resuming, %d when paused", got, paused)
	}
}
