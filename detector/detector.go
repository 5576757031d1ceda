// Package detector is master election and detection, as Mesos has them:
// masters enter an election through a Contender and learn there that they
// lead; slaves, schedulers and standby masters learn who leads through a
// Detector. Both answer with futures, so that a process continues with
// Defer onto itself and never waits on a goroutine of its own.
//
// Three implementations:
//   - ZooKeeper (Client.Contender, Client.Detector): each master creates an
//     ephemeral sequential node `<path>/json.info_<seq>` holding its
//     MasterInfo as JSON; the lowest sequence leads. mesos-go 0.0.6's
//     detector reads the same nodes.
//   - Group: the same election in memory, shared by the contenders and
//     detectors of one simulation, so masters can be elected and fail over
//     without ZooKeeper.
//   - Standalone: a single master, always elected, always detected.
package detector

import (
	"errors"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
)

// Lost completes when a leader's leadership (or a candidate's candidacy)
// ends: ready when it withdrew, failed with the reason when it lost it
// (its ZooKeeper session expired, its node was deleted).
type Lost = future.Future[future.Nothing]

// ErrLost is the failure of a candidacy that ended without a withdrawal.
var ErrLost = errors.New("candidacy lost")

// Contender enters a master into an election.
type Contender interface {
	// Contend enters info as a candidate. The future is ready once this
	// contender leads, with a future that completes when that leadership
	// ends; it fails if the candidacy cannot be entered or ends before
	// the election. Contending again withdraws the previous candidacy.
	Contend(info *mesos.MasterInfo) future.Future[Lost]
	// Withdraw ends the candidacy (the Lost future becomes ready).
	Withdraw()
}

// Detector tells who leads.
type Detector interface {
	// Detect returns a future of the leading master as soon as it differs
	// from previous: at once if it already does, else at the next change.
	// A nil value means there is no leader now. Pass nil to learn the
	// first leader.
	Detect(previous *mesos.MasterInfo) future.Future[*mesos.MasterInfo]
}

// Same reports whether a and b are the same leader (same id and pid);
// two nils are the same.
func Same(a, b *mesos.MasterInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.GetId() == b.GetId() && a.GetPid() == b.GetPid()
}

// Follow calls fn with every leader d reports, in order, starting with
// the current one, until stop is called. fn runs on whichever goroutine
// completes the detection (for ZooKeeper, the client's watcher), so it
// should only post work to a process (e.g. Slave.MasterDetected).
func Follow(d Detector, fn func(*mesos.MasterInfo)) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var pending future.Future[*mesos.MasterInfo]
	var next func(previous *mesos.MasterInfo)
	next = func(previous *mesos.MasterInfo) {
		f := d.Detect(previous)
		mu.Lock()
		if stopped {
			mu.Unlock()
			f.Discard()
			return
		}
		pending = f
		mu.Unlock()
		f.OnReady(func(leader *mesos.MasterInfo) {
			mu.Lock()
			s := stopped
			mu.Unlock()
			if s {
				return
			}
			fn(leader)
			next(leader)
		})
	}
	next(nil)
	return func() {
		mu.Lock()
		stopped = true
		f := pending
		mu.Unlock()
		f.Discard()
	}
}

// leaderState is the leader a detector knows and the Detect calls that
// wait for it to change.
type leaderState struct {
	mu      sync.Mutex
	known   bool // a leader (or its absence) was learnt
	leader  *mesos.MasterInfo
	waiting []waiter
}

type waiter struct {
	previous *mesos.MasterInfo
	p        *future.Promise[*mesos.MasterInfo]
}

func clone(info *mesos.MasterInfo) *mesos.MasterInfo {
	if info == nil {
		return nil
	}
	return proto.Clone(info).(*mesos.MasterInfo)
}

func (s *leaderState) detect(previous *mesos.MasterInfo) future.Future[*mesos.MasterInfo] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known && !Same(s.leader, previous) {
		return future.Ready(clone(s.leader))
	}
	p := future.NewPromise[*mesos.MasterInfo]()
	p.Future().OnDiscard(func() { p.Discard() })
	s.waiting = append(s.waiting, waiter{previous: clone(previous), p: p})
	return p.Future()
}

// set records leader and returns the completions due, for the caller to
// run once it holds no lock (callbacks may call detect again).
func (s *leaderState) set(leader *mesos.MasterInfo) func() {
	s.mu.Lock()
	s.known = true
	s.leader = clone(leader)
	var due []*future.Promise[*mesos.MasterInfo]
	kept := s.waiting[:0]
	for _, w := range s.waiting {
		switch {
		case !w.p.Future().IsPending():
		case Same(w.previous, leader):
			kept = append(kept, w)
		default:
			due = append(due, w.p)
		}
	}
	clear(s.waiting[len(kept):])
	s.waiting = kept
	s.mu.Unlock()
	return func() {
		for _, p := range due {
			p.Set(clone(leader))
		}
	}
}
