package webui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/webui"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndex(t *testing.T) {
	h := webui.Handler()
	for _, p := range []string{"/", "/index.html"} {
		r := get(t, h, http.MethodGet, p)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, r.StatusCode)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q, want text/html", p, ct)
		}
		b := body(t, r)
		for _, want := range []string{`<script src="static/app.js"`, `<script src="static/charts.js"`, `href="static/style.css"`, `id="view"`, `href="#/frameworks"`} {
			if !strings.Contains(b, want) {
				t.Errorf("GET %s: page lacks %s", p, want)
			}
		}
		if strings.Contains(b, "://") {
			t.Errorf("GET %s: page refers to an absolute URL (no external fetches allowed)", p)
		}
	}
}

func TestAssets(t *testing.T) {
	h := webui.Handler()
	for path, ct := range map[string]string{
		"/static/app.js":    "text/javascript",
		"/static/charts.js": "text/javascript",
		"/static/style.css": "text/css",
	} {
		r := get(t, h, http.MethodGet, path)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, r.StatusCode)
		}
		if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, ct) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, got, ct)
		}
		if len(body(t, r)) == 0 {
			t.Errorf("GET %s: empty body", path)
		}
		etag := r.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}
		if r := get(t, h, http.MethodGet, path, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: status %d, want 304", path, r.StatusCode)
		}
	}
	if r := get(t, h, http.MethodHead, "/static/app.js"); r.StatusCode != http.StatusOK {
		t.Errorf("HEAD /static/app.js: status %d", r.StatusCode)
	}
}

func TestAppScriptUsesNoNetworkButState(t *testing.T) {
	b := body(t, get(t, webui.Handler(), http.MethodGet, "/static/app.js"))
	charts := body(t, get(t, webui.Handler(), http.MethodGet, "/static/charts.js"))
	for _, bad := range []string{"https://", "cdn", "googleapis", "XMLHttpRequest"} {
		if strings.Contains(b, bad) {
			t.Errorf("app.js contains %q", bad)
		}
		if strings.Contains(charts, bad) {
			t.Errorf("charts.js contains %q", bad)
		}
	}
	if strings.Contains(charts, "fetch(") {
		t.Error("charts.js fetches something")
	}
	if !strings.Contains(b, "/master/state") {
		t.Error("app.js does not poll /master/state")
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := webui.Handler()
	for _, p := range []string{"/static/nope.js", "/static/", "/static", "/master/state", "/foo", "/static/../webui.go"} {
		if r := get(t, h, http.MethodGet, p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, r.StatusCode)
		}
	}
	if r := get(t, h, http.MethodPost, "/"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", r.StatusCode)
	}
}
