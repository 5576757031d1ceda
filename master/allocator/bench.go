package allocator

import (
	"fmt"
	"time"

	"github.com/gomesos/gomesos/resources"
)

// GridPoint is one size of the allocation benchmark.
type GridPoint struct{ Slaves, Frameworks int }

// BenchGrid is the grid of the issue: 1k/5k/10k slaves × 1/100/1000
// frameworks.
func BenchGrid() []GridPoint {
	var out []GridPoint
	for _, s := range []int{1000, 5000, 10000} {
		for _, f := range []int{1, 100, 1000} {
			out = append(out, GridPoint{s, f})
		}
	}
	return out
}

// benchSlave is the agent of Mesos's allocator benchmarks.
var benchSlave = func() resources.Resources {
	r, err := resources.Parse("cpus:2;mem:1024;disk:4096;ports:[31000-32000]", "*")
	if err != nil {
		panic(err)
	}
	return r
}()

// NewBenchCluster returns a DRF allocator with the given number of
// slaves and frameworks, all active and idle.
func NewBenchCluster(slaves, frameworks int) *DRF {
	d := NewDRF(Options{Seed: 1})
	now := time.Unix(0, 0)
	for i := 0; i < frameworks; i++ {
		d.AddFramework(fmt.Sprintf("framework-%d", i), "*", nil, now)
	}
	for i := 0; i < slaves; i++ {
		d.AddSlave(fmt.Sprintf("slave-%d", i), "host", benchSlave, nil)
	}
	return d
}

// MeasureCycle builds a cluster and times one full allocation cycle over
// all of its slaves (setup excluded). It returns the duration and how
// many offers the cycle made.
func MeasureCycle(slaves, frameworks int) (time.Duration, int) {
	d := NewBenchCluster(slaves, frameworks)
	start := time.Now() // wall-clock: a benchmark measures real time
	decisions := d.Allocate(time.Unix(1, 0))
	return time.Since(start), len(decisions) // wall-clock: a benchmark measures real time
}

// DeclineSome gives back every hundredth of decisions without a filter,
// as frameworks declining 1% of their offers do between two cycles.
func DeclineSome(a Allocator, decisions []Decision, now time.Time) {
	for i := 0; i < len(decisions); i += 100 {
		dec := decisions[i]
		a.RecoverResources(dec.FrameworkID, dec.SlaveID, dec.Resources, 0, now)
	}
}

// MeasureNextCycle times a cycle of a cluster in steady state: after a
// first full cycle, 1% of the offers are declined (setup excluded). It
// returns the duration and how many offers the cycle made.
func MeasureNextCycle(slaves, frameworks int) (time.Duration, int) {
	d := NewBenchCluster(slaves, frameworks)
	DeclineSome(d, d.Allocate(time.Unix(1, 0)), time.Unix(1, 0))
	start := time.Now() // wall-clock: a benchmark measures real time
	decisions := d.Allocate(time.Unix(2, 0))
	return time.Since(start), len(decisions) // wall-clock: a benchmark measures real time
}
