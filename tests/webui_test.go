package tests

// The web UI in a real headless Chromium against a running cluster: the
// mesos-master and mesos-slave binaries with a task writing to its stdout
// over time, and two masters in one group for the leader redirect.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/internal/browser/browsertest"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/tests/cluster"
	"github.com/gomesos/gomesos/webui"
)

// Every page of the web UI renders a running cluster; the sandbox link
// leads to the task's stdout, which the viewer follows as it grows; the
// charts have data; and a screenshot of the overview is left for a
// person to look at.
func TestWebUIShowsRunningCluster(t *testing.T) {
	browsertest.Need(t)
	c, _ := startBinCluster(t, "--log_dir="+t.TempDir())
	ex := c.execute(t, "--name=ticker", "--command=i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
		"--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_RUNNING for task ticker")

	u := browsertest.Open(t, "http://"+c.master+"/")
	u.Attr(`body[data-loaded="true"]`, "data-loaded")
	task := `tr.active-task[data-task-id="ticker"][data-state="TASK_RUNNING"]`
	fid := u.Attr(task, "data-framework-id")
	sid := u.Attr(task, "data-slave-id")
	if got := u.Text("#summary-tasks-running"); got != "1" {
		t.Errorf("running tasks = %s", got)
	}
	if got := u.Text("#summary-cpus-total"); got != "4" {
		t.Errorf("total CPUs = %s", got)
	}
	if got := u.Text("#summary-cpus-used"); got != "0.5" {
		t.Errorf("used CPUs = %s", got)
	}
	if got := u.Text("#summary-leader"); !strings.HasPrefix(got, "master@") {
		t.Errorf("leader = %s", got)
	}

	// The charts: allocation over time gets a point per poll; the
	// framework's dominant share is 0.5 of 4 CPUs at least.
	var points int
	u.Wait(`(function(){ var g = document.querySelector('svg[data-chart="allocation"] g.series[data-series="CPUs"]');`+
		` return g && g.querySelector("polyline") && +g.getAttribute("data-points") >= 2 && +g.getAttribute("data-points"); })()`, &points)
	u.Attr(`svg[data-chart="tasks"] g.series[data-series="running"] polyline`, "points")
	share, err := strconv.ParseFloat(u.Attr(`svg[data-chart="framework-shares"] g.bar`, "data-value"), 64)
	if err != nil || share < 0.125 {
		t.Errorf("framework share = %v (%v), want at least 0.125", share, err)
	}
	u.Attr(`svg[data-chart="role-shares"] g.bar[data-label="*"]`, "data-value")

	u.Screenshot("webui-overview.png")

	// The sandbox: the task's link resolves the executor's directory
	// through the slave's state and lists it; stdout is followed.
	u.Click(`a.sandbox[data-task-id="ticker"]`)
	u.Attr(`#view[data-page="browse"] tr.file[data-name="stderr"]`, "data-name")
	u.Click(`#view[data-page="browse"] tr.file[data-name="stdout"] a.view`)
	first := u.Attr(`#file-data[data-offset]:not([data-offset="0"])`, "data-offset")
	n0, _ := strconv.Atoi(first)
	var grown string
	u.Wait(`(function(){ var e = document.getElementById("file-data"); return e && +e.getAttribute("data-offset") > `+
		strconv.Itoa(n0)+` && e.textContent; })()`, &grown)
	if !strings.HasPrefix(grown, "tick 0\ntick 1\n") {
		t.Errorf("stdout in the viewer starts %q, want the task's ticks", grown[:min(len(grown), 40)])
	}

	// Each other page, with its key element.
	for _, pg := range []struct{ hash, selector string }{
		{"#/frameworks", `#frameworks tr.framework[data-framework-id="` + fid + `"] td.share`},
		{"#/frameworks/" + fid, `#framework-tasks tr[data-task-id="ticker"]`},
		{"#/slaves", `#slaves tr.slave[data-slave-id="` + sid + `"]`},
		{"#/slaves/" + sid, `#slave-executors tr.executor[data-executor-id="ticker"] a.sandbox`},
		{"#/slaves/" + sid + "/frameworks/" + fid + "/executors/ticker", `#executor-tasks tr[data-task-id="ticker"][data-state="TASK_RUNNING"]`},
		{"#/offers", `#view[data-page="offers"] table#offers`},
		{"#/", `#view[data-page="overview"] #summary`},
	} {
		u.Go(pg.hash)
		u.Attr(pg.selector, "class")
	}
	if got := u.Text("#summary-tasks-running"); got != "1" {
		t.Errorf("running tasks after browsing = %s", got)
	}

	// The master's log (--log_dir), through its own /files.
	u.Click("a#master-log")
	var log string
	u.Wait(`(function(){ var e = document.getElementById("file-data"); return e && e.textContent.indexOf("master started") >= 0 && e.textContent; })()`, &log)
}

// A master that does not lead sends the browser to the leader, keeping
// the page's route.
func TestWebUIStandbyRedirectsToLeader(t *testing.T) {
	browsertest.Need(t)
	g := detector.NewGroup()
	cfg := func() master.Config {
		return master.Config{Contender: g.Contender(), Detector: g.Detector(), WebUI: webui.Handler()}
	}
	leader := cluster.Start(t, cluster.Options{Network: true, Master: cfg()})
	standby := cluster.Start(t, cluster.Options{Network: true, Master: cfg()})
	leader.Settle()
	standby.Settle()

	u := browsertest.Open(t, fmt.Sprintf("http://%s/#/frameworks", standby.RT.Addr()))
	var where string
	u.Wait(`location.host === `+browsertest.JS(leader.RT.Addr().String())+` && document.body.getAttribute("data-loaded") === "true" && `+
		`document.querySelector('#view[data-page="frameworks"]') && location.href`, &where)
	if !strings.HasSuffix(where, "/#/frameworks") {
		t.Errorf("redirected to %s, want the leader's #/frameworks", where)
	}
	if got := u.Text("#summary-leader, #not-leader, #view h1"); got == "" {
		t.Error("empty page after the redirect")
	}
	var notice bool
	u.Eval(`!!document.getElementById("not-leader")`, &notice)
	if notice {
		t.Error("the leader's page says it is not the leader")
	}
}
