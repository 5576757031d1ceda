package process

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/gomesos/gomesos/actor"
	"github.com/gomesos/gomesos/process/wire"
)

// Network is an in-memory network between runtimes of one OS process,
// for simulation: no sockets, one seeded deterministic dispatcher and one
// paused Clock shared by every runtime on it. A runtime joins by
// Options.Network and takes its Bind address as its host address.
//
// Messages between its runtimes travel as bytes, as on the wire, and are
// put into the receiving mailbox when sent, in order per sender. A link
// to an address where no runtime lives breaks at once; links break when
// the runtime they reach leaves (Close or Crash), as a socket would. A cut
// (Cut) drops messages between two hosts both ways and breaks the links
// across it, as a partition does once TCP gives up on the connections.
//
// A Network is closed to the rest of the program: its Clock's Settle
// drives and waits for its own runtimes only, and the program-wide
// Settle of other runtimes never touches it, so simulations may run in
// parallel goroutines.
type Network struct {
	det   *actor.Deterministic
	clock *Clock

	mu    sync.Mutex
	hosts map[netip.AddrPort]*Runtime
	links map[netLink]struct{}
	cut   func(from, to netip.Addr) bool
}

// netLink is a persistent link from a process to an address.
type netLink struct {
	from     netip.AddrPort // the linker's runtime
	linkerID string
	to       netip.AddrPort
}

// NewNetwork returns an empty network whose dispatcher is seeded with
// seed and whose clock is paused at DeterministicEpoch.
func NewNetwork(seed uint64) *Network {
	n := &Network{
		det:   actor.NewScopedDeterministic(seed),
		hosts: make(map[netip.AddrPort]*Runtime),
		links: make(map[netLink]struct{}),
	}
	n.clock = &Clock{net: n, paused: true, virtual: DeterministicEpoch}
	return n
}

// Clock returns the clock every runtime on the network shares.
func (n *Network) Clock() *Clock { return n.clock }

// Deterministic returns the network's dispatcher (for its trace).
func (n *Network) Deterministic() *actor.Deterministic { return n.det }

// Cut makes the network drop every message from a host at one IP to a
// host at another for which fn reports true; nil heals every cut. Call
// Recut when what fn reports changes: links that now cross a cut break
// (their linkers get exited, as when a partition outlasts a
// connection's timeout), and new links across a cut break at once.
func (n *Network) Cut(fn func(from, to netip.Addr) bool) {
	n.mu.Lock()
	n.cut = fn
	n.mu.Unlock()
	n.Recut()
}

// Recut breaks every link that crosses a cut now. Call it from outside
// any process.
func (n *Network) Recut() {
	n.mu.Lock()
	var broken []netLink
	for l := range n.links {
		if n.cutLocked(l.from.Addr(), l.to.Addr()) {
			broken = append(broken, l)
			delete(n.links, l)
		}
	}
	n.mu.Unlock()
	n.breakLinks(broken)
}

func (n *Network) cutLocked(from, to netip.Addr) bool {
	return n.cut != nil && (n.cut(from, to) || n.cut(to, from))
}

// breakLinks tells each link's linker, in a fixed order, that it broke.
func (n *Network) breakLinks(broken []netLink) {
	slices.SortFunc(broken, func(x, y netLink) int {
		return cmp.Or(cmp.Compare(x.from.String(), y.from.String()), cmp.Compare(x.linkerID, y.linkerID), cmp.Compare(x.to.String(), y.to.String()))
	})
	for _, l := range broken {
		if rt := n.Runtime(l.from); rt != nil {
			rt.onExited(UPID{ID: l.linkerID, Addr: l.from}, l.to)
		}
	}
}

// Runtime returns the runtime living at addr, or nil.
func (n *Network) Runtime(addr netip.AddrPort) *Runtime {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hosts[addr]
}

// Crash takes the runtime at addr off the network at once, breaking the
// links to it, then closes it: what its processes send while they
// terminate is lost, as when an OS process is killed. Call it from
// outside any process.
func (n *Network) Crash(addr netip.AddrPort) {
	rt := n.remove(addr)
	if rt != nil {
		rt.Close()
	}
}

// settle runs the network's queue and fires its due timers until nothing
// is under way on it.
func (n *Network) settle() {
	for {
		n.det.WaitIdle()
		if n.clock.fireDue() == 0 && n.det.Idle() {
			return
		}
	}
}

// join adds rt at its address.
func (n *Network) join(rt *Runtime) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hosts[rt.addr] != nil {
		return fmt.Errorf("address %s already in use on the network", rt.addr)
	}
	n.hosts[rt.addr] = rt
	return nil
}

// remove takes the runtime at addr off the network and tells every linker
// elsewhere that its links to addr broke. It returns the runtime removed.
func (n *Network) remove(addr netip.AddrPort) *Runtime {
	n.mu.Lock()
	rt := n.hosts[addr]
	delete(n.hosts, addr)
	var broken []netLink
	for l := range n.links {
		if l.to == addr || l.from == addr {
			delete(n.links, l)
			if l.to == addr && l.from != addr {
				broken = append(broken, l)
			}
		}
	}
	n.mu.Unlock()
	n.breakLinks(broken)
	return rt
}

// memTransport is a runtime's side of a Network.
type memTransport struct {
	n  *Network
	rt *Runtime
}

func (t *memTransport) Addr() netip.AddrPort { return t.rt.addr }

// Send hands the message to the runtime at to's address, unless the
// sender left the network, nobody lives there, or a cut drops it.
func (t *memTransport) Send(from, to UPID, name string, body []byte) bool {
	n := t.n
	n.mu.Lock()
	live := n.hosts[t.rt.addr] == t.rt
	dst := n.hosts[to.Addr]
	cut := n.cutLocked(t.rt.addr.Addr(), to.Addr.Addr())
	n.mu.Unlock()
	if !live || dst == nil || cut {
		return false
	}
	// The body is shared, not copied: a posted body is never written
	// again (as for a delivery within one runtime), and decoding copies.
	receiver{dst}.Deliver(&wire.Message{
		Name: name, From: from, To: to, Body: body, Peer: t.rt.addr.Addr(),
	})
	return true
}

// Link records a link from `from` to addr; it breaks at once when no
// runtime lives at addr (connection refused).
func (t *memTransport) Link(from UPID, to netip.AddrPort) {
	n := t.n
	n.mu.Lock()
	up := n.hosts[to] != nil && n.hosts[t.rt.addr] == t.rt && !n.cutLocked(t.rt.addr.Addr(), to.Addr())
	if up {
		n.links[netLink{from: t.rt.addr, linkerID: from.ID, to: to}] = struct{}{}
	}
	n.mu.Unlock()
	if !up {
		t.rt.onExited(from, to)
	}
}

// Close leaves the network (links to this runtime break).
func (t *memTransport) Close() error {
	n := t.n
	n.mu.Lock()
	mine := n.hosts[t.rt.addr] == t.rt
	n.mu.Unlock()
	if mine {
		n.remove(t.rt.addr)
	}
	return nil
}
