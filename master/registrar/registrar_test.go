package registrar

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// start spawns a registrar over storage on a runtime with a paused clock.
func start(t *testing.T, storage Storage) (*process.Runtime, *Registrar) {
	t.Helper()
	rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"), Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	r := New(storage, 0)
	if _, err := Spawn(rt, r); err != nil {
		t.Fatal(err)
	}
	return rt, r
}

// settled returns f after the runtime has settled.
func settled[T any](rt *process.Runtime, f future.Future[T]) future.Future[T] {
	rt.Clock().Settle()
	return f
}

func master(id string) *mesos.MasterInfo {
	return &mesos.MasterInfo{Id: proto.String(id), Ip: proto.Uint32(16777343), Port: proto.Uint32(5050)}
}

func slave(id string) *mesos.SlaveInfo {
	return &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String(id)}}
}

func ids(reg *messages.Registry) []string {
	var out []string
	for _, s := range reg.GetSlaves().GetSlaves() {
		out = append(out, s.GetInfo().GetId().GetValue())
	}
	return out
}

func TestRecoverApplyAndRecoverAgain(t *testing.T) {
	store := File{Path: filepath.Join(t.TempDir(), "registry")}
	rt, r := start(t, store)
	admitted := r.Apply(AdmitSlave(slave("S1"))) // waits for recovery
	rec := settled(rt, r.Recover(master("m1")))
	if reg, err := rec.Get(); err != nil || len(ids(reg)) != 0 || reg.GetMaster().GetInfo().GetId() != "m1" {
		t.Fatalf("recovered %v %v", reg, err)
	}
	if changed, err := admitted.Get(); err != nil || !changed {
		t.Fatalf("admit: %v %v", changed, err)
	}
	again := settled(rt, r.Apply(AdmitSlave(slave("S1"))))
	if changed, err := again.Get(); err != nil || changed {
		t.Fatalf("admit again: %v %v", changed, err)
	}
	settled(rt, r.Apply(AdmitSlave(slave("S2"))))
	removed := settled(rt, r.Apply(RemoveSlave("S1")))
	if changed, err := removed.Get(); err != nil || !changed {
		t.Fatalf("remove: %v %v", changed, err)
	}
	// A new master's registrar reads what this one stored.
	_, r2 := start(t, store)
	reg, err := r2.Recover(master("m2")).Get()
	if err != nil || len(ids(reg)) != 1 || ids(reg)[0] != "S2" {
		t.Fatalf("second recovery: %v %v", reg, err)
	}
}

// flaky fails its first n stores.
type flaky struct {
	Memory
	failures int
	stores   int
}

func (f *flaky) Store(reg *messages.Registry) future.Future[future.Nothing] {
	f.stores++
	if f.stores <= f.failures {
		return future.Failed[future.Nothing](errors.New("disk full"))
	}
	return f.Memory.Store(reg)
}

func TestStoreFailuresAreRetried(t *testing.T) {
	storage := &flaky{failures: 3}
	rt, r := start(t, storage)
	rec := settled(rt, r.Recover(master("m1")))
	if !rec.IsPending() {
		t.Fatalf("recovered while the store fails: %v", rec)
	}
	rt.Clock().Advance(time.Second) // retry 1
	rt.Clock().Settle()
	rt.Clock().Advance(2 * time.Second) // retry 2
	rt.Clock().Settle()
	if !rec.IsPending() {
		t.Fatalf("recovered after %d stores: %v", storage.stores, rec)
	}
	rt.Clock().Advance(4 * time.Second) // retry 3 succeeds
	rt.Clock().Settle()
	if _, err := rec.Get(); err != nil || storage.stores != 4 {
		t.Fatalf("recovery: %v after %d stores", err, storage.stores)
	}
}

// An unwritable registry: the registrar retries for
// --registry_store_timeout, then fails the operation and every later one.
func TestUnwritableRegistryAborts(t *testing.T) {
	// A file where the registry's directory should be: unwritable even
	// for root.
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rt, r := start(t, File{Path: filepath.Join(blocker, "registry")})
	rec := settled(rt, r.Recover(master("m1")))
	rt.Clock().Advance(19 * time.Second)
	rt.Clock().Settle()
	if !rec.IsPending() {
		t.Fatalf("recovery ended before the store timeout: %v", rec)
	}
	admit := settled(rt, r.Apply(AdmitSlave(slave("S1"))))
	rt.Clock().Advance(time.Second)
	rt.Clock().Settle()
	if rec.Err() == nil || admit.Err() == nil {
		t.Fatalf("after the store timeout: recovery %v, admission %v", rec, admit)
	}
	later := settled(rt, r.Apply(AdmitSlave(slave("S2"))))
	if later.Err() == nil {
		t.Fatalf("an operation after the abort: %v", later)
	}
}
