package main

import (
	"strings"

	"github.com/gomesos/gomesos/master/allocator"
)

// allocatorGrid: one full allocation cycle of the pure DRF allocator over
// the grid of slaves × frameworks, one line per grid point.
func allocatorGrid(cfg config) (string, error) {
	var lines []string
	for _, p := range allocator.BenchGrid() {
		var ms []float64
		offers := 0
		for i := 0; i < cfg.runs; i++ {
			d, n := allocator.MeasureCycle(p.Slaves, p.Frameworks)
			ms = append(ms, float64(d.Microseconds())/1000)
			offers = n
		}
		s := summarize(ms)
		line := kv("slaves", p.Slaves, "frameworks", p.Frameworks, "ms", s.median, "offers", offers)
		lines = append(lines, line)
	}
	// The first line is printed by main after the figure's name.
	return strings.Join(lines, "\nallocator "), nil
}
