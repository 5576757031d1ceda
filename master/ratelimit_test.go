package master

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRateLimits(t *testing.T) {
	rl, err := ParseRateLimits([]byte(`{"limits":[{"principal":"foo","qps":55.5,"capacity":100000},{"principal":"bar","qps":300},{"principal":"baz"}],"aggregate_default_qps":333,"aggregate_default_capacity":1000000}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &RateLimits{
		Limits: []PrincipalLimit{
			{Principal: "foo", Throttle: &Throttle{QPS: 55.5, Capacity: 100000}},
			{Principal: "bar", Throttle: &Throttle{QPS: 300}},
			{Principal: "baz"},
		},
		AggregateDefault: &Throttle{QPS: 333, Capacity: 1000000},
	}
	if !reflect.DeepEqual(rl, want) {
		t.Fatalf("parsed %+v, want %+v", rl, want)
	}
	// A capacity without a rate is ignored, as Mesos does.
	if rl, err := ParseRateLimits([]byte(`{"limits":[{"principal":"p","capacity":5}]}`)); err != nil || rl.Limits[0].Throttle != nil {
		t.Fatalf("capacity without qps: %+v, %v", rl, err)
	}
	for _, bad := range []string{
		`{"limits":[{"qps":1}]}`,                                     // no principal
		`{"limits":[{"principal":"p","qps":1},{"principal":"p"}]}`,   // twice
		`{"limits":[{"principal":"p","qps":0}]}`,                     // not positive
		`{"limits":[{"principal":"p","qps":-3}]}`,                    // negative
		`{"limits":[{"principal":"p","qps":1e-300}]}`,                // interval overflows
		`{"limits":[{"principal":"p","qps":1,"capacity":0}]}`,        // drops all
		`{"aggregate_default_qps":0}`,                                // not positive
		`{"aggregate_default_qps":1,"aggregate_default_capacity":0}`, // drops all
		`{"aggregateddefaultqps":333}`,                               // the docs' typo
		`{"limits":[{"principal":"p","qps":"fast"}]}`,                // not a number
		`[]`, ``,
	} {
		if _, err := ParseRateLimits([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "rate limits: ") {
			t.Errorf("%s: %v, want a rate limits error", bad, err)
		}
	}
}

func TestThrottleInterval(t *testing.T) {
	for qps, want := range map[float64]string{1: "1s", 4: "250ms", 0.5: "2s", 1e9: "1ns"} {
		if got := (&Throttle{QPS: qps}).interval().String(); got != want {
			t.Errorf("qps %v: interval %s, want %s", qps, got, want)
		}
	}
}

// FuzzParseRateLimits: any input is refused with an error or parsed into
// limits that validate and survive a round trip through JSON unchanged.
func FuzzParseRateLimits(f *testing.F) {
	f.Add([]byte(`{"limits":[{"principal":"foo","qps":55.5,"capacity":100000},{"principal":"bar","qps":300},{"principal":"baz"}],"aggregate_default_qps":333,"aggregate_default_capacity":1000000}`))
	f.Add([]byte(`{"limits":[{"principal":"p","qps":1e-9}]}`))
	f.Add([]byte(`{"limits":[{"principal":"p","qps":"NaN"}]}`))
	f.Add([]byte(`{"aggregate_default_qps":"Infinity"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rl, err := ParseRateLimits(data)
		if err != nil {
			return
		}
		if err := rl.Validate(); err != nil {
			t.Fatalf("parsed limits do not validate: %v", err)
		}
		for _, l := range rl.Limits {
			if l.Throttle != nil && l.Throttle.interval() < 0 {
				t.Fatalf("negative interval for %+v", l.Throttle)
			}
		}
		out, err := rl.JSON()
		if err != nil {
			t.Fatalf("cannot write back %+v: %v", rl, err)
		}
		again, err := ParseRateLimits(out)
		if err != nil || !reflect.DeepEqual(again, rl) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", out, again, err, rl)
		}
	})
}
