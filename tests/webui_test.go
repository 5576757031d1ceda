package tests

// The web UI in a real headless Chromium against a running cluster: the
// mesos-master and mesos-slave binaries with a task writing to its stdout
// over time, and two masters in one group for the leader redirect.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/internal/browser"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/tests/cluster"
	"github.com/gomesos/gomesos/webui"
)

// uiPage is a headless Chromium tab for one test, with the test's
// deadline.
type uiPage struct {
	t   *testing.T
	p   *browser.Page
	ctx context.Context
}

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium must be installed on CI (scripts/install-test-deps.sh): %v", err)
		}
		t.Skipf("no headless Chromium: %v", err)
	}
}

// openUI opens url in a fresh tab, closed (and its page errors reported)
// when the test ends.
func openUI(t *testing.T, url string) *uiPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // wall-clock: bounds the browser
	t.Cleanup(cancel)
	p, err := browser.Open(ctx, 1280, 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if errs := p.Errors(); len(errs) > 0 {
			t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
		}
		p.Close()
	})
	if err := p.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	return &uiPage{t: t, p: p, ctx: ctx}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wait waits for the JavaScript expression expr to be truthy and decodes
// its value into out (unless nil); on timeout it fails the test with the
// page's view.
func (u *uiPage) wait(expr string, out any) {
	u.t.Helper()
	if err := u.p.WaitFor(u.ctx, expr, out); err != nil {
		var dom string
		_ = u.p.Eval(context.Background(), "location.href + '\\n' + document.body.outerHTML", &dom)
		u.t.Fatalf("%v\npage:\n%s", err, dom)
	}
}

// attr waits for an element matching selector and returns its attribute.
func (u *uiPage) attr(selector, name string) string {
	u.t.Helper()
	var v string
	u.wait("(function(){ var e = document.querySelector("+jsString(selector)+"); return e && (e.getAttribute("+jsString(name)+") || '-'); })()", &v)
	return v
}

// text waits for an element matching selector and returns its text.
func (u *uiPage) text(selector string) string {
	u.t.Helper()
	var v string
	u.wait("(function(){ var e = document.querySelector("+jsString(selector)+"); return e && (e.textContent || '-'); })()", &v)
	return v
}

func (u *uiPage) eval(expr string, out any) {
	u.t.Helper()
	if err := u.p.Eval(u.ctx, expr, out); err != nil {
		u.t.Fatal(err)
	}
}

func (u *uiPage) click(selector string) {
	u.t.Helper()
	u.attr(selector, "href")
	u.eval("document.querySelector("+jsString(selector)+").click()", nil)
}

func (u *uiPage) goTo(hash string) {
	u.t.Helper()
	u.eval("location.hash = "+jsString(hash), nil)
}

// Every page of the web UI renders a running cluster; the sandbox link
// leads to the task's stdout, which the viewer follows as it grows; the
// charts have data; and a screenshot of the overview is left for a
// person to look at.
func TestWebUIShowsRunningCluster(t *testing.T) {
	needChromium(t)
	c, _ := startBinCluster(t, "--log_dir="+t.TempDir())
	ex := c.execute(t, "--name=ticker", "--command=i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
		"--resources=cpus:0.5;mem:64")
	ex.line(t, "TASK_RUNNING for task ticker")

	u := openUI(t, "http://"+c.master+"/")
	u.attr(`body[data-loaded="true"]`, "data-loaded")
	task := `tr.active-task[data-task-id="ticker"][data-state="TASK_RUNNING"]`
	fid := u.attr(task, "data-framework-id")
	sid := u.attr(task, "data-slave-id")
	if got := u.text("#summary-tasks-running"); got != "1" {
		t.Errorf("running tasks = %s", got)
	}
	if got := u.text("#summary-cpus-total"); got != "4" {
		t.Errorf("total CPUs = %s", got)
	}
	if got := u.text("#summary-cpus-used"); got != "0.5" {
		t.Errorf("used CPUs = %s", got)
	}
	if got := u.text("#summary-leader"); !strings.HasPrefix(got, "master@") {
		t.Errorf("leader = %s", got)
	}

	// The charts: allocation over time gets a point per poll; the
	// framework's dominant share is 0.5 of 4 CPUs at least.
	var points int
	u.wait(`(function(){ var g = document.querySelector('svg[data-chart="allocation"] g.series[data-series="CPUs"]');`+
		` return g && g.querySelector("polyline") && +g.getAttribute("data-points") >= 2 && +g.getAttribute("data-points"); })()`, &points)
	u.attr(`svg[data-chart="tasks"] g.series[data-series="running"] polyline`, "points")
	share, err := strconv.ParseFloat(u.attr(`svg[data-chart="framework-shares"] g.bar`, "data-value"), 64)
	if err != nil || share < 0.125 {
		t.Errorf("framework share = %v (%v), want at least 0.125", share, err)
	}
	u.attr(`svg[data-chart="role-shares"] g.bar[data-label="*"]`, "data-value")

	shot := filepath.Join(t.TempDir(), "webui-overview.png")
	if dir := os.Getenv("GOMESOS_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shot = filepath.Join(dir, "webui-overview.png")
	}
	if err := u.p.Screenshot(u.ctx, shot); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the overview: %s", shot)

	// The sandbox: the task's link resolves the executor's directory
	// through the slave's state and lists it; stdout is followed.
	u.click(`a.sandbox[data-task-id="ticker"]`)
	u.attr(`#view[data-page="browse"] tr.file[data-name="stderr"]`, "data-name")
	u.click(`#view[data-page="browse"] tr.file[data-name="stdout"] a.view`)
	first := u.attr(`#file-data[data-offset]:not([data-offset="0"])`, "data-offset")
	n0, _ := strconv.Atoi(first)
	var grown string
	u.wait(`(function(){ var e = document.getElementById("file-data"); return e && +e.getAttribute("data-offset") > `+
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
		u.goTo(pg.hash)
		u.attr(pg.selector, "class")
	}
	if got := u.text("#summary-tasks-running"); got != "1" {
		t.Errorf("running tasks after browsing = %s", got)
	}

	// The master's log (--log_dir), through its own /files.
	u.click("a#master-log")
	var log string
	u.wait(`(function(){ var e = document.getElementById("file-data"); return e && e.textContent.indexOf("master started") >= 0 && e.textContent; })()`, &log)
}

// A master that does not lead sends the browser to the leader, keeping
// the page's route.
func TestWebUIStandbyRedirectsToLeader(t *testing.T) {
	needChromium(t)
	g := detector.NewGroup()
	cfg := func() master.Config {
		return master.Config{Contender: g.Contender(), Detector: g.Detector(), WebUI: webui.Handler()}
	}
	leader := cluster.Start(t, cluster.Options{Network: true, Master: cfg()})
	standby := cluster.Start(t, cluster.Options{Network: true, Master: cfg()})
	leader.Settle()
	standby.Settle()

	u := openUI(t, fmt.Sprintf("http://%s/#/frameworks", standby.RT.Addr()))
	var where string
	u.wait(`location.host === `+jsString(leader.RT.Addr().String())+` && document.body.getAttribute("data-loaded") === "true" && `+
		`document.querySelector('#view[data-page="frameworks"]') && location.href`, &where)
	if !strings.HasSuffix(where, "/#/frameworks") {
		t.Errorf("redirected to %s, want the leader's #/frameworks", where)
	}
	if got := u.text("#summary-leader, #not-leader, #view h1"); got == "" {
		t.Error("empty page after the redirect")
	}
	var notice bool
	u.eval(`!!document.getElementById("not-leader")`, &notice)
	if notice {
		t.Error("the leader's page says it is not the leader")
	}
}
