package actor

import (
	"sync"
	"sync/atomic"
)

// world is the process-wide view of every live system, for settling all
// of them at once: tests run several runtimes (hosts) in one OS process,
// and work moves between them.
var world = newWorld()

type worldState struct {
	mu      sync.Mutex
	cond    *sync.Cond
	waiters atomic.Int32
	// moves goes up on every count added anywhere (after the add).
	moves atomic.Uint64
	// systems and dets are replaced, never changed, under mu, so that
	// readers need no lock.
	systems atomic.Pointer[[]*System]
	dets    atomic.Pointer[[]*Deterministic]
}

func newWorld() *worldState {
	w := &worldState{}
	w.cond = sync.NewCond(&w.mu)
	w.systems.Store(&[]*System{})
	w.dets.Store(&[]*Deterministic{})
	return w
}

func (w *worldState) join(s *System) {
	w.mu.Lock()
	defer w.mu.Unlock()
	systems := append(append([]*System(nil), *w.systems.Load()...), s)
	w.systems.Store(&systems)
	w.refreshDets(systems)
}

func (w *worldState) leave(s *System) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var systems []*System
	for _, x := range *w.systems.Load() {
		if x != s {
			systems = append(systems, x)
		}
	}
	w.systems.Store(&systems)
	w.refreshDets(systems)
	w.cond.Broadcast() // a sleeper may have been waiting on s
}

// refreshDets lists the distinct deterministic dispatchers of systems
// (several systems may share one). Called with mu held.
func (w *worldState) refreshDets(systems []*System) {
	var dets []*Deterministic
	seen := make(map[*Deterministic]bool)
	for _, s := range systems {
		if s.det != nil && !s.det.scoped && !seen[s.det] {
			seen[s.det] = true
			dets = append(dets, s.det)
		}
	}
	w.dets.Store(&dets)
}

// idle reports whether no system has anything counted in flight. It
// reads the systems one at a time, so it brackets the scan with the move
// count: if nothing was added anywhere during the scan, the zeros it read
// held all at once. (Work moving from one system to another adds at the
// destination, and so bumps the count, before the source lets go.)
func (w *worldState) idle() bool {
	before := w.moves.Load()
	for _, s := range *w.systems.Load() {
		if s.det != nil && s.det.scoped {
			continue // driven by its own WaitIdle
		}
		if s.inflight.Load() != 0 {
			return false
		}
	}
	return w.moves.Load() == before
}

// idleOn reports whether no system on dispatcher d has anything counted
// in flight (bracketed by the move count as idle is).
func (w *worldState) idleOn(d *Deterministic) bool {
	before := w.moves.Load()
	for _, s := range *w.systems.Load() {
		if s.det == d && s.inflight.Load() != 0 {
			return false
		}
	}
	return w.moves.Load() == before
}

// queued reports whether any deterministic dispatcher has a run queued.
func (w *worldState) queued() bool {
	for _, d := range *w.dets.Load() {
		if d.Len() > 0 {
			return true
		}
	}
	return false
}

// runDeterministic runs every deterministic dispatcher's queue until all
// are empty; it reports whether it ran anything.
func (w *worldState) runDeterministic() bool {
	ran := false
	for again := true; again; {
		again = false
		for _, d := range *w.dets.Load() {
			if d.RunUntilIdle() > 0 {
				ran, again = true, true
			}
		}
	}
	return ran
}

// sleep blocks until ready reports true; wake re-checks it.
func (w *worldState) sleep(ready func() bool) {
	w.waiters.Add(1)
	w.mu.Lock()
	for !ready() {
		w.cond.Wait()
	}
	w.mu.Unlock()
	w.waiters.Add(-1)
}

// wake makes sleepers re-check their condition. It is cheap when nobody
// sleeps: one atomic load.
func (w *worldState) wake() {
	if w.waiters.Load() > 0 {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

// WaitAllIdle blocks until no counted event or hold is in flight in any
// system of the program. It runs the queues of deterministic dispatchers
// on the calling goroutine, and sleeps only while those queues are empty
// and work elsewhere (pooled mailboxes, holds released by other
// goroutines) is still under way. Work started from outside every system
// after it returns (a new network request, a test goroutine) is not its
// concern.
func WaitAllIdle() {
	for {
		if world.runDeterministic() {
			continue
		}
		if world.idle() {
			return
		}
		world.sleep(func() bool { return world.idle() || world.queued() })
	}
}

// AllIdle reports, without waiting, whether no counted event or hold is
// in flight in any system and no deterministic run is queued.
func AllIdle() bool { return world.idle() && !world.queued() }

// TrackAll turns in-flight accounting on in every live system, as
// System.Track(true) does for one.
func TrackAll() {
	for _, s := range *world.systems.Load() {
		if s.det != nil && s.det.scoped {
			continue
		}
		s.Track(true)
	}
}
