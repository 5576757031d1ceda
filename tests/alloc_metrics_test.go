package tests

import (
	"testing"
	"time"

	"github.com/gomesos/gomesos/tests/cluster"
)

// Each allocation cycle is timed in allocator/mesos/allocation_run_ms
// (Mesos 1.0's name), with a count and percentiles; the clock is held,
// so the cycles take no time here.
func TestAllocationRunTimer(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	cluster.Await(c, c.StartFakeSlave(slaveResources).Registered())
	c.Advance(3 * time.Second)
	snap := c.RT.Metrics().Snapshot(t.Context())
	if n := snap["allocator/mesos/allocation_run_ms/count"]; n < 3 {
		t.Fatalf("allocation_run_ms/count = %v, want at least 3 cycles: %v", n, snap)
	}
	if v, ok := snap["allocator/mesos/allocation_run_ms/p99"]; !ok || v != 0 {
		t.Fatalf("allocation_run_ms/p99 = %v (present %v), want 0 with the clock held", v, ok)
	}
}
