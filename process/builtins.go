package process

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/metrics"
)

// metricsProcess serves the runtime's registry: /metrics/snapshot as
// Mesos's flat JSON and /metrics as Prometheus text.
type metricsProcess struct {
	Process
}

func (m *metricsProcess) Initialize() {
	reg := m.rt.metrics
	m.Route("/snapshot", "Returns a snapshot of every metric as flat JSON.", Handler(reg.SnapshotHandler()))
	m.Route("/", "Returns every metric in the Prometheus text format.", Handler(reg.PrometheusHandler()))
}

// processesProcess serves /__processes__: the live process ids.
type processesProcess struct {
	Process
}

func (pp *processesProcess) Initialize() {
	pp.Route("/", "Lists the live processes.", func(*http.Request) future.Future[*Response] {
		var ids []map[string]any
		pp.rt.procs.Range(func(k, _ any) bool {
			ids = append(ids, map[string]any{"id": k.(string)})
			return true
		})
		return JSON(ids)
	})
}

func (rt *Runtime) spawnBuiltins() error {
	if _, err := rt.Spawn(&metricsProcess{}, "metrics"); err != nil {
		return fmt.Errorf("spawn metrics process: %w", err)
	}
	if _, err := rt.Spawn(&processesProcess{}, "__processes__"); err != nil {
		return fmt.Errorf("spawn __processes__ process: %w", err)
	}
	return nil
}

// Gauge registers a metric whose value is computed by fn on this process
// whenever a snapshot is taken (so fn may read the process's state).
func (p *Process) Gauge(name string, fn func() float64) error {
	self, rt := p.self, p.rt
	_, err := rt.metrics.NewGauge(name, func(ctx context.Context) (float64, error) {
		f := Dispatch(rt, self, fn)
		select {
		case <-f.Done():
			return f.Get()
		case <-ctx.Done():
			f.Discard()
			return 0, fmt.Errorf("gauge %s: %w", name, ctx.Err())
		}
	})
	if err != nil {
		return fmt.Errorf("register gauge on %s: %w", p.self.ID, err)
	}
	return nil
}

// MetricsSnapshot collects every metric of the runtime, as
// /metrics/snapshot does (without its rate limit), pulling gauges for at
// most timeout (metrics.DefaultSnapshotTimeout when not positive). It
// blocks until then: call it off every process, since gauges dispatch to
// the processes they read.
func (rt *Runtime) MetricsSnapshot(timeout time.Duration) map[string]float64 {
	if timeout <= 0 {
		timeout = metrics.DefaultSnapshotTimeout
	}
	ctx, cancel := rt.metrics.WithTimeout(context.Background(), timeout)
	defer cancel()
	return rt.metrics.Snapshot(ctx)
}
