package process

import (
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gossip runs a small all-to-all exchange on a deterministic runtime and
// returns the trace hash and the order in which one process heard others.
func gossip(t *testing.T, seed uint64) (uint64, string) {
	rt := newRuntime(t, Options{Deterministic: true, Seed: seed, NoNetwork: true})
	const n = 5
	pids := make([]UPID, n)
	var heard []string
	for i := 0; i < n; i++ {
		i := i
		_, pids[i] = spawn(t, rt, rt.GenerateID("node"), func(p *testProc) {
			Install(&p.Process, func(from UPID, m *wrapperspb.Int64Value) {
				if i == 0 {
					heard = append(heard, from.ID)
				}
				if m.Value > 0 {
					for _, to := range pids {
						if to != p.Self() {
							_ = p.Send(to, wrapperspb.Int64(m.Value-1))
						}
					}
				}
			})
		})
	}
	rt.Clock().Settle()
	for _, pid := range pids {
		_ = rt.Send(pid, pids[(len(pid.ID))%n], wrapperspb.Int64(2))
	}
	rt.Clock().Settle()
	return rt.Deterministic().Trace(), join(heard)
}

func TestDeterministicDispatcherReplays(t *testing.T) {
	h1, o1 := gossip(t, 42)
	h2, o2 := gossip(t, 42)
	if h1 != h2 || o1 != o2 {
		t.Fatalf("same seed, different runs: %x %q vs %x %q", h1, o1, h2, o2)
	}
	distinct := map[uint64]bool{h1: true}
	for seed := uint64(1); seed <= 5; seed++ {
		h, _ := gossip(t, seed)
		distinct[h] = true
	}
	if len(distinct) < 3 {
		t.Fatalf("six seeds gave only %d distinct interleavings", len(distinct))
	}
}
