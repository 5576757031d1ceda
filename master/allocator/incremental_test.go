package allocator

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/gomesos/gomesos/resources"
)

// event is one step of a random history the allocators are driven
// through: Op picks the call, A, B and C its arguments.
type event struct{ Op, A, B, C int }

// Event kinds; every Op from opAllocate up runs a cycle, so cycles are
// frequent in a history.
const (
	opAddFramework = iota
	opRemoveFramework
	opActivateFramework
	opDeactivateFramework
	opAddSlave
	opRemoveSlave
	opActivateSlave
	opDeactivateSlave
	opRecover
	opRevive
	opSuppress
	opAllocate
	opMax = opAllocate + 3
)

// slaveKinds are the slaves of a history: plain, with a reservation for
// r1 or r2, with ports, with revocable cpus.
var slaveKinds = func() []resources.Resources {
	var out []resources.Resources
	for _, s := range []string{
		"cpus:2;mem:1024",
		"cpus:1;mem:512;cpus(r1):1",
		"cpus:4;mem:256;ports:[31000-31010]",
		"cpus:1;mem:128;disk(r2):100",
		"cpus(r1):2;mem(r1):64",
	} {
		r, err := resources.Parse(s, "*")
		if err != nil {
			panic(err)
		}
		out = append(out, r)
	}
	rev := resources.Resources{{Key: resources.Key{Name: "cpus", Role: "*", Revocable: true}, Kind: resources.Scalar, Milli: 500}}
	return append(out, out[0].Plus(rev))
}()

// refuseSeconds are the filters a recovery may set: none, short, long,
// and beyond what a time.Duration holds.
var refuseSeconds = []float64{0, 0, 1, 5, 3600, 1e12}

// formatDecisions renders a cycle's decisions, in order, for comparing.
func formatDecisions(ds []Decision) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s@%s:%v\n", d.FrameworkID, d.SlaveID, d.Resources)
	}
	return b.String()
}

// replay drives a and the reference through history and reports the
// first cycle at which their decisions differ.
func replay(seed uint64, history []event) error {
	opts := Options{Seed: seed, Weights: map[string]float64{"r1": 2, "r2": 0.5}}
	a, ref := NewDRF(opts), newRefDRF(opts)
	both := func(fn func(Allocator)) { fn(a); fn(ref) }
	fw := func(i int) string { return fmt.Sprintf("f%d", i%6) }
	sl := func(i int) string { return fmt.Sprintf("s%d", i%10) }
	var held []Decision // offers the master still holds
	now := t0
	cycles := 0
	for step, e := range history {
		switch e.Op {
		case opAddFramework:
			var used map[string]resources.Resources
			if e.C%4 == 0 {
				used = map[string]resources.Resources{sl(e.B): mustParse("cpus:1")}
			}
			role := []string{"*", "r1", "r2"}[e.B%3]
			both(func(x Allocator) { x.AddFramework(fw(e.A), role, used, now) })
		case opRemoveFramework:
			both(func(x Allocator) { x.RemoveFramework(fw(e.A)) })
		case opActivateFramework:
			both(func(x Allocator) { x.ActivateFramework(fw(e.A)) })
		case opDeactivateFramework:
			both(func(x Allocator) { x.DeactivateFramework(fw(e.A)) })
		case opAddSlave:
			var used map[string]resources.Resources
			if e.C%3 == 0 {
				used = map[string]resources.Resources{fw(e.A): mustParse("mem:64")}
			}
			total := slaveKinds[e.C%len(slaveKinds)]
			both(func(x Allocator) { x.AddSlave(sl(e.B), "h", total, used) })
		case opRemoveSlave:
			both(func(x Allocator) { x.RemoveSlave(sl(e.B)) })
		case opActivateSlave:
			both(func(x Allocator) { x.ActivateSlave(sl(e.B)) })
		case opDeactivateSlave:
			both(func(x Allocator) { x.DeactivateSlave(sl(e.B)) })
		case opRecover:
			if len(held) == 0 {
				continue
			}
			i := (e.A*len(slaveKinds) + e.B) % len(held)
			d := held[i]
			held = append(held[:i], held[i+1:]...)
			refuse := refuseSeconds[e.C%len(refuseSeconds)]
			both(func(x Allocator) { x.RecoverResources(d.FrameworkID, d.SlaveID, d.Resources, refuse, now) })
		case opRevive:
			both(func(x Allocator) { x.ReviveOffers(fw(e.A)) })
		case opSuppress:
			both(func(x Allocator) { x.SuppressOffers(fw(e.A)) })
		default:
			now = now.Add(time.Duration(e.C%4) * time.Second)
			got, want := a.Allocate(now), ref.Allocate(now)
			cycles++
			if g, w := formatDecisions(got), formatDecisions(want); g != w {
				return fmt.Errorf("cycle %d (step %d): incremental offered\n%s\nreference offered\n%s", cycles, step, g, w)
			}
			held = append(held, got...)
		}
	}
	return nil
}

func mustParse(s string) resources.Resources {
	r, err := resources.Parse(s, "*")
	if err != nil {
		panic(err)
	}
	return r
}

// TestIncrementalMatchesReference is the property that keeps the speed-up
// honest: over random histories of framework and slave changes, offers
// recovered with and without filters, revives, suppressions and cycles at
// advancing times, the DRF's incremental cycles (kept sorts, dirty slaves,
// indexed filters) make exactly the offers, in the same order, that the
// from-scratch reference makes.
func TestIncrementalMatchesReference(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	params.MaxSize = 200
	props := gopter.NewProperties(params)
	events := gen.Struct(reflect.TypeOf(event{}), map[string]gopter.Gen{
		"Op": gen.IntRange(0, opMax),
		"A":  gen.IntRange(0, 11),
		"B":  gen.IntRange(0, 11),
		"C":  gen.IntRange(0, 59),
	})
	props.Property("incremental and from-scratch cycles make the same offers", prop.ForAll(
		func(seed uint64, history []event) (bool, error) {
			if err := replay(seed, history); err != nil {
				return false, err
			}
			return true, nil
		},
		gen.UInt64(), gen.SliceOf(events),
	))
	props.TestingRun(t)
}

// TestIncrementalMatchesReferenceAtScale runs one long history over a
// bigger cluster (many frameworks of equal share, so ties are broken by
// name everywhere) against the reference.
func TestIncrementalMatchesReferenceAtScale(t *testing.T) {
	opts := Options{Seed: 7, Weights: map[string]float64{"r1": 3}}
	a, ref := NewDRF(opts), newRefDRF(opts)
	both := func(fn func(Allocator)) { fn(a); fn(ref) }
	for i := 0; i < 60; i++ {
		id, role := fmt.Sprintf("f%02d", i), []string{"*", "r1", "r2"}[i%3]
		both(func(x Allocator) { x.AddFramework(id, role, nil, t0) })
	}
	for i := 0; i < 400; i++ {
		id, total := fmt.Sprintf("s%03d", i), slaveKinds[i%len(slaveKinds)]
		both(func(x Allocator) { x.AddSlave(id, "h", total, nil) })
	}
	now := t0
	var held []Decision
	for cycle := 0; cycle < 40; cycle++ {
		got, want := a.Allocate(now), ref.Allocate(now)
		if g, w := formatDecisions(got), formatDecisions(want); g != w {
			t.Fatalf("cycle %d differs:\nincremental\n%s\nreference\n%s", cycle, g, w)
		}
		held = append(held, got...)
		// Give back every third held offer, some with filters; suppress,
		// revive and deactivate a few frameworks.
		kept := held[:0]
		for i, d := range held {
			if (i+cycle)%3 != 0 {
				kept = append(kept, d)
				continue
			}
			refuse := refuseSeconds[(i+cycle)%len(refuseSeconds)]
			both(func(x Allocator) { x.RecoverResources(d.FrameworkID, d.SlaveID, d.Resources, refuse, now) })
		}
		held = kept
		fid := fmt.Sprintf("f%02d", (cycle*7)%60)
		switch cycle % 4 {
		case 0:
			both(func(x Allocator) { x.SuppressOffers(fid) })
		case 1:
			both(func(x Allocator) { x.ReviveOffers(fid) })
		case 2:
			both(func(x Allocator) { x.DeactivateFramework(fid) })
		case 3:
			both(func(x Allocator) { x.ActivateFramework(fid) })
		}
		now = now.Add(time.Duration(cycle%3) * time.Second)
	}
}

// TestPassedOverSlavesComeBack covers the ways a slave that offered
// nothing at its last visit gets visited again: a framework becomes
// eligible while the slave is deactivated, a filter runs out, a revive.
func TestPassedOverSlavesComeBack(t *testing.T) {
	d := NewDRF(Options{})
	d.AddFramework("f", "*", nil, t0)
	d.AddSlave("s", "h", res(t, "cpus:1;mem:64"), nil)
	d.DeactivateFramework("f")
	if got := d.Allocate(t0); len(got) != 0 {
		t.Fatalf("inactive framework offered %v", got)
	}
	d.DeactivateSlave("s")
	d.ActivateFramework("f")
	if got := d.Allocate(t0); len(got) != 0 {
		t.Fatalf("inactive slave offered %v", got)
	}
	d.ActivateSlave("s")
	got := d.Allocate(t0)
	if len(got) != 1 {
		t.Fatal("a reactivated slave was not offered to a framework activated meanwhile")
	}

	d.RecoverResources("f", "s", got[0].Resources, 10, t0)
	if got := d.Allocate(t0.Add(9 * time.Second)); len(got) != 0 {
		t.Fatalf("filtered slave offered %v", got)
	}
	if got = d.Allocate(t0.Add(10 * time.Second)); len(got) != 1 {
		t.Fatal("the slave was not offered when its filter ran out")
	}

	d.RecoverResources("f", "s", got[0].Resources, 1e12, t0.Add(10*time.Second))
	if got := d.Allocate(t0.Add(11 * time.Second)); len(got) != 0 {
		t.Fatalf("filtered slave offered %v", got)
	}
	d.ReviveOffers("f")
	if got := d.Allocate(t0.Add(12 * time.Second)); len(got) != 1 {
		t.Fatal("the slave was not offered after a revive")
	}
}

// TestExpiriesStayBounded checks that filters replaced or revived again
// and again do not pile up in the expiry heap.
func TestExpiriesStayBounded(t *testing.T) {
	d := NewDRF(Options{})
	d.AddFramework("f", "*", nil, t0)
	d.AddSlave("s", "h", res(t, "cpus:1;mem:64"), nil)
	for i := 0; i < 1000; i++ {
		ds := d.Allocate(t0)
		if len(ds) != 1 {
			t.Fatalf("round %d: %d offers, want 1", i, len(ds))
		}
		d.RecoverResources("f", "s", ds[0].Resources, 1e12, t0)
		d.ReviveOffers("f")
	}
	if n := len(d.expiries); n > 2*d.filters+64 {
		t.Fatalf("%d expiries kept for %d filters", n, d.filters)
	}
}
