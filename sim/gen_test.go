package sim

import (
	"testing"
	"time"
)

func TestGeneratedSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s := Generate(seed, GenOptions{})
		start := time.Now()
		res, err := Run(Config{Seed: seed}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d %v %v: %d events, %d deliveries", seed, s.Shape, time.Since(start), res.Events, res.Delivered)
		if res.Violation != nil {
			t.Log(res.Report())
		}
	}
}
