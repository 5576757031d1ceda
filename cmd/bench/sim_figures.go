package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gomesos/gomesos/sim"
)

// simSeeds runs the simulator on the fixture: 5 slaves, 3
// frameworks (one master), 200 events per schedule, on every core. It
// reports seeds and schedule events per second of wall time and the
// projected time for 10,000 seeds.
func simSeeds(cfg config) (string, error) {
	n := cfg.n
	if n == 0 {
		n = 40
	}
	o := sim.GenOptions{MaxMasters: 1, MaxSlaves: 5, MaxFrameworks: 3, Events: 200}
	if os.Getenv("GOGC") == "" {
		// As cmd/sim does: a simulation allocates much and keeps little.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	var seedRates, eventRates, deliveryRates []float64
	for run := range cfg.runs {
		var stats sim.SoakStats
		// Fixed shape: Generate draws 1..Max, so pin it by generating
		// until the shape is the fixture's (before the clock starts:
		// picking seeds is not simulating).
		seeds := fixtureSeeds(o, uint64(run*n+1), n)
		start := time.Now()
		failure, err := sim.SoakSeeds(sim.Config{}, seeds, runtime.GOMAXPROCS(0), o, false, &stats)
		if err != nil {
			return "", err
		}
		if failure != nil {
			// Timing does not depend on it; say so (see sim/testdata/open.txt).
			fmt.Fprintf(os.Stderr, "bench: sim: seed %d violated %s\n", failure.Seed, failure.Violation.Invariant)
		}
		el := time.Since(start).Seconds()
		seedRates = append(seedRates, float64(stats.Seeds.Load())/el)
		eventRates = append(eventRates, float64(stats.Events.Load())/el)
		deliveryRates = append(deliveryRates, float64(stats.Deliveries.Load())/el)
	}
	s, e, d := summarize(seedRates), summarize(eventRates), summarize(deliveryRates)
	return kv("seeds_per_sec", s.median, "events_per_sec", e.median, "deliveries_per_sec", d.median,
		"ten_thousand_seeds_min", 10000/s.median/60, "parallel", runtime.GOMAXPROCS(0), "seeds_per_run", n), nil
}

// fixtureSeeds returns the first n seeds from first on whose schedules
// have the fixture's shape (5 slaves, 3 frameworks, 1 master).
func fixtureSeeds(o sim.GenOptions, first uint64, n int) []uint64 {
	var seeds []uint64
	for seed := first; len(seeds) < n; seed++ {
		s := sim.Generate(seed, o)
		if s.Shape == (sim.Shape{Masters: 1, Slaves: 5, Frameworks: 3}) {
			seeds = append(seeds, seed)
		}
	}
	return seeds
}
