package master

import (
	"io"
	"log/slog"
	"testing"

	"github.com/gomesos/gomesos/mesos"
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
