package metrics

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultSnapshotTimeout bounds gauge pulls when a snapshot request has
// no timeout parameter.
const DefaultSnapshotTimeout = 15 * time.Second

// SetSnapshotRateLimit limits /metrics/snapshot to n requests per period
// (by the registry's clock); requests over it get 429. n <= 0 disables it.
func (r *Registry) SetSnapshotRateLimit(n int, per time.Duration) {
	r.limitMu.Lock()
	r.limit, r.limitPer, r.limitSeen = n, per, nil
	r.limitMu.Unlock()
}

func (r *Registry) allow() bool {
	r.limitMu.Lock()
	defer r.limitMu.Unlock()
	if r.limit <= 0 {
		return true
	}
	r.mu.RLock()
	now := r.now()
	r.mu.RUnlock()
	kept := r.limitSeen[:0]
	for _, t := range r.limitSeen {
		if now.Sub(t) < r.limitPer {
			kept = append(kept, t)
		}
	}
	r.limitSeen = kept
	if len(kept) >= r.limit {
		return false
	}
	r.limitSeen = append(r.limitSeen, now)
	return true
}

// SnapshotHandler serves Mesos's /metrics/snapshot: one flat JSON object,
// keys sorted with '/' escaped, numbers always with a decimal point.
// Query parameters: timeout=<duration> bounds gauge pulls, jsonp=<cb>
// wraps the object in a call.
func (r *Registry) SnapshotHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.allow() {
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		timeout := DefaultSnapshotTimeout
		if s := req.URL.Query().Get("timeout"); s != "" {
			d, err := ParseDuration(s)
			if err != nil {
				http.Error(w, "bad timeout: "+err.Error(), http.StatusBadRequest)
				return
			}
			timeout = d
		}
		ctx, cancel := r.WithTimeout(req.Context(), timeout)
		defer cancel()
		body := FormatJSON(r.Snapshot(ctx))
		if cb := req.URL.Query().Get("jsonp"); cb != "" {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprintf(w, "%s(%s);", cb, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// FormatJSON writes a snapshot the way Mesos does: sorted keys, `\/` for
// '/', and doubles with a decimal point (`1.0`, `12.5`).
func FormatJSON(snap map[string]float64) []byte {
	keys := make([]string, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, c := range k {
			switch c {
			case '/':
				b.WriteString(`\/`)
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			default:
				if c < 0x20 {
					fmt.Fprintf(&b, `\u%04x`, c)
				} else {
					b.WriteRune(c)
				}
			}
		}
		b.WriteString(`":`)
		b.WriteString(formatNumber(snap[k]))
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// PrometheusHandler serves the registry in the Prometheus text format:
// names with invalid characters mapped to '_' (`master/uptime_secs` →
// `master_uptime_secs`); counters as counters, gauges as gauges, timers as
// summaries over their window (quantiles, count, and a sum of the window).
func (r *Registry) PrometheusHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{r})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

type collector struct{ r *Registry }

func (collector) Describe(chan<- *prometheus.Desc) {} // unchecked collector: names change at run time

var invalidPromChar = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

// PrometheusName maps a Mesos metric name to a valid Prometheus name.
func PrometheusName(name string) string {
	n := invalidPromChar.ReplaceAllString(name, "_")
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	ctx, cancel := r.WithTimeout(context.Background(), DefaultSnapshotTimeout)
	defer cancel()
	r.mu.RLock()
	names := make([]string, 0, len(r.metrics))
	ms := make(map[string]metric, len(r.metrics))
	for n, m := range r.metrics {
		names = append(names, n)
		ms[n] = m
	}
	r.mu.RUnlock()
	sort.Strings(names)
	var gauges []string
	for _, n := range names {
		switch m := ms[n].(type) {
		case *Counter:
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(PrometheusName(n), "Mesos metric "+n, nil, nil), prometheus.CounterValue, m.Value())
		case *Timer:
			m.mu.Lock()
			vals := append([]float64(nil), m.values...)
			count := m.count
			m.mu.Unlock()
			sort.Float64s(vals)
			sum := 0.0
			for _, v := range vals {
				sum += v
			}
			qs := map[float64]float64{}
			if len(vals) > 0 {
				for _, q := range quantiles {
					qs[q.q] = percentile(vals, q.q)
				}
			}
			ch <- prometheus.MustNewConstSummary(prometheus.NewDesc(PrometheusName(n), "Mesos timer "+n+" in milliseconds", nil, nil), uint64(count), sum, qs)
		default:
			gauges = append(gauges, n)
		}
	}
	vals := make(map[string]float64)
	for _, n := range gauges {
		if g, ok := ms[n].(*Gauge); ok {
			part := map[string]float64{}
			g.collect(ctx, n, part)
			for k, v := range part {
				vals[k] = v
			}
		} else {
			ms[n].collect(ctx, n, vals)
		}
	}
	for _, n := range gauges {
		if v, ok := vals[n]; ok {
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(PrometheusName(n), "Mesos metric "+n, nil, nil), prometheus.GaugeValue, v)
		}
	}
}

// ParseDuration reads a duration in Mesos syntax — a number and one of
// ns, us, ms, secs, mins, hrs, days, weeks (`5secs`, `1.5mins`) — or in
// Go syntax (`100ms`, `1h30m`).
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		unit   time.Duration
	}{
		{"weeks", 7 * 24 * time.Hour}, {"days", 24 * time.Hour}, {"hrs", time.Hour},
		{"mins", time.Minute}, {"secs", time.Second}, {"ms", time.Millisecond},
		{"us", time.Microsecond}, {"ns", time.Nanosecond},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok && num != "" {
			f, err := strconv.ParseFloat(num, 64)
			if err == nil {
				if f < 0 || math.IsNaN(f) || f*float64(u.unit) > math.MaxInt64 {
					return 0, fmt.Errorf("duration %q: out of range", s)
				}
				return time.Duration(f * float64(u.unit)), nil
			}
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number and one of ns, us, ms, secs, mins, hrs, days, weeks", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return d, nil
}
