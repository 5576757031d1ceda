package main

import (
	"strings"

	"github.com/gomesos/gomesos/master/allocator"
)

// allocatorGrid: one full allocation cycle of the pure DRF allocator over
// the grid of slaves × frameworks (ms, offers), and a steady-state cycle
// after 1% of the first cycle's offers were declined (next_ms,
// next_offers), one line per grid point.
func allocatorGrid(cfg config) (string, error) {
	var lines []string
	for _, p := range allocator.BenchGrid() {
		var ms, next []float64
		offers, nextOffers := 0, 0
		for i := 0; i < cfg.runs; i++ {
			f := allocator.MeasureCycle(p.Slaves, p.Frameworks)
			ms = append(ms, float64(f.First.Microseconds())/1000)
			next = append(next, float64(f.Next.Microseconds())/1000)
			offers, nextOffers = f.Offers, f.NextOffers
		}
		s, sn := summarize(ms), summarize(next)
		line := kv("slaves", p.Slaves, "frameworks", p.Frameworks, "ms", s.median, "offers", offers,
			"next_ms", sn.median, "next_offers", nextOffers)
		lines = append(lines, line)
	}
	// The first line is printed by main after the figure's name.
	return strings.Join(lines, "\nallocator "), nil
}
