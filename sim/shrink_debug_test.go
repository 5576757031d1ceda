package sim

import (
	"os"
	"strconv"
	"testing"
)

func TestShrinkDebug(t *testing.T) {
	seed, _ := strconv.ParseUint(os.Getenv("SEED"), 10, 64)
	s := Generate(seed, GenOptions{})
	want := ""
	fails := func(s Schedule) bool {
		res, err := Run(Config{Seed: seed}, s)
		if err != nil || res.Violation == nil {
			return false
		}
		if want == "" {
			want = res.Violation.Invariant
		}
		return res.Violation.Invariant == want
	}
	if !fails(s) {
		t.Skip("passes")
	}
	min := Shrink(s, fails)
	res, _ := Run(Config{Seed: seed}, min)
	t.Log(res.Report())
}
