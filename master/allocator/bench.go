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

// CycleFigures are the timings of MeasureCycle.
type CycleFigures struct {
	First      time.Duration // the first, full cycle
	Offers     int           // offers the first cycle made
	Next       time.Duration // the next cycle, after 1% of offers were declined
	NextOffers int           // offers the next cycle made
}

// MeasureCycle builds a cluster and times one full allocation cycle over
// all of its slaves, then a cycle in steady state: after 1% of the first
// cycle's offers are declined (setup and declines excluded).
func MeasureCycle(slaves, frameworks int) CycleFigures {
	d := NewBenchCluster(slaves, frameworks)
	start := time.Now() // wall-clock: a benchmark measures real time
	decisions := d.Allocate(time.Unix(1, 0))
	first := time.Since(start) // wall-clock: a benchmark measures real time
	DeclineSome(d, decisions, time.Unix(1, 0))
	start = time.Now() // wall-clock: a benchmark measures real time
	next := d.Allocate(time.Unix(2, 0))
	return CycleFigures{First: first, Offers: len(decisions), Next: time.Since(start), NextOffers: len(next)} // wall-clock: a benchmark measures real time
}

// DeclineSome gives back every hundredth of decisions without a filter,
// as frameworks declining 1% of their offers do between two cycles.
func DeclineSome(a Allocator, decisions []Decision, now time.Time) {
	for i := 0; i < len(decisions); i += 100 {
		dec := decisions[i]
		a.RecoverResources(dec.FrameworkID, dec.SlaveID, dec.Resources, 0, now)
	}
}
