//go:build simmutation

package sim

import "testing"

// TestMutationIsCaught runs against a master built with a deliberate bug
// (go test -tags simmutation): the simulator must find a violation
// within 1,000 seeds and shrink it to at most 10 faults.
func TestMutationIsCaught(t *testing.T) {
	var stats SoakStats
	failure, err := Soak(Config{}, 1, 1000, 2, GenOptions{}, false, &stats)
	if err != nil {
		t.Fatal(err)
	}
	if failure == nil {
		t.Fatalf("the mutated master passed %d seeds", stats.Seeds.Load())
	}
	shrunk := ShrinkResult(Config{}, *failure)
	t.Logf("found at seed %d after %d seeds; shrunk:\n%s", failure.Seed, stats.Seeds.Load(), shrunk.Report())
	if n := shrunk.Schedule.Faults(); n > 10 {
		t.Fatalf("shrunk to %d faults, want at most 10", n)
	}
}
