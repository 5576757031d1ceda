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

// heldBy sums what each role was offered.
func heldBy(ds []Decision, roleOf map[string]string) map[string]resources.Resources {
	out := map[string]resources.Resources{}
	for _, d := range ds {
		r := roleOf[d.FrameworkID]
		out[r] = out[r].Plus(d.Resources)
	}
	return out
}

func TestQuotaComesBeforeFairShare(t *testing.T) {
	d := NewDRF(Options{Seed: 3, Weights: map[string]float64{"big": 100}})
	roleOf := map[string]string{"fq": "q", "fb": "big"}
	d.AddFramework("fb", "big", nil, t0)
	d.AddFramework("fq", "q", nil, t0)
	for i := 0; i < 4; i++ {
		d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, "cpus:2;mem:1024"), nil)
	}
	d.SetQuota("q", res(t, "cpus:4;mem:2048"))
	got := heldBy(d.Allocate(t0), roleOf)
	if got["q"].Scalar("cpus") < 4 || got["q"].Scalar("mem") < 2048 {
		t.Fatalf("quota role offered %v, want at least cpus:4;mem:2048 (all: %v)", got["q"], got)
	}
	if got["big"].Scalar("cpus") != 4 {
		t.Fatalf("the other role was offered %v, want the other two slaves", got["big"])
	}
}

func TestQuotaHoldsBackForAnIdleQuotaRole(t *testing.T) {
	d := NewDRF(Options{Seed: 1})
	d.AddFramework("fb", "b", nil, t0)
	d.AddFramework("fq", "q", nil, t0)
	d.SuppressOffers("fq") // declines everything for now
	for i := 0; i < 4; i++ {
		d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, "cpus:2;mem:1024"), nil)
	}
	d.SetQuota("q", res(t, "cpus:4"))
	got := offered(d.Allocate(t0))
	if got["fq"] != nil || got["fb"].Scalar("cpus") != 4 {
		t.Fatalf("offers %v: want fb offered only what q's lack leaves (cpus:4)", got)
	}
	// The held-back slaves go to the quota role once it wants them.
	d.ReviveOffers("fq")
	again := offered(d.Allocate(t0.Add(time.Second)))
	if again["fq"].Scalar("cpus") != 4 {
		t.Fatalf("after revive: %v", again)
	}
	// Quota removed: the rest is shared as before.
	d.RecoverResources("fq", "s0", nil, 0, t0)
	d.RemoveQuota("q")
	if d.quotas != nil && len(d.quotas) != 0 {
		t.Fatal("quota kept after RemoveQuota")
	}
}

func TestQuotaCountsReservationsAndIgnoresRevocable(t *testing.T) {
	d := NewDRF(Options{Seed: 1})
	d.AddFramework("fq", "q", nil, t0)
	d.AddFramework("fb", "b", nil, t0)
	d.UpdateFramework("fb", true)
	d.AddSlave("s0", "h", res(t, "cpus(q):2;mem:512"), nil)
	d.AddSlave("s1", "h", res(t, "cpus:2;mem:512"), nil)
	d.UpdateSlave("s1", resources.Resources{{Key: resources.Key{Name: "cpus", Role: "*", Revocable: true}, Kind: resources.Scalar, Milli: 8000}})
	d.SetQuota("q", res(t, "cpus:2"))
	got := offered(d.Allocate(t0))
	// q's reservation counts toward its guarantee and is offered to it
	// in either stage; revocable resources never go to a quota role (b,
	// which takes them, gets them all).
	if got["fq"].Reserved("q").Scalar("cpus") != 2 || !got["fq"].Revocable().IsEmpty() {
		t.Fatalf("fq offered %v", got["fq"])
	}
	if got["fb"].Revocable().Scalar("cpus") != 8 {
		t.Fatalf("fb offered %v", got["fb"])
	}
}

// The quota property: on a cluster of equal slaves where every quota is
// a whole number of slaves and the quotas fit, (1) a cycle gives every
// quota role with a framework that wants offers its guarantee at least,
// and (2) whatever the frameworks refuse, no cycle leaves less free than
// what the quota roles still lack. Offers stay within the free resources
// (the books balance).
func TestQuotaProperty(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 150
	props := gopter.NewProperties(params)
	unit := "cpus:2;mem:1024"
	props.Property("quota guarantees are met first, and held back otherwise", prop.ForAll(
		func(slaves int, quotas []int, others int, idle uint8, seed uint64) bool {
			d := NewDRF(Options{Seed: seed})
			roleOf := map[string]string{}
			want := map[string]int{}
			sum := 0
			for i, k := range quotas {
				if sum+k > slaves {
					break
				}
				sum += k
				role := fmt.Sprintf("q%d", i)
				want[role] = k
				fid := "f" + role
				roleOf[fid] = role
				d.AddFramework(fid, role, nil, t0)
				if idle&(1<<i) != 0 {
					d.SuppressOffers(fid)
				}
			}
			for i := 0; i < others; i++ {
				fid := fmt.Sprintf("o%d", i)
				roleOf[fid] = []string{"*", "r1"}[i%2]
				d.AddFramework(fid, roleOf[fid], nil, t0)
			}
			for i := 0; i < slaves; i++ {
				d.AddSlave(fmt.Sprintf("s%d", i), "h", res(t, unit), nil)
			}
			for role, k := range want {
				g := resources.Resources(nil)
				for j := 0; j < k; j++ {
					g = g.Plus(res(t, unit))
				}
				d.SetQuota(role, g)
			}
			ds := d.Allocate(t0)
			held := heldBy(ds, roleOf)
			lack := 0.0
			for role, k := range want {
				got := held[role].Scalar("cpus")
				if idle&(1<<roleIndex(role)) == 0 && got < float64(2*k) {
					t.Logf("role %s holds %v, guarantee %d slaves", role, held[role], k)
					return false
				}
				if got < float64(2*k) {
					lack += float64(2*k) - got
				}
			}
			free := float64(2 * slaves)
			for _, dec := range ds {
				free -= dec.Resources.Scalar("cpus")
			}
			if free < lack {
				t.Logf("free cpus %v < lacking %v", free, lack)
				return false
			}
			bySlave := map[string]resources.Resources{}
			for _, dec := range ds {
				bySlave[dec.SlaveID] = bySlave[dec.SlaveID].Plus(dec.Resources)
			}
			for id, r := range bySlave {
				if !res(t, unit).Contains(r) || !d.slaves[id].allocated.Equal(r) {
					return false
				}
			}
			return true
		},
		gen.IntRange(1, 12), gen.SliceOfN(4, gen.IntRange(1, 4)), gen.IntRange(0, 5), gen.UInt8(), gen.UInt64(),
	))
	props.TestingRun(t)
}

func roleIndex(role string) int {
	var i int
	fmt.Sscanf(role, "q%d", &i)
	return i
}

// BenchmarkAllocateWithQuota times a first full cycle of 10,000 slaves and
// 1,000 frameworks (as BenchmarkAllocate) where ten roles of ten
// frameworks each are guaranteed 100 slaves' worth.
func BenchmarkAllocateWithQuota(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := NewDRF(Options{Seed: 1})
		now := time.Unix(0, 0)
		for j := 0; j < 1000; j++ {
			role := "*"
			if j < 100 {
				role = fmt.Sprintf("q%d", j/10)
			}
			d.AddFramework(fmt.Sprintf("framework-%d", j), role, nil, now)
		}
		for j := 0; j < 10000; j++ {
			d.AddSlave(fmt.Sprintf("slave-%d", j), "host", benchSlave, nil)
		}
		g := res(b, "cpus:200;mem:102400")
		for q := 0; q < 10; q++ {
			d.SetQuota(fmt.Sprintf("q%d", q), g)
		}
		b.StartTimer()
		d.Allocate(time.Unix(1, 0))
	}
}
