package sim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/leanovate/gopter"

	"github.com/gomesos/gomesos/mesos"
)

// GenOptions bound the schedules Generate makes.
type GenOptions struct {
	// MaxMasters, MaxSlaves, MaxFrameworks bound the shape (defaults 3,
	// 5, 3).
	MaxMasters, MaxSlaves, MaxFrameworks int
	// Events is how many events a schedule has (default 200).
	Events int
	// FaultRatio is the share of events that are faults (default 0.1).
	FaultRatio float64
	// Horizon is the time the events spread over (default 10 minutes).
	Horizon time.Duration
	// Kinds, if set, are the only fault kinds drawn.
	Kinds []Kind
	// Operations bounds the resource operations (Reserve, CreateVolume,
	// DestroyVolume, Unreserve) a schedule has: between 0 and it
	// (default 24; negative for none). They are drawn from a stream of
	// their own, so a seed's other events are those it had before
	// operations existed.
	Operations int
}

func (o *GenOptions) defaults() {
	if o.MaxMasters == 0 {
		o.MaxMasters = 3
	}
	if o.MaxSlaves == 0 {
		o.MaxSlaves = 5
	}
	if o.MaxFrameworks == 0 {
		o.MaxFrameworks = 3
	}
	if o.Events == 0 {
		o.Events = 200
	}
	if o.FaultRatio == 0 {
		o.FaultRatio = 0.1
	}
	if o.Horizon == 0 {
		o.Horizon = 10 * time.Minute
	}
	if o.Operations == 0 {
		o.Operations = 24
	}
}

var allFaults = []Kind{
	DropMessages, DelayMessages, DuplicateMessages, Partition, CrashSlave, CrashMaster,
	FailoverFramework, CrashExecutor, EndTask, JumpClock,
}

// retried are the messages the protocol sends again on its own, so a
// copy is one more retry.
var retried = []string{
	"mesos.internal.StatusUpdateMessage",
	"mesos.internal.StatusUpdateAcknowledgementMessage",
	"mesos.internal.PingSlaveMessage",
	"mesos.internal.PongSlaveMessage",
	"mesos.internal.RegisterSlaveMessage",
	"mesos.internal.ReregisterSlaveMessage",
	"mesos.internal.SlaveRegisteredMessage",
	"mesos.internal.SlaveReregisteredMessage",
	"mesos.internal.RegisterFrameworkMessage",
	"mesos.internal.ReregisterFrameworkMessage",
	"mesos.internal.FrameworkRegisteredMessage",
	"mesos.internal.FrameworkReregisteredMessage",
	"mesos.internal.ReconcileTasksMessage",
}

var terminalStates = []mesos.TaskState{
	mesos.TaskState_TASK_FINISHED, mesos.TaskState_TASK_FAILED, mesos.TaskState_TASK_KILLED,
	mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_ERROR,
}

// Generate makes the schedule of seed: a shape and its events, a
// function of seed and o alone.
func Generate(seed uint64, o GenOptions) Schedule {
	o.defaults()
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	sh := Shape{Masters: 1 + r.IntN(o.MaxMasters), Slaves: 1 + r.IntN(o.MaxSlaves), Frameworks: 1 + r.IntN(o.MaxFrameworks)}
	hosts := sh.Masters + sh.Slaves + sh.Frameworks
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = allFaults
	}
	dur := func(lo, hi time.Duration) time.Duration {
		return (lo + time.Duration(r.Int64N(int64(hi-lo)))).Round(time.Millisecond)
	}
	s := Schedule{Shape: sh}
	for range o.Events {
		e := Event{At: dur(0, o.Horizon)}
		if r.Float64() >= o.FaultRatio {
			switch x := r.IntN(10); {
			case x < 5:
				e.Kind, e.Count = Launch, 1+r.IntN(3)
			case x < 8:
				e.Kind = Kill
			default:
				e.Kind = Reconcile
			}
			e.Node, e.Pick = r.IntN(sh.Frameworks), r.IntN(16)
			s.Events = append(s.Events, e)
			continue
		}
		e.Kind = kinds[r.IntN(len(kinds))]
		switch e.Kind {
		case DropMessages, DelayMessages, DuplicateMessages:
			e.Node = r.IntN(hosts)
			// A link never loses, copies or reorders one message among
			// others: only what the protocol sends again on its own
			// may be dropped or copied (as Mesos's own tests do), and
			// a delay holds everything a host sends, in order.
			if e.Kind != DelayMessages {
				e.Message = retried[r.IntN(len(retried))]
			}
			e.Duration = dur(time.Second, time.Minute)
			e.Delay = dur(100*time.Millisecond, 10*time.Second)
		case Partition:
			for e.Hosts == 0 || e.Hosts == 1<<hosts-1 {
				e.Hosts = r.Uint64() & (1<<hosts - 1)
			}
			e.Duration = dur(time.Second, 2*time.Minute)
		case CrashSlave:
			e.Node, e.Duration = r.IntN(sh.Slaves), dur(time.Second, 2*time.Minute)
		case CrashMaster:
			e.Duration = dur(time.Second, time.Minute)
		case FailoverFramework:
			e.Node, e.Duration = r.IntN(sh.Frameworks), dur(time.Second, 2*time.Minute)
		case CrashExecutor:
			e.Node, e.Pick = r.IntN(sh.Slaves), r.IntN(16)
		case EndTask:
			e.Node, e.Pick = r.IntN(sh.Frameworks), r.IntN(16)
			e.State = terminalStates[r.IntN(len(terminalStates))]
		case JumpClock:
			e.Duration = dur(time.Second, 2*time.Minute)
		}
		s.Events = append(s.Events, e)
	}
	s.Sort()
	ops := Schedule{Events: operations(seed, sh, o)}
	ops.Sort()
	s.Events = mergeEvents(s.Events, ops.Events)
	return s
}

// mergeEvents merges two time-ordered lists of events (a's first at
// equal times): as a stable sort of both would, without moving the
// large list's events about.
func mergeEvents(a, b []Event) []Event {
	if len(b) == 0 {
		return a
	}
	out := make([]Event, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].At < a[0].At {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// operations draws seed's resource operations: mostly reservations and
// volume creations, fewer destructions and unreservations, so that
// volumes live long enough to see faults.
func operations(seed uint64, sh Shape, o GenOptions) []Event {
	if o.Operations < 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed^0x2545f4914f6cdd1d, seed+0x9e3779b97f4a7c15))
	var out []Event
	for range r.IntN(o.Operations + 1) {
		e := Event{At: time.Duration(r.Int64N(int64(o.Horizon))).Round(time.Millisecond), Node: r.IntN(sh.Frameworks)}
		switch x := r.IntN(20); {
		case x < 8:
			e.Kind = Reserve
		case x < 14:
			e.Kind = CreateVolume
		case x < 17:
			e.Kind = DestroyVolume
		default:
			e.Kind = Unreserve
		}
		out = append(out, e)
	}
	return out
}

// Case is one generated input: the seed of the run and its schedule.
type Case struct {
	Seed     uint64
	Schedule Schedule
}

// Gen is the gopter generator of cases: the seed picks the schedule
// (Generate), and the shrinker drops events, then faults' durations,
// keeping the seed.
func Gen(o GenOptions) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		seed := p.Rng.Uint64()
		c := Case{Seed: seed, Schedule: Generate(seed, o)}
		return gopter.NewGenResult(c, shrinkCase)
	}
}

// shrinkCase lists smaller cases: without a chunk of events (halves,
// quarters, ... single events), then with the shape reduced.
func shrinkCase(v any) gopter.Shrink {
	c := v.(Case)
	var out []Case
	n := len(c.Schedule.Events)
	for size := n / 2; size >= 1; size /= 2 {
		for start := 0; start+size <= n; start += size {
			s := c.Schedule
			s.Events = slices.Concat(s.Events[:start:start], s.Events[start+size:])
			out = append(out, Case{Seed: c.Seed, Schedule: s})
		}
	}
	i := 0
	return func() (any, bool) {
		if i >= len(out) {
			return nil, false
		}
		i++
		return out[i-1], true
	}
}

// Shrink reduces a failing schedule: it keeps removing chunks of events
// (then single events) while fails still reports true, and returns the
// smallest failing schedule found. fails must be deterministic (it runs
// the same seed every time).
func Shrink(s Schedule, fails func(Schedule) bool) Schedule {
	for size := len(s.Events) / 2; size >= 1; {
		removed := false
		for start := 0; start+size <= len(s.Events); {
			try := s
			try.Events = slices.Concat(s.Events[:start:start], s.Events[start+size:])
			if fails(try) {
				s, removed = try, true
				continue
			}
			start += size
		}
		if !removed || size > 1 {
			size /= 2
		}
		if size == 0 && removed {
			size = 1
			removed = false
		}
	}
	return s
}
