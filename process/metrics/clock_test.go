package metrics

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// manualTimers is a Clock whose timers fire only when the test says.
type manualTimers struct {
	mu    sync.Mutex
	fns   []func()
	armed chan time.Duration
}

func (m *manualTimers) AfterFunc(d time.Duration, fn func()) func() bool {
	m.mu.Lock()
	m.fns = append(m.fns, fn)
	m.mu.Unlock()
	m.armed <- d
	return func() bool { return false }
}

func (m *manualTimers) fire() {
	m.mu.Lock()
	fns := m.fns
	m.fns = nil
	m.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// The snapshot timeout runs on the injected clock: a gauge that never
// answers is left out when that clock says time is up, not before.
func TestSnapshotTimeoutUsesInjectedClock(t *testing.T) {
	r := NewRegistry()
	clock := &manualTimers{armed: make(chan time.Duration, 1)}
	r.SetClock(clock)
	c, _ := r.NewCounter("a/count")
	c.Inc()
	_, _ = r.NewGauge("a/stuck", func(ctx context.Context) (float64, error) { <-ctx.Done(); return 0, ctx.Err() })
	body := make(chan string, 1)
	go func() {
		rec := httptest.NewRecorder()
		r.SnapshotHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics/snapshot?timeout=3secs", nil))
		body <- rec.Body.String()
	}()
	var d time.Duration
	select {
	case d = <-clock.armed:
	case <-time.After(15 * time.Second): // wall-clock: failure guard
		t.Fatal("the snapshot never armed a timeout on the injected clock")
	}
	if d != 3*time.Second {
		t.Fatalf("timeout %v, want 3s", d)
	}
	select {
	case b := <-body:
		t.Fatalf("snapshot answered %q before its timeout fired", b)
	default:
	}
	clock.fire()
	select {
	case b := <-body:
		if b != `{"a\/count":1.0}` {
			t.Fatalf("snapshot %q", b)
		}
	case <-time.After(15 * time.Second): // wall-clock: failure guard
		t.Fatal("the snapshot did not end when its timeout fired")
	}
}
