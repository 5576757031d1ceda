package allocator

import (
	"slices"
	"time"

	"github.com/gomesos/gomesos/resources"
)

// SetQuota guarantees role the non-revocable scalar quantities of
// guarantee (Mesos 1.0's quota): each cycle first offers the role's
// frameworks what they may use until the role holds its guarantee, then
// offers the rest by fair share, holding back from other roles what the
// quota roles still lack. A role's quota replaces any it had.
func (d *DRF) SetQuota(role string, guarantee resources.Resources) {
	r := d.role(role)
	g := make([]int64, 0, len(guarantee))
	for _, res := range guarantee {
		if res.Kind != resources.Scalar || res.Revocable {
			continue
		}
		g = add(g, d.nameIndex(res.Name), res.Milli)
	}
	if d.quotas == nil {
		d.quotas = make(map[*roleState][]int64)
	}
	d.quotas[r] = g
	d.allDirty = true
}

// RemoveQuota ends role's guarantee.
func (d *DRF) RemoveQuota(role string) {
	if r := d.roles[role]; r != nil {
		delete(d.quotas, r)
	}
	d.allDirty = true
}

// lacking reports whether role r, of quota g, holds less than g of some
// resource (non-revocable, reserved for it or not).
func lacking(r *roleState, g []int64) bool {
	for i, v := range g {
		held := int64(0)
		if i < len(r.nonRev) {
			held = r.nonRev[i]
		}
		if held < v {
			return true
		}
	}
	return false
}

// hasActive reports whether a framework of r may be offered anything.
func (r *roleState) hasActive() bool {
	for _, f := range r.frameworks {
		if f.active && !f.suppressed {
			return true
		}
	}
	return false
}

// allocateWithQuota is a cycle with quotas set, as Mesos 1.0's
// hierarchical allocator runs it. Stage 1: on each slave, every quota
// role that lacks part of its guarantee (in role order) has its
// frameworks (in fair order) offered the slave's non-revocable
// unreserved resources and its own reservations, whole, as Mesos does
// (a role may get beyond its guarantee). Stage 2: the fair-share pass of
// Allocate, where quota roles get only their reservations and no offer
// may bring the cluster's free non-revocable resources below what the
// quota roles still lack. A slave passed over for that stays marked, so
// it is visited again next cycle.
func (d *DRF) allocateWithQuota(order []*slaveState, all bool, now time.Time) []Decision {
	visit := order[:0] // order is d.cycle, ours to reuse
	for _, s := range order {
		if s.active && (all || s.dirty) {
			s.dirty = false
			visit = append(visit, s)
		}
	}
	var out []Decision
	grant := func(f *frameworkState, s *slaveState, avail resources.Resources) {
		out = append(out, Decision{FrameworkID: f.id, SlaveID: s.id, Resources: avail})
		s.allocated = s.allocated.Plus(avail)
		d.charge(f, avail, 1)
	}

	// Stage 1: quota first.
	var qroles []*roleState
	for _, r := range d.roleOrder {
		if _, ok := d.quotas[r]; ok {
			qroles = append(qroles, r)
		}
	}
	for _, s := range visit {
		for _, r := range qroles {
			if !lacking(r, d.quotas[r]) || !r.hasActive() {
				continue
			}
			for _, f := range slices.Clone(r.frameworks) {
				if !f.active || f.suppressed {
					continue
				}
				avail := quotaOfferable(s.total.Minus(s.allocated), r.name)
				if avail.IsEmpty() {
					break
				}
				if d.refuses(f, s, avail, now) {
					continue
				}
				grant(f, s, avail)
			}
		}
	}

	// What the second stage may use: the cluster's free non-revocable
	// quantities less what the quota roles still lack.
	n := len(d.total)
	headroom := make([]int64, n)
	for i := range headroom {
		headroom[i] = at(d.nonRevTotal, i) - at(d.nonRevAlloc, i)
	}
	for r, g := range d.quotas {
		for i, v := range g {
			if lack := v - at(r.nonRev, i); lack > 0 {
				headroom[i] -= lack
			}
		}
	}
	used := make([]int64, n)
	fits := func(avail resources.Resources) bool {
		for _, r := range avail {
			if r.Kind == resources.Scalar && !r.Revocable {
				i := d.names[r.Name]
				if used[i]+r.Milli > headroom[i] {
					return false
				}
			}
		}
		return true
	}

	// Stage 2: fair share. The orders are copied only before a charge
	// after which the slave may still offer something (as allocateSlave).
	for _, s := range visit {
		free := s.total.Minus(s.allocated)
		if free.IsEmpty() {
			continue
		}
		roles, ownRoles := d.roleOrder, false
	slave:
		for _, r := range roles {
			_, quota := d.quotas[r]
			if quota {
				if free.Reserved(r.name).IsEmpty() {
					continue // a quota role gets only its reservations here
				}
			} else if offerable(free, r.name, true).IsEmpty() {
				continue
			}
			fws, ownFws := r.frameworks, false
			for fi := 0; fi < len(fws); fi++ {
				f := fws[fi]
				if !f.active || f.suppressed {
					continue
				}
				avail := offerable(free, r.name, f.revocable)
				if quota {
					avail = avail.Filter(func(x resources.Resource) bool { return x.Role == r.name })
				}
				if avail.IsEmpty() || d.refuses(f, s, avail, now) {
					continue
				}
				if !fits(avail) {
					// The role's other frameworks would be offered the
					// same non-revocable resources: none fits.
					s.dirty = true // headroom may come back
					break
				}
				for _, x := range avail {
					if x.Kind == resources.Scalar && !x.Revocable {
						used[d.names[x.Name]] += x.Milli
					}
				}
				free = free.Minus(avail)
				if !free.IsEmpty() {
					if !ownRoles {
						roles, ownRoles = slices.Clone(roles), true
					}
					if !ownFws {
						fws, ownFws = slices.Clone(fws), true
					}
				}
				grant(f, s, avail)
				if free.IsEmpty() {
					break slave
				}
			}
		}
	}
	return out
}

// quotaOfferable is what of free a quota role's framework is offered in
// the first stage: non-revocable, unreserved or reserved for role.
func quotaOfferable(free resources.Resources, role string) resources.Resources {
	return free.Filter(func(r resources.Resource) bool {
		return !r.Revocable && (r.Role == "*" || r.Role == role)
	})
}

// at returns v[i], or 0 beyond v's end.
func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}
