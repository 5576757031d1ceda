package tests

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

func TestMonitorAndFilesEndpoints(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, slavePID, work := startSlave(t, c)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "echo out-of-the-box; exec sleep 1000")}, nil)
	cluster.Await(c, running)

	code, body := get(t, c, "/monitor/statistics.json")
	var usage []struct {
		ExecutorID  string `json:"executor_id"`
		FrameworkID string `json:"framework_id"`
		Statistics  struct {
			CpusLimit   float64 `json:"cpus_limit"`
			MemRssBytes uint64  `json:"mem_rss_bytes"`
			MemLimit    uint64  `json:"mem_limit_bytes"`
			Timestamp   float64 `json:"timestamp"`
		} `json:"statistics"`
	}
	if err := json.Unmarshal(body, &usage); err != nil || code != 200 {
		t.Fatalf("statistics %d %s: %v", code, body, err)
	}
	// The command executor's container: its task's resources plus 0.1 cpus and 32 MB.
	if len(usage) != 1 || usage[0].ExecutorID != "t1" || usage[0].Statistics.CpusLimit != 1.1 ||
		usage[0].Statistics.MemLimit != 96<<20 || usage[0].Statistics.MemRssBytes == 0 {
		t.Fatalf("statistics %s", body)
	}

	sandbox := sandboxOf(t, work, "t1")
	code, body = get(t, c, "/files/browse?path="+url.QueryEscape(sandbox))
	if code != 200 || !strings.Contains(string(body), `"path":"`+filepath.Join(sandbox, "stdout")+`"`) {
		t.Fatalf("browse %d %s", code, body)
	}
	// The task's output reaches stdout after TASK_RUNNING; read until it is there.
	code, body = get(t, c, "/files/read?offset=0&path="+url.QueryEscape(filepath.Join(sandbox, "stdout")))
	var page struct {
		Offset int64  `json:"offset"`
		Data   string `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil || code != 200 || page.Offset != 0 {
		t.Fatalf("read %d %s", code, body)
	}
	code, body = get(t, c, "/files/read?offset=-1&path="+url.QueryEscape(filepath.Join(sandbox, "stderr")))
	if code != 200 || !strings.HasPrefix(string(body), `{"data":"","offset":`) {
		t.Fatalf("read at -1: %d %s", code, body)
	}
	if err := os.WriteFile(filepath.Join(sandbox, "note"), []byte("downloadable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body = get(t, c, "/files/download?path="+url.QueryEscape(filepath.Join(sandbox, "note"))); code != 200 || string(body) != "downloadable" {
		t.Fatalf("download %d %q", code, body)
	}
	// JSONP, as Mesos's web UI asks for it.
	if code, body = get(t, c, "/files/read?offset=0&jsonp=angular.callbacks._0&path="+url.QueryEscape(filepath.Join(sandbox, "note"))); code != 200 ||
		string(body) != `angular.callbacks._0({"data":"downloadable","offset":0});` {
		t.Fatalf("read with jsonp: %d %q", code, body)
	}
	if code, body = get(t, c, "/"+slavePID.ID+"/state?jsonp=cb"); code != 200 || !strings.HasPrefix(string(body), `cb({`) || !strings.HasSuffix(string(body), `});`) {
		t.Fatalf("state with jsonp: %d %.80q", code, body)
	}
	for path, want := range map[string]int{
		"/" + slavePID.ID + "/state?jsonp=alert(1)":                     400,
		"/files/browse?jsonp=x%3Bevil&path=" + url.QueryEscape(sandbox): 400,
		"/files/browse":                                  400,
		"/files/browse?path=/etc":                        404, // outside the work directory
		"/files/read?path=" + sandbox + "/nope":          404,
		"/files/read?path=" + sandbox + "/note&offset=x": 400,
	} {
		if code, body := get(t, c, path); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}
}

func TestSandboxGarbageCollectedAfterGCDelay(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	s, _, work := c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.GCDelay = time.Hour; cfg.DiskWatchInterval = 24 * time.Hour })
	d, sched, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	runningF, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "true")}, nil)
	cluster.Await(c, runningF)
	cluster.Await(c, finished)
	sandbox := sandboxOf(t, work, "t1")
	// The executor exits once its update is acknowledged; wait for the
	// slave to see it end (the sandbox is then scheduled for GC).
	cluster.Await(c, s.ExecutorTerminated(fid.GetValue(), "t1"))
	c.Advance(59 * time.Minute)
	if _, err := os.Stat(sandbox); err != nil {
		t.Fatalf("sandbox removed before gc_delay: %v", err)
	}
	c.Advance(time.Minute)
	if _, err := os.Stat(sandbox); !os.IsNotExist(err) {
		t.Fatalf("sandbox still there after gc_delay: %v", err)
	}
}
