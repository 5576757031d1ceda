package builtin

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process"
)

func newRuntime(t *testing.T) *process.Runtime {
	t.Helper()
	rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"), Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	return rt
}

func serve(rt *process.Runtime, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// /logging/toggle raises the level for the duration (master clock), then
// puts the original back; a second toggle replaces the first's timer.
func TestLoggingToggle(t *testing.T) {
	rt := newRuntime(t)
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	if err := SpawnLogging(rt, &level); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/logging/toggle", "/logging/toggle?level=1", "/logging/toggle?duration=1secs",
		"/logging/toggle?level=x&duration=1secs", "/logging/toggle?level=1&duration=soon", "/logging/toggle?level=-1&duration=1secs"} {
		if rec := serve(rt, bad); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
	if rec := serve(rt, "/logging/toggle?level=1&duration=30secs"); rec.Code != http.StatusOK || level.Level() != slog.LevelDebug {
		t.Fatalf("toggle: %d, level %v", rec.Code, level.Level())
	}
	rt.Clock().Advance(20 * time.Second)
	rt.Clock().Settle()
	if rec := serve(rt, "/logging/toggle?level=2&duration=1mins"); rec.Code != http.StatusOK {
		t.Fatalf("second toggle: %d", rec.Code)
	}
	rt.Clock().Advance(20 * time.Second) // past the first toggle's end
	rt.Clock().Settle()
	if level.Level() != slog.LevelDebug {
		t.Fatalf("the first toggle's timer ended the second: %v", level.Level())
	}
	rt.Clock().Advance(41 * time.Second)
	rt.Clock().Settle()
	if level.Level() != slog.LevelWarn {
		t.Fatalf("after the duration: %v", level.Level())
	}
	if rec := serve(rt, "/logging/toggle?level=0&duration=1secs"); rec.Code != http.StatusOK || level.Level() != slog.LevelWarn {
		t.Fatalf("level 0: %d %v", rec.Code, level.Level())
	}
}

// Spawning twice (a master and a slave on one runtime) is fine; /version
// and /system/stats.json answer.
func TestSpawnTwiceAndServe(t *testing.T) {
	rt := newRuntime(t)
	for i := 0; i < 2; i++ {
		if err := SpawnVersion(rt, "1.0.0"); err != nil {
			t.Fatal(err)
		}
		if err := SpawnSystem(rt); err != nil {
			t.Fatal(err)
		}
		if err := SpawnHelp(rt); err != nil {
			t.Fatal(err)
		}
	}
	var v map[string]any
	if rec := serve(rt, "/version"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v["version"] != "1.0.0" {
		t.Fatalf("/version: %d %s", rec.Code, rec.Body)
	}
	var s map[string]float64
	if rec := serve(rt, "/system/stats.json"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil || s["cpus_total"] < 1 {
		t.Fatalf("/system/stats.json: %d %s", rec.Code, rec.Body)
	}
	snap := rt.Metrics().Snapshot(t.Context())
	for _, name := range []string{"system/cpus_total", "system/load_1min", "system/load_5min", "system/load_15min", "system/mem_total_bytes", "system/mem_free_bytes"} {
		if _, ok := snap[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
}
