package slave

import (
	"strings"
	"testing"
)

func TestOversubscriptionPlugins(t *testing.T) {
	est, err := NewResourceEstimator(nil, "fixed", "cpus:2;mem:512")
	if err != nil {
		t.Fatal(err)
	}
	got, err := est.Oversubscribable().Get()
	if err != nil || got.Scalar("cpus") != 2 || got.Revocable().Scalar("mem") != 512 || !got.NonRevocable().IsEmpty() {
		t.Fatalf("fixed estimate %v, %v", got, err)
	}
	for _, c := range []struct{ name, params, want string }{
		{"fixed", "cpus(r):1", "cannot be reserved"},
		{"fixed", "cpus:x", "bad scalar"},
		{"nope", "", `unknown ResourceEstimator module "nope" (known: fixed, noop, org_apache_mesos_FixedResourceEstimator)`},
	} {
		if _, err := NewResourceEstimator(nil, c.name, c.params); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("estimator %s(%s): %v, want %q", c.name, c.params, err, c.want)
		}
	}
	if rs, _ := (NoopEstimator{}).Oversubscribable().Get(); !rs.IsEmpty() {
		t.Errorf("noop estimates %v", rs)
	}

	q, err := NewQoSController(nil, "load", "load_threshold_5min=2,load_threshold_15min=8")
	if err != nil {
		t.Fatal(err)
	}
	lq := q.(*LoadQoSController)
	execs := []ExecutorRef{{"f", "e1"}, {"f", "e2"}}
	for _, c := range []struct {
		load [3]float64
		kill int
	}{{[3]float64{9, 1, 1}, 0}, {[3]float64{0, 2.5, 1}, 2}, {[3]float64{0, 1, 8.5}, 2}, {[3]float64{0, 2, 8}, 0}} {
		lq.LoadAverage = func() ([3]float64, error) { return c.load, nil }
		if kills, _ := q.Corrections(execs).Get(); len(kills) != c.kill {
			t.Errorf("load %v: %d corrections, want %d", c.load, len(kills), c.kill)
		}
	}
	for _, bad := range []string{"", "load_threshold_5min=x", "other=1"} {
		if _, err := NewQoSController(nil, "load", bad); err == nil {
			t.Errorf("load controller accepted %q", bad)
		}
	}
	if _, err := procLoadAverage(); err != nil {
		t.Errorf("/proc/loadavg: %v", err)
	}
}
