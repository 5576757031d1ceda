package allocator

import (
	"container/heap"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// DRF is the hierarchical dominant-resource-fairness allocator.
//
// A cycle costs what changed since the last one, not the size of the
// cluster: the role and framework orders are kept sorted as allocations
// change (a charged client moves once; a change of the cluster total
// re-sorts once, before the next cycle); a slave is visited only if
// something since its last visit may let it offer (resources came back,
// it was added or reactivated, a filter on it expired or was revived, a
// framework was added, reactivated or unsuppressed); filters are indexed
// by framework and by slave, and their expiry times sit in a heap. The
// offers are those a from-scratch pass over every slave would make.
type DRF struct {
	weights map[string]float64
	rng     *rand.Rand

	slaves     map[string]*slaveState
	slaveOrder []*slaveState // registration order
	cycle      []*slaveState // slaveOrder shuffled, reused every cycle
	frameworks map[string]*frameworkState
	roles      map[string]*roleState
	roleOrder  ranking[*roleState] // by weighted share

	names map[string]int // scalar name → index in total and allocations
	total []int64        // cluster scalar totals, milli, by name index
	// stale says the total changed since the shares were computed: every
	// share is recomputed and every order sorted before the next cycle.
	stale bool
	// allDirty says some framework became eligible everywhere: the next
	// cycle visits every slave.
	allDirty bool

	// quotas are the roles' guarantees (SetQuota), non-revocable scalar
	// quantities by name index; nonRevTotal and nonRevAlloc are the
	// cluster's non-revocable scalar total and what of it is allocated.
	// With no quota the cycle is the plain DRF one.
	quotas      map[*roleState][]int64
	nonRevTotal []int64
	nonRevAlloc []int64

	expiries expiryHeap // when filters run out (entries may be stale)
	filters  int        // filters in force or not yet seen expired
	nextSeq  uint64     // names filters, so a stale expiry is told apart
}

type slaveState struct {
	id        string
	hostname  string
	total     resources.Resources
	allocated resources.Resources
	active    bool
	// dirty says the slave may have something to offer since its last
	// visit.
	dirty      bool
	filteredBy map[*frameworkState]struct{} // frameworks with a filter here
}

type frameworkState struct {
	id         string
	role       *roleState
	active     bool
	suppressed bool
	revocable  bool    // takes revocable resources
	alloc      []int64 // scalars allocated, milli, by name index
	nonRev     []int64 // the non-revocable part of alloc
	share      float64 // dominant share: the rank in role.frameworks
	filters    map[*slaveState]filter
}

type filter struct {
	until time.Time
	res   resources.Resources
	seq   uint64
}

type roleState struct {
	name       string
	weight     float64
	alloc      []int64 // by name index
	nonRev     []int64 // the non-revocable part of alloc (quota)
	share      float64
	rank       float64 // share / weight: the rank in roleOrder
	frameworks ranking[*frameworkState]
}

func (f *frameworkState) rankKey() (float64, string) { return f.share, f.id }
func (r *roleState) rankKey() (float64, string)      { return r.rank, r.name }

// NewDRF returns an empty hierarchical DRF allocator.
func NewDRF(o Options) *DRF {
	w := make(map[string]float64)
	for k, v := range o.Weights {
		if v > 0 {
			w[k] = v
		}
	}
	return &DRF{
		weights:    w,
		rng:        rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d)),
		slaves:     make(map[string]*slaveState),
		frameworks: make(map[string]*frameworkState),
		roles:      make(map[string]*roleState),
		names:      make(map[string]int),
	}
}

func (d *DRF) role(name string) *roleState {
	r := d.roles[name]
	if r == nil {
		w := d.weights[name]
		if w <= 0 {
			w = 1
		}
		r = &roleState{name: name, weight: w}
		d.roles[name] = r
		d.roleOrder.insert(r)
	}
	return r
}

// nameIndex returns the index of a scalar's name in total and in
// allocations, giving a new name the next one.
func (d *DRF) nameIndex(name string) int {
	i, ok := d.names[name]
	if !ok {
		i = len(d.total)
		d.names[name] = i
		d.total = append(d.total, 0)
	}
	return i
}

// add adds v at index i of an allocation, growing it as needed.
func add(alloc []int64, i int, v int64) []int64 {
	if i >= len(alloc) {
		alloc = append(alloc, make([]int64, i+1-len(alloc))...)
	}
	alloc[i] += v
	return alloc
}

// dominant returns the dominant share of alloc against the cluster total.
func (d *DRF) dominant(alloc []int64) float64 {
	share := 0.0
	for i, v := range alloc {
		if t := d.total[i]; t > 0 {
			if s := float64(v) / float64(t); s > share {
				share = s
			}
		}
	}
	return share
}

// charge adds (sign +1) or removes (-1) res from f's and its role's
// allocation and re-places both in their orders.
func (d *DRF) charge(f *frameworkState, res resources.Resources, sign int64) {
	changed := false
	for _, r := range res {
		if r.Kind != resources.Scalar {
			continue
		}
		i := d.nameIndex(r.Name)
		f.alloc = add(f.alloc, i, sign*r.Milli)
		f.role.alloc = add(f.role.alloc, i, sign*r.Milli)
		if !r.Revocable {
			f.nonRev = add(f.nonRev, i, sign*r.Milli)
			f.role.nonRev = add(f.role.nonRev, i, sign*r.Milli)
			d.nonRevAlloc = add(d.nonRevAlloc, i, sign*r.Milli)
		}
		changed = true
	}
	if !changed || d.stale {
		return
	}
	fws := f.role.frameworks
	if i := fws.indexOf(f); i >= 0 {
		f.share = d.dominant(f.alloc)
		fws.fix(i)
	}
	d.rerankRole(f.role)
}

// rerankRole recomputes r's share and re-places it among the roles.
func (d *DRF) rerankRole(r *roleState) {
	if i := d.roleOrder.indexOf(r); i >= 0 {
		r.share = d.dominant(r.alloc)
		r.rank = r.share / r.weight
		d.roleOrder.fix(i)
	}
}

// resort recomputes every share and sorts every order (after the cluster
// total changed).
func (d *DRF) resort() {
	for _, r := range d.roles {
		r.share = d.dominant(r.alloc)
		r.rank = r.share / r.weight
		for _, f := range r.frameworks {
			f.share = d.dominant(f.alloc)
		}
		r.frameworks.sort()
	}
	d.roleOrder.sort()
	d.stale = false
}

// AddFramework adds a framework with what it already uses per slave.
func (d *DRF) AddFramework(id, role string, used map[string]resources.Resources, _ time.Time) {
	if _, ok := d.frameworks[id]; ok {
		return
	}
	f := &frameworkState{id: id, role: d.role(role), active: true, filters: make(map[*slaveState]filter)}
	d.frameworks[id] = f
	f.role.frameworks.insert(f)
	for sid, res := range used {
		if s := d.slaves[sid]; s != nil {
			s.allocated = s.allocated.Plus(res)
		}
		d.charge(f, res, 1)
	}
	d.allDirty = true
}

// RemoveFramework forgets a framework and frees what it held.
func (d *DRF) RemoveFramework(id string) {
	f := d.frameworks[id]
	if f == nil {
		return
	}
	delete(d.frameworks, id)
	f.role.frameworks.remove(f)
	for s := range f.filters {
		d.dropFilter(f, s)
	}
	for i, v := range f.alloc {
		f.role.alloc = add(f.role.alloc, i, -v)
	}
	for i, v := range f.nonRev {
		f.role.nonRev = add(f.role.nonRev, i, -v)
		d.nonRevAlloc = add(d.nonRevAlloc, i, -v)
	}
	if !d.stale {
		d.rerankRole(f.role)
	}
}

// ActivateFramework resumes offers to a framework.
func (d *DRF) ActivateFramework(id string) {
	if f := d.frameworks[id]; f != nil && !f.active {
		f.active = true
		d.allDirty = true
	}
}

// DeactivateFramework stops offers to a framework.
func (d *DRF) DeactivateFramework(id string) {
	if f := d.frameworks[id]; f != nil {
		f.active = false
	}
}

// AddSlave adds a slave with what frameworks already use on it.
func (d *DRF) AddSlave(id, hostname string, total resources.Resources, used map[string]resources.Resources) {
	if _, ok := d.slaves[id]; ok {
		return
	}
	s := &slaveState{id: id, hostname: hostname, total: total, active: true, dirty: true}
	d.slaves[id] = s
	d.slaveOrder = append(d.slaveOrder, s)
	for _, r := range total {
		if r.Kind == resources.Scalar {
			d.addTotal(r, r.Milli)
		}
	}
	for fid, res := range used {
		s.allocated = s.allocated.Plus(res)
		if f := d.frameworks[fid]; f != nil {
			d.charge(f, res, 1)
		}
	}
}

// RemoveSlave forgets a slave; what frameworks held there is freed.
func (d *DRF) RemoveSlave(id string) {
	s := d.slaves[id]
	if s == nil {
		return
	}
	delete(d.slaves, id)
	if i := slices.Index(d.slaveOrder, s); i >= 0 {
		d.slaveOrder = slices.Delete(d.slaveOrder, i, i+1)
	}
	for _, r := range s.total {
		if r.Kind == resources.Scalar {
			d.addTotal(r, -r.Milli)
		}
	}
	for f := range s.filteredBy {
		d.dropFilter(f, s)
	}
}

// ActivateSlave resumes offers of a slave.
func (d *DRF) ActivateSlave(id string) {
	if s := d.slaves[id]; s != nil {
		s.active = true
		s.dirty = true
	}
}

// DeactivateSlave stops offers of a slave.
func (d *DRF) DeactivateSlave(id string) {
	if s := d.slaves[id]; s != nil {
		s.active = false
	}
}

// RecoverResources returns res held by a framework on a slave.
func (d *DRF) RecoverResources(frameworkID, slaveID string, res resources.Resources, refuseSeconds float64, now time.Time) {
	s := d.slaves[slaveID]
	if s != nil {
		s.allocated = s.allocated.Minus(res)
		s.dirty = true
	}
	f := d.frameworks[frameworkID]
	if f == nil {
		return
	}
	d.charge(f, res, -1)
	if refuseSeconds > 0 && s != nil {
		// Durations beyond what time.Duration holds mean "forever".
		const maxRefuse = 365 * 24 * 3600 * 100.0
		if refuseSeconds > maxRefuse {
			refuseSeconds = maxRefuse
		}
		d.setFilter(f, s, now.Add(time.Duration(refuseSeconds*float64(time.Second))), res)
	}
}

// UpdateAllocation implements Allocator.
func (d *DRF) UpdateAllocation(frameworkID, slaveID string, consumed, produced resources.Resources) {
	s := d.slaves[slaveID]
	if s == nil {
		return
	}
	s.total = s.total.Minus(consumed).Plus(produced)
	s.allocated = s.allocated.Minus(consumed).Plus(produced)
	d.changeTotal(consumed, produced)
	if f := d.frameworks[frameworkID]; f != nil {
		d.charge(f, consumed, -1)
		d.charge(f, produced, 1)
	}
}

// UpdateAvailable implements Allocator; the future is complete on return.
func (d *DRF) UpdateAvailable(slaveID string, consumed, produced resources.Resources) future.Future[future.Nothing] {
	s := d.slaves[slaveID]
	if s == nil {
		return future.Failed[future.Nothing](fmt.Errorf("unknown agent %s", slaveID))
	}
	if free := s.total.Minus(s.allocated); !free.Contains(consumed) {
		return future.Failed[future.Nothing](fmt.Errorf("the available resources %v of agent %s do not contain %v", free, slaveID, consumed))
	}
	s.total = s.total.Minus(consumed).Plus(produced)
	s.dirty = true
	d.changeTotal(consumed, produced)
	return future.Ready(future.Nothing{})
}

// changeTotal moves the cluster's scalar totals from consumed to produced
// (operations keep quantities: the shares change only if they did not).
func (d *DRF) changeTotal(consumed, produced resources.Resources) {
	type kind struct {
		name      string
		revocable bool
	}
	net := map[kind]int64{}
	for _, r := range consumed {
		if r.Kind == resources.Scalar {
			net[kind{r.Name, r.Revocable}] -= r.Milli
		}
	}
	for _, r := range produced {
		if r.Kind == resources.Scalar {
			net[kind{r.Name, r.Revocable}] += r.Milli
		}
	}
	keys := slices.SortedFunc(maps.Keys(net), func(a, b kind) int {
		if a.name != b.name {
			return strings.Compare(a.name, b.name)
		}
		if a.revocable == b.revocable {
			return 0
		}
		if a.revocable {
			return 1
		}
		return -1
	})
	for _, k := range keys {
		if v := net[k]; v != 0 {
			d.addTotal(resources.Resource{Key: resources.Key{Name: k.name, Revocable: k.revocable}}, v)
		}
	}
}

// addTotal adds v (milli) of r's scalar to the cluster's totals.
func (d *DRF) addTotal(r resources.Resource, v int64) {
	i := d.nameIndex(r.Name)
	d.total[i] += v
	d.stale = true
	if !r.Revocable {
		d.nonRevTotal = add(d.nonRevTotal, i, v)
	}
}

// UpdateFramework implements Allocator.
func (d *DRF) UpdateFramework(id string, revocable bool) {
	if f := d.frameworks[id]; f != nil && f.revocable != revocable {
		f.revocable = revocable
		d.allDirty = true
	}
}

// UpdateSlave implements Allocator.
func (d *DRF) UpdateSlave(id string, oversubscribed resources.Resources) {
	s := d.slaves[id]
	if s == nil {
		return
	}
	old := s.total.Revocable()
	next := oversubscribed.Revocable()
	s.total = s.total.NonRevocable().Plus(next)
	s.dirty = true
	d.changeTotal(old, next)
}

// ReviveOffers clears a framework's filters and suppression.
func (d *DRF) ReviveOffers(frameworkID string) {
	f := d.frameworks[frameworkID]
	if f == nil {
		return
	}
	for s := range f.filters {
		d.dropFilter(f, s)
		s.dirty = true
	}
	if f.suppressed {
		f.suppressed = false
		d.allDirty = true
	}
}

// SuppressOffers stops offers to a framework until ReviveOffers.
func (d *DRF) SuppressOffers(frameworkID string) {
	if f := d.frameworks[frameworkID]; f != nil {
		f.suppressed = true
	}
}

// setFilter makes f refuse res on s until until.
func (d *DRF) setFilter(f *frameworkState, s *slaveState, until time.Time, res resources.Resources) {
	if _, ok := f.filters[s]; !ok {
		d.filters++
		if s.filteredBy == nil {
			s.filteredBy = make(map[*frameworkState]struct{})
		}
		s.filteredBy[f] = struct{}{}
	}
	d.nextSeq++
	f.filters[s] = filter{until: until, res: res, seq: d.nextSeq}
	heap.Push(&d.expiries, expiry{until: until, f: f, s: s, seq: d.nextSeq})
	if len(d.expiries) > 2*d.filters+64 {
		d.compactExpiries()
	}
}

// dropFilter removes f's filter on s.
func (d *DRF) dropFilter(f *frameworkState, s *slaveState) {
	if _, ok := f.filters[s]; ok {
		delete(f.filters, s)
		delete(s.filteredBy, f)
		d.filters--
	}
}

// refuses reports whether f's filter on s refuses avail at now; a filter
// found expired is dropped.
func (d *DRF) refuses(f *frameworkState, s *slaveState, avail resources.Resources, now time.Time) bool {
	if len(f.filters) == 0 {
		return false
	}
	flt, ok := f.filters[s]
	if !ok {
		return false
	}
	if !now.Before(flt.until) {
		d.dropFilter(f, s)
		return false
	}
	return flt.res.Contains(avail)
}

// expire drops the filters that ran out by now and marks their slaves for
// a visit.
func (d *DRF) expire(now time.Time) {
	for len(d.expiries) > 0 && !now.Before(d.expiries[0].until) {
		e := heap.Pop(&d.expiries).(expiry)
		if flt, ok := e.f.filters[e.s]; ok && flt.seq == e.seq {
			d.dropFilter(e.f, e.s)
			e.s.dirty = true
		}
	}
}

// compactExpiries rebuilds the heap from the filters in force, leaving
// out entries of replaced, revived or removed filters.
func (d *DRF) compactExpiries() {
	live := d.expiries[:0]
	for _, e := range d.expiries {
		if flt, ok := e.f.filters[e.s]; ok && flt.seq == e.seq {
			live = append(live, e)
		}
	}
	clear(d.expiries[len(live):])
	d.expiries = live
	heap.Init(&d.expiries)
}

// Allocate runs one cycle: slaves in a shuffled order; for each, roles by
// weighted share and frameworks by share; each framework gets all of the
// slave's free resources it may use (unreserved plus its role's), unless
// it refused them. Slaves with nothing new since their last visit are
// passed over: they would offer nothing. Times must not go backwards
// from one call to the next.
func (d *DRF) Allocate(now time.Time) []Decision {
	if d.stale {
		d.resort()
	}
	d.expire(now)
	d.cycle = append(d.cycle[:0], d.slaveOrder...)
	order := d.cycle
	d.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	all := d.allDirty
	d.allDirty = false
	if len(d.quotas) > 0 {
		return d.allocateWithQuota(order, all, now)
	}
	var out []Decision
	for i, s := range order {
		if !s.active || !(all || s.dirty) {
			continue
		}
		s.dirty = false
		free := s.total.Minus(s.allocated)
		if free.IsEmpty() {
			continue
		}
		if out == nil && all {
			// Room for an offer per slave left, rather than growing
			// (and copying) the slice a dozen times.
			out = make([]Decision, 0, len(order)-i)
		}
		out = d.allocateSlave(s, free, now, out)
	}
	return out
}

// allocateSlave offers s's free resources. The roles are walked in their
// order at the start of the slave's turn: charging re-places the role in
// the live order, so a copy is taken before the first charge that is not
// the slave's last. A role's frameworks need no copy: once one of them is
// charged, nothing on the slave is left for the role, and its turn ends.
func (d *DRF) allocateSlave(s *slaveState, free resources.Resources, now time.Time, out []Decision) []Decision {
	roles, ownRoles := d.roleOrder, false
	for ri := 0; ri < len(roles); ri++ {
		r := roles[ri]
		if offerable(free, r.name, true).IsEmpty() {
			continue
		}
		// Charging re-places a framework in its role's order: the list is
		// copied before a charge after which the role may still be
		// offered something (revocable resources a framework that does
		// not take them left).
		fws, ownFws := r.frameworks, false
		for fi := 0; fi < len(fws); fi++ {
			f := fws[fi]
			avail := offerable(free, r.name, f.revocable)
			if avail.IsEmpty() || !f.active || f.suppressed || d.refuses(f, s, avail, now) {
				continue
			}
			out = append(out, Decision{FrameworkID: f.id, SlaveID: s.id, Resources: avail})
			s.allocated = s.allocated.Plus(avail)
			if len(avail) == len(free) {
				free = nil // avail is all of free
			} else {
				free = free.Minus(avail)
			}
			if free.IsEmpty() {
				d.charge(f, avail, 1)
				return out
			}
			if !ownRoles {
				roles, ownRoles = slices.Clone(roles), true
			}
			if offerable(free, r.name, true).IsEmpty() {
				d.charge(f, avail, 1)
				break // all that this role may use is offered
			}
			if !ownFws {
				fws, ownFws = slices.Clone(fws), true
			}
			d.charge(f, avail, 1)
		}
	}
	return out
}

// offerable returns what of free a framework of role may be offered: the
// resources unreserved or reserved for role, revocable ones only when
// revocable (the framework has the REVOCABLE_RESOURCES capability). It
// returns free itself when that is all of it.
func offerable(free resources.Resources, role string, revocable bool) resources.Resources {
	ok := func(r resources.Resource) bool {
		return (r.Role == "*" || r.Role == role) && (revocable || !r.Revocable)
	}
	for i, r := range free {
		if ok(r) {
			continue
		}
		out := append(resources.Resources(nil), free[:i]...)
		for _, r := range free[i+1:] {
			if ok(r) {
				out = append(out, r)
			}
		}
		return out
	}
	return free
}

// expiry is when a filter runs out; seq tells whether it is still the
// filter in force.
type expiry struct {
	until time.Time
	f     *frameworkState
	s     *slaveState
	seq   uint64
}

// expiryHeap is a min-heap of expiries by time.
type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = expiry{}
	*h = old[:len(old)-1]
	return x
}
