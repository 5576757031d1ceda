package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCountersGaugesAndJSON(t *testing.T) {
	r := NewRegistry()
	c, err := r.NewCounter("a/b")
	if err != nil {
		t.Fatal(err)
	}
	c.Inc()
	if _, err := r.NewCounter("a/b"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := r.NewGauge("a/c", func(context.Context) (float64, error) { return 12.5, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewGauge("a/failing", func(context.Context) (float64, error) { return 0, errors.New("no") }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewGauge("a/slow", func(ctx context.Context) (float64, error) { <-ctx.Done(); return 0, ctx.Err() }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got := string(FormatJSON(r.Snapshot(ctx)))
	if want := `{"a\/b":1.0,"a\/c":12.5}`; got != want {
		t.Fatalf("snapshot %s, want %s", got, want)
	}
}

func TestSnapshotHandler(t *testing.T) {
	r := NewRegistry()
	c, _ := r.NewCounter("master/elected")
	c.Add(1)
	_, _ = r.NewGauge("master/slow", func(ctx context.Context) (float64, error) { <-ctx.Done(); return 0, ctx.Err() })
	rec := httptest.NewRecorder()
	r.SnapshotHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/snapshot?timeout=10ms&jsonp=cb", nil))
	if body := rec.Body.String(); body != `cb({"master\/elected":1.0});` {
		t.Fatalf("jsonp body %q", body)
	}
	rec = httptest.NewRecorder()
	r.SnapshotHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/snapshot?timeout=bogus", nil))
	if rec.Code != 400 {
		t.Fatalf("bad timeout answered %d", rec.Code)
	}
}

func TestRateLimitUsesInjectedClock(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	r := NewRegistry()
	r.SetNow(clk.now)
	r.SetSnapshotRateLimit(2, time.Second)
	codes := func() int {
		rec := httptest.NewRecorder()
		r.SnapshotHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/snapshot", nil))
		return rec.Code
	}
	if codes() != 200 || codes() != 200 || codes() != 429 {
		t.Fatal("third request within a second was not limited")
	}
	clk.t = clk.t.Add(time.Second)
	if codes() != 200 {
		t.Fatal("limit did not reset after the period")
	}
}

func TestTimerWindowAndPercentiles(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	r := NewRegistry()
	r.SetNow(clk.now)
	tm, err := r.NewTimer("allocator/allocation_run", 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range []int{10, 20, 30, 40, 50} { // the window keeps the last 4
		tm.Record(time.Duration(ms) * time.Millisecond)
	}
	stop := tm.Start()
	clk.t = clk.t.Add(60 * time.Millisecond)
	stop()
	s := r.Snapshot(context.Background())
	checks := map[string]float64{
		"allocator/allocation_run_ms":       60,
		"allocator/allocation_run_ms/count": 6,
		"allocator/allocation_run_ms/min":   30,
		"allocator/allocation_run_ms/max":   60,
		"allocator/allocation_run_ms/p50":   45,
	}
	for k, want := range checks {
		if s[k] != want {
			t.Errorf("%s = %v, want %v", k, s[k], want)
		}
	}
}

func TestPrometheusText(t *testing.T) {
	r := NewRegistry()
	c, _ := r.NewCounter("master/messages_register_slave")
	c.Add(3)
	_, _ = r.NewGauge("master/uptime_secs", func(context.Context) (float64, error) { return 12, nil })
	tm, _ := r.NewTimer("registrar/state_store", 10)
	tm.Record(5 * time.Millisecond)
	rec := httptest.NewRecorder()
	r.PrometheusHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"master_messages_register_slave 3",
		"master_uptime_secs 12",
		`registrar_state_store_ms{quantile="0.5"} 5`,
		"registrar_state_store_ms_count 1",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("Prometheus text lacks %q:\n%s", want, body)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"5secs": 5 * time.Second, "1.5mins": 90 * time.Second, "2hrs": 2 * time.Hour,
		"1days": 24 * time.Hour, "1weeks": 7 * 24 * time.Hour, "10ns": 10, "10us": 10 * time.Microsecond,
		"100ms": 100 * time.Millisecond, "1h30m": 90 * time.Minute,
	}
	for in, want := range cases {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "secs", "5parsecs", "-1secs", "abc"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5secs", "1.5mins", "100ms", "1h", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d)
		}
	})
}

func TestPercentileProperties(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("percentiles lie between min and max and grow with the quantile", prop.ForAll(
		func(vals []float64) bool {
			if len(vals) == 0 {
				return true
			}
			sort.Float64s(vals)
			prev := vals[0]
			for _, q := range quantiles {
				p := percentile(vals, q.q)
				if p < vals[0] || p > vals[len(vals)-1] || p < prev {
					return false
				}
				prev = p
			}
			return true
		},
		gen.SliceOf(gen.Float64Range(0, 1e6)),
	))
	props.TestingRun(t)
}
