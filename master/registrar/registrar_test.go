package registrar

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// held is a Memory storage whose stores wait, once armed, until the test
// releases them.
type held struct {
	Memory
	mu      sync.Mutex
	armed   bool
	waiting []func(error)
}

func (h *held) arm() { h.mu.Lock(); h.armed = true; h.mu.Unlock() }

func (h *held) Store(reg *messages.Registry) future.Future[future.Nothing] {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.armed {
		return h.Memory.Store(reg)
	}
	p := future.NewPromise[future.Nothing]()
	h.waiting = append(h.waiting, func(err error) {
		if err != nil {
			p.Fail(err)
			return
		}
		h.Memory.Store(reg)
		p.Set(future.Nothing{})
	})
	return p.Future()
}

// release completes the held stores (failing them with err, if not nil)
// and disarms.
func (h *held) release(err error) int {
	h.mu.Lock()
	w := h.waiting
	h.waiting, h.armed = nil, false
	h.mu.Unlock()
	for _, done := range w {
		done(err)
	}
	return len(w)
}

// unreadable fails every load.
type unreadable struct{ Memory }

func (*unreadable) Load() future.Future[*messages.Registry] {
	return future.Failed[*messages.Registry](errors.New("ZooKeeper unreachable"))
}

// A failing load is retried for --registry_fetch_timeout (1 min by
// default), not the store timeout.
func TestFetchTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, wait time.Duration
	}{{0, time.Minute}, {5 * time.Second, 5 * time.Second}} {
		rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"), Testing: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rt.Close)
		rt.Clock().Pause()
		r := NewWithOptions(&unreadable{}, Options{FetchTimeout: tc.timeout})
		if _, err := Spawn(rt, r); err != nil {
			t.Fatal(err)
		}
		rec := settled(rt, r.Recover(master("m1")))
		rt.Clock().Advance(tc.wait - time.Millisecond)
		rt.Clock().Settle()
		if !rec.IsPending() {
			t.Fatalf("fetch timeout %v: recovery ended early: %v", tc.timeout, rec)
		}
		rt.Clock().Advance(time.Millisecond)
		rt.Clock().Settle()
		if err := rec.Err(); err == nil || !strings.Contains(err.Error(), "--registry_fetch_timeout") || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("fetch timeout %v: recovery %v", tc.timeout, err)
		}
	}
}

// fencing fails its stores with ErrFenced once fenced.
type fencing struct {
	Memory
	fenced atomic.Bool
	stores atomic.Int32
}

func (f *fencing) Store(reg *messages.Registry) future.Future[future.Nothing] {
	f.stores.Add(1)
	if f.fenced.Load() {
		return future.Failed[future.Nothing](fmt.Errorf("registry /mesos/registry: %w", ErrFenced))
	}
	return f.Memory.Store(reg)
}

// A fenced store is not retried: the operation, and every later one,
// fail at once with ErrFenced.
func TestFencedStoreAbortsAtOnce(t *testing.T) {
	storage := &fencing{}
	rt, r := start(t, storage)
	if _, err := settled(rt, r.Recover(master("m1"))).Get(); err != nil {
		t.Fatal(err)
	}
	storage.fenced.Store(true)
	admit := settled(rt, r.Apply(AdmitSlave(slave("S1"))))
	if !errors.Is(admit.Err(), ErrFenced) {
		t.Fatalf("admission over a fenced storage: %v", admit)
	}
	if n := storage.stores.Load(); n != 2 {
		t.Fatalf("%d stores: a fenced store was retried", n)
	}
	later := settled(rt, r.Apply(AdmitSlave(slave("S2"))))
	if !errors.Is(later.Err(), ErrFenced) {
		t.Fatalf("a later operation: %v", later)
	}
}

// A strict registry rejects what does not fit it and goes on; a
// non-strict one admits everything.
func TestStrictRegistry(t *testing.T) {
	for _, strict := range []bool{true, false} {
		rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"), Testing: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rt.Close)
		rt.Clock().Pause()
		storage := &Memory{}
		r := NewWithOptions(storage, Options{Strict: strict})
		if _, err := Spawn(rt, r); err != nil {
			t.Fatal(err)
		}
		if _, err := settled(rt, r.Recover(master("m1"))).Get(); err != nil {
			t.Fatal(err)
		}
		ops := []struct {
			name    string
			op      Operation
			changed bool // non-strict
			reject  bool // strict
		}{
			{"admit S1", AdmitSlave(slave("S1")), true, false},
			{"admit S1 again", AdmitSlave(slave("S1")), false, true},
			{"readmit S1", ReadmitSlave(slave("S1")), false, false},
			{"readmit S2", ReadmitSlave(slave("S2")), true, true},
			{"remove S3", RemoveSlave("S3"), false, true},
			{"remove S1", RemoveSlave("S1"), true, false},
		}
		for _, o := range ops {
			changed, err := settled(rt, r.Apply(o.op)).Get()
			switch {
			case strict && o.reject:
				if !errors.Is(err, ErrRejected) {
					t.Errorf("strict %s: %v %v, want rejected", o.name, changed, err)
				}
			case strict:
				if err != nil || changed != o.changed {
					t.Errorf("strict %s: %v %v", o.name, changed, err)
				}
			default:
				if err != nil || changed != o.changed {
					t.Errorf("%s: %v %v, want %v", o.name, changed, err, o.changed)
				}
			}
		}
		reg, _ := storage.Load().Get()
		want := "S2"
		if strict {
			want = ""
		}
		if got := strings.Join(ids(reg), ","); got != want {
			t.Errorf("strict %v: registry holds %q, want %q", strict, got, want)
		}
	}
}

// The registrar/* metrics: operations queued behind a store, the size of
// the registry stored, and the times of fetches and stores.
func TestRegistrarMetrics(t *testing.T) {
	storage := &held{}
	rt, r := start(t, storage)
	snapshot := func() map[string]float64 { rt.Clock().Settle(); return rt.Metrics().Snapshot(t.Context()) }
	if _, err := settled(rt, r.Recover(master("m1"))).Get(); err != nil {
		t.Fatal(err)
	}
	storage.arm()
	first := settled(rt, r.Apply(AdmitSlave(slave("S1")))) // stored; held
	second := r.Apply(AdmitSlave(slave("S2")))
	third := r.Apply(AdmitSlave(slave("S3")))
	if m := snapshot(); m["registrar/queued_operations"] != 2 {
		t.Fatalf("queued operations %v while a store is held", m["registrar/queued_operations"])
	}
	rt.Clock().Advance(250 * time.Millisecond)
	if n := storage.release(nil); n != 1 {
		t.Fatalf("%d stores held", n)
	}
	for _, f := range []future.Future[bool]{first, second, third} {
		if _, err := settled(rt, f).Get(); err != nil {
			t.Fatal(err)
		}
	}
	m := snapshot()
	reg, _ := storage.Load().Get()
	if m["registrar/queued_operations"] != 0 || m["registrar/registry_size_bytes"] != float64(proto.Size(reg)) {
		t.Fatalf("metrics %v; registry of %d bytes", m, proto.Size(reg))
	}
	if _, ok := m["registrar/state_fetch_ms"]; !ok {
		t.Fatalf("no registrar/state_fetch_ms in %v", m)
	}
	if m["registrar/state_store_ms/max"] != 250 || m["registrar/state_store_ms/count"] != 3 {
		t.Fatalf("store times %v", m)
	}
	for _, k := range []string{"min", "p50", "p90", "p95", "p99", "p999", "p9999"} {
		if _, ok := m["registrar/state_store_ms/"+k]; !ok {
			t.Errorf("no registrar/state_store_ms/%s", k)
		}
	}
	// A registrar that ends gives its metrics up for the next one.
	rt.Terminate(r.Self())
	rt.Wait(r.Self())
	if _, ok := snapshot()["registrar/queued_operations"]; ok {
		t.Fatal("metrics left behind by a terminated registrar")
	}
}
