package process

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

func TestPausedClockFiresTimersInOrder(t *testing.T) { both(t, testPausedClockFiresTimersInOrder) }

func testPausedClockFiresTimersInOrder(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	c := rt.Clock()
	c.Pause()
	start := c.Now()
	var fired []int
	c.Timer(3*time.Second, func() { fired = append(fired, 3) })
	c.Timer(1*time.Second, func() { fired = append(fired, 1) })
	cancelled := c.Timer(2*time.Second, func() { fired = append(fired, 2) })
	c.Timer(1*time.Second, func() { fired = append(fired, 11) }) // same deadline: creation order
	if !c.Cancel(cancelled) || c.Cancel(cancelled) {
		t.Fatal("Cancel: want true once, then false")
	}
	c.Advance(500 * time.Millisecond)
	if len(fired) != 0 {
		t.Fatalf("fired %v before any deadline", fired)
	}
	c.Advance(10 * time.Second)
	if want := []int{1, 11, 3}; !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if got := c.Now().Sub(start); got != 10500*time.Millisecond {
		t.Fatalf("paused clock advanced by %v, want 10.5s", got)
	}
	c.Update(start) // never backwards
	if c.Now().Sub(start) != 10500*time.Millisecond {
		t.Fatal("Update moved time backwards")
	}
}

func TestSettleAfterCascade(t *testing.T) { both(t, testSettleAfterCascade) }

func testSettleAfterCascade(t *testing.T, base Options) {
	rt := newRuntime(t, with(base, Options{NoNetwork: true}))
	rt.Clock().Pause()
	var log []string
	p, pid := spawn(t, rt, "p", nil)
	_, qid := spawn(t, rt, "q", nil)
	// A dispatch that dispatches to another process, which delays a
	// dispatch back; Delay(0) is due at once and Settle must fire it.
	Run(rt, pid, func() {
		log = append(log, "p1")
		Run(rt, qid, func() {
			log = append(log, "q1")
			Delay(rt, 0, pid, func() {
				log = append(log, "p2")
				p.Delay(time.Minute, func() { log = append(log, "p3") })
			})
		})
	})
	rt.Clock().Settle()
	if want := "p1 q1 p2"; join(log) != want {
		t.Fatalf("after settle: %q, want %q", join(log), want)
	}
	rt.Clock().Advance(time.Minute)
	rt.Clock().Settle()
	if want := "p1 q1 p2 p3"; join(log) != want {
		t.Fatalf("after advance: %q, want %q", join(log), want)
	}
}

func TestSettleIdleIsFast(t *testing.T) {
	rt := newRuntime(t, Options{NoNetwork: true})
	rt.Clock().Pause()
	start := time.Now() // wall-clock: measuring Settle itself
	for i := 0; i < 100; i++ {
		rt.Clock().Settle()
	}
	if d := time.Since(start) / 100; d > time.Millisecond { // wall-clock: measuring Settle itself
		t.Fatalf("idle Settle took %v, want < 1ms", d)
	}
}

func TestClockProperties(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 200
	properties := gopter.NewProperties(params)
	rt := newRuntime(t, Options{NoNetwork: true})
	c := rt.Clock()
	c.Pause()
	properties.Property("timers fire in deadline order whatever the advance steps", prop.ForAll(
		func(delays []int, steps []int) bool {
			type fire struct {
				deadline time.Duration
				seq      int
			}
			start := c.Now()
			var fired []fire
			for i, d := range delays {
				d, i := time.Duration(d)*time.Millisecond, i
				c.Timer(d, func() { fired = append(fired, fire{c.Now().Sub(start), i}) })
			}
			for _, s := range steps {
				c.Advance(time.Duration(s) * time.Millisecond)
			}
			c.Advance(time.Hour) // fire whatever is left
			if len(fired) != len(delays) {
				return false
			}
			want := make([]fire, len(delays))
			for i, d := range delays {
				want[i] = fire{time.Duration(d) * time.Millisecond, i}
			}
			sort.SliceStable(want, func(a, b int) bool { return want[a].deadline < want[b].deadline })
			for i := range want {
				if fired[i].seq != want[i].seq || fired[i].deadline < want[i].deadline {
					return false
				}
			}
			return true
		},
		gen.SliceOf(gen.IntRange(0, 2000)),
		gen.SliceOf(gen.IntRange(0, 700)),
	))
	properties.TestingRun(t)
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
