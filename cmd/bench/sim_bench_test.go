package main

import (
	"testing"

	"github.com/gomesos/gomesos/sim"
)

// BenchmarkSimFixture runs seeds of bench sim's fixture (5 slaves, 3
// frameworks, 200 events) one after another on one goroutine, for
// profiling the simulator: go test -run X -bench SimFixture -cpuprofile.
func BenchmarkSimFixture(b *testing.B) {
	o := sim.GenOptions{MaxMasters: 1, MaxSlaves: 5, MaxFrameworks: 3, Events: 200}
	seeds := fixtureSeeds(o, 1, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var stats sim.SoakStats
		if _, err := sim.SoakSeeds(sim.Config{}, seeds[i%len(seeds):i%len(seeds)+1], 1, o, false, &stats); err != nil {
			b.Fatal(err)
		}
	}
}
