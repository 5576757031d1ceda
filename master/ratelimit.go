package master

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/metrics"
)

// RateLimits is framework rate limiting (--rate_limits): the messages a
// framework sends the master (libprocess messages and v1 calls) are
// served at most at its principal's rate, the rest wait in a queue of the
// principal's capacity; a message that finds the queue full is dropped
// and the framework gets a FrameworkErrorMessage (its driver aborts; its
// tasks keep running).
type RateLimits struct {
	// Limits are per principal; frameworks sharing a principal share one
	// limit.
	Limits []PrincipalLimit
	// AggregateDefault, when set, is the one limit shared by every
	// framework whose principal is not listed or that has none; nil
	// leaves those unthrottled.
	AggregateDefault *Throttle
}

// PrincipalLimit is the limit of one principal.
type PrincipalLimit struct {
	Principal string
	// Throttle nil: the principal is listed without a rate and is not
	// throttled.
	Throttle *Throttle
}

// Throttle is a rate of messages with a bound on those waiting.
type Throttle struct {
	// QPS is the number of messages served per second (> 0).
	QPS float64
	// Capacity bounds the messages waiting to be served; 0: unbounded.
	Capacity uint64
}

// ParseRateLimits reads the RateLimits JSON of --rate_limits, e.g.
// `{"limits":[{"principal":"foo","qps":55.5,"capacity":100000}],
// "aggregate_default_qps":333,"aggregate_default_capacity":1000000}`.
// Unknown fields, a missing principal, a principal listed twice, a rate
// that is not positive and a zero capacity are refused. A capacity
// without a rate is ignored, as Mesos does.
func ParseRateLimits(data []byte) (*RateLimits, error) {
	pb := &mesospb.RateLimits{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, pb); err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	rl := &RateLimits{}
	for _, l := range pb.GetLimits() {
		pl := PrincipalLimit{Principal: l.GetPrincipal()}
		if l.Qps != nil {
			pl.Throttle = &Throttle{QPS: l.GetQps(), Capacity: l.GetCapacity()}
			if l.Capacity != nil && l.GetCapacity() == 0 {
				return nil, fmt.Errorf("rate limits: principal %q: capacity 0 would drop every message (leave it out for no bound)", pl.Principal)
			}
		}
		rl.Limits = append(rl.Limits, pl)
	}
	if pb.AggregateDefaultQps != nil {
		rl.AggregateDefault = &Throttle{QPS: pb.GetAggregateDefaultQps(), Capacity: pb.GetAggregateDefaultCapacity()}
		if pb.AggregateDefaultCapacity != nil && pb.GetAggregateDefaultCapacity() == 0 {
			return nil, fmt.Errorf("rate limits: aggregate_default_capacity 0 would drop every message (leave it out for no bound)")
		}
	}
	if err := rl.Validate(); err != nil {
		return nil, err
	}
	return rl, nil
}

// Validate checks the limits: every principal named once, every rate
// positive and finite with an interval a Duration holds.
func (rl *RateLimits) Validate() error {
	seen := make(map[string]bool)
	for _, l := range rl.Limits {
		if l.Principal == "" {
			return fmt.Errorf("rate limits: a limit without a principal")
		}
		if seen[l.Principal] {
			return fmt.Errorf("rate limits: principal %q listed twice", l.Principal)
		}
		seen[l.Principal] = true
		if l.Throttle != nil {
			if err := l.Throttle.validate(); err != nil {
				return fmt.Errorf("rate limits: principal %q: %w", l.Principal, err)
			}
		}
	}
	if rl.AggregateDefault != nil {
		if err := rl.AggregateDefault.validate(); err != nil {
			return fmt.Errorf("rate limits: aggregate_default_qps: %w", err)
		}
	}
	return nil
}

// minQPS is the smallest rate: one message in about 30 years, whose
// interval still fits a Duration.
const minQPS = 1e-9

func (t *Throttle) validate() error {
	if math.IsNaN(t.QPS) || math.IsInf(t.QPS, 0) || t.QPS < minQPS {
		return fmt.Errorf("qps %v: want a positive rate of at least %v", t.QPS, minQPS)
	}
	return nil
}

// interval is the time between two permits.
func (t *Throttle) interval() time.Duration {
	return time.Duration(float64(time.Second) / t.QPS)
}

// JSON writes the limits back in the RateLimits JSON form.
func (rl *RateLimits) JSON() ([]byte, error) {
	pb := &mesospb.RateLimits{}
	for _, l := range rl.Limits {
		r := &mesospb.RateLimit{Principal: proto.String(l.Principal)}
		if l.Throttle != nil {
			r.Qps = proto.Float64(l.Throttle.QPS)
			if l.Throttle.Capacity > 0 {
				r.Capacity = proto.Uint64(l.Throttle.Capacity)
			}
		}
		pb.Limits = append(pb.Limits, r)
	}
	if d := rl.AggregateDefault; d != nil {
		pb.AggregateDefaultQps = proto.Float64(d.QPS)
		if d.Capacity > 0 {
			pb.AggregateDefaultCapacity = proto.Uint64(d.Capacity)
		}
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	return b, nil
}

// limiter serves the messages of the frameworks sharing one limit: one
// permit every interval, the first at once; the others wait in order,
// released by a timer on the master's Clock.
type limiter struct {
	throttle Throttle
	interval time.Duration
	next     time.Time // when the next permit is free
	queue    []func()
	timer    *process.Timer
}

func newLimiter(t Throttle) *limiter {
	return &limiter{throttle: t, interval: t.interval()}
}

// admit serves run now if a permit is free and nothing waits, queues it
// otherwise, and refuses it (false) when the queue is full.
func (l *limiter) admit(m *master, run func()) bool {
	if l.throttle.Capacity > 0 && uint64(len(l.queue)) >= l.throttle.Capacity {
		return false
	}
	l.take(m, run)
	return true
}

// take serves run at its turn whatever the capacity (an exited event
// keeps its place in order and is never dropped).
func (l *limiter) take(m *master, run func()) {
	if now := m.Clock().Now(); len(l.queue) == 0 && !now.Before(l.next) {
		l.next = now.Add(l.interval)
		run()
		return
	}
	l.queue = append(l.queue, run)
	if l.timer == nil {
		l.timer = m.Delay(l.next.Sub(m.Clock().Now()), func() { l.serve(m) })
	}
}

// serve runs the head of the queue and waits for the next permit.
func (l *limiter) serve(m *master) {
	l.timer = nil
	if len(l.queue) == 0 {
		return
	}
	run := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	now := m.Clock().Now()
	l.next = now.Add(l.interval)
	if len(l.queue) > 0 {
		l.timer = m.Delay(l.interval, func() { l.serve(m) })
	}
	run()
}

// frameworkCounters are the frameworks/<principal>/* metrics, shared by
// the frameworks with that principal.
type frameworkCounters struct {
	received, processed *metrics.Counter
	frameworks          int // how many frameworks hold them
}

// rateLimiting is the master's rate-limiting state.
type rateLimiting struct {
	byPrincipal map[string]*limiter
	unthrottled map[string]bool // listed without a rate
	aggregate   *limiter
	// principals maps the pids of registered frameworks to their
	// principals ("" for none).
	principals map[process.UPID]string
	counters   map[string]*frameworkCounters
}

func newRateLimiting(rl *RateLimits) *rateLimiting {
	r := &rateLimiting{
		byPrincipal: make(map[string]*limiter),
		unthrottled: make(map[string]bool),
		principals:  make(map[process.UPID]string),
		counters:    make(map[string]*frameworkCounters),
	}
	if rl == nil {
		return r
	}
	for _, l := range rl.Limits {
		if l.Throttle == nil {
			r.unthrottled[l.Principal] = true
			continue
		}
		r.byPrincipal[l.Principal] = newLimiter(*l.Throttle)
	}
	if rl.AggregateDefault != nil {
		r.aggregate = newLimiter(*rl.AggregateDefault)
	}
	return r
}

// limiterFor returns the limiter of principal, or nil.
func (r *rateLimiting) limiterFor(principal string) *limiter {
	if l := r.byPrincipal[principal]; l != nil {
		return l
	}
	if r.unthrottled[principal] {
		return nil
	}
	return r.aggregate
}

// trackFramework registers f's pid and principal (and its principal's
// counters) for rate limiting; untrackFramework undoes it.
func (m *master) trackFramework(f *framework) {
	r := m.limits
	p := f.info.GetPrincipal()
	r.principals[f.pid] = p
	if p == "" {
		return
	}
	c := r.counters[p]
	if c == nil {
		c = &frameworkCounters{
			received:  m.principalCounter(p, "messages_received"),
			processed: m.principalCounter(p, "messages_processed"),
		}
		r.counters[p] = c
	}
	c.frameworks++
}

func (m *master) untrackFramework(pid process.UPID, principal string) {
	delete(m.limits.principals, pid)
	m.releaseCounters(principal)
}

// retrackFramework gives f a new pid and info (failover,
// resubscription), keeping its principal's counters when the principal
// stays.
func (m *master) retrackFramework(f *framework, pid process.UPID, info *mesos.FrameworkInfo) {
	oldPrincipal := f.info.GetPrincipal()
	delete(m.limits.principals, f.pid)
	f.pid, f.info = pid, info
	m.trackFramework(f)
	m.releaseCounters(oldPrincipal)
}

// releaseCounters drops a framework's hold on its principal's counters;
// the last one removes them.
func (m *master) releaseCounters(principal string) {
	c := m.limits.counters[principal]
	if principal == "" || c == nil {
		return
	}
	if c.frameworks--; c.frameworks <= 0 {
		delete(m.limits.counters, principal)
		reg := m.Runtime().Metrics()
		reg.Remove(principalMetric(principal, "messages_received"))
		reg.Remove(principalMetric(principal, "messages_processed"))
	}
}

func principalMetric(principal, name string) string {
	return "frameworks/" + principal + "/" + name
}

func (m *master) principalCounter(principal, name string) *metrics.Counter {
	c, err := m.Runtime().Metrics().NewCounter(principalMetric(principal, name))
	if err != nil {
		m.log.Error("cannot register metric", "name", principalMetric(principal, name), "err", err)
		c, _ = metrics.NewRegistry().NewCounter(name) // detached
	}
	return c
}

// throttle runs a message's handler from a registered framework's pid
// through its principal's limiter, counting it; anything else runs at
// once. A message refused for capacity is dropped, the framework is told
// with a FrameworkErrorMessage, and throttle returns false.
func (m *master) throttle(from process.UPID, name string, run func()) bool {
	r := m.limits
	principal, isFramework := r.principals[from]
	if !isFramework {
		run()
		return true
	}
	c := r.counters[principal]
	if c != nil {
		c.received.Inc()
	}
	served := func() {
		if c != nil {
			c.processed.Inc()
		}
		run()
	}
	l := r.limiterFor(principal)
	if l == nil {
		served()
		return true
	}
	if l.admit(m, served) {
		return true
	}
	capacity := strconv.FormatUint(l.throttle.Capacity, 10)
	m.log.Warn("dropping a framework's message: rate limit capacity exceeded", "message", name, "from", from.String(), "principal", principal, "capacity", capacity)
	m.send(from, &messages.FrameworkErrorMessage{Message: proto.String("Message " + name + " dropped: capacity(" + capacity + ") exceeded")})
	return false
}

// throttleExited runs the handling of a framework's broken link behind
// the messages it sent before, at its turn (never dropped, not counted).
func (m *master) throttleExited(pid process.UPID, run func()) {
	r := m.limits
	principal, isFramework := r.principals[pid]
	l := r.limiterFor(principal)
	if !isFramework || l == nil {
		run()
		return
	}
	l.take(m, run)
}
