package sim

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// CheckSeed runs the schedule Generate makes for seed; with twice, it
// runs it again and reports a violation "deterministic" when the two
// traces differ.
func CheckSeed(cfg Config, seed uint64, o GenOptions, twice bool) (Result, error) {
	cfg.Seed = seed
	s := Generate(seed, o)
	res, err := Run(cfg, s)
	if err != nil || res.Violation != nil || !twice {
		return res, err
	}
	again, err := Run(cfg, s)
	if err != nil {
		return res, err
	}
	if again.Trace != res.Trace {
		res.Violation = &Violation{Invariant: "deterministic", Detail: fmt.Sprintf("the same seed and schedule gave traces %016x and %016x", res.Trace, again.Trace)}
	}
	return res, nil
}

// ShrinkResult reduces a failing result's schedule to a smaller one that
// fails the same invariant with the same seed, and returns its result.
func ShrinkResult(cfg Config, r Result) Result {
	if r.Violation == nil {
		return r
	}
	cfg.Seed = r.Seed
	want := r.Violation.Invariant
	last := r
	min := Shrink(r.Schedule, func(s Schedule) bool {
		res, err := Run(cfg, s)
		if err != nil || res.Violation == nil || res.Violation.Invariant != want {
			return false
		}
		last = res
		return true
	})
	if res, err := Run(cfg, min); err == nil && res.Violation != nil {
		return res
	}
	return last
}

// SoakStats count a soak's progress.
type SoakStats struct {
	Seeds, Events, Deliveries, Violations atomic.Int64
}

// Soak checks seeds first, first+1, ... first+n-1 on parallel
// goroutines, and returns the failing result of lowest seed among those
// run, or nil. It stops early once one fails.
func Soak(cfg Config, first uint64, n int, parallel int, o GenOptions, twice bool, stats *SoakStats) (*Result, error) {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = first + uint64(i)
	}
	return soak(cfg, seeds, parallel, o, twice, true, stats)
}

// SoakSeeds checks every one of seeds on parallel goroutines and returns
// the failing result of lowest seed, or nil.
func SoakSeeds(cfg Config, seeds []uint64, parallel int, o GenOptions, twice bool, stats *SoakStats) (*Result, error) {
	return soak(cfg, seeds, parallel, o, twice, false, stats)
}

// soak runs CheckSeed over seeds, in order, on parallel goroutines; with
// stopEarly no new seed starts once one has failed.
func soak(cfg Config, seeds []uint64, parallel int, o GenOptions, twice, stopEarly bool, stats *SoakStats) (*Result, error) {
	var (
		next    atomic.Int64
		stop    atomic.Bool
		mu      sync.Mutex
		failure *Result
		runErr  error
		wg      sync.WaitGroup
	)
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := next.Add(1) - 1
				if i >= int64(len(seeds)) {
					return
				}
				res, err := CheckSeed(cfg, seeds[i], o, twice)
				stats.Seeds.Add(1)
				stats.Events.Add(int64(res.Events))
				stats.Deliveries.Add(int64(res.Delivered))
				if err == nil && res.Violation == nil {
					continue
				}
				mu.Lock()
				if err != nil && runErr == nil {
					runErr = fmt.Errorf("seed %d: %w", seeds[i], err)
				}
				if res.Violation != nil {
					stats.Violations.Add(1)
					if failure == nil || res.Seed < failure.Seed {
						r := res
						failure = &r
					}
				}
				mu.Unlock()
				if stopEarly {
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return failure, runErr
}
