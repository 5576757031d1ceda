package actor

import (
	"encoding/binary"
	"math/rand/v2"

	pa "github.com/asynkron/protoactor-go/actor"
	"runtime"
	"sync"
)

// Dispatcher runs mailboxes: Schedule is called with a function that serves
// one mailbox until it is empty, whenever that mailbox goes from idle to
// busy. Throughput is how many events a mailbox serves before yielding.
type Dispatcher interface {
	Schedule(fn func())
	Throughput() int
}

// poolDispatcher serves mailboxes on a pool of long-lived worker
// goroutines, like libprocess's worker threads. Long-lived workers keep
// their grown stacks: a fresh goroutine per mailbox run would pay for stack
// growth on every message of a ping-pong.
type poolDispatcher struct {
	throughput int
	runs       chan func()
}

func (d *poolDispatcher) Schedule(fn func()) {
	select {
	case d.runs <- fn:
	default:
		go fn() // every worker busy and the queue full: do not block the sender
	}
}

func (d *poolDispatcher) Throughput() int { return d.throughput }

func (d *poolDispatcher) work() {
	for fn := range d.runs {
		fn()
	}
}

// defaultPool is the dispatcher of every system created without one: its
// workers are shared, so creating many systems (tests) adds no goroutines.
var defaultPool = sync.OnceValue(func() Dispatcher { return NewGoroutineDispatcher(300) })

// NewGoroutineDispatcher returns a production dispatcher: busy mailboxes
// are served by a pool of max(8, GOMAXPROCS) worker goroutines that live as
// long as the program.
func NewGoroutineDispatcher(throughput int) Dispatcher {
	if throughput <= 0 {
		throughput = 300
	}
	workers := max(8, runtime.GOMAXPROCS(0))
	d := &poolDispatcher{throughput: throughput, runs: make(chan func(), 4096)}
	for i := 0; i < workers; i++ {
		go d.work()
	}
	return d
}

// Deterministic is a dispatcher for simulation and tests: it only queues
// mailbox runs, and a driver runs them one at a time, picking the next one
// from the queue with a seeded random source. Given the same seed and the
// same inputs it runs the same interleaving. Record folds events into a
// trace hash so that two runs can be compared.
type Deterministic struct {
	mu    sync.Mutex
	queue []func()
	rng   *rand.Rand
	runs  uint64
	trace uint64
	ready chan struct{} // gets a token whenever a run is queued
	// scoped dispatchers are driven only by their own WaitIdle, never by
	// WaitAllIdle, so that several simulations run side by side in one
	// OS process without stepping each other's queues.
	scoped  bool
	observe func(kind, from, to, name string, body []byte)

	// The engine shared by the systems of a scoped dispatcher.
	engineMu    sync.Mutex
	sharedEng   *pa.ActorSystem
	engineUsers int
}

// engine returns the shared engine, made by mk on first use.
func (d *Deterministic) engine(mk func() *pa.ActorSystem) *pa.ActorSystem {
	d.engineMu.Lock()
	defer d.engineMu.Unlock()
	if d.sharedEng == nil {
		d.sharedEng = mk()
	}
	d.engineUsers++
	return d.sharedEng
}

// releaseEngine shuts the shared engine down when its last system goes.
func (d *Deterministic) releaseEngine() {
	d.engineMu.Lock()
	d.engineUsers--
	var eng *pa.ActorSystem
	if d.engineUsers == 0 {
		eng, d.sharedEng = d.sharedEng, nil
	}
	d.engineMu.Unlock()
	if eng != nil {
		eng.Shutdown()
	}
}

// NewDeterministic returns a deterministic dispatcher seeded with seed.
func NewDeterministic(seed uint64) *Deterministic {
	d := &Deterministic{
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		trace: 14695981039346656037,
		ready: make(chan struct{}, 1),
	}
	return d
}

// NewScopedDeterministic returns a deterministic dispatcher that lives
// apart from the rest of the program: WaitAllIdle neither runs its queue
// nor waits for the systems on it. Drive it with WaitIdle. A simulation
// whose runtimes reach nothing outside themselves uses one, so that
// simulations can run in parallel goroutines.
func NewScopedDeterministic(seed uint64) *Deterministic {
	d := NewDeterministic(seed)
	d.scoped = true
	return d
}

// Observe makes fn see every delivery recorded into the trace (see
// Record), on the goroutine that records it; nil stops it. Set it before
// the run starts.
func (d *Deterministic) Observe(fn func(kind, from, to, name string, body []byte)) {
	d.mu.Lock()
	d.observe = fn
	d.mu.Unlock()
}

// WaitIdle runs the queue on the calling goroutine until it is empty and
// no system on this dispatcher has a counted event or hold in flight. It
// sleeps only while the queue is empty and something outside the
// dispatcher is still under way.
func (d *Deterministic) WaitIdle() {
	for {
		if d.RunUntilIdle() > 0 {
			continue
		}
		if world.idleOn(d) {
			return
		}
		world.sleep(func() bool { return world.idleOn(d) || d.Len() > 0 })
	}
}

// Idle reports, without waiting, whether the queue is empty and no system
// on this dispatcher has anything in flight.
func (d *Deterministic) Idle() bool { return d.Len() == 0 && world.idleOn(d) }

// Schedule queues a mailbox run.
func (d *Deterministic) Schedule(fn func()) {
	d.mu.Lock()
	d.queue = append(d.queue, fn)
	d.mu.Unlock()
	select {
	case d.ready <- struct{}{}:
	default:
	}
	world.wake()
}

// Ready returns a channel that receives a token after a mailbox run is
// queued, for drivers that wait for work alongside other events.
func (d *Deterministic) Ready() <-chan struct{} { return d.ready }

// Throughput is effectively unbounded: a run serves its mailbox until empty.
func (d *Deterministic) Throughput() int { return 1 << 30 }

// Len returns how many mailbox runs are queued.
func (d *Deterministic) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue)
}

// Step runs one queued mailbox, chosen at random, on the calling
// goroutine. It reports false when the queue was empty.
func (d *Deterministic) Step() bool {
	d.mu.Lock()
	n := len(d.queue)
	if n == 0 {
		d.mu.Unlock()
		return false
	}
	i := d.rng.IntN(n)
	fn := d.queue[i]
	d.queue[i] = d.queue[n-1]
	d.queue[n-1] = nil
	d.queue = d.queue[:n-1]
	d.runs++
	d.mu.Unlock()
	fn()
	return true
}

// RunUntilIdle steps until the queue is empty and returns how many runs it made.
func (d *Deterministic) RunUntilIdle() int {
	n := 0
	for d.Step() {
		n++
	}
	return n
}

// Record folds one delivery into the trace hash: the kind of event, its
// sender and receiver, its name (message type, dispatched function) and
// its body. Every field counts, with its length, so that two runs that
// differ in any byte of any field give different traces.
func (d *Deterministic) Record(kind, from, to, name string, body []byte) {
	h := traceHash{14695981039346656037}
	h.str(kind)
	h.str(from)
	h.str(to)
	h.str(name)
	h.bytes(body)
	if observe := d.mix(h.v); observe != nil {
		observe(kind, from, to, name, body)
	}
}

// mix folds one delivery's hash into the trace and returns the observer.
func (d *Deterministic) mix(v uint64) func(kind, from, to, name string, body []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.trace = d.trace*1099511628211 ^ v
	return d.observe
}

// RecordBytes is Record with the sender and receiver as bytes (the same
// trace as Record of their strings), so that a caller can format them
// into a buffer of its own instead of allocating strings.
func (d *Deterministic) RecordBytes(kind string, from, to []byte, name string, body []byte) {
	h := traceHash{14695981039346656037}
	h.str(kind)
	h.bytes(from)
	h.bytes(to)
	h.str(name)
	h.bytes(body)
	if observe := d.mix(h.v); observe != nil {
		observe(kind, string(from), string(to), name, body)
	}
}

// traceHash folds fields into 64 bits without allocating, eight bytes at
// a time: each word is xored in, multiplied by an odd constant (a
// bijection, so a difference is never lost) and its high bits folded
// down. Every field is preceded by its length, so the framing is
// unambiguous. (It was FNV-1a, a byte at a time: four times slower on a
// simulation's message bodies; traces from before differ in value.)
type traceHash struct{ v uint64 }

const traceMul = 0x9e3779b97f4a7c15

func (h *traceHash) word(w uint64) {
	h.v = (h.v ^ w) * traceMul
	h.v ^= h.v >> 29
}

func (h *traceHash) len(n int) { h.word(uint64(n)) }

func (h *traceHash) str(s string) {
	h.len(len(s))
	for len(s) >= 8 {
		h.word(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	if len(s) > 0 {
		var w uint64
		for i := 0; i < len(s); i++ {
			w |= uint64(s[i]) << (8 * i)
		}
		h.word(w)
	}
}

func (h *traceHash) bytes(b []byte) {
	h.len(len(b))
	for len(b) >= 8 {
		h.word(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if len(b) > 0 {
		var w uint64
		for i, c := range b {
			w |= uint64(c) << (8 * i)
		}
		h.word(w)
	}
}

// Trace returns the hash of everything recorded so far.
func (d *Deterministic) Trace() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.trace
}
