package allocator

import (
	"fmt"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/gomesos/gomesos/resources"
)

var t0 = time.Unix(1000, 0)

func res(t testing.TB, s string) resources.Resources {
	t.Helper()
	r, err := resources.Parse(s, "*")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// offered sums decisions per framework.
func offered(ds []Decision) map[string]resources.Resources {
	out := map[string]resources.Resources{}
	for _, d := range ds {
		out[d.FrameworkID] = out[d.FrameworkID].Plus(d.Resources)
	}
	return out
}

func TestRegistry(t *testing.T) {
	if _, err := New(nil, "HierarchicalDRF", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, "nope", Options{}); err == nil {
		t.Fatal("unknown allocator accepted")
	}
}

func TestWholeSlavePerFrameworkAndFairness(t *testing.T) {
	d := NewDRF(Options{})
	d.AddFramework("f1", "*", nil, t0)
	d.AddFramework("f2", "*", nil, t0)
	for i := 0; i < 4; i++ {
		d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, "cpus:2;mem:1024"), nil)
	}
	ds := d.Allocate(t0)
	if len(ds) != 4 {
		t.Fatalf("%d offers, want one per slave", len(ds))
	}
	got := offered(ds)
	if got["f1"].Scalar("cpus") != 4 || got["f2"].Scalar("cpus") != 4 {
		t.Fatalf("DRF split %v / %v, want two slaves each", got["f1"], got["f2"])
	}
	if again := d.Allocate(t0); len(again) != 0 {
		t.Fatalf("offered allocated resources again: %v", again)
	}
}

func TestRolesWeightsAndReservations(t *testing.T) {
	d := NewDRF(Options{Weights: map[string]float64{"heavy": 3}})
	d.AddFramework("light", "light", nil, t0)
	d.AddFramework("heavy", "heavy", nil, t0)
	for i := 0; i < 8; i++ {
		d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, "cpus:1;mem:100"), nil)
	}
	got := offered(d.Allocate(t0))
	if got["heavy"].Scalar("cpus") != 6 || got["light"].Scalar("cpus") != 2 {
		t.Fatalf("weighted split heavy %v light %v, want 6 and 2", got["heavy"], got["light"])
	}

	r := NewDRF(Options{})
	r.AddFramework("a", "a", nil, t0)
	r.AddFramework("b", "b", nil, t0)
	r.AddSlave("s", "h", res(t, "cpus(a):2;cpus:1"), nil)
	ds := r.Allocate(t0)
	for _, dec := range ds {
		if dec.FrameworkID == "b" && dec.Resources.Reserved("a").Scalar("cpus") > 0 {
			t.Fatalf("a's reservation offered to b: %v", ds)
		}
	}
	if offered(ds)["a"].Reserved("a").Scalar("cpus") != 2 {
		t.Fatalf("a did not get its reservation: %v", ds)
	}
}

func TestFiltersAndRecovery(t *testing.T) {
	d := NewDRF(Options{})
	d.AddFramework("f", "*", nil, t0)
	d.AddSlave("s", "h", res(t, "cpus:2;mem:1024"), nil)
	ds := d.Allocate(t0)
	if len(ds) != 1 {
		t.Fatal("no offer")
	}
	d.RecoverResources("f", "s", ds[0].Resources, 5, t0)
	if got := d.Allocate(t0.Add(4 * time.Second)); len(got) != 0 {
		t.Fatalf("filtered resources re-offered before 5 s: %v", got)
	}
	got := d.Allocate(t0.Add(5 * time.Second))
	if len(got) != 1 {
		t.Fatal("not re-offered after the filter expired")
	}
	d.RecoverResources("f", "s", got[0].Resources, 3600, t0)
	d.ReviveOffers("f")
	if len(d.Allocate(t0.Add(6*time.Second))) != 1 {
		t.Fatal("revive did not clear the filter")
	}
	d.SuppressOffers("f")
	d.RecoverResources("f", "s", got[0].Resources, 0, t0)
	if len(d.Allocate(t0.Add(7*time.Second))) != 0 {
		t.Fatal("suppressed framework got offers")
	}
	d.RemoveFramework("f")
	d.AddFramework("g", "*", nil, t0)
	if len(d.Allocate(t0.Add(8*time.Second))) != 1 {
		t.Fatal("a new framework did not get the freed slave")
	}
	d.RemoveSlave("s")
	if len(d.Allocate(t0.Add(9*time.Second))) != 0 {
		t.Fatal("removed slave offered")
	}
}

// allocationProperty says what any allocator owes the master, over random
// clusters of slaves (some with reserved cpus) and frameworks of three
// roles, across five cycles in which some offers are declined: it never
// offers more than a slave has free (safety), and after every cycle no
// slave keeps free resources that some framework's role could use
// (liveness: declines, made after the check, refuse for 1 s and cycles
// are 2 s apart, so no filter is still in force at the next cycle). An allocator that offers nothing fails it.
func allocationProperty(t *testing.T, newAllocator func(seed uint64) Allocator) gopter.Prop {
	return prop.ForAll(
		func(slaves, frameworks int, seed uint64, recoverEvery int) (bool, error) {
			a := newAllocator(seed)
			roles := map[string]bool{}
			for i := 0; i < frameworks; i++ {
				role := []string{"*", "r1", "r2"}[i%3]
				roles[role] = true
				a.AddFramework(fmt.Sprintf("f%d", i), role, nil, t0)
			}
			totals := map[string]resources.Resources{}
			for i := 0; i < slaves; i++ {
				id := fmt.Sprintf("s%d", i)
				totals[id] = res(t, fmt.Sprintf("cpus:%d;mem:%d;cpus(r1):1", 1+i%4, 256*(1+i%3)))
				a.AddSlave(id, "h", totals[id], nil)
			}
			held := map[string]resources.Resources{}
			now := t0
			for round := 0; round < 5; round++ {
				decisions := a.Allocate(now)
				for _, dec := range decisions {
					held[dec.SlaveID] = held[dec.SlaveID].Plus(dec.Resources)
				}
				for id, total := range totals {
					if !total.Contains(held[id]) {
						return false, fmt.Errorf("round %d: slave %s offered %v of %v", round, id, held[id], total)
					}
					free := total.Minus(held[id])
					for role := range roles {
						if usable := free.AllocatableTo(role).NonRevocable(); !usable.IsEmpty() {
							return false, fmt.Errorf("round %d: slave %s kept %v that role %s could use", round, id, usable, role)
						}
					}
				}
				for i, dec := range decisions {
					if recoverEvery > 0 && i%recoverEvery == 0 {
						a.RecoverResources(dec.FrameworkID, dec.SlaveID, dec.Resources, 1, now)
						held[dec.SlaveID] = held[dec.SlaveID].Minus(dec.Resources)
					}
				}
				now = now.Add(2 * time.Second)
			}
			return true, nil
		},
		gen.IntRange(1, 30), gen.IntRange(1, 10), gen.UInt64(), gen.IntRange(0, 3),
	)
}

func TestAllocationProperty(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 100
	props := gopter.NewProperties(params)
	props.Property("offers are within free resources and leave nothing usable unoffered", allocationProperty(t, func(seed uint64) Allocator {
		return NewDRF(Options{Seed: seed})
	}))
	props.Property("the DRF's own books agree with the offers", prop.ForAll(
		func(slaves, frameworks int, seed uint64) bool {
			d := NewDRF(Options{Seed: seed})
			for i := 0; i < frameworks; i++ {
				d.AddFramework(fmt.Sprintf("f%d", i), []string{"*", "r1", "r2"}[i%3], nil, t0)
			}
			for i := 0; i < slaves; i++ {
				d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, fmt.Sprintf("cpus:%d;mem:256;cpus(r1):1", 1+i%4)), nil)
			}
			held := map[string]resources.Resources{}
			for _, dec := range d.Allocate(t0) {
				held[dec.SlaveID] = held[dec.SlaveID].Plus(dec.Resources)
			}
			for id, s := range d.slaves {
				if !s.allocated.Equal(held[id]) {
					return false
				}
			}
			return true
		},
		gen.IntRange(1, 30), gen.IntRange(1, 10), gen.UInt64(),
	))
	props.TestingRun(t)
}

// idleAllocator is a broken allocator: it keeps the books of a DRF but
// never offers anything.
type idleAllocator struct{ Allocator }

func (idleAllocator) Allocate(time.Time) []Decision { return nil }

// greedyAllocator is a broken allocator: it offers every slave's whole
// total each cycle, whatever is already held.
type greedyAllocator struct {
	Allocator
	totals map[string]resources.Resources
	order  []string
}

func (g *greedyAllocator) AddSlave(id, hostname string, total resources.Resources, used map[string]resources.Resources) {
	g.totals[id] = total
	g.order = append(g.order, id)
	g.Allocator.AddSlave(id, hostname, total, used)
}

func (g *greedyAllocator) Allocate(time.Time) []Decision {
	var out []Decision
	for _, id := range g.order {
		out = append(out, Decision{FrameworkID: "f0", SlaveID: id, Resources: g.totals[id]})
	}
	return out
}

// TestAllocationPropertyBites shows that the property is not vacuous: it
// fails for an allocator that offers nothing and for one that offers what
// is already held.
func TestAllocationPropertyBites(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 100
	params.Rng.Seed(1)
	broken := map[string]func(uint64) Allocator{
		"offers nothing": func(seed uint64) Allocator { return idleAllocator{NewDRF(Options{Seed: seed})} },
		"offers held resources": func(seed uint64) Allocator {
			return &greedyAllocator{Allocator: NewDRF(Options{Seed: seed}), totals: map[string]resources.Resources{}}
		},
	}
	for name, ctor := range broken {
		res := allocationProperty(t, ctor).Check(params)
		if res.Passed() {
			t.Errorf("the allocation property passed for an allocator that %s", name)
		} else {
			t.Logf("an allocator that %s fails the property as it should: %v", name, res.Status)
		}
	}
}

func BenchmarkAllocate(b *testing.B) {
	for _, p := range BenchGrid() {
		b.Run(fmt.Sprintf("slaves=%d/frameworks=%d", p.Slaves, p.Frameworks), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := NewBenchCluster(p.Slaves, p.Frameworks)
				b.StartTimer()
				d.Allocate(time.Unix(1, 0))
			}
		})
	}
}

// BenchmarkAllocateNext times a steady-state cycle: after a first full
// cycle, 1% of the offers are declined.
func BenchmarkAllocateNext(b *testing.B) {
	for _, p := range BenchGrid() {
		b.Run(fmt.Sprintf("slaves=%d/frameworks=%d", p.Slaves, p.Frameworks), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := NewBenchCluster(p.Slaves, p.Frameworks)
				DeclineSome(d, d.Allocate(time.Unix(1, 0)), time.Unix(1, 0))
				b.StartTimer()
				d.Allocate(time.Unix(2, 0))
			}
		})
	}
}
