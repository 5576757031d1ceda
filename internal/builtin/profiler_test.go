package builtin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Disabled, both routes refuse and name the variable; enabled, start then
// stop answers a pprof profile (gzip-compressed protobuf), and the routes
// refuse a second start and a stop with nothing running.
func TestProfiler(t *testing.T) {
	off := newRuntime(t)
	if err := SpawnProfiler(off, false); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/profiler/start", "/profiler/stop"} {
		rec := serve(off, path)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), ProfilerEnv+"=1") {
			t.Fatalf("disabled %s: %d %q", path, rec.Code, rec.Body.String())
		}
	}

	rt := newRuntime(t)
	if err := SpawnProfiler(rt, true); err != nil {
		t.Fatal(err)
	}
	if rec := serve(rt, "/profiler/stop"); rec.Code != http.StatusBadRequest {
		t.Fatalf("stop before start: %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(rt, "/profiler/start"); rec.Code != http.StatusOK {
		t.Fatalf("start: %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(rt, "/profiler/start"); rec.Code != http.StatusBadRequest {
		t.Fatalf("second start: %d %q", rec.Code, rec.Body.String())
	}
	rec := serve(rt, "/profiler/stop")
	if rec.Code != http.StatusOK {
		t.Fatalf("stop: %d %q", rec.Code, rec.Body.String())
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("profile is not pprof's gzip: %v", err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
		t.Fatalf("profile body: %d bytes, %v", len(b), err)
	}
}
