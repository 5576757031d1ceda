// Package cluster is the in-process cluster harness for scenario tests: a
// master and slaves in one runtime with a paused clock, and a recording
// scheduler whose callbacks become futures. Tests set message
// expectations on the runtime, act, settle, and assert, in the style of
// Mesos's own test suite.
package cluster

import (
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/processtest"
)

// Wait bounds every wait in scenario tests: a failure guard, never a way
// to let time pass (time passes by Clock.Advance).
const Wait = 15 * time.Second

// Cluster is a master in a test runtime, plus what the test starts.
type Cluster struct {
	T         testing.TB
	RT        *process.Runtime
	Master    *master.Master
	MasterPID process.UPID
	Expect    *processtest.Expectations
}

// Options configure Start.
type Options struct {
	Master master.Config
	// Network makes the runtime listen on 127.0.0.1 (needed only when
	// something outside this OS process talks to it).
	Network bool
}

// Start starts a master on a fresh runtime with the clock paused.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch os.Getenv("GOMESOS_TEST_LOG") {
	case "":
	case "debug":
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	default:
		logger = slog.Default()
	}
	popts := process.Options{Testing: true, Logger: logger, Bind: netip.MustParseAddrPort("127.0.0.1:0")}
	if !opts.Network {
		popts.NoNetwork = true
		popts.Bind = netip.MustParseAddrPort("127.0.0.1:5050")
	}
	rt, err := process.New(popts)
	if err != nil {
		t.Fatalf("start runtime: %v", err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	m := master.New(opts.Master)
	pid, err := m.Start(rt)
	if err != nil {
		t.Fatalf("start master: %v", err)
	}
	c := &Cluster{T: t, RT: rt, Master: m, MasterPID: pid, Expect: processtest.Expect(t, rt)}
	c.Settle()
	return c
}

// Settle waits until nothing is queued, running or due.
func (c *Cluster) Settle() { c.RT.Clock().Settle() }

// Advance settles, moves the paused clock, and settles again, so that
// everything the test set in motion happens before time moves.
func (c *Cluster) Advance(d time.Duration) {
	c.Settle()
	c.RT.Clock().Advance(d)
	c.Settle()
}

// Await waits for f (settling first) and returns its value, failing the
// test if it does not complete or fails.
func Await[T any](c *Cluster, f future.Future[T]) T {
	c.T.Helper()
	c.Settle()
	if !process.Await(c.RT, f, Wait) {
		c.T.Fatalf("future still pending after settling and %v", Wait)
	}
	v, err := f.Get()
	if err != nil {
		c.T.Fatalf("future failed: %v", err)
	}
	return v
}

// AwaitAdvancing is Await for a future that waits on something outside
// the runtime (ZooKeeper) and may retry on the Clock: each time f is
// still pending after a short real wait, the paused clock moves by step,
// up to limit in all.
func AwaitAdvancing[T any](c *Cluster, f future.Future[T], step, limit time.Duration) T {
	c.T.Helper()
	c.Settle()
	for moved := time.Duration(0); ; moved += step {
		if process.Await(c.RT, f, Wait/10) {
			break
		}
		if moved >= limit {
			c.T.Fatalf("future still pending after moving the clock by %v", moved)
		}
		c.T.Logf("future still pending: moving the clock by %v (a retry on the Clock?)", step)
		c.Advance(step)
	}
	v, err := f.Get()
	if err != nil {
		c.T.Fatalf("future failed: %v", err)
	}
	return v
}

// AssertPending fails the test if f completed.
func AssertPending[T any](c *Cluster, f future.Future[T]) {
	c.T.Helper()
	c.Settle()
	if !f.IsPending() {
		v, err := f.Get()
		c.T.Fatalf("future completed unexpectedly: %v %v", v, err)
	}
}

// FrameworkInfo returns a default framework info for tests.
func FrameworkInfo(name string) *mesos.FrameworkInfo {
	return &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String(name)}
}
