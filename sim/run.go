package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/sim/traceview"
)

// Violation is a broken invariant: its name, what was seen, when.
type Violation struct {
	Invariant string
	Detail    string
	At        time.Duration // virtual time since the start
	Recent    []string      // the last deliveries before it
}

func (v *Violation) Error() string {
	return fmt.Sprintf("invariant %s violated at %s: %s", v.Invariant, v.At, v.Detail)
}

// Result is the outcome of one run.
type Result struct {
	Seed      uint64
	Schedule  Schedule
	Trace     uint64 // the dispatcher's trace hash
	Events    int    // schedule events applied
	Delivered int    // messages, dispatches and exits delivered
	Violation *Violation
	// Recording is the run for the trace viewer (Config.Record only).
	Recording *traceview.Trace
}

// Replay is the command line that reproduces the run bit for bit.
func (r Result) Replay() string {
	return fmt.Sprintf("go run ./cmd/sim -seed %d -schedule %s", r.Seed, r.Schedule.Encode())
}

// Report is what a failing run prints: the violation, the replay line,
// the schedule and the last deliveries before the violation.
func (r Result) Report() string {
	if r.Violation == nil {
		return fmt.Sprintf("seed %d: ok (%d events, trace %016x)", r.Seed, r.Events, r.Trace)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v\nreplay: %s\nschedule: %s", r.Violation, r.Replay(), r.Schedule)
	if len(r.Violation.Recent) > 0 {
		b.WriteString("last deliveries:\n")
		for _, l := range r.Violation.Recent {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// errStop ends a run at its first violation.
var errStop = errors.New("stop")

// step is the longest the clock moves between two checks.
const step = 5 * time.Second

// Run builds the cluster of the schedule's shape, applies its events at
// their times, checking the invariants after every event and every step
// of virtual time, then heals every fault, lets the cluster quiesce and
// checks again. It reports the first violation.
func Run(cfg Config, s Schedule) (Result, error) {
	s.Sort()
	res := Result{Seed: cfg.Seed, Schedule: s}
	c, err := newCluster(cfg, s.Shape)
	if err != nil {
		return res, err
	}
	defer c.Close()
	err = c.run(s, &res)
	res.Trace = c.net.Deterministic().Trace()
	res.Delivered = c.recent.total
	if errors.Is(err, errStop) {
		res.Violation = c.violation
		err = nil
	}
	if c.rec != nil {
		res.Recording = c.rec.finish(res)
	}
	return res, err
}

func (c *Cluster) run(s Schedule, res *Result) error {
	for _, e := range s.Events {
		if err := c.until(c.start.Add(e.At)); err != nil {
			return err
		}
		c.apply(e)
		res.Events++
		c.settle()
		if err := c.check(false); err != nil {
			return err
		}
	}
	// Heal, bring everything back, and let the cluster quiesce.
	if err := c.until(c.Now().Add(time.Second)); err != nil {
		return err
	}
	c.healAll()
	if err := c.until(c.Now().Add(c.cfg.Quiesce)); err != nil {
		return err
	}
	c.reconcileAll()
	if err := c.until(c.Now().Add(time.Minute)); err != nil {
		return err
	}
	return c.check(true)
}

// until moves the clock to t in steps, running the due pending actions
// (restarts, heals) at their times and checking after each step.
func (c *Cluster) until(t time.Time) error {
	for {
		now := c.Now()
		next := now.Add(step)
		if p := c.nextPending(); !p.IsZero() && p.Before(next) {
			next = p
		}
		if next.After(t) {
			next = t
		}
		if !next.After(now) && c.nextPending().After(now) {
			return nil
		}
		c.net.Clock().Update(next)
		c.settle()
		c.superviseSlaves()
		c.runPending(c.Now())
		if err := c.check(false); err != nil {
			return err
		}
		if !c.Now().Before(t) {
			return nil
		}
	}
}

// pending actions: heals and restarts at virtual times.
type pendingAction struct {
	at time.Time
	fn func()
}

func (c *Cluster) later(d time.Duration, fn func()) {
	c.pending = append(c.pending, pendingAction{at: c.Now().Add(d), fn: fn})
	slices.SortStableFunc(c.pending, func(a, b pendingAction) int { return a.at.Compare(b.at) })
}

func (c *Cluster) nextPending() time.Time {
	if len(c.pending) == 0 {
		return time.Time{}
	}
	return c.pending[0].at
}

// runPending runs the pending actions due by t, in order, settling after
// each.
func (c *Cluster) runPending(t time.Time) {
	for len(c.pending) > 0 && !c.pending[0].at.After(t) {
		p := c.pending[0]
		c.pending = c.pending[1:]
		p.fn()
		c.settle()
	}
}

// healAll runs every pending action now, in order: restarts, heals, and
// the ends of message faults (every filter has one).
func (c *Cluster) healAll() {
	for n := len(c.pending); n > 0; n = len(c.pending) {
		c.runPending(c.pending[n-1].at)
	}
}

// apply performs one event.
func (c *Cluster) apply(e Event) {
	note := func(d time.Duration, lanes ...int) {
		if c.rec != nil {
			c.rec.event(c.Now().Sub(c.start), e, d, lanes...)
		}
	}
	fwLane := func(k int) int { return c.hostLane(c.FrameworkHost(k % len(c.frameworks))) }
	switch e.Kind {
	case Launch, Kill, Reconcile:
		n := c.frameworks[e.Node%len(c.frameworks)]
		w, ok := n.fw.(Workload)
		if !ok || !n.up {
			return
		}
		note(0, fwLane(e.Node))
		switch e.Kind {
		case Launch:
			w.Launch(n.d, max(e.Count, 1))
		case Kill:
			w.Kill(n.d, e.Pick)
		case Reconcile:
			w.Reconcile(n.d, e.Pick%2 == 1)
		}
	case Reserve, CreateVolume, DestroyVolume, Unreserve:
		n := c.frameworks[e.Node%len(c.frameworks)]
		if w, ok := n.fw.(Operations); ok && n.up {
			note(0, fwLane(e.Node))
			w.Operate(n.d, e.Kind)
		}
	case DropMessages, DelayMessages, DuplicateMessages:
		rt := c.hostRuntime(e.Node % c.hostCount())
		if rt == nil {
			return
		}
		var act process.Action
		switch e.Kind {
		case DropMessages:
			act = process.Drop()
		case DelayMessages:
			act = process.HoldFor(max(e.Delay, time.Millisecond))
		default:
			act = process.Duplicate(1)
		}
		c.exemptFrameworks(func(host int) bool { return host == e.Node%c.hostCount() || host < c.shape.Masters })
		rule := process.Rule{Side: process.Sending, Name: e.Message, Action: act}
		if c.rec != nil {
			rule.OnMatch = func(ev process.Intercepted) { c.rec.fault(c.Now().Sub(c.start), e.Kind, ev) }
		}
		f := rt.AddFilter(rule)
		note(max(e.Duration, time.Millisecond), c.hostLane(e.Node%c.hostCount()))
		c.later(max(e.Duration, time.Millisecond), func() {
			f.Release() // what a delay still holds goes out, in order
			f.Remove()
		})
	case Partition:
		all := uint64(1)<<c.hostCount() - 1
		set := e.Hosts & all
		if set == 0 || set == all {
			return
		}
		c.exemptFrameworks(func(int) bool { return true })
		id := c.nextCut
		c.nextCut++
		c.partitions[id] = set
		c.net.Recut()
		if c.rec != nil {
			var lanes []int
			for h := range c.hostCount() {
				if set>>h&1 == 1 {
					lanes = append(lanes, c.hostLane(h))
					if h >= c.shape.Masters && h < c.shape.Masters+c.shape.Slaves {
						lanes = append(lanes, c.executorLane(h-c.shape.Masters))
					}
				}
			}
			note(max(e.Duration, time.Millisecond), lanes...)
		}
		c.later(max(e.Duration, time.Millisecond), func() { delete(c.partitions, id) })
	case CrashSlave:
		n := c.slaves[e.Node%len(c.slaves)]
		if !n.up {
			return
		}
		note(max(e.Duration, time.Millisecond), c.hostLane(c.SlaveHost(n.index)))
		c.restartSlave(n, max(e.Duration, time.Millisecond))
	case CrashMaster:
		n := c.leader()
		if n == nil {
			return
		}
		for i, m := range c.masters {
			if m == n {
				note(max(e.Duration, time.Millisecond), c.hostLane(i))
			}
		}
		n.up = false
		c.leaderEpoch++
		c.net.Crash(n.addr)
		n.contender.Expire()
		c.later(max(e.Duration, time.Millisecond), func() { c.must(c.startMaster(n)) })
	case FailoverFramework:
		n := c.frameworks[e.Node%len(c.frameworks)]
		if !n.up || n.id == nil {
			return
		}
		note(max(e.Duration, time.Millisecond), fwLane(e.Node))
		n.up = false
		n.downSince = c.Now()
		c.net.Crash(n.addr)
		d := max(e.Duration, time.Millisecond)
		if d >= c.cfg.FailoverTimeout {
			n.everPastTimeout = true
		}
		c.later(d, func() {
			if !n.removed {
				c.must(c.startFramework(n))
			}
		})
	case CrashExecutor:
		n := c.slaves[e.Node%len(c.slaves)]
		f := n.cz.Containers()
		c.settle()
		ids, err := f.Get()
		if err != nil || len(ids) == 0 {
			return
		}
		note(0, c.executorLane(n.index))
		n.cz.Destroy(ids[e.Pick%len(ids)])
	case EndTask:
		n := c.frameworks[e.Node%len(c.frameworks)]
		if n.id == nil {
			return
		}
		var live []taskKey
		for k := range c.truth.running {
			if k.fw == n.id.GetValue() {
				live = append(live, k)
			}
		}
		if len(live) == 0 {
			return
		}
		slices.SortFunc(live, func(a, b taskKey) int { return strings.Compare(a.task, b.task) })
		k := live[e.Pick%len(live)]
		state := e.State
		if !mesos.IsTerminal(state) {
			state = mesos.TaskState_TASK_FINISHED
		}
		note(0, fwLane(e.Node), c.executorLane(c.truth.running[k].slave))
		c.truth.running[k].end(k.task, state)
	case JumpClock:
		// A framework that is down stays away as long in the master's
		// eyes as the jump: it may pass its failover timeout.
		for _, n := range c.frameworks {
			if !n.up && c.Now().Add(e.Duration).Sub(n.downSince) >= c.cfg.FailoverTimeout {
				n.everPastTimeout = true
			}
		}
		note(0)
		c.net.Clock().Advance(e.Duration)
	}
}

// superviseSlaves restarts, after Config.SlaveRestart, each slave whose
// process ended (the master shut it down), as a supervisor would.
func (c *Cluster) superviseSlaves() {
	for _, n := range c.slaves {
		if !n.up || n.s == nil || n.s.Done().IsPending() {
			continue
		}
		c.restartSlave(n, c.cfg.SlaveRestart)
	}
}

// restartSlave takes slave n's host off the network (its executors run
// on) and starts the slave again after d, on the same work directory.
func (c *Cluster) restartSlave(n *slaveNode, d time.Duration) {
	n.unfollow()
	n.up = false
	c.net.Crash(n.addr)
	c.later(d, func() { c.must(c.startSlave(n)) })
}

func (c *Cluster) must(err error) {
	if err != nil && c.violation == nil {
		c.violate("sim-setup", err.Error())
	}
}

// hostRuntime is the runtime of host i (a slave's own, not its
// executors'), or nil when it is down.
func (c *Cluster) hostRuntime(i int) *process.Runtime {
	switch {
	case i < c.shape.Masters:
		if n := c.masters[i]; n.up {
			return n.rt
		}
	case i < c.shape.Masters+c.shape.Slaves:
		if n := c.slaves[i-c.shape.Masters]; n.up {
			return n.rt
		}
	default:
		if n := c.frameworks[i-c.shape.Masters-c.shape.Slaves]; n.up {
			return n.rt
		}
	}
	return nil
}

// cut is the network's partition predicate: hosts on either side of an
// active partition do not hear each other.
func (c *Cluster) cut(from, to netip.Addr) bool {
	a, b := c.hostIndex(from), c.hostIndex(to)
	if a < 0 || b < 0 || a == b {
		return false
	}
	for _, set := range c.partitions {
		if (set>>a)&1 != (set>>b)&1 {
			return true
		}
	}
	return false
}

// reconcileAll makes every live framework reconcile every task it
// launched, so that each ends up with its latest state.
func (c *Cluster) reconcileAll() {
	for _, n := range c.frameworks {
		if !n.up || n.id == nil {
			continue
		}
		var sts []*mesos.TaskStatus
		for _, k := range sortedTasks(c.truth.launched) {
			if k.fw == n.id.GetValue() {
				sts = append(sts, &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: &k.task}, State: mesos.TaskState_TASK_STAGING.Enum()})
			}
		}
		if len(sts) > 0 {
			_, _ = n.d.ReconcileTasks(sts)
		}
	}
	c.settle()
}

func sortedTasks[V any](m map[taskKey]V) []taskKey {
	keys := make([]taskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b taskKey) int {
		if x := strings.Compare(a.fw, b.fw); x != 0 {
			return x
		}
		return strings.Compare(a.task, b.task)
	})
	return keys
}

// exemptFrameworks marks the frameworks whose host is picked: a message
// fault or a partition may keep them from their master past the
// failover timeout, so failover-within-timeout-keeps-framework does not
// hold them to it.
func (c *Cluster) exemptFrameworks(picked func(host int) bool) {
	for _, n := range c.frameworks {
		if picked(c.shape.Masters + c.shape.Slaves + n.index) {
			n.everPastTimeout = true
		}
	}
}
