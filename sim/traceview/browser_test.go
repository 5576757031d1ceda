package traceview

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/browser"
)

// needBrowser skips without a headless Chromium, except on CI, where
// the deps script installs it.
func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("skipping the trace viewer's browser test: %v", err)
	}
}

// writePage renders tr to a file under the artifacts directory
// ($GOMESOS_ARTIFACTS) or the test's temporary directory.
func writePage(t *testing.T, tr *Trace, name string) string {
	t.Helper()
	dir, err := browser.ArtifactsDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(f, tr); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := browser.DumpDOM(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := browser.FindTag(dom, "body", "data-rendered", "true"); !ok {
		t.Fatalf("the viewer's script did not finish:\n%s", tail(dom))
	}
	return dom
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// The page draws every fate and the violation in a real browser, and
// its filters (set from the URL's fragment) keep only what they match.
func TestViewerInBrowser(t *testing.T) {
	needBrowser(t)
	path := writePage(t, sample(true), "traceview-sample.html")
	dom := dumpDOM(t, "file://"+path)
	if _, ok := browser.FindTag(dom, "line", "class", "violation-marker", "data-invariant", "terminal-update-last", "data-row", "3"); !ok {
		t.Errorf("no violation marker after the third delivery:\n%s", tail(dom))
	}
	for _, fate := range []string{"dropped", "delayed", "duplicated"} {
		if _, ok := browser.FindTag(dom, "g", "data-fate", fate); !ok {
			t.Errorf("no %s delivery drawn", fate)
		}
	}
	if n := len(browser.Tags(dom, "g")); n < 5 {
		t.Errorf("%d groups drawn, want the 5 deliveries", n)
	}
	if _, ok := browser.FindTag(dom, "rect", "data-kind", "partition"); !ok {
		t.Error("the partition is not drawn as a band")
	}

	dom = dumpDOM(t, "file://"+path+"#task=task-2")
	rows := 0
	for _, g := range browser.Tags(dom, "g") {
		if !strings.HasPrefix(g["class"], "row") {
			continue
		}
		rows++
		if g["data-tasks"] != "task-2" {
			t.Errorf("the task filter let through a row of tasks %q", g["data-tasks"])
		}
	}
	if rows != 1 || !strings.Contains(dom, "1 of 5 deliveries shown") {
		t.Errorf("task filter: %d rows drawn, want 1", rows)
	}

	dom = dumpDOM(t, "file://"+path+"#type=exited")
	if !strings.Contains(dom, "1 of 5 deliveries shown") {
		t.Error("type filter: want 1 of 5 deliveries shown")
	}
}
