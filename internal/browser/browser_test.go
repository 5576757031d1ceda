package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/browser"
)

const page = `<!doctype html>
<html><head><title>marker</title></head>
<body><div id="out">static</div>
<script>
setTimeout(function () {
  fetch("/data").then(function (r) { return r.text(); }).then(function (t) {
    var p = document.createElement("p");
    p.id = "marker";
    p.textContent = "script-ran:" + t;
    document.body.appendChild(p);
  });
}, 500);
</script></body></html>`

func serve(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("42"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func need(t *testing.T) {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
}

func TestDumpDOMSeesScriptOutput(t *testing.T) {
	need(t)
	srv := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dom, err := browser.DumpDOM(ctx, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `<p id="marker">script-ran:42</p>`) {
		t.Fatalf("DOM lacks the marker the script writes:\n%s", dom)
	}
}

func TestScreenshotWritesPNG(t *testing.T) {
	need(t)
	srv := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	file := filepath.Join(t.TempDir(), "shot.png")
	if err := browser.Screenshot(ctx, srv.URL+"/", file, 640, 480); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || string(b[:8]) != "\x89PNG\r\n\x1a\n" {
		t.Fatalf("%s is not a PNG (%d bytes)", file, len(b))
	}
}

func TestDumpDOMHonoursContext(t *testing.T) {
	need(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := browser.DumpDOM(ctx, "about:blank"); err == nil {
		t.Fatal("DumpDOM with a cancelled context succeeded")
	}
}

func TestFindHonoursOverride(t *testing.T) {
	t.Setenv(browser.EnvBinary, "/nonexistent/chromium")
	if _, err := browser.Find(); err == nil || !strings.Contains(err.Error(), browser.EnvBinary) {
		t.Fatalf("Find with a bad override: err = %v, want one naming %s", err, browser.EnvBinary)
	}
}

func TestDumpDOMTimesOut(t *testing.T) {
	need(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers until the test ends
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now() // wall-clock: bounding an external process
	_, err := browser.DumpDOM(ctx, srv.URL+"/")
	if err == nil {
		t.Fatal("DumpDOM of a page that never loads succeeded")
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("DumpDOM took %v after a 2s deadline", d)
	}
	if !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("error %q does not say the deadline passed", err)
	}
}

func TestPageNavigatesEvaluatesAndWaits(t *testing.T) {
	need(t)
	srv := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // wall-clock: bounds the browser
	defer cancel()
	p, err := browser.Open(ctx, 800, 600)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Navigate(ctx, srv.URL+"/"); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := p.WaitFor(ctx, `document.getElementById("marker") && document.getElementById("marker").textContent`, &text); err != nil {
		t.Fatal(err)
	}
	if text != "script-ran:42" {
		t.Errorf("marker = %q", text)
	}
	var sum int
	if err := p.Eval(ctx, `Promise.resolve(40 + 2)`, &sum); err != nil || sum != 42 {
		t.Errorf("Eval = %d, %v", sum, err)
	}
	if err := p.Eval(ctx, `nope()`, nil); err == nil {
		t.Error("Eval of a throwing expression did not fail")
	}
	if err := p.Eval(ctx, `setTimeout(function () { throw new Error("boom-in-page"); }, 0), 1`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `new Promise(function (r) { setTimeout(function () { r(true); }, 50); })`, nil); err != nil {
		t.Fatal(err)
	}
	if errs := p.Errors(); len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "boom-in-page") {
		t.Errorf("Errors() = %q, want the uncaught exception", errs)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if err := p.WaitFor(short, `false`, nil); err == nil {
		t.Error("WaitFor(false) returned without error")
	}
	file := filepath.Join(t.TempDir(), "page.png")
	if err := p.Screenshot(ctx, file); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot: %v", err)
	}
}
