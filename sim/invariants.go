package sim

import (
	"errors"
	"fmt"
	"maps"

	"slices"
	"strings"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// Invariant is a property of the cluster's observable state, checked
// after every event and step (Always) or only once the cluster has
// quiesced at the end of a run.
type Invariant struct {
	Name string
	// Quiescent checks it only at the end, with every fault healed.
	Quiescent bool
	// Check returns an error describing the violation.
	Check func(v *View) error
}

// View is what invariants see: the leading master's bookkeeping and what
// really runs where.
type View struct {
	// Master is the leading master's snapshot (nil: no leader).
	Master *master.Snapshot
	// Running lists the tasks executors run now, as "framework/task" on
	// slave index.
	Running map[string]int
	// Now is the virtual time since the start.
	Now time.Duration
	c   *Cluster
}

// LatestState is the newest state framework k heard for a task (false
// when it heard none).
func (v *View) LatestState(frameworkID, taskID string) (mesos.TaskState, bool) {
	h := v.c.truth.heard[taskKey{frameworkID, taskID}]
	if h == nil {
		return 0, false
	}
	return h.latest, true
}

// violate records the first violation and its context.
func (c *Cluster) violate(name, detail string) {
	if c.violation != nil {
		return
	}
	c.violation = &Violation{Invariant: name, Detail: detail, At: c.Now().Sub(c.start), Recent: c.recent.lines()}
	if c.rec != nil {
		c.rec.step = len(c.rec.t.Deliveries)
	}
}

// check runs the invariants; final adds the quiescent ones.
func (c *Cluster) check(final bool) error {
	if c.violation != nil {
		return errStop
	}
	v := c.view()
	for _, inv := range slices.Concat(builtin, c.cfg.Invariants) {
		if inv.Quiescent && !final {
			continue
		}
		if err := inv.Check(v); err != nil {
			c.violate(inv.Name, err.Error())
			return errStop
		}
	}
	return nil
}

func (c *Cluster) view() *View {
	v := &View{c: c, Running: map[string]int{}, Now: c.Now().Sub(c.start)}
	for k, x := range c.truth.running {
		v.Running[k.String()] = x.slave
	}
	if l := c.leader(); l != nil {
		f := l.m.Snapshot()
		c.settle()
		if snap, err := f.Get(); err == nil && snap.Leading {
			v.Master = snap
		}
	}
	return v
}

var builtin = []Invariant{
	{Name: "slave-not-overallocated", Check: notOverallocated},
	{Name: "master-used-matches-tasks", Check: usedMatchesTasks},
	{Name: "master-offered-matches-offers", Check: offeredMatchesOffers},
	{Name: "master-gauges-match-slaves", Check: gaugesMatchSlaves},
	{Name: "offers-respect-reservations", Check: offersRespectReservations},
	{Name: "reservations-balance", Check: reservationsBalance},
	{Name: "volumes-kept", Check: volumesKept},
	{Name: "master-agrees-with-slaves", Quiescent: true, Check: masterAgrees},
	{Name: "checkpoints-agree-with-master", Quiescent: true, Check: checkpointsAgree},
	{Name: "launched-tasks-accounted", Quiescent: true, Check: tasksAccounted},
	{Name: "failover-timeout-kills-tasks", Quiescent: true, Check: failoverKills},
	{Name: "failover-within-timeout-keeps-framework", Quiescent: true, Check: failoverKeeps},
}

// gaugesMatchSlaves: the sums the master's resource gauges read, kept as
// slaves change, equal its slaves' totals and used added up.
func gaugesMatchSlaves(v *View) error {
	if v.Master != nil && !v.Master.BooksAgree {
		return errors.New("the resource gauges' sums differ from the slaves' totals and used")
	}
	return nil
}

func notOverallocated(v *View) error {
	if v.Master == nil {
		return nil
	}
	for _, s := range v.Master.Slaves {
		if !s.Total.Contains(s.Used.Plus(s.Offered)) {
			return fmt.Errorf("slave %s: used %v + offered %v exceed total %v", s.ID, s.Used, s.Offered, s.Total)
		}
	}
	return nil
}

func usedMatchesTasks(v *View) error {
	if v.Master == nil {
		return nil
	}
	var held []*mesos.Resource
	for _, s := range v.Master.Slaves {
		held = held[:0] // summed by one FromProto: one list, not one per task
		for _, t := range s.Tasks {
			if !mesos.IsTerminal(t.GetState()) {
				held = append(held, t.GetResources()...)
			}
		}
		for _, e := range s.Executors {
			held = append(held, e.GetResources()...)
		}
		if sum := resources.FromProto(held); !sum.Equal(s.Used) {
			return fmt.Errorf("slave %s: used %v, but its live tasks and executors hold %v", s.ID, s.Used, sum)
		}
	}
	return nil
}

func offeredMatchesOffers(v *View) error {
	if v.Master == nil {
		return nil
	}
	bySlave := map[string]resources.Resources{}
	for _, o := range v.Master.Offers {
		bySlave[o.SlaveID] = bySlave[o.SlaveID].Plus(o.Resources)
	}
	for _, s := range v.Master.Slaves {
		if !bySlave[s.ID].Equal(s.Offered) {
			return fmt.Errorf("slave %s: offered %v, but its outstanding offers hold %v", s.ID, s.Offered, bySlave[s.ID])
		}
	}
	return nil
}

// offersRespectReservations: no outstanding offer holds resources
// reserved for another role than its framework's. (The frameworks' shims
// check every offer as it arrives too.)
func offersRespectReservations(v *View) error {
	if v.Master == nil {
		return nil
	}
	roles := v.c.frameworkRoles()
	for _, o := range v.Master.Offers {
		if err := offerRespects(o.ID, o.Resources, roles[o.FrameworkID]); err != nil {
			return err
		}
	}
	return nil
}

// offerRespects says why an offer to a framework of role holds
// resources it may not have, or nil. role "" is a framework the
// simulator does not know: any reservation is wrong for it.
func offerRespects(id string, rs resources.Resources, role string) error {
	for _, r := range rs {
		if r.IsReserved() && r.Role != role {
			return fmt.Errorf("offer %s to a framework of role %q holds %v, reserved for role %q", id, role, resources.Resources{r}, r.Role)
		}
	}
	return nil
}

// frameworkRoles maps the frameworks' ids to their roles.
func (c *Cluster) frameworkRoles() map[string]string {
	out := make(map[string]string, len(c.frameworks))
	for _, n := range c.frameworks {
		if n.id != nil {
			out[n.id.GetValue()] = FrameworkRole(n.index)
		}
	}
	return out
}

// reservationsBalance: reserving, unreserving and volumes only convert a
// slave's resources: in the master's view, each slave's total, with
// every reservation and volume undone, is the slave's static resources.
func reservationsBalance(v *View) error {
	if v.Master == nil {
		return nil
	}
	static := v.c.staticResources()
	for _, s := range v.Master.Slaves {
		converted := false
		for _, r := range s.Total {
			converted = converted || r.IsReserved() || r.IsPersistentVolume()
		}
		flat := s.Total
		if converted { // most slaves hold no reservation: no sum to make
			flat = nil
			for _, r := range s.Total {
				flat = flat.Plus(resources.Resources{r.Unreserved()})
			}
		}
		if !flat.Equal(static) {
			return fmt.Errorf("slave %s: total %v is %v unreserved, not the slave's %v", s.ID, s.Total, flat, static)
		}
	}
	return nil
}

func (c *Cluster) staticResources() resources.Resources {
	if c.static == nil {
		rs, err := resources.Parse(c.cfg.SlaveResources, "*")
		if err != nil {
			panic(fmt.Sprintf("sim: slave resources %q: %v", c.cfg.SlaveResources, err))
		}
		c.static = rs
	}
	return c.static
}

// volumesKept: a persistent volume is never lost while its reservation
// exists, that is until its framework asks to destroy it. Once in a
// slave's checkpoint it stays there, across slave restarts and master
// failovers; once in a leading master's view of a slave it stays there
// while that master leads and holds the slave; and the master's view of
// a slave it holds connected holds every volume of the slave's
// checkpoint.
func volumesKept(v *View) error {
	c := v.c
	for _, n := range c.slaves {
		vols, err := n.checkpointedVolumes()
		if err != nil {
			return fmt.Errorf("slave %d: %w", n.index, err)
		}
		if id, ok := c.lostVolume(c.truth.volumes[n.index], vols); ok {
			return fmt.Errorf("slave %d: volume %v left its checkpoint, but nobody destroyed it", n.index, c.truth.volumes[n.index][id])
		}
		c.truth.volumes[n.index] = vols
	}
	l := c.leader()
	if v.Master == nil || l == nil {
		return nil
	}
	seen := c.truth.masterVolumes[l.m]
	if seen == nil {
		seen = map[string]map[string]resources.Resources{}
		c.truth.masterVolumes[l.m] = seen
	}
	for _, s := range v.Master.Slaves {
		var vols map[string]resources.Resources // nil: none, as most slaves
		for _, r := range s.Total {
			if r.IsPersistentVolume() {
				if vols == nil {
					vols = map[string]resources.Resources{}
				}
				vols[r.DiskID] = resources.Resources{r}
			}
		}
		if id, ok := c.lostVolume(seen[s.ID], vols); ok {
			return fmt.Errorf("the master lost volume %v of slave %s, but nobody destroyed it", seen[s.ID][id], s.ID)
		}
		if vols != nil || seen[s.ID] != nil {
			seen[s.ID] = vols
		}
		n := c.slaveAt(s.PID)
		if n == nil || !n.up || !s.Connected || !s.Active {
			continue
		}
		if id, ok := c.lostVolume(c.truth.volumes[n.index], vols); ok {
			return fmt.Errorf("slave %d (%s) holds volume %v in its checkpoint, but the master's view of it does not", n.index, s.ID, c.truth.volumes[n.index][id])
		}
	}
	return nil
}

// lostVolume returns the smallest persistence id of was that is not in
// now and that no framework asked to destroy.
func (c *Cluster) lostVolume(was, now map[string]resources.Resources) (string, bool) {
	lost := ""
	for id := range was {
		if _, ok := now[id]; !ok && !c.truth.destroyed[id] && (lost == "" || id < lost) {
			lost = id
		}
	}
	return lost, lost != ""
}

// checkpointsAgree: at quiescence, what each slave the leading master
// holds connected has checkpointed is what the master holds for it.
func checkpointsAgree(v *View) error {
	if v.Master == nil {
		return nil
	}
	for _, s := range v.Master.Slaves {
		n := v.c.slaveAt(s.PID)
		if n == nil || !n.up || !s.Connected {
			continue
		}
		ckpt, err := n.checkpointed()
		if err != nil {
			return fmt.Errorf("slave %d: %w", n.index, err)
		}
		if mine := s.Total.Checkpointed(); !mine.Equal(ckpt) {
			return fmt.Errorf("slave %d (%s) has checkpointed %v, but the master holds %v", n.index, s.ID, ckpt, mine)
		}
	}
	return nil
}

// masterAgrees: at quiescence every task an executor runs is known, live,
// to the leading master on an active slave, and every live task the
// master knows runs.
func masterAgrees(v *View) error {
	if v.Master == nil {
		return fmt.Errorf("no leading master after quiescence")
	}
	known := map[string]string{} // task → master's slave id
	active := map[string]bool{}
	for _, s := range v.Master.Slaves {
		active[s.ID] = s.Active && s.Connected
		for _, t := range s.Tasks {
			if !mesos.IsTerminal(t.GetState()) {
				known[t.GetFrameworkId().GetValue()+"/"+t.GetTaskId().GetValue()] = s.ID
			}
		}
	}
	for _, task := range slices.Sorted(maps.Keys(v.Running)) {
		slaveID, ok := known[task]
		if !ok {
			return fmt.Errorf("task %s runs on slave %d, but the master does not hold it live (removed slaves: %v)", task, v.Running[task], v.Master.RemovedSlaves)
		}
		if !active[slaveID] {
			return fmt.Errorf("task %s runs on slave %s, which the master holds inactive", task, slaveID)
		}
	}
	for _, task := range slices.Sorted(maps.Keys(known)) {
		if _, ok := v.Running[task]; !ok {
			return fmt.Errorf("the master holds task %s live on slave %s, but no executor runs it", task, known[task])
		}
	}
	return nil
}

// tasksAccounted: after quiescence and a reconciliation, every task a
// live framework launched is, as far as it knows, terminal, or in the
// state its executor runs it in.
func tasksAccounted(v *View) error {
	c := v.c
	for _, k := range sortedTasks(c.truth.launched) {
		n := c.frameworks[c.truth.launched[k]]
		if !n.up || n.removed {
			continue
		}
		h := c.truth.heard[k]
		_, running := c.truth.running[k]
		switch {
		case h == nil:
			return fmt.Errorf("task %s: launched, never heard of again, even on reconciliation", k)
		case mesos.IsTerminal(h.latest) && running:
			return fmt.Errorf("task %s: the framework holds it %s, but it still runs on slave %d", k, h.latest, c.truth.running[k].slave)
		case !mesos.IsTerminal(h.latest) && !running:
			return fmt.Errorf("task %s: the framework holds it %s, but nothing runs it", k, h.latest)
		}
	}
	return nil
}

// failoverKills: a framework whose outage outlasted its failover
// timeout, and that the master removed, has no task left running. Only
// while the master that removed it leads: as in Mesos, removed frameworks
// are not in the registry, so a new leader readmits a returning slave's
// tasks of such a framework as orphans (an operator tears them down).
func failoverKills(v *View) error {
	c := v.c
	for _, n := range c.frameworks {
		if !n.removed || n.id == nil || n.removedEpoch != c.leaderEpoch {
			continue
		}
		for _, task := range slices.Sorted(maps.Keys(v.Running)) {
			if strings.HasPrefix(task, n.id.GetValue()+"/") {
				return fmt.Errorf("framework %d was removed, but its task %s still runs", n.index, task)
			}
		}
	}
	return nil
}

// failoverKeeps: a framework whose every outage was shorter than its
// failover timeout is still registered, not removed.
func failoverKeeps(v *View) error {
	c := v.c
	for _, n := range c.frameworks {
		if n.everPastTimeout || n.id == nil {
			continue
		}
		if n.removed {
			return fmt.Errorf("framework %d was removed though it never stayed away past its failover timeout", n.index)
		}
	}
	return nil
}

// delivery is one recorded delivery.
type delivery struct {
	at                   time.Duration
	kind, from, to, name string
	body                 []byte
}

func (d delivery) String() string {
	return fmt.Sprintf("%10s %-7s %s -> %s %s %s", d.at, d.kind, d.from, d.to, strings.TrimPrefix(d.name, "mesos.internal."), shortBody(d.name, d.body))
}

// ring keeps the last deliveries, for the report.
type ring struct {
	buf   []delivery
	next  int
	total int
}

func newRing(n int) *ring { return &ring{buf: make([]delivery, 0, n)} }

func (r *ring) add(d delivery) {
	r.total++
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, d)
		return
	}
	r.buf[r.next] = d
	r.next = (r.next + 1) % len(r.buf)
}

func (r *ring) lines() []string {
	var out []string
	for _, d := range append(append([]delivery(nil), r.buf[r.next:]...), r.buf[:r.next]...) {
		out = append(out, d.String())
	}
	return out
}

// observe sees every delivery (the network's trace).
func (c *Cluster) observe(kind, from, to, name string, body []byte) {
	if kind == "dispatch" {
		c.recent.total++
		return
	}
	d := delivery{at: c.Now().Sub(c.start), kind: kind, from: from, to: to, name: name, body: body}
	c.recent.add(d)
	if c.rec != nil {
		c.rec.delivery(d.at, kind, from, to, name, body)
	}
	if c.cfg.TraceTo != nil {
		fmt.Fprintln(c.cfg.TraceTo, d.String())
	}
}

// shortBody renders a message body as compact text, cut at 160 bytes.
func shortBody(name string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	s, _ := describe(name, body, 160, false)
	if strings.HasPrefix(s, "(") {
		return s // not a message we know
	}
	return "{" + s + "}"
}
