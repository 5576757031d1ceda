package process

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func netRuntime(t *testing.T, n *Network, addr string) *Runtime {
	t.Helper()
	rt, err := New(Options{Network: n, Bind: netip.MustParseAddrPort(addr), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// A ping-pong between two hosts of a network, then each kind of fault.
func TestNetworkDeliversLinksAndCuts(t *testing.T) {
	n := NewNetwork(3)
	a, b := netRuntime(t, n, "10.0.0.1:5050"), netRuntime(t, n, "10.0.0.2:5051")
	pingPong(t, a, b, 100)

	var got []int64
	_, sink := spawn(t, b, "sink", func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.Int64Value) { got = append(got, m.Value) })
	})
	linker, _ := spawn(t, a, "linker", func(p *testProc) { p.Link(sink) })
	send := func(v int64) {
		if err := a.Send(a.UPID("linker"), sink, wrapperspb.Int64(v)); err != nil {
			t.Fatal(err)
		}
		n.Clock().Settle()
	}
	send(1)
	n.Cut(func(from, to netip.Addr) bool { return from == a.Addr().Addr() })
	send(2) // dropped
	n.Clock().Settle()
	if len(linker.exited) != 1 || linker.exited[0] != sink {
		t.Fatalf("exited %v after the cut, want [%v]", linker.exited, sink)
	}
	n.Cut(nil)
	send(3)
	if len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Fatalf("sink got %v, want [1 3]", got)
	}

	// A crash breaks the link; what the crashed host sends is lost.
	linker2, _ := spawn(t, a, "linker2", func(p *testProc) { p.Link(sink) })
	n.Crash(b.Addr())
	n.Clock().Settle()
	if len(linker2.exited) != 1 || linker2.exited[0] != sink {
		t.Fatalf("exited %v after the crash, want [%v]", linker2.exited, sink)
	}
	// Linking to an address where nobody lives breaks at once.
	lonely, _ := spawn(t, a, "lonely", func(p *testProc) { p.Link(sink) })
	n.Clock().Settle()
	if len(lonely.exited) != 1 {
		t.Fatalf("link to a dead host: exited %v", lonely.exited)
	}
	// The address is free for a restarted host.
	netRuntime(t, n, "10.0.0.2:5051")
}

// Timers on the shared clock fire for every host of the network, and a
// network's Settle ignores the rest of the program.
func TestNetworkSharesOneClock(t *testing.T) {
	n := NewNetwork(1)
	a, b := netRuntime(t, n, "10.0.0.1:5050"), netRuntime(t, n, "10.0.0.2:5050")
	if a.Clock() != b.Clock() || !a.Clock().Paused() {
		t.Fatal("the hosts of a network share one paused clock")
	}
	fired := 0
	a.Clock().Timer(time.Second, func() { fired++ })
	b.Clock().Timer(2*time.Second, func() { fired++ })
	n.Clock().Advance(3 * time.Second)
	if fired != 2 || !n.Clock().Now().Equal(DeterministicEpoch.Add(3*time.Second)) {
		t.Fatalf("fired %d at %v", fired, n.Clock().Now())
	}
}

// The same seed gives the same trace, also with several networks run
// in parallel goroutines.
func TestNetworksRunInParallel(t *testing.T) {
	run := func(seed uint64) uint64 {
		n := NewNetwork(seed)
		a, _ := New(Options{Network: n, Bind: netip.MustParseAddrPort("10.0.0.1:1"), Logger: quiet})
		b, _ := New(Options{Network: n, Bind: netip.MustParseAddrPort("10.0.0.2:1"), Logger: quiet})
		defer a.Close()
		defer b.Close()
		pingPong(t, a, b, 150)
		n.Clock().Advance(time.Minute)
		return n.Deterministic().Trace()
	}
	want := map[uint64]uint64{}
	for seed := range uint64(4) {
		want[seed] = run(seed)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[uint64]uint64{}
	for seed := range uint64(4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := run(seed)
			mu.Lock()
			got[seed] = tr
			mu.Unlock()
		}()
	}
	wg.Wait()
	for seed, tr := range want {
		if got[seed] != tr {
			t.Errorf("seed %d: trace %x alone, %x in parallel", seed, tr, got[seed])
		}
	}
}
