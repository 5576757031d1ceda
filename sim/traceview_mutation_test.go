//go:build simmutation

package sim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/browser"
)

// TestTraceViewerMarksViolation renders a known failing schedule (the
// mutated master's bug, testdata/mutation/) as cmd/sim -html does,
// opens it in headless Chromium and checks that the violation is marked
// where it happened, and that the task filter works on a real trace.
func TestTraceViewerMarksViolation(t *testing.T) {
	if _, err := browser.Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping the trace viewer's browser test: %v", err)
	}
	cases := readSchedules(t, "testdata/mutation/master-free-terminal-twice.sched")
	if len(cases) != 1 {
		t.Fatalf("%d schedules, want 1", len(cases))
	}
	res, err := Run(Config{Seed: cases[0].Seed, Record: true}, cases[0].Schedule)
	if err != nil {
		t.Fatal(err)
	}
	const want = "master-used-matches-tasks"
	if res.Violation == nil || res.Violation.Invariant != want {
		t.Fatalf("want a violation of %s, got %s", want, res.Report())
	}
	rec := res.Recording
	if rec.Violation == nil || rec.Violation.Step <= 0 || rec.Violation.Step > len(rec.Deliveries) {
		t.Fatalf("recorded violation %+v of %d deliveries", rec.Violation, len(rec.Deliveries))
	}
	dir, err := browser.ArtifactsDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sim-mutation-trace.html")
	if err := WriteHTML(path, Config{}, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("trace viewer: %s", path)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := browser.DumpDOM(ctx, "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := browser.FindTag(dom, "body", "data-rendered", "true"); !ok {
		t.Fatal("the viewer's script did not finish")
	}
	if _, ok := browser.FindTag(dom, "div", "id", "violation", "data-invariant", want); !ok {
		t.Error("no violation banner")
	}
	// The page opens at the violation: its marker is drawn, between the
	// deliveries before and after it.
	marker, ok := browser.FindTag(dom, "line", "class", "violation-marker", "data-invariant", want)
	if !ok {
		t.Fatal("the violation is not marked on the chart")
	}
	if marker["data-row"] == "" {
		t.Error("the marker names no row")
	}
	if !strings.Contains(dom, "invariant "+want+" violated at") {
		t.Error("the marker has no label")
	}

	// The task filter keeps only that task's messages.
	var task string
	for _, d := range rec.Deliveries {
		if len(d.Tasks) > 0 {
			task = d.Tasks[0]
			break
		}
	}
	if task == "" {
		t.Fatal("no delivery names a task")
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel2()
	dom, err = browser.DumpDOM(ctx2, "file://"+path+"#task="+task)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, g := range browser.Tags(dom, "g") {
		if strings.HasPrefix(g["class"], "row") {
			rows++
			if !strings.Contains(" "+g["data-tasks"]+" ", " "+task+" ") {
				t.Errorf("the filter for %s let through a row of tasks %q", task, g["data-tasks"])
			}
		}
	}
	if rows == 0 {
		t.Errorf("no row of task %s drawn", task)
	}
}
