// Command sim runs the gomesos simulator: one seed and schedule (a replay
// line printed by a failing run), or a soak over many seeds.
//
//	go run ./cmd/sim -seed 12345 -schedule <base64>   # replay one run
//	go run ./cmd/sim -seed 12345                      # the schedule seed 12345 generates
//	go run ./cmd/sim -seed 12345 -trace               # and print every delivery
//	go run ./cmd/sim -seed 12345 -html out.html       # and write the trace viewer's page
//	go run ./cmd/sim -seeds 100000 -parallel 2        # soak
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gomesos/gomesos/sim"
)

// gcPercent is the garbage collector's target (GOGC) unless the
// environment sets one: a simulation allocates much and keeps little (a
// live heap of a few MB a run), so collecting at 5x the live heap instead
// of 2x saves about a fifth of a soak's CPU time for ~100 MB of memory.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	seed := flag.Uint64("seed", 1, "the run's seed (the first seed with -seeds)")
	schedule := flag.String("schedule", "", "a schedule as printed in a replay line (default: the one -seed generates)")
	trace := flag.Bool("trace", false, "print every delivery: virtual time, kind, from, to, type, short body")
	htmlOut := flag.String("html", "", "write the run (with -seeds: the failing one, shrunk) as a self-contained HTML message sequence chart to this file")
	seeds := flag.Int("seeds", 0, "soak: check this many seeds from -seed on, stop at the first violation")
	parallel := flag.Int("parallel", runtime.GOMAXPROCS(0), "soak: runs at once")
	twice := flag.Bool("twice", true, "soak: run each seed twice and compare the traces")
	shrink := flag.Bool("shrink", true, "shrink a failing schedule before printing it")
	verbose := flag.Bool("v", false, "print the components' logs")
	flag.Parse()

	cfg := sim.Config{}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if *seeds > 0 {
		os.Exit(soak(cfg, *seed, *seeds, *parallel, *twice, *shrink, *htmlOut))
	}
	s := sim.Generate(*seed, sim.GenOptions{})
	if *schedule != "" {
		var err error
		if s, err = sim.Decode(*schedule); err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			os.Exit(2)
		}
	}
	if *trace {
		cfg.TraceTo = os.Stdout
	}
	cfg.Seed = *seed
	cfg.Record = *htmlOut != ""
	res, err := sim.Run(cfg, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(2)
	}
	if res.Violation != nil && *shrink && *schedule == "" {
		res = sim.ShrinkResult(sim.Config{}, res)
	}
	fmt.Println(res.Report())
	if *htmlOut != "" {
		if err := sim.WriteHTML(*htmlOut, sim.Config{}, res); err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			os.Exit(2)
		}
		fmt.Println("trace viewer:", *htmlOut)
	}
	if res.Violation != nil {
		os.Exit(1)
	}
}

func soak(cfg sim.Config, first uint64, n, parallel int, twice, shrink bool, htmlOut string) int {
	var stats sim.SoakStats
	start := time.Now()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				printProgress(&stats, start)
			}
		}
	}()
	failure, err := sim.Soak(cfg, first, n, parallel, sim.GenOptions{}, twice, &stats)
	close(done)
	printProgress(&stats, start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		return 2
	}
	if failure == nil {
		fmt.Printf("no violation in %d seeds\n", stats.Seeds.Load())
		return 0
	}
	r := *failure
	if shrink {
		r = sim.ShrinkResult(cfg, r)
	}
	fmt.Println(r.Report())
	if htmlOut != "" {
		if err := sim.WriteHTML(htmlOut, cfg, r); err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			return 2
		}
		fmt.Println("trace viewer:", htmlOut)
	}
	return 1
}

func printProgress(s *sim.SoakStats, start time.Time) {
	el := time.Since(start).Seconds()
	fmt.Printf("seeds=%d seeds_per_sec=%.1f events_per_sec=%.0f deliveries_per_sec=%.0f violations=%d\n",
		s.Seeds.Load(), float64(s.Seeds.Load())/el, float64(s.Events.Load())/el, float64(s.Deliveries.Load())/el, s.Violations.Load())
}
