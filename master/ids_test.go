package master

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
)

// A master that restarts with an id it had before (it cannot happen with
// random ids, but a seeded run came close) must not hand out the id of a
// slave its registry holds or that it removed.
func TestNewSlaveIDSkipsKnownIDs(t *testing.T) {
	m := newMaster(Config{})
	m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.id = "M"
	m.recovered["M-S0"] = &mesos.SlaveInfo{}
	m.slaves["M-S1"] = &slave{}
	m.removedSlaves["M-S2"] = true
	for _, want := range []string{"M-S3", "M-S4"} {
		if got := m.newSlaveID().GetValue(); got != want {
			t.Fatalf("newSlaveID = %s, want %s", got, want)
		}
	}
}

func TestClaimRefused(t *testing.T) {
	info := func(h string) *mesos.SlaveInfo { return &mesos.SlaveInfo{Hostname: &h} }
	from := func(ip string) process.UPID {
		return process.UPID{ID: "slave(1)", Addr: netip.AddrPortFrom(netip.MustParseAddr(ip), 5051)}
	}
	for _, tc := range []struct {
		recorded, claimed, from string
		refused                 bool
	}{
		{"host-a", "host-a", "10.0.0.5", false}, // a name: any address
		{"host-a", "host-b", "10.0.0.5", true},  // another name
		{"10.0.0.5", "10.0.0.5", "10.0.0.5", false},
		{"10.0.0.5", "10.0.0.5", "10.0.0.6", true}, // the right name from elsewhere
		{"10.0.0.5", "host-a", "10.0.0.5", true},
	} {
		if got := claimRefused(info(tc.recorded), info(tc.claimed), from(tc.from)); (got != "") != tc.refused {
			t.Errorf("registry %s, claim %s from %s: %q, want refused %v", tc.recorded, tc.claimed, tc.from, got, tc.refused)
		}
	}
}
