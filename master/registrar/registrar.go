// Package registrar is the master's registrar: a process (`registrar(N)`)
// that keeps the registry (the slaves the master admitted, and the master
// that leads) in a Storage, so that a new leading master knows which
// slaves to expect back.
//
// Operations are applied in order and stored in batches: while one store
// is under way, the operations that arrive wait and are stored together
// next. An operation's future is ready once a store that includes it is
// done, so a master answers a slave only when the registry holds it. A
// store that fails is retried (1 s, doubling) until StoreTimeout has
// passed since its first attempt; then the registrar aborts: that
// operation and every later one fail, and the master must exit rather
// than admit slaves it cannot persist (Mesos's --registry_store_timeout).
// Waits use the runtime's Clock.
package registrar

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// DefaultStoreTimeout is Mesos's --registry_store_timeout.
const DefaultStoreTimeout = 20 * time.Second

// firstRetry is the delay before the first retry of a failed store.
const firstRetry = time.Second

// ErrNotRecovered fails operations applied before Recover.
var ErrNotRecovered = errors.New("registrar: not recovered")

// Operation changes the registry in place and reports whether it changed
// anything (an operation that changes nothing is not stored).
type Operation func(reg *messages.Registry) bool

// AdmitSlave adds a slave unless the registry already holds its id.
func AdmitSlave(info *mesos.SlaveInfo) Operation {
	info = proto.Clone(info).(*mesos.SlaveInfo)
	return func(reg *messages.Registry) bool {
		if Holds(reg, info.GetId().GetValue()) {
			return false
		}
		if reg.Slaves == nil {
			reg.Slaves = &messages.Registry_Slaves{}
		}
		reg.Slaves.Slaves = append(reg.Slaves.Slaves, &messages.Registry_Slave{Info: proto.Clone(info).(*mesos.SlaveInfo)})
		return true
	}
}

// RemoveSlave removes a slave, if the registry holds it.
func RemoveSlave(id string) Operation {
	return func(reg *messages.Registry) bool {
		slaves := reg.GetSlaves().GetSlaves()
		for i, s := range slaves {
			if s.GetInfo().GetId().GetValue() == id {
				reg.Slaves.Slaves = append(slaves[:i:i], slaves[i+1:]...)
				return true
			}
		}
		return false
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

// Registrar is the registrar process. Create it with New and start it
// with Spawn; its methods may be called from any goroutine.
type Registrar struct {
	process.Process

	storage Storage
	timeout time.Duration
	log     *slog.Logger

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

// New returns a registrar over storage; storeTimeout <= 0 means
// DefaultStoreTimeout.
func New(storage Storage, storeTimeout time.Duration) *Registrar {
	if storeTimeout <= 0 {
		storeTimeout = DefaultStoreTimeout
	}
	return &Registrar{storage: storage, timeout: storeTimeout}
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
	retry(r, "load the registry", r.storage.Load).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[*messages.Registry]) {
		if err := f.Err(); err != nil {
			r.abort(err)
			done.Fail(r.err)
			return
		}
		if loaded := f.Value(); loaded != nil {
			r.reg = proto.Clone(loaded).(*messages.Registry)
		}
		r.reg.Master = &messages.Registry_Master{Info: info}
		snapshot := proto.Clone(r.reg).(*messages.Registry)
		store := func() future.Future[future.Nothing] { return r.storage.Store(snapshot) }
		retry(r, "store the registry", store).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[future.Nothing]) {
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
	changed := make([]bool, len(batch))
	dirty := false
	for i, p := range batch {
		changed[i] = p.op(r.reg)
		dirty = dirty || changed[i]
	}
	complete := func() {
		for i, p := range batch {
			p.p.Set(changed[i])
		}
	}
	if !dirty {
		complete()
		return
	}
	r.storing = true
	snapshot := proto.Clone(r.reg).(*messages.Registry)
	store := func() future.Future[future.Nothing] { return r.storage.Store(snapshot) }
	retry(r, "store the registry", store).OnAny(process.Defer1(r.Runtime(), r.Self(), func(f future.Future[future.Nothing]) {
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

// abort fails every waiting operation and all later ones.
func (r *Registrar) abort(err error) {
	if r.err != nil {
		return
	}
	r.err = fmt.Errorf("registrar aborted: %w", err)
	r.log.Error("registrar aborting: the registry cannot be stored", "err", err)
	for _, p := range r.queue {
		p.p.Fail(r.err)
	}
	r.queue = nil
}

// Finalize fails what is still waiting.
func (r *Registrar) Finalize() {
	for _, p := range r.queue {
		p.p.Fail(fmt.Errorf("registrar: %w", process.ErrTerminated))
	}
	r.queue = nil
}

// retry calls call until it succeeds, waiting 1 s (doubling) between
// attempts on the Clock; past the store timeout since the first attempt
// the future fails with the last error. It runs on r's process and its
// future completes there.
func retry[T any](r *Registrar, what string, call func() future.Future[T]) future.Future[T] {
	p := future.NewPromise[T]()
	deadline := r.Clock().Now().Add(r.timeout)
	var lastErr error
	var attempts int
	deadlineTimer := r.Delay(r.timeout, func() {
		if lastErr == nil {
			lastErr = errors.New("no answer")
		}
		p.Fail(fmt.Errorf("cannot %s within %v (--registry_store_timeout; %d attempts): %w", what, r.timeout, attempts, lastErr))
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
