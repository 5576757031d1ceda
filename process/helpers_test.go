package process

import (
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/future"
)

// quiet drops the runtime's log lines in tests (many tests provoke
// warnings on purpose); set GOMESOS_TEST_LOG=1 to see them.
var quiet = func() *slog.Logger {
	if os.Getenv("GOMESOS_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// wait is the bound on every wait in these tests: a failure guard, never a
// way to let time pass.
const wait = 15 * time.Second

func newRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if !opts.Bind.IsValid() && !opts.NoNetwork {
		opts.Bind = netip.MustParseAddrPort("127.0.0.1:0")
	}
	if opts.NoNetwork && !opts.Bind.IsValid() {
		opts.Bind = netip.MustParseAddrPort("127.0.0.1:5050")
	}
	opts.Testing = true
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	rt, err := New(opts)
	if err != nil {
		t.Fatalf("new runtime: %v", err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// both runs a test under each dispatcher: the production one (mailboxes on
// goroutines) and the deterministic one; the runtime suite must pass on both.
func both(t *testing.T, fn func(t *testing.T, opts Options)) {
	t.Run("goroutines", func(t *testing.T) { fn(t, Options{}) })
	t.Run("deterministic", func(t *testing.T) { fn(t, Options{Deterministic: true, Seed: 7}) })
}

func await[T any](t testing.TB, rt *Runtime, f future.Future[T]) T {
	t.Helper()
	if !Await(rt, f, wait) {
		t.Fatalf("future still pending after %v", wait)
	}
	v, err := f.Get()
	if err != nil {
		t.Fatalf("future failed: %v", err)
	}
	return v
}

// recorder process: installs handlers given at construction.
type testProc struct {
	Process
	init   func(p *testProc)
	exited []UPID
	onExit func(UPID)
	final  func()
}

func (p *testProc) Initialize() {
	if p.init != nil {
		p.init(p)
	}
}

func (p *testProc) Exited(pid UPID) {
	p.exited = append(p.exited, pid)
	if p.onExit != nil {
		p.onExit(pid)
	}
}

func (p *testProc) Finalize() {
	if p.final != nil {
		p.final()
	}
}

func spawn(t testing.TB, rt *Runtime, id string, init func(p *testProc)) (*testProc, UPID) {
	t.Helper()
	p := &testProc{init: init}
	pid, err := rt.Spawn(p, id)
	if err != nil {
		t.Fatalf("spawn %s: %v", id, err)
	}
	return p, pid
}

// with returns o with the dispatcher choice of base.
func with(base, o Options) Options {
	o.Deterministic, o.Seed = base.Deterministic, base.Seed
	return o
}

// readyChan is the deterministic dispatcher's ready channel, or nil
// (never ready) on a runtime whose mailboxes run on goroutines.
func readyChan(rt *Runtime) <-chan struct{} {
	if rt.det == nil {
		return nil
	}
	return rt.det.Ready()
}
