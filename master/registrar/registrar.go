// Package registrar is the master's registrar: a process (`registrar(N)`)
// that keeps the registry (the slaves the master admitted, and the master
// that leads) in a Storage, so that a new leading master knows which
// slaves to expect back.
//
// Operations are applied in order and stored in batches: while one store
// is under way, the operations that arrive wait and are stored together
// next. An operation's future is ready once a store that includes it is
// done, so a master answers a slave only when the registry holds it. A
// fetch or store that fails is retried (1 s, doubling) until FetchTimeout
// or StoreTimeout has passed since its first attempt; then the registrar
// aborts: that operation and every later one fail, and the master must
// exit rather than admit slaves it cannot persist (Mesos's
// --registry_fetch_timeout and --registry_store_timeout). A store the
// Storage fences (ErrFenced: another master leads or wrote the registry)
// aborts at once. Waits use the runtime's Clock.
//
// Metrics (Mesos's names): registrar/queued_operations,
// registrar/registry_size_bytes, registrar/state_fetch_ms and
// registrar/state_store_ms with its percentiles.
package registrar

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/metrics"
)

// DefaultStoreTimeout is Mesos's --registry_store_timeout.
const DefaultStoreTimeout = 20 * time.Second

// DefaultFetchTimeout is Mesos's --registry_fetch_timeout.
const DefaultFetchTimeout = time.Minute

// firstRetry is the delay before the first retry of a failed store.
const firstRetry = time.Second

// storeWindow is how many recent stores the state_store_ms percentiles
// cover.
const storeWindow = 100

// ErrNotRecovered fails operations applied before Recover.
var ErrNotRecovered = errors.New("registrar: not recovered")

// ErrFenced is the failure of a store that the Storage refused because
// this master no longer leads, or another master wrote the registry since
// this one read it. It is detector.ErrFenced, which the ZooKeeper storage
// returns; other storages wrap it too. The registrar aborts on it at once,
// and the master exits.
var ErrFenced = detector.ErrFenced

// ErrRejected fails an operation that a strict registry (Options.Strict,
// --registry_strict) refuses: admitting a slave it holds, readmitting or
// removing one it does not. The registry is unchanged and the registrar
// goes on.
var ErrRejected = errors.New("registrar: operation rejected by the strict registry")

// Operation changes the registry in place and reports whether it changed
// anything (an operation that changes nothing is not stored). With strict
// set, an operation that does not fit the registry returns an error
// wrapping ErrRejected and leaves it unchanged; otherwise it does what
// it can (Mesos's non-strict registry admits everything).
type Operation func(reg *messages.Registry, strict bool) (bool, error)

// AdmitSlave adds a newly registered slave. A slave the registry already
// holds is left as it is (strict: rejected).
func AdmitSlave(info *mesos.SlaveInfo) Operation {
	info = proto.Clone(info).(*mesos.SlaveInfo)
	return func(reg *messages.Registry, strict bool) (bool, error) {
		if Holds(reg, info.GetId().GetValue()) {
			if strict {
				return false, fmt.Errorf("admit slave %s: already admitted: %w", info.GetId().GetValue(), ErrRejected)
			}
			return false, nil
		}
		add(reg, info)
		return true, nil
	}
}

// ReadmitSlave records a slave that re-registered: nothing changes if the
// registry holds it; otherwise it is added (strict: rejected, the slave
// was removed or never admitted).
func ReadmitSlave(info *mesos.SlaveInfo) Operation {
	info = proto.Clone(info).(*mesos.SlaveInfo)
	return func(reg *messages.Registry, strict bool) (bool, error) {
		if Holds(reg, info.GetId().GetValue()) {
			return false, nil
		}
		if strict {
			return false, fmt.Errorf("readmit slave %s: not admitted: %w", info.GetId().GetValue(), ErrRejected)
		}
		add(reg, info)
		return true, nil
	}
}

func add(reg *messages.Registry, info *mesos.SlaveInfo) {
	if reg.Slaves == nil {
		reg.Slaves = &messages.Registry_Slaves{}
	}
	reg.Slaves.Slaves = append(reg.Slaves.Slaves, &messages.Registry_Slave{Info: proto.Clone(info).(*mesos.SlaveInfo)})
}

// RemoveSlave removes a slave, if the registry holds it (strict: a slave
// it does not hold is rejected).
func RemoveSlave(id string) Operation {
	return func(reg *messages.Registry, strict bool) (bool, error) {
		slaves := reg.GetSlaves().GetSlaves()
		for i, s := range slaves {
			if s.GetInfo().GetId().GetValue() == id {
				reg.Slaves.Slaves = append(slaves[:i:i], slaves[i+1:]...)
				return true, nil
			}
		}
		if strict {
			return false, fmt.Errorf("remove slave %s: not admitted: %w", id, ErrRejected)
		}
		return false, nil
	}
}

// Holds reports whether reg holds the slave id.
func Holds(reg *messages.Registry, id string) bool {
	for _, s := range reg.GetSlaves().GetSlaves() {
		if s.GetInfo().GetId().GetValue() == id {
			return true
		}
	}
	return false
}

// Options configure a registrar.
type Options struct {
	// StoreTimeout bounds the retries of a failing store
	// (--registry_store_timeout, DefaultStoreTimeout when 0).
	StoreTimeout time.Duration
	// FetchTimeout bounds the retries of a failing load at recovery
	// (--registry_fetch_timeout, DefaultFetchTimeout when 0).
	FetchTimeout time.Duration
	// Strict rejects operations that do not fit the registry
	// (--registry_strict); see Operation.
	Strict bool
}

// Registrar is the registrar process. Create it with New and start it
// with Spawn; its methods may be called from any goroutine.
type Registrar struct {
	process.Process

	storage Storage
	opts    Options
	log     *slog.Logger
	metrics *registrarMetrics

	reg       *messages.Registry
	recovered bool
	queue     []pending
	storing   bool
	err       error // set once aborted
}

type pending struct {
	op Operation
	p  *future.Promise[bool]
}

// New returns a registrar over storage with the default options but the
// store timeout (DefaultStoreTimeout when storeTimeout <= 0).
func New(storage Storage, storeTimeout time.Duration) *Registrar {
	return NewWithOptions(storage, Options{StoreTimeout: storeTimeout})
}

// NewWithOptions returns a registrar over storage.
func NewWithOptions(storage Storage, opts Options) *Registrar {
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = DefaultStoreTimeout
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	return &Registrar{storage: storage, opts: opts}
}

// Spawn starts r on rt as `registrar(N)`.
func Spawn(rt *process.Runtime, r *Registrar) (process.UPID, error) {
	pid, err := rt.Spawn(r, rt.GenerateID("registrar"))
	if err != nil {
		return process.UPID{}, fmt.Errorf("spawn registrar: %w", err)
	}
	return pid, nil
}

// Initialize sets the registrar up (the process's first event).
func (r *Registrar) Initialize() {
	r.log = r.Runtime().Logger().With("component", "registrar")
	r.metrics = newRegistrarMetrics(r.Runtime().Metrics(), r.Clock().Now, r.log)
}

// Recover loads the stored registry, records info as the leading master
// in it and stores it; the future is the registry as recovered. Until it
// is ready, applied operations wait.
func (r *Registrar) Recover(info *mesos.MasterInfo) future.Future[*messages.Registry] {
	info = proto.Clone(info).(*mesos.MasterInfo)
	return process.DispatchF(r.Runtime(), r.Self(), func() future.Future[*messages.Registry] { return r.recover(info) })
}

// Apply applies op once the registry is recovered and the operations
// before it are stored; the future says whether op changed the registry,
// and fails when the registrar has aborted.
func (r *Registrar) Apply(op Operation) future.Future[bool] {
	return process.DispatchF(r.Runtime(), r.Self(), func() future.Future[bool] {
		if r.err != nil {
			return future.Failed[bool](r.err)
		}
		p := future.NewPromise[bool]()
		r.queue = append(r.queue, pending{op: op, p: p})
		r.metrics.queued.Set(float64(len(r.queue)))
		r.next()
		return p.Future()
	})
}

func (r *Registrar) recover(info *mesos.MasterInfo) future.Future[*messages.Registry] {
	if r.err != nil {
		return future.Failed[*messages.Registry](r.err)
	}
	if r.recovered || r.reg != nil {
		return future.Failed[*messages.Registry](errors.New("registrar: already recovered"))
	}
	r.reg = &messages.Registry{}
	done := future.NewPromise[*messages.Registry]()
	fetched := r.metrics.fetch.Start()
	retry(r, "load the registry", "--registry_fetch_timeout", r.opts.FetchTimeout, r.storage.Load).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[*messages.Registry]) {
		if err := f.Err(); err != nil {
			r.abort(err)
			done.Fail(r.err)
			return
		}
		fetched()
		if loaded := f.Value(); loaded != nil {
			r.reg = proto.Clone(loaded).(*messages.Registry)
		}
		r.reg.Master = &messages.Registry_Master{Info: info}
		r.store(proto.Clone(r.reg).(*messages.Registry)).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[future.Nothing]) {
			if err := f.Err(); err != nil {
				r.abort(err)
				done.Fail(r.err)
				return
			}
			r.recovered = true
			done.Set(proto.Clone(r.reg).(*messages.Registry))
			r.next()
		}))
	}))
	return done.Future()
}

// next applies the waiting operations and stores the result, unless a
// store is under way (it calls next again when done).
func (r *Registrar) next() {
	if r.storing || !r.recovered || r.err != nil || len(r.queue) == 0 {
		return
	}
	batch := r.queue
	r.queue = nil
	r.metrics.queued.Set(0)
	changed := make([]bool, len(batch))
	errs := make([]error, len(batch))
	dirty := false
	for i, p := range batch {
		changed[i], errs[i] = p.op(r.reg, r.opts.Strict)
		dirty = dirty || changed[i]
	}
	complete := func() {
		for i, p := range batch {
			if errs[i] != nil {
				p.p.Fail(errs[i])
				continue
			}
			p.p.Set(changed[i])
		}
	}
	if !dirty {
		complete()
		return
	}
	r.storing = true
	r.store(proto.Clone(r.reg).(*messages.Registry)).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[future.Nothing]) {
		r.storing = false
		if err := f.Err(); err != nil {
			r.abort(err)
			for _, p := range batch {
				p.p.Fail(r.err)
			}
			return
		}
		complete()
		r.next()
	}))
}

// store stores snapshot, retrying for StoreTimeout, and records the
// store's time and the registry's size.
func (r *Registrar) store(snapshot *messages.Registry) future.Future[future.Nothing] {
	stored := r.metrics.store.Start()
	call := func() future.Future[future.Nothing] { return r.storage.Store(snapshot) }
	return retry(r, "store the registry", "--registry_store_timeout", r.opts.StoreTimeout, call).OnReady(func(future.Nothing) {
		stored()
		r.metrics.size.Set(float64(proto.Size(snapshot)))
	})
}

// abort fails every waiting operation and all later ones.
func (r *Registrar) abort(err error) {
	if r.err != nil {
		return
	}
	r.err = fmt.Errorf("registrar aborted: %w", err)
	if errors.Is(err, ErrFenced) {
		r.log.Error("registrar aborting: another master leads or wrote the registry", "err", err)
	} else {
		r.log.Error("registrar aborting: the registry cannot be fetched or stored", "err", err)
	}
	for _, p := range r.queue {
		p.p.Fail(r.err)
	}
	r.queue = nil
	r.metrics.queued.Set(0)
}

// Finalize fails what is still waiting and unregisters the metrics.
func (r *Registrar) Finalize() {
	for _, p := range r.queue {
		p.p.Fail(fmt.Errorf("registrar: %w", process.ErrTerminated))
	}
	r.queue = nil
	r.metrics.remove()
}

// retry calls call until it succeeds, waiting 1 s (doubling) between
// attempts on the Clock; past timeout (named by flag) since the first
// attempt the future fails with the last error. A fenced call fails it at
// once. It runs on r's process and its future completes there.
func retry[T any](r *Registrar, what, flag string, timeout time.Duration, call func() future.Future[T]) future.Future[T] {
	p := future.NewPromise[T]()
	deadline := r.Clock().Now().Add(timeout)
	var lastErr error
	var attempts int
	deadlineTimer := r.Delay(timeout, func() {
		if lastErr == nil {
			lastErr = errors.New("no answer")
		}
		p.Fail(fmt.Errorf("cannot %s within %v (%s; %d attempts): %w", what, timeout, flag, attempts, lastErr))
	})
	backoff := firstRetry
	var try func()
	try = func() {
		if !p.Future().IsPending() {
			return
		}
		attempts++
		call().OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[T]) {
			if !p.Future().IsPending() {
				return
			}
			if f.IsReady() {
				r.Clock().Cancel(deadlineTimer)
				p.Set(f.Value())
				return
			}
			lastErr = f.Err()
			if errors.Is(lastErr, ErrFenced) {
				r.Clock().Cancel(deadlineTimer)
				p.Fail(fmt.Errorf("cannot %s: %w", what, lastErr))
				return
			}
			now := r.Clock().Now()
			if now.Add(backoff).Before(deadline) {
				r.log.Warn("registry operation failed; retrying", "op", what, "in", backoff, "err", lastErr)
				r.Delay(backoff, try)
				backoff *= 2
				return
			}
			r.log.Warn("registry operation failed", "op", what, "err", lastErr, "gives up in", deadline.Sub(now))
		}))
	}
	try()
	return p.Future()
}

// registrarMetrics are the registrar/* metrics. A second registrar in a
// runtime (a test's next master) gets detached ones until the first one
// ends.
type registrarMetrics struct {
	reg          *metrics.Registry
	owned        []string
	queued, size *metrics.SettableGauge
	fetch, store *metrics.Timer
}

func newRegistrarMetrics(reg *metrics.Registry, now func() time.Time, log *slog.Logger) *registrarMetrics {
	m := &registrarMetrics{reg: reg}
	gauge := func(name string) *metrics.SettableGauge {
		g, err := reg.NewSettableGauge(name)
		if err != nil {
			log.Warn("registrar metric not registered", "name", name, "err", err)
			g, _ = metrics.NewRegistry().NewSettableGauge(name)
			return g
		}
		m.owned = append(m.owned, name)
		return g
	}
	timer := func(name string, window int) *metrics.Timer {
		t, err := reg.NewTimer(name, window)
		if err != nil {
			log.Warn("registrar metric not registered", "name", name, "err", err)
			detached := metrics.NewRegistry()
			detached.SetNow(now)
			t, _ = detached.NewTimer(name, window)
			return t
		}
		m.owned = append(m.owned, name+"_ms")
		return t
	}
	m.queued = gauge("registrar/queued_operations")
	m.size = gauge("registrar/registry_size_bytes")
	m.fetch = timer("registrar/state_fetch", 0)
	m.store = timer("registrar/state_store", storeWindow)
	return m
}

// remove unregisters the metrics this registrar registered.
func (m *registrarMetrics) remove() {
	if m == nil {
		return
	}
	for _, name := range m.owned {
		m.reg.Remove(name)
	}
	m.owned = nil
}
