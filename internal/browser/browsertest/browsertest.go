// Package browsertest opens headless Chromium tabs for tests of web pages
// (the web UI) and waits on them: each wait polls the page with a
// deadline and, when it runs out, fails the test showing the page.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/browser"
)

// Deadline bounds everything one Tab does, on a loaded machine too.
const Deadline = 90 * time.Second

// Tab is one headless Chromium tab of a test.
type Tab struct {
	T    testing.TB
	Page *browser.Page
	Ctx  context.Context
}

// Need skips the test when no headless Chromium is installed, or fails
// it on CI (CI=true), where scripts/install-test-deps.sh installs one.
func Need(t testing.TB) {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium must be installed on CI (scripts/install-test-deps.sh): %v", err)
		}
		t.Skipf("no headless Chromium: %v", err)
	}
}

// Open opens url in a fresh 1280x1000 tab. When the test ends the tab
// is closed, and the uncaught exceptions and console errors the page
// reported fail the test.
func Open(t testing.TB, url string) *Tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
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
	return &Tab{T: t, Page: p, Ctx: ctx}
}

// JS quotes s as a JavaScript string literal.
func JS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Wait waits for the JavaScript expression expr to be truthy and decodes
// its value into out (unless nil).
func (b *Tab) Wait(expr string, out any) {
	b.T.Helper()
	if err := b.Page.WaitFor(b.Ctx, expr, out); err != nil {
		var page string
		_ = b.Page.Eval(context.Background(), "location.href + '\\n' + document.body.outerHTML", &page)
		b.T.Fatalf("%v\npage:\n%s", err, page)
	}
}

// Attr waits for an element matching selector and returns its attribute
// name ("-" when it has none).
func (b *Tab) Attr(selector, name string) string {
	b.T.Helper()
	var v string
	b.Wait("(function(){ var e = document.querySelector("+JS(selector)+"); return e && (e.getAttribute("+JS(name)+") || '-'); })()", &v)
	return v
}

// Text waits for an element matching selector with some text and
// returns it.
func (b *Tab) Text(selector string) string {
	b.T.Helper()
	var v string
	b.Wait("(function(){ var e = document.querySelector("+JS(selector)+"); return e && e.textContent; })()", &v)
	return v
}

// WaitText waits until the element matching selector has the text want
// (trimmed).
func (b *Tab) WaitText(selector, want string) {
	b.T.Helper()
	b.Wait("(function(){ var e = document.querySelector("+JS(selector)+"); return e && e.textContent.trim() === "+JS(want)+"; })()", nil)
}

// Eval evaluates expr in the page and decodes its value into out.
func (b *Tab) Eval(expr string, out any) {
	b.T.Helper()
	if err := b.Page.Eval(b.Ctx, expr, out); err != nil {
		b.T.Fatal(err)
	}
}

// Click waits for an element matching selector and clicks it.
func (b *Tab) Click(selector string) {
	b.T.Helper()
	b.Attr(selector, "class")
	b.Eval("document.querySelector("+JS(selector)+").click()", nil)
}

// Go sets the page's location.hash (a route of a single-page UI).
func (b *Tab) Go(hash string) {
	b.T.Helper()
	b.Eval("location.hash = "+JS(hash), nil)
}

// Screenshot writes a PNG of the whole page to name under
// $GOMESOS_ARTIFACTS (kept) or else the test's temporary directory, logs
// its path and returns it.
func (b *Tab) Screenshot(name string) string {
	b.T.Helper()
	dir := os.Getenv("GOMESOS_ARTIFACTS")
	if dir == "" {
		dir = b.T.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := b.Page.Screenshot(b.Ctx, file); err != nil {
		b.T.Fatal(err)
	}
	b.T.Logf("screenshot: %s", file)
	return file
}
