package allocator

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// refDRF is the allocator as it was before the incremental one: every
// cycle it walks every active slave with free resources, snapshots the
// role and framework orders per slave and re-places a charged client
// by stepping it along its list. It is kept, unchanged in behaviour, as
// the from-scratch model that TestIncrementalMatchesReference compares
// the DRF against.
type refDRF struct {
	weights map[string]float64
	rng     *rand.Rand

	slaves     map[string]*refSlave
	slaveOrder []*refSlave // registration order, shuffled per cycle
	frameworks map[string]*refFramework
	roles      map[string]*refRole
	roleOrder  refClientList // roles by weighted share

	total map[string]int64 // cluster scalar totals, milli
}

type refSlave struct {
	id        string
	hostname  string
	total     resources.Resources
	allocated resources.Resources
	active    bool
}

type refFramework struct {
	id         string
	role       *refRole
	active     bool
	suppressed bool
	alloc      map[string]int64 // scalars allocated, milli
	share      float64
	filters    map[string]refFilter // slave id → refusal
}

type refFilter struct {
	until time.Time
	res   resources.Resources
}

type refRole struct {
	name       string
	weight     float64
	alloc      map[string]int64
	share      float64
	frameworks refClientList // by share
}

// refClient is something ordered by share: a role or a framework.
type refClient interface {
	key() string
	sortShare() float64
}

func (f *refFramework) key() string        { return f.id }
func (f *refFramework) sortShare() float64 { return f.share }
func (r *refRole) key() string             { return r.name }
func (r *refRole) sortShare() float64      { return r.share / r.weight }

// refClientList is kept sorted by (share, key); an update moves one entry.
type refClientList []refClient

func refLess(a, b refClient) bool {
	if a.sortShare() != b.sortShare() {
		return a.sortShare() < b.sortShare()
	}
	return a.key() < b.key()
}

func (l *refClientList) insert(c refClient) {
	i := sort.Search(len(*l), func(i int) bool { return !refLess((*l)[i], c) })
	*l = append(*l, nil)
	copy((*l)[i+1:], (*l)[i:])
	(*l)[i] = c
}

func (l *refClientList) remove(c refClient) {
	for i, x := range *l {
		if x == c {
			*l = append((*l)[:i], (*l)[i+1:]...)
			return
		}
	}
}

// update re-places c after its share changed (c is at index i).
func (l refClientList) update(i int) {
	c := l[i]
	for i > 0 && refLess(c, l[i-1]) {
		l[i] = l[i-1]
		i--
	}
	for i < len(l)-1 && refLess(l[i+1], c) {
		l[i] = l[i+1]
		i++
	}
	l[i] = c
}

func (l refClientList) indexOf(c refClient) int {
	for i, x := range l {
		if x == c {
			return i
		}
	}
	return -1
}

// newRefDRF returns an empty hierarchical refDRF allocator.
func newRefDRF(o Options) *refDRF {
	w := make(map[string]float64)
	for k, v := range o.Weights {
		if v > 0 {
			w[k] = v
		}
	}
	return &refDRF{
		weights:    w,
		rng:        rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d)),
		slaves:     make(map[string]*refSlave),
		frameworks: make(map[string]*refFramework),
		roles:      make(map[string]*refRole),
		total:      make(map[string]int64),
	}
}

func (d *refDRF) role(name string) *refRole {
	r := d.roles[name]
	if r == nil {
		w := d.weights[name]
		if w <= 0 {
			w = 1
		}
		r = &refRole{name: name, weight: w, alloc: make(map[string]int64)}
		d.roles[name] = r
		d.roleOrder.insert(r)
	}
	return r
}

// dominant returns the dominant share of alloc against the cluster total.
func (d *refDRF) dominant(alloc map[string]int64) float64 {
	share := 0.0
	for name, v := range alloc {
		if t := d.total[name]; t > 0 {
			if s := float64(v) / float64(t); s > share {
				share = s
			}
		}
	}
	return share
}

// charge adds (sign +1) or removes (-1) res from f's and its role's
// allocation and re-sorts both.
func (d *refDRF) charge(f *refFramework, res resources.Resources, sign int64) {
	changed := false
	for _, r := range res {
		if r.Kind != resources.Scalar {
			continue
		}
		f.alloc[r.Name] += sign * r.Milli
		f.role.alloc[r.Name] += sign * r.Milli
		changed = true
	}
	if !changed {
		return
	}
	f.share = d.dominant(f.alloc)
	if i := f.role.frameworks.indexOf(f); i >= 0 {
		f.role.frameworks.update(i)
	}
	f.role.share = d.dominant(f.role.alloc)
	if i := d.roleOrder.indexOf(f.role); i >= 0 {
		d.roleOrder.update(i)
	}
}

// resort recomputes every share (after the cluster total changed).
func (d *refDRF) resort() {
	for _, r := range d.roles {
		r.share = d.dominant(r.alloc)
		for _, c := range r.frameworks {
			f := c.(*refFramework)
			f.share = d.dominant(f.alloc)
		}
		sort.Slice(r.frameworks, func(i, j int) bool { return refLess(r.frameworks[i], r.frameworks[j]) })
	}
	sort.Slice(d.roleOrder, func(i, j int) bool { return refLess(d.roleOrder[i], d.roleOrder[j]) })
}

// AddFramework adds a framework with what it already uses per slave.
func (d *refDRF) AddFramework(id, role string, used map[string]resources.Resources, _ time.Time) {
	if _, ok := d.frameworks[id]; ok {
		return
	}
	f := &refFramework{id: id, role: d.role(role), active: true, alloc: make(map[string]int64), filters: make(map[string]refFilter)}
	d.frameworks[id] = f
	f.role.frameworks.insert(f)
	for sid, res := range used {
		if s := d.slaves[sid]; s != nil {
			s.allocated = s.allocated.Plus(res)
		}
		d.charge(f, res, 1)
	}
}

// RemoveFramework forgets a framework and frees what it held.
func (d *refDRF) RemoveFramework(id string) {
	f := d.frameworks[id]
	if f == nil {
		return
	}
	delete(d.frameworks, id)
	f.role.frameworks.remove(f)
	for name, v := range f.alloc {
		f.role.alloc[name] -= v
	}
	f.role.share = d.dominant(f.role.alloc)
	if i := d.roleOrder.indexOf(f.role); i >= 0 {
		d.roleOrder.update(i)
	}
}

// ActivateFramework resumes offers to a framework.
func (d *refDRF) ActivateFramework(id string) {
	if f := d.frameworks[id]; f != nil {
		f.active = true
	}
}

// DeactivateFramework stops offers to a framework.
func (d *refDRF) DeactivateFramework(id string) {
	if f := d.frameworks[id]; f != nil {
		f.active = false
	}
}

// AddSlave adds a slave with what frameworks already use on it.
func (d *refDRF) AddSlave(id, hostname string, total resources.Resources, used map[string]resources.Resources) {
	if d.addSlaveNoResort(id, hostname, total) == nil {
		return
	}
	s := d.slaves[id]
	for fid, res := range used {
		s.allocated = s.allocated.Plus(res)
		if f := d.frameworks[fid]; f != nil {
			d.charge(f, res, 1)
		}
	}
	d.resort()
}

// addSlaveNoResort adds an idle slave without re-sorting the clients
// (bulk loading); it returns nil if the slave was known.
func (d *refDRF) addSlaveNoResort(id, hostname string, total resources.Resources) *refSlave {
	if _, ok := d.slaves[id]; ok {
		return nil
	}
	s := &refSlave{id: id, hostname: hostname, total: total, active: true}
	d.slaves[id] = s
	d.slaveOrder = append(d.slaveOrder, s)
	for _, r := range total {
		if r.Kind == resources.Scalar {
			d.total[r.Name] += r.Milli
		}
	}
	return s
}

// RemoveSlave forgets a slave; what frameworks held there is freed.
func (d *refDRF) RemoveSlave(id string) {
	s := d.slaves[id]
	if s == nil {
		return
	}
	delete(d.slaves, id)
	for i, x := range d.slaveOrder {
		if x == s {
			d.slaveOrder = append(d.slaveOrder[:i], d.slaveOrder[i+1:]...)
			break
		}
	}
	for _, r := range s.total {
		if r.Kind == resources.Scalar {
			d.total[r.Name] -= r.Milli
		}
	}
	for _, f := range d.frameworks {
		delete(f.filters, id)
	}
	d.resort()
}

// ActivateSlave resumes offers of a slave.
func (d *refDRF) ActivateSlave(id string) {
	if s := d.slaves[id]; s != nil {
		s.active = true
	}
}

// DeactivateSlave stops offers of a slave.
func (d *refDRF) DeactivateSlave(id string) {
	if s := d.slaves[id]; s != nil {
		s.active = false
	}
}

// RecoverResources returns res held by a framework on a slave.
func (d *refDRF) RecoverResources(frameworkID, slaveID string, res resources.Resources, refuseSeconds float64, now time.Time) {
	if s := d.slaves[slaveID]; s != nil {
		s.allocated = s.allocated.Minus(res)
	}
	f := d.frameworks[frameworkID]
	if f == nil {
		return
	}
	d.charge(f, res, -1)
	if refuseSeconds > 0 && d.slaves[slaveID] != nil {
		// Durations beyond what time.Duration holds mean "forever".
		const maxRefuse = 365 * 24 * 3600 * 100.0
		if refuseSeconds > maxRefuse {
			refuseSeconds = maxRefuse
		}
		until := now.Add(time.Duration(refuseSeconds * float64(time.Second)))
		f.filters[slaveID] = refFilter{until: until, res: res}
	}
}

// ReviveOffers clears a framework's filters and suppression.
func (d *refDRF) ReviveOffers(frameworkID string) {
	if f := d.frameworks[frameworkID]; f != nil {
		f.filters = make(map[string]refFilter)
		f.suppressed = false
	}
}

// SuppressOffers stops offers to a framework until ReviveOffers.
func (d *refDRF) SuppressOffers(frameworkID string) {
	if f := d.frameworks[frameworkID]; f != nil {
		f.suppressed = true
	}
}

// SetQuota implements Allocator (the reference model has no quota; the
// comparisons never set one).
func (d *refDRF) SetQuota(string, resources.Resources) {}

// RemoveQuota implements Allocator.
func (d *refDRF) RemoveQuota(string) {}

// filtered reports whether f refused avail on slave s until after now.
func (f *refFramework) filtered(sid string, avail resources.Resources, now time.Time) bool {
	flt, ok := f.filters[sid]
	if !ok {
		return false
	}
	if !now.Before(flt.until) {
		delete(f.filters, sid)
		return false
	}
	return flt.res.Contains(avail)
}

// Allocate runs one cycle: slaves in a shuffled order; for each, roles by
// weighted share and frameworks by share; each framework gets all of the
// slave's free resources it may use (unreserved plus its role's), unless
// it refused them.
func (d *refDRF) Allocate(now time.Time) []Decision {
	order := make([]*refSlave, len(d.slaveOrder))
	copy(order, d.slaveOrder)
	d.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var out []Decision
	for _, s := range order {
		if !s.active {
			continue
		}
		free := s.total.Minus(s.allocated)
		if free.IsEmpty() {
			continue
		}
		out = d.allocateSlave(s, free, now, out)
	}
	return out
}

func (d *refDRF) allocateSlave(s *refSlave, free resources.Resources, now time.Time, out []Decision) []Decision {
	// Walk a snapshot of the orders: charging re-sorts the live lists.
	roles := append(refClientList(nil), d.roleOrder...)
	for _, rc := range roles {
		r := rc.(*refRole)
		fws := append(refClientList(nil), r.frameworks...)
		for _, fc := range fws {
			f := fc.(*refFramework)
			if !f.active || f.suppressed {
				continue
			}
			avail := free.AllocatableTo(r.name).NonRevocable()
			if avail.IsEmpty() {
				continue
			}
			if f.filtered(s.id, avail, now) {
				continue
			}
			out = append(out, Decision{FrameworkID: f.id, SlaveID: s.id, Resources: avail})
			s.allocated = s.allocated.Plus(avail)
			free = free.Minus(avail)
			d.charge(f, avail, 1)
			if free.IsEmpty() {
				return out
			}
		}
	}
	return out
}

// UpdateAllocation implements Allocator (operations keep quantities, so
// the shares do not change).
func (d *refDRF) UpdateAllocation(frameworkID, slaveID string, consumed, produced resources.Resources) {
	if s := d.slaves[slaveID]; s != nil {
		s.total = s.total.Minus(consumed).Plus(produced)
		s.allocated = s.allocated.Minus(consumed).Plus(produced)
	}
}

// UpdateAvailable implements Allocator.
func (d *refDRF) UpdateAvailable(slaveID string, consumed, produced resources.Resources) future.Future[future.Nothing] {
	s := d.slaves[slaveID]
	if s == nil || !s.total.Minus(s.allocated).Contains(consumed) {
		return future.Failed[future.Nothing](fmt.Errorf("cannot apply"))
	}
	s.total = s.total.Minus(consumed).Plus(produced)
	return future.Ready(future.Nothing{})
}

// UpdateFramework implements Allocator (the reference model has no
// revocable resources).
func (d *refDRF) UpdateFramework(string, bool) {}

// UpdateSlave implements Allocator.
func (d *refDRF) UpdateSlave(string, resources.Resources) {}
