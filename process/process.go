package process

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/actor"
)

// Actor is anything that embeds Process; Spawn takes one.
type Actor interface {
	base() *Process
}

// Initializer is implemented by actors that set themselves up (install
// handlers, link, start timers) before their first event.
type Initializer interface{ Initialize() }

// Finalizer is implemented by actors with last words: Finalize is the last
// code run in the process.
type Finalizer interface{ Finalize() }

// ExitedHandler is implemented by actors that link to others: Exited is
// called once per link when the linked process ends (or, for a remote one,
// when the connection to it breaks).
type ExitedHandler interface{ Exited(pid UPID) }

// Process is the base of every process: embed it in a struct and Spawn a
// pointer to that struct. Its methods, like the embedding struct's fields,
// are for use from the process's own handlers unless said otherwise.
type Process struct {
	rt    *Runtime
	self  UPID
	owner Actor
	ref   *actor.Ref
	done  chan struct{}

	handlers  map[string]func(from UPID, body []byte) error
	delegates map[string]UPID
	routes    map[string]route
	links     map[UPID]struct{} // processes this one is linked to

	linkMu  sync.Mutex
	linkers map[*Process]struct{} // local processes linked to this one
	dead    bool

	// queued counts the events waiting in the mailbox, by kind.
	queued [3]atomic.Int64
}

// Kinds of queued events (QueueDepth).
const (
	queuedMessages = iota
	queuedDispatches
	queuedHTTP
)

// post queues ev (counted under kind) and reports whether the process
// took it.
func (p *Process) post(kind int, ev actor.Event) bool {
	p.queued[kind].Add(1)
	if !p.ref.Post(ev) {
		p.queued[kind].Add(-1)
		return false
	}
	return true
}

// QueueDepth reports how many messages, dispatches and HTTP requests wait
// in the process's mailbox (Mesos's event_queue_* gauges). Safe from any
// goroutine.
func (p *Process) QueueDepth() (messages, dispatches, httpRequests int64) {
	return p.queued[queuedMessages].Load(), p.queued[queuedDispatches].Load(), p.queued[queuedHTTP].Load()
}

func (p *Process) base() *Process { return p }

// Self returns the process's UPID. Safe from any goroutine after Spawn.
func (p *Process) Self() UPID { return p.self }

// Runtime returns the runtime the process runs in. Safe from any goroutine
// after Spawn.
func (p *Process) Runtime() *Runtime { return p.rt }

// Clock returns the runtime's clock.
func (p *Process) Clock() *Clock { return p.rt.clock }

// Spawn starts a as a process with the given id; an empty id generates
// `(N)`. It fails if a live process already has the id. Initialize, if a
// has it, runs on the process before any event.
func (rt *Runtime) Spawn(a Actor, id string) (UPID, error) {
	p := a.base()
	if p.rt != nil {
		return UPID{}, fmt.Errorf("spawn %q: process already spawned as %s", id, p.self)
	}
	if id == "" {
		id = rt.ids.generate("")
	}
	p.rt = rt
	p.self = rt.UPID(id)
	p.owner = a
	p.done = make(chan struct{})
	// The process is published (found by senders) only once its actor
	// ref is set, and before it starts, so Initialize can dispatch to
	// itself. The actor system keeps names unique.
	publish := func(r *actor.Ref) {
		p.ref = r
		rt.procs.Store(id, p)
	}
	if _, err := rt.sys.Spawn(id, &shell{p: p}, publish); err != nil {
		rt.procs.CompareAndDelete(id, p)
		p.rt = nil
		if errors.Is(err, actor.ErrNameTaken) {
			return UPID{}, fmt.Errorf("spawn %q: %w", id, ErrIDTaken)
		}
		return UPID{}, fmt.Errorf("spawn %q: %w", id, err)
	}
	return p.self, nil
}

// Install registers the handler for messages of type T, named by T's full
// protobuf name. The body is decoded into a new T; a body that does not
// parse or lacks a required field is dropped with a log line and counted.
// Call it from Initialize (or any handler of p).
func Install[T proto.Message](p *Process, handler func(from UPID, msg T)) {
	var zero T
	mt := zero.ProtoReflect().Type()
	p.InstallRaw(string(mt.Descriptor().FullName()), func(from UPID, body []byte) error {
		m := mt.New().Interface().(T)
		if err := proto.Unmarshal(body, m); err != nil {
			return err
		}
		handler(from, m)
		return nil
	})
}

// InstallRaw registers a handler for messages named name, given the raw
// body. An error it returns is logged and counted as a malformed message.
func (p *Process) InstallRaw(name string, handler func(from UPID, body []byte) error) {
	if p.handlers == nil {
		p.handlers = make(map[string]func(UPID, []byte) error)
	}
	p.handlers[name] = handler
}

// Delegate forwards messages named name that p has no handler for to pid,
// unchanged (the original sender is kept).
func (p *Process) Delegate(name string, pid UPID) {
	if p.delegates == nil {
		p.delegates = make(map[string]UPID)
	}
	p.delegates[name] = pid
}

// Send sends msg from this process; see Runtime.Send.
func (p *Process) Send(to UPID, msg proto.Message) error { return p.rt.Send(p.self, to, msg) }

// Link watches pid: Exited(pid) is called once when it ends. Linking to a
// local process that is not running calls Exited at once (as an event);
// for a remote pid, Exited comes when the persistent connection to its
// address fails, errors or closes. Linking twice is harmless; linking to
// itself is ignored.
func (p *Process) Link(pid UPID) {
	if pid == p.self || !pid.IsValid() {
		return
	}
	if p.links == nil {
		p.links = make(map[UPID]struct{})
	}
	p.links[pid] = struct{}{}
	rt := p.rt
	if rt.IsLocal(pid) {
		target := rt.lookup(pid.ID)
		if target != nil {
			target.linkMu.Lock()
			if !target.dead {
				if target.linkers == nil {
					target.linkers = make(map[*Process]struct{})
				}
				target.linkers[p] = struct{}{}
				target.linkMu.Unlock()
				return
			}
			target.linkMu.Unlock()
		}
		p.ref.Post(&exitedEvent{pid: pid})
		return
	}
	if rt.tr == nil {
		p.ref.Post(&exitedEvent{pid: pid})
		return
	}
	key := remoteLinkKey{from: p.self.ID, addr: pid.Addr}
	rt.linkMu.Lock()
	set := rt.remoteLinks[key]
	if set == nil {
		set = make(map[UPID]struct{})
		rt.remoteLinks[key] = set
	}
	set[pid] = struct{}{}
	rt.linkMu.Unlock()
	rt.tr.Link(p.self, pid.Addr)
}

// Terminate stops this process after the current event.
func (p *Process) Terminate() { p.ref.Stop() }

// shell is the actor behaviour of a Process.
type shell struct{ p *Process }

func (s *shell) Started() {
	if i, ok := s.p.owner.(Initializer); ok {
		i.Initialize()
	}
}

func (s *shell) Receive(ev actor.Event) {
	p := s.p
	rt := p.rt
	switch ev.(type) {
	case *messageEvent:
		p.queued[queuedMessages].Add(-1)
	case *dispatchEvent:
		p.queued[queuedDispatches].Add(-1)
	case *httpEvent:
		p.queued[queuedHTTP].Add(-1)
	}
	if rt.filters.active.Load() && rt.filters.received(p, ev) {
		return
	}
	if rt.det != nil {
		record(rt.det, p.self, ev)
	}
	switch e := ev.(type) {
	case *messageEvent:
		p.handleMessage(&e.msg)
	case *dispatchEvent:
		e.fn()
	case *httpEvent:
		p.handleHTTP(e)
	case *exitedEvent:
		if _, linked := p.links[e.pid]; !linked {
			return
		}
		delete(p.links, e.pid)
		if h, ok := p.owner.(ExitedHandler); ok {
			h.Exited(e.pid)
		}
	case *terminateEvent:
		p.ref.Stop()
	}
}

func (p *Process) handleMessage(m *Message) {
	h := p.handlers[m.Name]
	if h == nil {
		if to, ok := p.delegates[m.Name]; ok {
			p.rt.Post(m.From, to, m.Name, m.Body)
			return
		}
		p.rt.logger.Debug("dropping message with no handler", "process", p.self.ID, "name", m.Name, "from", m.From.String())
		p.rt.droppedUnknown.Inc()
		return
	}
	if err := h(m.From, m.Body); err != nil {
		p.rt.logger.Warn("dropping malformed message", "process", p.self.ID, "name", m.Name, "from", m.From.String(), "err", err)
		p.rt.droppedBadBody.Inc()
	}
}

func (s *shell) Stopping() {
	p := s.p
	defer close(p.done)
	defer p.rt.procs.CompareAndDelete(p.self.ID, p)
	p.linkMu.Lock()
	p.dead = true
	linkers := p.linkers
	p.linkers = nil
	p.linkMu.Unlock()
	defer func() {
		// In pid order, so that a deterministic run does not depend on
		// the map's order.
		for _, l := range slices.SortedFunc(maps.Keys(linkers), func(a, b *Process) int { return cmp.Compare(a.self.String(), b.self.String()) }) {
			l.ref.Post(&exitedEvent{pid: p.self})
		}
	}()
	if f, ok := p.owner.(Finalizer); ok {
		f.Finalize()
	}
}

func (s *shell) Abandoned(ev actor.Event) {
	switch e := ev.(type) {
	case *dispatchEvent:
		if e.abandon != nil {
			e.abandon()
		}
	case *httpEvent:
		e.promise.Set(&Response{Status: 503, Body: []byte("process terminated\n")})
	}
}

func (s *shell) Panicked(reason any, stack []byte) {
	s.p.rt.logger.Error("process panicked; terminating it", "process", s.p.self.String(), "panic", fmt.Sprint(reason), "stack", string(stack))
}

// record folds a delivery into the deterministic trace: what kind of
// event, its sender, its receiver, the message name (or dispatched
// function, or HTTP method and path) and the message body.
func record(d *actor.Deterministic, self UPID, ev actor.Event) {
	// The UPIDs are formatted (as String does) into buffers on the
	// stack: a simulation records every delivery.
	var toBuf, fromBuf [96]byte
	to := appendUPID(toBuf[:0], self)
	switch e := ev.(type) {
	case *messageEvent:
		d.RecordBytes("message", appendUPID(fromBuf[:0], e.msg.From), to, e.msg.Name, e.msg.Body)
	case *dispatchEvent:
		d.RecordBytes("dispatch", nil, to, funcName(e.method), nil)
	case *httpEvent:
		d.RecordBytes("http", nil, to, e.req.Method+" "+e.path, nil)
	case *exitedEvent:
		d.RecordBytes("exited", appendUPID(fromBuf[:0], e.pid), to, "", nil)
	default:
		d.RecordBytes("terminate", nil, to, "", nil)
	}
}

// appendUPID appends u.String() to b.
func appendUPID(b []byte, u UPID) []byte {
	if !u.Addr.IsValid() && u.ID == "" {
		return b
	}
	b = append(b, u.ID...)
	b = append(b, '@')
	if u.Addr.IsValid() {
		b = u.Addr.Addr().AppendTo(b)
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(u.Addr.Port()), 10)
	}
	return b
}

func describe(ev actor.Event) string {
	switch e := ev.(type) {
	case *messageEvent:
		return "message " + e.msg.Name + " from " + e.msg.From.String()
	case *dispatchEvent:
		return "dispatch " + funcName(e.method)
	case *httpEvent:
		return "http " + e.req.Method + " " + e.path
	case *exitedEvent:
		return "exited " + e.pid.String()
	default:
		return "terminate"
	}
}
