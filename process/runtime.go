package process

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/actor"
	"github.com/gomesos/gomesos/process/metrics"
	"github.com/gomesos/gomesos/process/wire"
	"github.com/gomesos/gomesos/process/wire/tlsconf"
)

// ErrIDTaken is returned by Spawn when a live process already has the id.
var ErrIDTaken = errors.New("process id already taken")

// ErrTerminated fails the future of a dispatch whose target process is gone
// or terminated before running it.
var ErrTerminated = errors.New("process terminated")

// DeterministicEpoch is the time at which the clock of a deterministic
// runtime starts, paused: 2026-01-01 00:00:00 UTC.
var DeterministicEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Runtime. The zero value reads the LIBPROCESS_*
// environment and listens on a random port of every interface.
type Options struct {
	// Bind is the address to listen on. Zero: LIBPROCESS_IP and
	// LIBPROCESS_PORT, each defaulting to any (0.0.0.0, port 0).
	Bind netip.AddrPort
	// Advertise is the address put into this runtime's UPIDs. Zero:
	// LIBPROCESS_ADVERTISE_IP and LIBPROCESS_ADVERTISE_PORT, else the bound
	// address; a bound "any" IP advertises the host name's IPv4 address.
	Advertise netip.AddrPort
	// NoNetwork runs without a listening port: only local delivery works
	// and UPIDs carry the Advertise (else Bind) address as given.
	NoNetwork bool
	// Deterministic runs every mailbox on a seeded single-threaded queue
	// that Settle (or Step) drives, so a run is a function of Seed; its
	// clock starts paused at DeterministicEpoch.
	Deterministic bool
	// Seed seeds the deterministic dispatcher.
	Seed uint64
	// DispatchWith, with Deterministic, runs this runtime's mailboxes on
	// the deterministic dispatcher of another runtime in this OS process,
	// so that one driver steps both (as a simulation of several hosts).
	DispatchWith *Runtime
	// Network puts the runtime on an in-memory network (a simulation):
	// it listens on no port, lives at Bind (which must be set), and runs
	// on the network's deterministic dispatcher and Clock; Deterministic,
	// DispatchWith and NoNetwork are ignored.
	Network *Network
	// Testing turns event accounting on from the start, so that Settle
	// sees every event. Clock.Pause turns it on as well.
	Testing bool
	// Delegate names the process that receives HTTP requests whose first
	// path segment is not a live process (Mesos: "master", "slave(1)").
	Delegate string
	// Logger receives the runtime's log lines; nil means slog.Default().
	Logger *slog.Logger
	// TLS is the port's TLS setup; nil reads the SSL_* and
	// LIBPROCESS_SSL_* environment (tlsconf.FromEnv), tlsconf.Off is plain.
	TLS *tlsconf.Config
}

// Runtime hosts processes in one OS process: it spawns them, routes
// messages between them and over the wire, and owns the Clock, the filters
// and the metrics registry. Several runtimes may live in one OS process
// (each with its own port), which is how tests exercise the wire.
type Runtime struct {
	sys    *actor.System
	det    *actor.Deterministic
	logger *slog.Logger
	addr   netip.AddrPort
	tr     transport
	clock  *Clock
	ids    idGen

	procs    sync.Map // id → *Process
	delegate atomic.Pointer[string]
	guard    atomic.Pointer[HTTPGuard]

	linkMu      sync.Mutex
	remoteLinks map[remoteLinkKey]map[UPID]struct{}

	filters filterSet

	metrics         *metrics.Registry
	droppedNoProc   *metrics.Counter
	droppedUnknown  *metrics.Counter
	droppedBadBody  *metrics.Counter
	droppedDecoding *metrics.Counter
	droppedForged   *metrics.Counter
	forgedLog       wire.LogThrottle
	tls             *tlsconf.Config

	randMu sync.Mutex
	rand   *rand.Rand

	closeOnce sync.Once
}

type remoteLinkKey struct {
	from string // linker id
	addr netip.AddrPort
}

// transport is what the runtime needs from the wire.
type transport interface {
	Addr() netip.AddrPort
	Send(from, to UPID, name string, body []byte) bool
	Link(from UPID, to netip.AddrPort)
	Close() error
}

// New starts a runtime.
func New(opts Options) (*Runtime, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	rt := &Runtime{
		logger:      logger,
		remoteLinks: make(map[remoteLinkKey]map[UPID]struct{}),
		metrics:     metrics.NewRegistry(),
	}
	rt.clock = newClock(rt)
	if opts.Network != nil {
		rt.clock = opts.Network.clock
		opts.Deterministic, opts.DispatchWith, opts.NoNetwork = true, nil, false
	}
	if opts.Deterministic && opts.Network == nil {
		// A deterministic run must not depend on when it runs: its clock
		// starts paused at a fixed time, so time stamps in messages
		// (and so the trace) are a function of the seed alone.
		rt.clock.paused, rt.clock.virtual = true, DeterministicEpoch
	}
	seed := opts.Seed
	if !opts.Deterministic && seed == 0 {
		seed = rand.Uint64()
	}
	rt.rand = rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))
	rt.metrics.SetNow(rt.clock.Now)
	rt.metrics.SetClock(rt.clock.Real())
	var disp actor.Dispatcher
	if opts.Deterministic {
		if opts.Network != nil {
			rt.det = opts.Network.det
		} else if opts.DispatchWith != nil && opts.DispatchWith.det != nil {
			rt.det = opts.DispatchWith.det
		} else {
			rt.det = actor.NewDeterministic(opts.Seed)
		}
		disp = rt.det
	}
	rt.sys = actor.NewSystem(actor.Options{Dispatcher: disp, Logger: logger, Track: opts.Testing || opts.Deterministic})
	if opts.Delegate != "" {
		d := opts.Delegate
		rt.delegate.Store(&d)
	}
	rt.droppedNoProc = rt.mustCounter("libprocess/dropped_messages_no_process")
	rt.droppedUnknown = rt.mustCounter("libprocess/dropped_messages_unknown_name")
	rt.droppedBadBody = rt.mustCounter("libprocess/dropped_messages_malformed")
	rt.droppedDecoding = rt.mustCounter("libprocess/dropped_connections_malformed")
	rt.droppedForged = rt.mustCounter("libprocess/dropped_messages_forged_sender")

	bind, advIP, advPort, err := addresses(opts)
	if err != nil {
		return nil, fmt.Errorf("start runtime: %w", err)
	}
	if opts.Network != nil {
		if !opts.Bind.IsValid() || opts.Bind.Port() == 0 {
			return nil, fmt.Errorf("start runtime: a runtime on a network needs a Bind address with a port, got %v", opts.Bind)
		}
		rt.addr = opts.Bind
		rt.tr = &memTransport{n: opts.Network, rt: rt}
		if err := opts.Network.join(rt); err != nil {
			rt.sys.Shutdown()
			return nil, fmt.Errorf("start runtime: %w", err)
		}
	} else if opts.NoNetwork {
		rt.addr = bind
		if advIP.IsValid() {
			rt.addr = netip.AddrPortFrom(advIP, rt.addr.Port())
		}
		if advPort != 0 {
			rt.addr = netip.AddrPortFrom(rt.addr.Addr(), advPort)
		}
	} else {
		rt.tls = opts.TLS
		if rt.tls == nil {
			if rt.tls, err = tlsconf.FromEnv(os.Getenv); err != nil {
				return nil, fmt.Errorf("start runtime: %w", err)
			}
		}
		tr, err := listen(rt, bind, advIP, advPort)
		if err != nil {
			return nil, fmt.Errorf("start runtime: %w", err)
		}
		rt.tr = tr
		rt.addr = tr.Addr()
	}
	register(rt)
	if err := rt.spawnBuiltins(); err != nil {
		rt.Close()
		return nil, err
	}
	return rt, nil
}

func (rt *Runtime) mustCounter(name string) *metrics.Counter {
	c, err := rt.metrics.NewCounter(name)
	if err != nil {
		panic(fmt.Sprintf("runtime counter %s: %v", name, err))
	}
	return c
}

// addresses works out the bind address and the advertised ip and port
// (each possibly unset) from opts and the LIBPROCESS_* environment.
func addresses(opts Options) (bind netip.AddrPort, advIP netip.Addr, advPort uint16, err error) {
	bind = opts.Bind
	if !bind.IsValid() {
		ip := netip.IPv4Unspecified()
		var port uint16
		if s := os.Getenv("LIBPROCESS_IP"); s != "" {
			if ip, err = parseIPv4("LIBPROCESS_IP", s); err != nil {
				return
			}
		}
		if s := os.Getenv("LIBPROCESS_PORT"); s != "" {
			if port, err = parsePort("LIBPROCESS_PORT", s); err != nil {
				return
			}
		}
		bind = netip.AddrPortFrom(ip, port)
	}
	if opts.Advertise.IsValid() {
		return bind, opts.Advertise.Addr(), opts.Advertise.Port(), nil
	}
	if s := os.Getenv("LIBPROCESS_ADVERTISE_IP"); s != "" {
		if advIP, err = parseIPv4("LIBPROCESS_ADVERTISE_IP", s); err != nil {
			return
		}
	}
	if s := os.Getenv("LIBPROCESS_ADVERTISE_PORT"); s != "" {
		if advPort, err = parsePort("LIBPROCESS_ADVERTISE_PORT", s); err != nil {
			return
		}
	}
	return bind, advIP, advPort, nil
}

func parseIPv4(name, s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("%s=%q: not an IPv4 address", name, s)
	}
	return ip, nil
}

func parsePort(name, s string) (uint16, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a port number", name, s)
	}
	return uint16(p), nil
}

// hostIPv4 is the address advertised when bound to any: the host name's
// IPv4 address, as libprocess does, else loopback.
func hostIPv4() netip.Addr {
	if name, err := os.Hostname(); err == nil {
		if ips, err := net.LookupIP(name); err == nil {
			for _, ip := range ips {
				if v4 := ip.To4(); v4 != nil {
					a, _ := netip.AddrFromSlice(v4)
					return a
				}
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// RandBytes fills b from the runtime's random source, which is seeded by
// Options.Seed on a deterministic runtime, so that ids and backoffs drawn
// from it replay with the seed. Safe from any goroutine.
func (rt *Runtime) RandBytes(b []byte) {
	rt.randMu.Lock()
	defer rt.randMu.Unlock()
	for i := range b {
		b[i] = byte(rt.rand.Uint32())
	}
}

// RandFloat returns a number in [0, 1) from the runtime's random source.
func (rt *Runtime) RandFloat() float64 {
	rt.randMu.Lock()
	defer rt.randMu.Unlock()
	return rt.rand.Float64()
}

// Addr returns the advertised address of this runtime.
func (rt *Runtime) Addr() netip.AddrPort { return rt.addr }

// Clock returns the runtime's clock.
func (rt *Runtime) Clock() *Clock { return rt.clock }

// Logger returns the runtime's logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.logger }

// Metrics returns the registry served at /metrics/snapshot and /metrics.
func (rt *Runtime) Metrics() *metrics.Registry { return rt.metrics }

// Deterministic returns the deterministic dispatcher, or nil when the
// runtime runs mailboxes on goroutines.
func (rt *Runtime) Deterministic() *actor.Deterministic { return rt.det }

// SetDelegate names the process that receives HTTP requests for ids that
// are not live processes.
func (rt *Runtime) SetDelegate(id string) { rt.delegate.Store(&id) }

// SetDelegateIfUnset names the delegate unless one is named already, and
// says whether it did.
func (rt *Runtime) SetDelegateIfUnset(id string) bool { return rt.delegate.CompareAndSwap(nil, &id) }

// GenerateID returns `prefix(N)` with a per-prefix counter starting at 1.
func (rt *Runtime) GenerateID(prefix string) string { return rt.ids.generate(prefix) }

// UPID returns the UPID that process id has in this runtime.
func (rt *Runtime) UPID(id string) UPID { return UPID{ID: id, Addr: rt.addr} }

// IsLocal reports whether pid lives in this runtime.
func (rt *Runtime) IsLocal(pid UPID) bool { return pid.Addr == rt.addr }

func (rt *Runtime) lookup(id string) *Process {
	v, ok := rt.procs.Load(id)
	if !ok {
		return nil
	}
	return v.(*Process)
}

// Close terminates every process and closes the listening port.
func (rt *Runtime) Close() {
	rt.closeOnce.Do(func() {
		var all []*Process
		rt.procs.Range(func(_, v any) bool {
			all = append(all, v.(*Process))
			return true
		})
		for _, p := range all {
			rt.Terminate(p.self)
		}
		for _, p := range all {
			rt.drive(p.done)
		}
		if rt.tr != nil {
			_ = rt.tr.Close()
		}
		unregister(rt)
		rt.sys.Shutdown()
	})
}

// Send marshals msg and sends it from from to to under its full protobuf
// type name. Local receivers get the serialized bytes, as remote ones do.
// It never blocks and reports only marshalling errors (such as a missing
// required field): delivery is at most once.
func (rt *Runtime) Send(from, to UPID, msg proto.Message) error {
	body, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("send %s to %s: %w", proto.MessageName(msg), to, err)
	}
	rt.Post(from, to, string(proto.MessageName(msg)), body)
	return nil
}

// Post sends a raw named message with any sender, as libprocess's post: from
// may be empty (outside any process) or forged (tests replaying messages).
func (rt *Runtime) Post(from, to UPID, name string, body []byte) {
	if rt.filters.active.Load() && rt.filters.sent(Message{Name: name, From: from, To: to, Body: body}, nil) {
		return
	}
	rt.post(from, to, name, body)
}

// post routes a message past the sending filters.
func (rt *Runtime) post(from, to UPID, name string, body []byte) {
	if rt.IsLocal(to) {
		rt.deliver(Message{Name: name, From: from, To: to, Body: body})
		return
	}
	if rt.tr == nil {
		rt.logger.Debug("dropping message to a remote process: runtime has no network", "name", name, "to", to.String())
		rt.droppedNoProc.Inc()
		return
	}
	// A message to another runtime of this OS process is counted until
	// the receiver posts it, so that Settle waits for it; the receiver
	// finds the count by the sender it reads off the wire.
	counted := rt.sys.Tracking() && from.IsValid() && listening(to.Addr)
	if counted {
		wireSending(rt, from, to.Addr)
	}
	if !rt.tr.Send(from, to, name, body) && counted {
		wireArrived(from, to.Addr)
	}
}

// deliver queues a message for a local process; it reports whether the
// process exists.
func (rt *Runtime) deliver(m Message) bool {
	p := rt.lookup(m.To.ID)
	if p == nil || !p.post(queuedMessages, &messageEvent{msg: m}) {
		rt.logger.Debug("dropping message for unknown process", "name", m.Name, "to", m.To.String(), "from", m.From.String())
		rt.droppedNoProc.Inc()
		return false
	}
	return true
}

// Terminate asks the process to stop ahead of its queued events (libprocess's
// terminate with inject). Its Finalize runs, queued events are discarded and
// its linkers get exited.
func (rt *Runtime) Terminate(pid UPID) {
	if p := rt.lookup(pid.ID); p != nil && rt.IsLocal(pid) {
		p.ref.Stop()
	}
}

// TerminateAfterQueued asks the process to stop after the events already
// queued (libprocess's terminate with inject=false).
func (rt *Runtime) TerminateAfterQueued(pid UPID) {
	if p := rt.lookup(pid.ID); p != nil && rt.IsLocal(pid) {
		p.ref.Post(&terminateEvent{})
	}
}

// Wait blocks until the process has terminated (at once if it is not
// running). Use it from outside any process.
func (rt *Runtime) Wait(pid UPID) {
	if p := rt.lookup(pid.ID); p != nil && rt.IsLocal(pid) {
		rt.drive(p.done)
	}
}

// drive waits until done is closed; on a deterministic runtime it runs
// the queued mailboxes meanwhile.
func (rt *Runtime) drive(done <-chan struct{}) {
	if rt.det == nil {
		<-done
		return
	}
	for {
		rt.det.RunUntilIdle()
		select {
		case <-done:
			return
		default:
		}
		select {
		case <-done:
			return
		case <-rt.det.Ready():
		}
	}
}

// Step runs one queued mailbox of a deterministic runtime; it reports false
// when nothing was queued. Settle runs them all.
func (rt *Runtime) Step() bool {
	if rt.det == nil {
		return false
	}
	return rt.det.Step()
}

// onExited is the transport's report that the persistent connection from
// linker `from` to addr broke: every pid at addr linked by it is exited.
func (rt *Runtime) onExited(from UPID, addr netip.AddrPort) {
	key := remoteLinkKey{from: from.ID, addr: addr}
	rt.linkMu.Lock()
	pids := rt.remoteLinks[key]
	delete(rt.remoteLinks, key)
	rt.linkMu.Unlock()
	p := rt.lookup(from.ID)
	if p == nil {
		return
	}
	for _, pid := range slices.SortedFunc(maps.Keys(pids), func(a, b UPID) int { return cmp.Compare(a.String(), b.String()) }) {
		p.ref.Post(&exitedEvent{pid: pid})
	}
}
