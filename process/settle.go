package process

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gomesos/gomesos/process/future"
)

// Settling sees the whole OS process: every runtime in it, and the wire
// messages between them. This file keeps the process-wide records that
// Clock.Settle reads besides the actor systems' own counts.

// runtimes lists the live runtimes of the OS process and the addresses
// they listen on.
var runtimes struct {
	mu    sync.Mutex
	list  atomic.Pointer[[]*Runtime]
	addrs map[netip.AddrPort]*Runtime
}

func register(rt *Runtime) {
	runtimes.mu.Lock()
	defer runtimes.mu.Unlock()
	var list []*Runtime
	if old := runtimes.list.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, rt)
	runtimes.list.Store(&list)
	if _, mem := rt.tr.(*memTransport); rt.tr != nil && !mem {
		if runtimes.addrs == nil {
			runtimes.addrs = make(map[netip.AddrPort]*Runtime)
		}
		runtimes.addrs[rt.addr] = rt
	}
}

func unregister(rt *Runtime) {
	runtimes.mu.Lock()
	defer runtimes.mu.Unlock()
	var list []*Runtime
	if old := runtimes.list.Load(); old != nil {
		for _, x := range *old {
			if x != rt {
				list = append(list, x)
			}
		}
	}
	runtimes.list.Store(&list)
	if runtimes.addrs[rt.addr] == rt {
		delete(runtimes.addrs, rt.addr)
	}
}

// liveRuntimes returns the live runtimes; the slice must not be changed.
func liveRuntimes() []*Runtime {
	if l := runtimes.list.Load(); l != nil {
		return *l
	}
	return nil
}

// listening reports whether a runtime of this OS process listens on addr.
func listening(addr netip.AddrPort) bool {
	runtimes.mu.Lock()
	defer runtimes.mu.Unlock()
	_, ok := runtimes.addrs[addr]
	return ok
}

// Wire messages between runtimes of this OS process are counted from the
// send until the receiver has put them in a mailbox, per outbound
// connection, i.e. per (sender, destination address): the receiver finds
// the count by the message's sender and its own address. When the
// connection ends, whatever it still counts is let go (those messages are
// lost or already handed over).

type wireKey struct {
	from UPID
	to   netip.AddrPort
}

type wireCount struct {
	rt *Runtime // the sender's runtime, whose system holds the count
	n  int64
}

var wireCounts struct {
	mu      sync.Mutex
	pending map[wireKey]*wireCount
	total   atomic.Int64 // sum of n: lets receivers skip the lock
}

// wireSending counts a message about to be written from `from` to a
// runtime of this OS process at to.
func wireSending(rt *Runtime, from UPID, to netip.AddrPort) {
	k := wireKey{from, to}
	wireCounts.mu.Lock()
	if wireCounts.pending == nil {
		wireCounts.pending = make(map[wireKey]*wireCount)
	}
	c := wireCounts.pending[k]
	if c == nil {
		c = &wireCount{rt: rt}
		wireCounts.pending[k] = c
	}
	c.n++
	wireCounts.total.Add(1)
	rt.sys.Hold(1)
	wireCounts.mu.Unlock()
}

// wireArrived lets go of one message counted from `from` to to, once the
// receiver has handed it on (or found no process for it).
func wireArrived(from UPID, to netip.AddrPort) {
	if wireCounts.total.Load() == 0 {
		return
	}
	wireCounts.mu.Lock()
	c := wireCounts.pending[wireKey{from, to}]
	if c == nil {
		wireCounts.mu.Unlock()
		return
	}
	c.n--
	if c.n == 0 {
		delete(wireCounts.pending, wireKey{from, to})
	}
	wireCounts.total.Add(-1)
	wireCounts.mu.Unlock()
	c.rt.sys.Release(1)
}

// wireClosed lets go of every message still counted from `from` to to:
// its connection ended, so they were delivered or lost.
func wireClosed(from UPID, to netip.AddrPort) {
	if wireCounts.total.Load() == 0 {
		return
	}
	k := wireKey{from, to}
	wireCounts.mu.Lock()
	c := wireCounts.pending[k]
	if c == nil {
		wireCounts.mu.Unlock()
		return
	}
	delete(wireCounts.pending, k)
	wireCounts.total.Add(-c.n)
	wireCounts.mu.Unlock()
	c.rt.sys.Release(c.n)
}

// Count makes Settle wait for f: it counts f as work in flight in rt until
// f completes, and returns a future that mirrors f. Continue on the
// returned future (e.g. OnAny(p.Defer(...))): its callbacks run before
// the count is let go, so the work they post is seen by Settle too. Use
// it where a component hands blocking work to a collaborator that
// answers with a future (launching or destroying a container, reading or
// writing the disk), so that a test that settles knows the work is done.
// Never count long waits that complete only when something else happens
// (a container's exit, a leader election, a timeout): Settle would wait
// for them. The zero Future, which never completes, is not counted.
func Count[T any](rt *Runtime, f future.Future[T]) future.Future[T] {
	if f == (future.Future[T]{}) || !f.IsPending() {
		return f
	}
	rt.sys.Hold(1)
	pr := future.NewPromise[T]()
	pr.Associate(f)
	// Registered after the mirror, so it runs after the mirror's
	// callbacks.
	f.OnAny(func(future.Future[T]) { rt.sys.Release(1) })
	return pr.Future()
}

// holdOnce counts one unit of work in rt and returns the function that
// lets it go; calling that function again does nothing.
func (rt *Runtime) holdOnce() (release func()) {
	rt.sys.Hold(1)
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			rt.sys.Release(1)
		}
	}
}
