// Package metrics keeps a runtime's metrics with Mesos's semantics —
// counters, pull-based gauges, and timers with windowed percentiles — and
// serves them two ways from one registry: Mesos's flat JSON at
// /metrics/snapshot (`{"master\/elected":1.0,...}`) and the Prometheus text
// format (through client_golang) at /metrics.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomesos/gomesos/process/walltime"
)

// ErrDuplicate is returned when a metric name is already registered.
var ErrDuplicate = errors.New("metric already registered")

// Registry holds named metrics.
type Registry struct {
	mu      sync.RWMutex
	metrics map[string]metric
	now     func() time.Time
	clock   Clock

	limitMu   sync.Mutex
	limit     int
	limitPer  time.Duration
	limitSeen []time.Time
}

type metric interface {
	// collect adds this metric's keys and values to out.
	collect(ctx context.Context, name string, out map[string]float64)
}

// Clock bounds the pulls of gauges: the snapshot timeout runs on it. The
// runtime gives its Clock's real-time side, so that a gauge that never
// answers does not hold a request forever while the clock is paused.
type Clock interface {
	// AfterFunc calls fn once d has passed; cancel stops it.
	AfterFunc(d time.Duration, fn func()) (cancel func() bool)
}

// NewRegistry returns an empty registry whose time is real time until
// SetNow and SetClock give it the runtime's.
func NewRegistry() *Registry {
	return &Registry{metrics: make(map[string]metric), now: walltime.Clock{}.Now, clock: walltime.Clock{}}
}

// SetNow sets the time source used by timers and the rate limit.
func (r *Registry) SetNow(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// SetClock sets the clock that bounds gauge pulls.
func (r *Registry) SetClock(c Clock) {
	r.mu.Lock()
	r.clock = c
	r.mu.Unlock()
}

// WithTimeout returns a context that ends after d by the registry's
// clock (or when parent ends), for bounding a Snapshot.
func (r *Registry) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	r.mu.RLock()
	clock := r.clock
	r.mu.RUnlock()
	ctx, cancel := context.WithCancel(parent)
	stop := clock.AfterFunc(d, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

func (r *Registry) add(name string, m metric) error {
	if name == "" || strings.ContainsAny(name, " \t\n\"") {
		return fmt.Errorf("register metric %q: invalid name", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.metrics[name]; ok {
		return fmt.Errorf("register metric %q: %w", name, ErrDuplicate)
	}
	r.metrics[name] = m
	return nil
}

// Remove unregisters a metric.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	delete(r.metrics, name)
	r.mu.Unlock()
}

// Counter is a running total.
type Counter struct {
	mu sync.Mutex
	v  float64
}

// NewCounter registers a counter.
func (r *Registry) NewCounter(name string) (*Counter, error) {
	c := &Counter{}
	if err := r.add(name, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds n.
func (c *Counter) Add(n float64) {
	c.mu.Lock()
	c.v += n
	c.mu.Unlock()
}

// Value returns the total.
func (c *Counter) Value() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

// Reset sets the total back to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.v = 0
	c.mu.Unlock()
}

func (c *Counter) collect(_ context.Context, name string, out map[string]float64) {
	out[name] = c.Value()
}

// Gauge is a value pulled when a snapshot is taken.
type Gauge struct {
	pull func(ctx context.Context) (float64, error)
}

// NewGauge registers a gauge whose value comes from pull; a pull that
// fails, or has not answered when the snapshot's context ends, leaves the
// gauge out of that snapshot.
func (r *Registry) NewGauge(name string, pull func(ctx context.Context) (float64, error)) (*Gauge, error) {
	g := &Gauge{pull: pull}
	if err := r.add(name, g); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *Gauge) collect(ctx context.Context, name string, out map[string]float64) {
	v, err := g.pull(ctx)
	if err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		out[name] = v
	}
}

// SettableGauge is a gauge whose owner pushes its value.
type SettableGauge struct {
	mu sync.Mutex
	v  float64
}

// NewSettableGauge registers a gauge set with Set.
func (r *Registry) NewSettableGauge(name string) (*SettableGauge, error) {
	g := &SettableGauge{}
	if err := r.add(name, g); err != nil {
		return nil, err
	}
	return g, nil
}

// Set sets the value.
func (g *SettableGauge) Set(v float64) {
	g.mu.Lock()
	g.v = v
	g.mu.Unlock()
}

func (g *SettableGauge) collect(_ context.Context, name string, out map[string]float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out[name] = g.v
}

// Timer records durations in milliseconds under `<name>_ms`, keeping the
// last window values for percentiles.
type Timer struct {
	r      *Registry
	mu     sync.Mutex
	window int
	values []float64 // ring of the last window values
	next   int
	count  int
	last   float64
}

// NewTimer registers a timer; its key is name + "_ms". A window above
// zero adds /count, /min, /max and percentiles to snapshots.
func (r *Registry) NewTimer(name string, window int) (*Timer, error) {
	t := &Timer{r: r, window: window}
	if err := r.add(name+"_ms", t); err != nil {
		return nil, err
	}
	return t, nil
}

// Record adds one duration.
func (t *Timer) Record(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = ms
	t.count++
	if t.window <= 0 {
		return
	}
	if len(t.values) < t.window {
		t.values = append(t.values, ms)
		return
	}
	t.values[t.next] = ms
	t.next = (t.next + 1) % t.window
}

// Start returns a function that records the time since Start, by the
// registry's clock.
func (t *Timer) Start() func() {
	t.r.mu.RLock()
	now := t.r.now
	t.r.mu.RUnlock()
	start := now()
	return func() { t.Record(now().Sub(start)) }
}

// quantiles are the percentiles Mesos exports, with their key suffixes.
var quantiles = []struct {
	q   float64
	key string
}{{0.5, "p50"}, {0.9, "p90"}, {0.95, "p95"}, {0.99, "p99"}, {0.999, "p999"}, {0.9999, "p9999"}}

func (t *Timer) collect(_ context.Context, name string, out map[string]float64) {
	t.mu.Lock()
	vals := append([]float64(nil), t.values...)
	count, last, window := t.count, t.last, t.window
	t.mu.Unlock()
	if count == 0 {
		return
	}
	out[name] = last
	if window <= 0 || len(vals) == 0 {
		return
	}
	sort.Float64s(vals)
	out[name+"/count"] = float64(count)
	out[name+"/min"] = vals[0]
	out[name+"/max"] = vals[len(vals)-1]
	for _, q := range quantiles {
		out[name+"/"+q.key] = percentile(vals, q.q)
	}
}

// percentile interpolates linearly between the closest ranks of sorted.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// Snapshot collects every metric, pulling gauges concurrently; gauges
// that fail or are still pending when ctx ends are left out.
func (r *Registry) Snapshot(ctx context.Context) map[string]float64 {
	r.mu.RLock()
	names := make([]string, 0, len(r.metrics))
	ms := make([]metric, 0, len(r.metrics))
	for n, m := range r.metrics {
		names = append(names, n)
		ms = append(ms, m)
	}
	r.mu.RUnlock()
	out := make(map[string]float64, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, m := range ms {
		if _, isGauge := m.(*Gauge); !isGauge {
			m.collect(ctx, names[i], out)
		}
	}
	for i, m := range ms {
		if _, isGauge := m.(*Gauge); !isGauge {
			continue
		}
		wg.Add(1)
		go func(name string, m metric) {
			defer wg.Done()
			part := make(map[string]float64, 1)
			done := make(chan struct{})
			go func() {
				m.collect(ctx, name, part)
				close(done)
			}()
			select {
			case <-done:
				mu.Lock()
				for k, v := range part {
					out[k] = v
				}
				mu.Unlock()
			case <-ctx.Done():
			}
		}(names[i], m)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	res := make(map[string]float64, len(out))
	for k, v := range out {
		res[k] = v
	}
	return res
}
