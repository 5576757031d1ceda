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

// reserved returns amount of name dynamically reserved for role by p.
func reserved(name, role string, milli int64) resources.Resources {
	return resources.Resources{{Key: resources.Key{Name: name, Role: role, Principal: "p", Dynamic: true}, Kind: resources.Scalar, Milli: milli}}
}

func TestReservationsOfferedOnlyToTheirRole(t *testing.T) {
	d := NewDRF(Options{})
	d.AddFramework("fa", "a", nil, t0)
	d.AddFramework("fb", "b", nil, t0)
	d.AddSlave("s", "h", res(t, "cpus:4;mem:1024"), nil)
	if err := d.UpdateAvailable("s", res(t, "cpus:2"), reserved("cpus", "a", 2000)).Err(); err != nil {
		t.Fatal(err)
	}
	got := offered(d.Allocate(t0))
	if got["fb"].Scalar("cpus") == 4 || got["fa"].Scalar("cpus")+got["fb"].Scalar("cpus") != 4 {
		t.Fatalf("offers %v", got)
	}
	for fid, rs := range got {
		for _, r := range rs {
			if r.Role == "a" && fid != "fa" {
				t.Fatalf("a's reservation offered to %s: %v", fid, rs)
			}
		}
	}
	// Nothing is free now: the operator's reservation of more is refused.
	if err := d.UpdateAvailable("s", res(t, "mem:1"), reserved("mem", "a", 1000)).Err(); err == nil {
		t.Fatal("reserved allocated resources")
	}
	// A framework's RESERVE on its offer moves its allocation.
	d.UpdateAllocation("fb", "s", res(t, "mem:512"), reserved("mem", "b", 512000))
	d.RecoverResources("fb", "s", got["fb"].Minus(res(t, "mem:512")).Plus(reserved("mem", "b", 512000)), 0, t0)
	d.RecoverResources("fa", "s", got["fa"], 0, t0)
	d.RemoveFramework("fb")
	again := offered(d.Allocate(t0.Add(time.Second)))
	if again["fa"].Reserved("b").Scalar("mem") != 0 || again["fa"].Scalar("cpus") != 4 {
		t.Fatalf("after b's reservation, fa is offered %v", again["fa"])
	}
}

// The property of issue 16: whatever the reservations made by operators
// and by frameworks on their offers and the oversubscription estimates, no
// allocation cycle offers a role's reservation to a framework of another
// role, or revocable resources to a framework without the capability, and
// the allocator's books balance (each slave's total is what it started
// with, converted).
func TestReservationProperty(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 200
	props := gopter.NewProperties(params)
	roles := []string{"a", "b", "*"}
	props.Property("reservations go only to their role, revocable only to the capable", prop.ForAll(func(steps []int) string {
		d := NewDRF(Options{Seed: uint64(len(steps))})
		role := map[string]string{}
		for i, r := range roles {
			fid := fmt.Sprintf("f%d", i)
			role[fid] = r
			d.AddFramework(fid, r, nil, t0)
		}
		// f0 (role a) takes revocable resources, the others do not.
		revocable := map[string]bool{"f0": true}
		d.UpdateFramework("f0", true)
		static := resources.Resources{}
		for i := 0; i < 3; i++ {
			total, _ := resources.Parse("cpus:4;mem:1024;disk:100;cpus(a):1", "*")
			d.AddSlave(fmt.Sprintf("s%d", i), "h", total, nil)
			static = static.Plus(total)
		}
		held := map[[2]string]resources.Resources{} // framework, slave → offered
		now := t0
		for n, step := range steps {
			sid := fmt.Sprintf("s%d", step%3)
			fid := fmt.Sprintf("f%d", (step/3)%3)
			switch (step / 9) % 6 {
			case 0: // a cycle
				now = now.Add(time.Second)
				for _, dec := range d.Allocate(now) {
					for _, r := range dec.Resources {
						if (r.Revocable && !revocable[dec.FrameworkID]) || (r.Role != "*" && r.Role != role[dec.FrameworkID]) {
							return fmt.Sprintf("step %d: %s (role %s) offered %v", n, dec.FrameworkID, role[dec.FrameworkID], r)
						}
					}
					k := [2]string{dec.FrameworkID, dec.SlaveID}
					held[k] = held[k].Plus(dec.Resources)
				}
			case 1: // the framework reserves half a cpu of its offer for its role
				k := [2]string{fid, sid}
				if role[fid] == "*" || held[k].Unreserved().NonRevocable().ScalarMilli("cpus") < 500 {
					continue
				}
				from, to := res(t, "cpus:0.5"), reserved("cpus", role[fid], 500)
				d.UpdateAllocation(fid, sid, from, to)
				held[k] = held[k].Minus(from).Plus(to)
			case 2: // it gives back what it holds
				k := [2]string{fid, sid}
				d.RecoverResources(fid, sid, held[k], 0, now)
				delete(held, k)
			case 3: // an operator reserves a free cpu for a role
				r := roles[step%2]
				d.UpdateAvailable(sid, res(t, "cpus:1"), reserved("cpus", r, 1000))
			case 4: // an operator unreserves a free reserved cpu
				r := roles[step%2]
				d.UpdateAvailable(sid, reserved("cpus", r, 1000), res(t, "cpus:1"))
			case 5: // a new oversubscription estimate: offers of revocable
				// resources are rescinded first, as the master does
				for k, rs := range held {
					if k[1] == sid && !rs.Revocable().IsEmpty() {
						d.RecoverResources(k[0], sid, rs, 0, now)
						delete(held, k)
					}
				}
				est := resources.Resources{{Key: resources.Key{Name: "cpus", Role: "*", Revocable: true}, Kind: resources.Scalar, Milli: int64(step%4) * 500}}
				d.UpdateSlave(sid, est)
			}
		}
		var total resources.Resources
		for _, s := range d.slaves {
			total = total.Plus(s.total)
			var alloc resources.Resources
			for k, rs := range held {
				if k[1] == s.id {
					alloc = alloc.Plus(rs)
				}
			}
			if !alloc.Equal(s.allocated) {
				return fmt.Sprintf("slave %s: allocated %v, the frameworks hold %v", s.id, s.allocated, alloc)
			}
		}
		if !total.NonRevocable().Flatten("*").Equal(static.Flatten("*")) {
			return fmt.Sprintf("totals %v, started with %v", total, static)
		}
		return ""
	}, gen.SliceOf(gen.IntRange(0, 999))))
	props.TestingRun(t)
}
