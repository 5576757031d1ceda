package cluster

import (
	"sync"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/scheduler"
)

// Scheduler records every callback; each kind is a queue of futures, so a
// test can ask for "the next offers" before or after they arrive. Set the
// On* hooks to act inside callbacks.
type Scheduler struct {
	mu     sync.Mutex
	queues map[string]*queue

	OnOffers func(d *scheduler.Driver, offers []*mesos.Offer)
	OnUpdate func(d *scheduler.Driver, status *mesos.TaskStatus)
}

// NewScheduler returns a recording scheduler.
func NewScheduler() *Scheduler { return &Scheduler{queues: make(map[string]*queue)} }

type queue struct {
	ready   []any
	waiting []*future.Promise[any]
}

func (s *Scheduler) push(kind string, v any) {
	s.mu.Lock()
	q := s.q(kind)
	if len(q.waiting) > 0 {
		p := q.waiting[0]
		q.waiting = q.waiting[1:]
		s.mu.Unlock()
		p.Set(v)
		return
	}
	q.ready = append(q.ready, v)
	s.mu.Unlock()
}

func (s *Scheduler) q(kind string) *queue {
	q := s.queues[kind]
	if q == nil {
		q = &queue{}
		s.queues[kind] = q
	}
	return q
}

func next[T any](s *Scheduler, kind string) future.Future[T] {
	s.mu.Lock()
	q := s.q(kind)
	var f future.Future[any]
	if len(q.ready) > 0 {
		f = future.Ready(q.ready[0])
		q.ready = q.ready[1:]
	} else {
		p := future.NewPromise[any]()
		q.waiting = append(q.waiting, p)
		f = p.Future()
	}
	s.mu.Unlock()
	return future.Then(f, func(v any) (T, error) { return v.(T), nil })
}

// Count returns how many callbacks of kind arrived and were not taken.
func (s *Scheduler) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q(kind).ready)
}

// Callback kinds for Count.
const (
	KindRegistered   = "registered"
	KindReregistered = "reregistered"
	KindDisconnected = "disconnected"
	KindOffers       = "offers"
	KindRescinded    = "rescinded"
	KindUpdate       = "update"
	KindMessage      = "message"
	KindSlaveLost    = "slaveLost"
	KindExecutorLost = "executorLost"
	KindError        = "error"
)

// NextRegistered returns a future for the next Registered callback's framework id.
func (s *Scheduler) NextRegistered() future.Future[*mesos.FrameworkID] {
	return next[*mesos.FrameworkID](s, KindRegistered)
}

// NextReregistered returns a future for the next Reregistered callback.
func (s *Scheduler) NextReregistered() future.Future[*mesos.MasterInfo] {
	return next[*mesos.MasterInfo](s, KindReregistered)
}

// NextDisconnected returns a future for the next Disconnected callback.
func (s *Scheduler) NextDisconnected() future.Future[bool] { return next[bool](s, KindDisconnected) }

// NextOffers returns a future for the next ResourceOffers callback.
func (s *Scheduler) NextOffers() future.Future[[]*mesos.Offer] {
	return next[[]*mesos.Offer](s, KindOffers)
}

// NextRescinded returns a future for the next OfferRescinded callback.
func (s *Scheduler) NextRescinded() future.Future[*mesos.OfferID] {
	return next[*mesos.OfferID](s, KindRescinded)
}

// NextUpdate returns a future for the next StatusUpdate callback.
func (s *Scheduler) NextUpdate() future.Future[*mesos.TaskStatus] {
	return next[*mesos.TaskStatus](s, KindUpdate)
}

// NextMessage returns a future for the next FrameworkMessage's data.
func (s *Scheduler) NextMessage() future.Future[[]byte] { return next[[]byte](s, KindMessage) }

// NextSlaveLost returns a future for the next SlaveLost callback.
func (s *Scheduler) NextSlaveLost() future.Future[*mesos.SlaveID] {
	return next[*mesos.SlaveID](s, KindSlaveLost)
}

// NextError returns a future for the next Error callback.
func (s *Scheduler) NextError() future.Future[string] { return next[string](s, KindError) }

// Registered implements scheduler.Scheduler.
func (s *Scheduler) Registered(_ *scheduler.Driver, id *mesos.FrameworkID, _ *mesos.MasterInfo) {
	s.push(KindRegistered, id)
}

// Reregistered implements scheduler.Scheduler.
func (s *Scheduler) Reregistered(_ *scheduler.Driver, info *mesos.MasterInfo) {
	s.push(KindReregistered, info)
}

// Disconnected implements scheduler.Scheduler.
func (s *Scheduler) Disconnected(*scheduler.Driver) { s.push(KindDisconnected, true) }

// ResourceOffers implements scheduler.Scheduler.
func (s *Scheduler) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	if s.OnOffers != nil {
		s.OnOffers(d, offers)
	}
	s.push(KindOffers, offers)
}

// OfferRescinded implements scheduler.Scheduler.
func (s *Scheduler) OfferRescinded(_ *scheduler.Driver, id *mesos.OfferID) { s.push(KindRescinded, id) }

// StatusUpdate implements scheduler.Scheduler.
func (s *Scheduler) StatusUpdate(d *scheduler.Driver, status *mesos.TaskStatus) {
	if s.OnUpdate != nil {
		s.OnUpdate(d, status)
	}
	s.push(KindUpdate, status)
}

// FrameworkMessage implements scheduler.Scheduler.
func (s *Scheduler) FrameworkMessage(_ *scheduler.Driver, _ *mesos.ExecutorID, _ *mesos.SlaveID, data []byte) {
	s.push(KindMessage, data)
}

// SlaveLost implements scheduler.Scheduler.
func (s *Scheduler) SlaveLost(_ *scheduler.Driver, id *mesos.SlaveID) { s.push(KindSlaveLost, id) }

// ExecutorLost implements scheduler.Scheduler.
func (s *Scheduler) ExecutorLost(_ *scheduler.Driver, e *mesos.ExecutorID, _ *mesos.SlaveID, _ int) {
	s.push(KindExecutorLost, e)
}

// Error implements scheduler.Scheduler.
func (s *Scheduler) Error(_ *scheduler.Driver, msg string) { s.push(KindError, msg) }
