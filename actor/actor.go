// Package actor is the engine under the libprocess runtime: it spawns actors
// with a mailbox on protoactor-go, runs their mailboxes through a pluggable
// dispatcher, and keeps the posted-minus-served event count that settling
// reads. It is the only package in gomesos that imports protoactor-go; the
// process package builds the libprocess vocabulary on top of it.
package actor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"

	pa "github.com/asynkron/protoactor-go/actor"
)

// ErrNameTaken is returned by Spawn when a live actor already has the name.
var ErrNameTaken = errors.New("actor name already taken")

// Event is anything posted to an actor. Embed Mark in an event type to make
// it an Event; the mark carries the engine's bookkeeping for that delivery.
type Event interface{ actorMark() *Mark }

// Mark is the engine's per-delivery bookkeeping, embedded in every event.
// An event value must be posted at most once.
type Mark struct {
	counted bool // included in the system's in-flight count when posted
	served  bool // handed to the receiver
}

func (m *Mark) actorMark() *Mark { return m }

// Receiver is the behaviour of one actor. All of its methods run on the
// actor's mailbox, one at a time, never concurrently.
type Receiver interface {
	// Started runs first, before any event.
	Started()
	// Receive handles one event.
	Receive(ev Event)
	// Stopping runs once when the actor stops; no event is served after it.
	Stopping()
	// Abandoned is told of an event that was posted but never served
	// because the actor stopped first. It runs on the stopped mailbox.
	Abandoned(ev Event)
	// Panicked is told that Started, Receive or Stopping panicked; the
	// actor is stopped right after it returns.
	Panicked(reason any, stack []byte)
}

// Options configure a System.
type Options struct {
	// Dispatcher runs mailboxes; nil means a worker pool shared by every
	// system of the program (see NewGoroutineDispatcher).
	Dispatcher Dispatcher
	// Logger receives the engine's own log lines; nil means slog.Default().
	Logger *slog.Logger
	// Track turns on in-flight event accounting from the start (see
	// System.Track).
	Track bool
}

// System is a set of actors sharing a dispatcher and an in-flight count.
// Every live system of the program is known to WaitAllIdle.
type System struct {
	sys        *pa.ActorSystem
	dispatcher Dispatcher
	det        *Deterministic // dispatcher, when deterministic
	logger     *slog.Logger

	// prefix is put before actor names in a shared engine ("" when the
	// engine is the system's own).
	prefix string

	tracking atomic.Bool
	inflight atomic.Int64 // counted events and holds

	mu           sync.Mutex
	actors       map[string]*Ref
	incarnations uint64 // actors spawned, for unique engine names

	shutdown sync.Once
}

// systemIDs numbers the systems that share an engine.
var systemIDs atomic.Uint64

// NewSystem returns an empty actor system.
func NewSystem(opts Options) *System {
	if opts.Dispatcher == nil {
		opts.Dispatcher = defaultPool()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &System{
		dispatcher: opts.Dispatcher,
		logger:     opts.Logger,
		actors:     make(map[string]*Ref),
	}
	s.det, _ = opts.Dispatcher.(*Deterministic)
	// protoactor's own lines (system started, dead letters) are noise
	// at info level; only its warnings and errors are passed on.
	engineLog := slog.New(levelFilter{opts.Logger.Handler(), slog.LevelWarn}).With("component", "protoactor")
	newEngine := func() *pa.ActorSystem {
		return pa.NewActorSystem(
			pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return engineLog }),
			pa.WithDeadLetterRequestLogging(false),
		)
	}
	if s.det != nil && s.det.scoped {
		// The systems of one simulation share an engine (making one
		// costs tens of thousands of maps); their actors' engine names
		// carry the system's number.
		s.sys = s.det.engine(newEngine)
		s.prefix = fmt.Sprintf("%d/", systemIDs.Add(1))
	} else {
		s.sys = newEngine()
	}
	s.tracking.Store(opts.Track)
	world.join(s)
	return s
}

// Dispatcher returns the dispatcher that runs this system's mailboxes.
func (s *System) Dispatcher() Dispatcher { return s.dispatcher }

// Track turns in-flight accounting on or off. Only events posted while it
// is on are counted, so turning it on while events are in flight is safe:
// those events are simply not waited for.
func (s *System) Track(on bool) { s.tracking.Store(on) }

// Tracking reports whether in-flight accounting is on.
func (s *System) Tracking() bool { return s.tracking.Load() }

// InFlight returns how many counted events are posted and not yet served
// or abandoned, plus the holds not yet released.
func (s *System) InFlight() int64 { return s.inflight.Load() }

// Hold counts n units of work outside any mailbox (a message on its way
// between systems, a request being served, a pending future) as in flight
// until Release gives them back. Holds are counted whether or not
// tracking is on; every Hold must be matched by a Release.
func (s *System) Hold(n int64) { s.add(n) }

// Release gives back n units of work counted by Hold.
func (s *System) Release(n int64) { s.done(n) }

// WaitIdle blocks until no counted event or hold of this system is in
// flight. With a Deterministic dispatcher it runs the queued mailboxes
// itself, on the calling goroutine, and sleeps only while the queue is
// empty and something outside the dispatcher (a network goroutine, a
// hold) is still under way.
func (s *System) WaitIdle() {
	for {
		if s.det != nil && s.det.RunUntilIdle() > 0 {
			continue
		}
		if s.inflight.Load() == 0 {
			return
		}
		world.sleep(func() bool {
			return s.inflight.Load() == 0 || (s.det != nil && s.det.Len() > 0)
		})
	}
}

// add counts n more in flight. The world's move count goes up after the
// system's count, which is what lets WaitAllIdle trust a scan of the
// systems one at a time (see world.idle).
func (s *System) add(n int64) {
	s.inflight.Add(n)
	world.moves.Add(1)
}

func (s *System) done(n int64) {
	if s.inflight.Add(-n) == 0 {
		world.wake()
	}
}

// Ref is a spawned actor.
type Ref struct {
	sys     *System
	name    string
	pid     atomic.Pointer[pa.PID]
	ready   chan struct{} // closed once pid is set
	recv    Receiver
	stopped atomic.Bool
	// The engine's Started and Stop are system messages, outside the
	// event count; these record that they were counted when requested.
	startCounted  bool
	stopRequested atomic.Bool
	stopCounted   atomic.Bool
}

// engine returns the protoactor PID, waiting for Spawn to publish it if a
// sender got hold of the Ref first (from bind).
func (r *Ref) engine() *pa.PID {
	if pid := r.pid.Load(); pid != nil {
		return pid
	}
	<-r.ready
	return r.pid.Load()
}

// Name returns the name the actor was spawned with.
func (r *Ref) Name() string { return r.name }

// Spawn starts an actor named name with behaviour recv. bind, if not nil,
// is given the actor's Ref before the actor starts, so that the Ref can be
// stored where Started will read it; bind must not post to it (Post waits
// for the spawn to finish). Started runs before any posted event.
func (s *System) Spawn(name string, recv Receiver, bind func(*Ref)) (*Ref, error) {
	if name == "" {
		return nil, fmt.Errorf("spawn: empty actor name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.actors[name]; ok {
		return nil, fmt.Errorf("spawn %q: %w", name, ErrNameTaken)
	}
	ref := &Ref{sys: s, name: name, recv: recv, ready: make(chan struct{})}
	if s.tracking.Load() {
		ref.startCounted = true
		s.add(1)
	}
	if bind != nil {
		bind(ref)
	}
	props := pa.PropsFromProducer(
		func() pa.Actor { return &shell{ref: ref} },
		pa.WithDispatcher(s.dispatcher),
		pa.WithMailbox(pa.UnboundedLockfree(&accounting{ref: ref})),
	)
	// The engine's name is this incarnation's: the engine forgets a
	// stopped actor's name only after it has fully stopped, later than
	// this system lets the name be taken again.
	s.incarnations++
	pid, err := s.sys.Root.SpawnNamed(props, s.prefix+name+"#"+strconv.FormatUint(s.incarnations, 10))
	if err != nil {
		ref.stopped.Store(true)
		close(ref.ready)
		if ref.startCounted {
			s.done(1)
		}
		return nil, fmt.Errorf("spawn %q: %w", name, err)
	}
	ref.pid.Store(pid)
	close(ref.ready)
	s.actors[name] = ref
	return ref, nil
}

// Lookup returns the live actor with that name.
func (s *System) Lookup(name string) (*Ref, bool) {
	s.mu.Lock()
	r, ok := s.actors[name]
	s.mu.Unlock()
	return r, ok
}

// Post queues ev on the actor's mailbox. It reports false, and drops ev,
// when the actor has stopped.
func (r *Ref) Post(ev Event) bool {
	if r.stopped.Load() {
		return false
	}
	pid := r.engine()
	if pid == nil {
		return false
	}
	r.sys.sys.Root.Send(pid, ev)
	return true
}

// Stop asks the actor to stop ahead of its queued events: Stopping runs
// next, and the events still queued are abandoned.
func (r *Ref) Stop() {
	if r.stopped.Load() || r.stopRequested.Swap(true) {
		return
	}
	if r.sys.tracking.Load() {
		r.stopCounted.Store(true)
		r.sys.add(1)
	}
	if pid := r.engine(); pid != nil {
		r.sys.sys.Root.Stop(pid)
	}
}

// Stopped reports whether the actor has stopped.
func (r *Ref) Stopped() bool { return r.stopped.Load() }

// Shutdown stops every actor and the engine, and takes the system out of
// the process-wide accounting.
func (s *System) Shutdown() {
	s.shutdown.Do(func() { world.leave(s) })
	s.mu.Lock()
	refs := make([]*Ref, 0, len(s.actors))
	for _, r := range s.actors {
		refs = append(refs, r)
	}
	s.mu.Unlock()
	for _, r := range refs {
		r.Stop()
	}
	if s.prefix != "" {
		s.det.releaseEngine()
		return
	}
	s.sys.Shutdown()
}

// shell adapts a Receiver to protoactor's Actor.
type shell struct {
	ref    *Ref
	failed bool
}

func (sh *shell) Receive(ctx pa.Context) {
	switch m := ctx.Message().(type) {
	case Event:
		mk := m.actorMark()
		if sh.ref.stopped.Load() || sh.failed {
			return // left unserved: the mailbox hook abandons it
		}
		mk.served = true
		sh.guard(func() { sh.ref.recv.Receive(m) })
	case *pa.Started:
		sh.guard(sh.ref.recv.Started)
		if sh.ref.startCounted {
			sh.ref.sys.done(1)
		}
	case *pa.Stopping:
		sh.stop()
	}
}

// stop runs Stopping once and unregisters the actor.
func (sh *shell) stop() {
	r := sh.ref
	if r.stopped.Swap(true) {
		return
	}
	// The name is free again before Stopping runs, so that whoever waits
	// for the end Stopping signals may spawn under it at once.
	r.sys.mu.Lock()
	if r.sys.actors[r.name] == r {
		delete(r.sys.actors, r.name)
	}
	r.sys.mu.Unlock()
	func() {
		defer func() {
			if v := recover(); v != nil {
				r.sys.logger.Error("actor panicked while stopping", "actor", r.name, "panic", v, "stack", string(debug.Stack()))
			}
		}()
		r.recv.Stopping()
	}()
	if r.stopCounted.Load() {
		r.sys.done(1)
	}
}

func (sh *shell) guard(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			sh.failed = true
			sh.ref.recv.Panicked(v, debug.Stack())
			sh.ref.Stop()
		}
	}()
	fn()
}

// accounting is the mailbox hook that keeps the in-flight count and tells
// receivers of events their actor never served.
type accounting struct{ ref *Ref }

func (a *accounting) MailboxStarted() {}

func (a *accounting) MessagePosted(msg any) {
	if ev, ok := msg.(Event); ok && a.ref.sys.tracking.Load() {
		ev.actorMark().counted = true
		a.ref.sys.add(1)
	}
}

func (a *accounting) MessageReceived(msg any) {
	ev, ok := msg.(Event)
	if !ok {
		return
	}
	mk := ev.actorMark()
	if !mk.served {
		a.ref.recv.Abandoned(ev)
	}
	if mk.counted {
		a.ref.sys.done(1)
	}
}

func (a *accounting) MailboxEmpty() {}

// levelFilter passes on records at or above min.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (l levelFilter) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.Handler.Enabled(ctx, lv)
}

func (l levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{l.Handler.WithAttrs(as), l.min}
}

func (l levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{l.Handler.WithGroup(name), l.min}
}
