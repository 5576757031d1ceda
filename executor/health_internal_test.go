package executor

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

func TestHealthPolicyDefaults(t *testing.T) {
	p := newHealthPolicy(&mesos.HealthCheck{})
	want := healthPolicy{delay: 15 * time.Second, interval: 10 * time.Second, timeout: 20 * time.Second, grace: 10 * time.Second, maxFailures: 3}
	if p != want {
		t.Fatalf("defaults %+v, want %+v", p, want)
	}
}

func TestHealthStateGraceReportsAndKill(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := &healthState{policy: newHealthPolicy(&mesos.HealthCheck{GracePeriodSeconds: proto.Float64(10), ConsecutiveFailures: proto.Uint32(2)}), started: t0}
	bad := errors.New("exit 1")
	steps := []struct {
		at                    time.Duration
		err                   error
		report, healthy, kill bool
	}{
		{1 * time.Second, bad, false, false, false}, // in the grace period: ignored
		{9 * time.Second, bad, false, false, false}, // still
		{11 * time.Second, bad, true, false, false}, // counted: 1
		{12 * time.Second, nil, true, true, false},  // healthy again: reported
		{13 * time.Second, nil, false, true, false}, // no change: not reported
		{14 * time.Second, bad, true, false, false}, // 1
		{15 * time.Second, bad, true, false, true},  // 2 in a row: kill
	}
	for i, s := range steps {
		d := h.result(t0.Add(s.at), s.err)
		if d.report != s.report || (d.report && d.healthy != s.healthy) || d.kill != s.kill {
			t.Fatalf("step %d: %+v", i, d)
		}
	}

	// After a first success, failures count even within the grace period.
	h = &healthState{policy: newHealthPolicy(&mesos.HealthCheck{ConsecutiveFailures: proto.Uint32(1)}), started: t0}
	h.result(t0.Add(time.Second), nil)
	if d := h.result(t0.Add(2*time.Second), bad); !d.kill {
		t.Fatalf("failure after success in the grace period: %+v", d)
	}
}
