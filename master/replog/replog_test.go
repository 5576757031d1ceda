package replog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// group is n replicas, each on a deterministic runtime of its own (a
// master's), all stepped by one dispatcher; raft messages go over the
// loopback wire between the runtimes.
type group struct {
	t     *testing.T
	hub   *process.Runtime // owns the dispatcher; hosts no replica
	rts   []*process.Runtime
	logs  []*Log
	dirs  []string
	peers []netip.AddrPort
	// quorum is the replicas' --quorum (0: a majority).
	quorum int
}

func testLogger() *slog.Logger {
	var out io.Writer = io.Discard
	if os.Getenv("GOMESOS_TEST_LOG") != "" {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newGroup(t *testing.T, n int) *group { return newGroupQuorum(t, n, 0) }

func newGroupQuorum(t *testing.T, n, quorum int) *group {
	t.Helper()
	hub, err := process.New(process.Options{Deterministic: true, Seed: 1, NoNetwork: true,
		Bind: netip.MustParseAddrPort("127.0.0.1:1"), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	g := &group{t: t, hub: hub, rts: make([]*process.Runtime, n), logs: make([]*Log, n), dirs: make([]string, n), quorum: quorum}
	t.Cleanup(func() {
		for _, rt := range g.rts {
			if rt != nil {
				rt.Close()
			}
		}
		hub.Close()
	})
	for i := range n {
		g.dirs[i] = filepath.Join(t.TempDir(), "replicated_log")
		g.rts[i] = g.runtime(netip.MustParseAddrPort("127.0.0.1:0"))
		g.peers = append(g.peers, g.rts[i].Addr())
	}
	// Raft ids are positions in the sorted replica set: keep the group in
	// that order, so that replica i has id i+1.
	slices.SortFunc(g.rts, func(a, b *process.Runtime) int { return a.Addr().Compare(b.Addr()) })
	slices.SortFunc(g.peers, func(a, b netip.AddrPort) int { return a.Compare(b) })
	for i := range n {
		g.start(i)
	}
	return g
}

func (g *group) runtime(bind netip.AddrPort) *process.Runtime {
	g.t.Helper()
	rt, err := process.New(process.Options{Deterministic: true, DispatchWith: g.hub, Bind: bind, Logger: testLogger()})
	if err != nil {
		g.t.Fatal(err)
	}
	return rt
}

func (g *group) start(i int) {
	g.t.Helper()
	l, err := New(Config{Dir: g.dirs[i], Peers: g.peers, Quorum: g.quorum, SnapshotEvery: 8})
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := l.Start(g.rts[i]); err != nil {
		g.t.Fatal(err)
	}
	g.logs[i] = l
}

// kill closes replica i's runtime, as if its master died.
func (g *group) kill(i int) {
	g.rts[i].Close()
	g.rts[i], g.logs[i] = nil, nil
}

// restart brings replica i back on its old address and directory.
func (g *group) restart(i int) {
	g.rts[i] = g.runtime(g.peers[i])
	g.start(i)
}

// advance moves every live clock forward by d, one tick at a time.
func (g *group) advance(d time.Duration) {
	for step := time.Duration(0); step < d; step += DefaultTickInterval {
		for _, rt := range g.rts {
			if rt != nil {
				rt.Clock().Advance(DefaultTickInterval)
			}
		}
	}
	g.hub.Clock().Settle()
}

// leader waits (in virtual time) until the live replicas agree on a live
// leader and returns its index.
func (g *group) leader() int {
	g.t.Helper()
	for range 100 {
		g.advance(DefaultTickInterval)
		lead, agree := uint64(0), true
		for _, l := range g.logs {
			if l == nil {
				continue
			}
			st := g.status(l)
			if lead == 0 {
				lead = st.Leader
			}
			agree = agree && st.Leader == lead && lead != 0
		}
		if os.Getenv("GOMESOS_TEST_LOG") != "" {
			g.t.Logf("leader %d agree %v", lead, agree)
		}
		if agree && g.logs[lead-1] != nil {
			return int(lead - 1)
		}
	}
	g.t.Fatal("no leader elected")
	return -1
}

func (g *group) status(l *Log) Status {
	g.t.Helper()
	return await(g, l.Status())
}

func await[T any](g *group, f future.Future[T]) T {
	g.t.Helper()
	if !process.Await(g.hub, f, 10*time.Second) {
		g.t.Fatal("future still pending")
	}
	v, err := f.Get()
	if err != nil {
		g.t.Fatal(err)
	}
	return v
}

// wait settles, then advances time until f completes (at most d).
func wait[T any](g *group, f future.Future[T], d time.Duration) future.Future[T] {
	g.t.Helper()
	g.hub.Clock().Settle()
	for step := time.Duration(0); f.IsPending() && step < d; step += DefaultTickInterval {
		g.advance(DefaultTickInterval)
	}
	if f.IsPending() {
		g.t.Fatalf("still pending after %v", d)
	}
	return f
}

func registry(slaves ...string) *messages.Registry {
	reg := &messages.Registry{Slaves: &messages.Registry_Slaves{}}
	for _, id := range slaves {
		reg.Slaves.Slaves = append(reg.Slaves.Slaves, &messages.Registry_Slave{Info: &mesos.SlaveInfo{
			Hostname: proto.String(id), Id: &mesos.SlaveID{Value: proto.String(id)},
		}})
	}
	return reg
}

func (g *group) store(i int, reg *messages.Registry) error {
	g.t.Helper()
	return wait(g, g.logs[i].Store(reg), 2*DefaultTimeout).Err()
}

func (g *group) load(i int) *messages.Registry {
	g.t.Helper()
	f := wait(g, g.logs[i].Load(), 2*DefaultTimeout)
	if err := f.Err(); err != nil {
		g.t.Fatalf("load on replica %d: %v", i, err)
	}
	return f.Value()
}

func slavesOf(reg *messages.Registry) string {
	var ids []string
	for _, s := range reg.GetSlaves().GetSlaves() {
		ids = append(ids, s.GetInfo().GetId().GetValue())
	}
	return strings.Join(ids, ",")
}

func TestThreeReplicasLoseOneThenTwo(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	if reg := g.load(lead); reg != nil {
		t.Fatalf("a new log loads %v, want nil", reg)
	}
	if err := g.store(lead, registry("s1")); err != nil {
		t.Fatal(err)
	}
	// A follower reads what the leader wrote.
	other := (lead + 1) % 3
	if got := slavesOf(g.load(other)); got != "s1" {
		t.Fatalf("replica %d loads %q, want s1", other, got)
	}

	// Losing the leader (a minority) loses nothing; writes go on.
	g.kill(lead)
	w := g.leader()
	if got := slavesOf(g.load(w)); got != "s1" {
		t.Fatalf("after losing the leader, replica %d loads %q, want s1", w, got)
	}
	if err := g.store(w, registry("s1", "s2")); err != nil {
		t.Fatalf("store with two of three replicas: %v", err)
	}

	// Losing a second one stops writes, with an error that says why.
	for i := range g.logs {
		if g.logs[i] != nil && i != w {
			g.kill(i)
		}
	}
	err := g.store(w, registry("s1", "s2", "s3"))
	if err == nil || !strings.Contains(err.Error(), "not committed within") {
		t.Fatalf("store without a quorum: %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("the error does not say the quorum is lost: %v", err)
	}
	if f := wait(g, g.logs[w].Load(), 2*DefaultTimeout); f.Err() == nil {
		t.Fatal("load without a quorum succeeded")
	}

	// Every replica comes back from its directory: the last committed
	// registry is there. The write that timed out may be committed yet
	// (it is in w's log, as in any consensus whose writer gives up), but
	// all replicas agree.
	for i := range g.logs {
		if g.logs[i] == nil {
			g.restart(i)
		}
	}
	lead = g.leader()
	first := slavesOf(g.load(0))
	if first != "s1,s2" && first != "s1,s2,s3" {
		t.Fatalf("after restart replica 0 loads %q, want s1,s2 (or s1,s2,s3)", first)
	}
	for i := range g.logs {
		if got := slavesOf(g.load(i)); got != first {
			t.Fatalf("after restart replica %d loads %q, replica 0 %q", i, got, first)
		}
	}
	if err := g.store(lead, registry("s1", "s2", "s4")); err != nil {
		t.Fatal(err)
	}
}

func TestRestartFromDiskAfterSnapshots(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	g.load(lead)
	var ids []string
	for i := range 30 { // several snapshots (SnapshotEvery is 8)
		ids = append(ids, fmt.Sprintf("s%d", i))
		if err := g.store(lead, registry(ids...)); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range g.logs {
		st := g.status(l)
		if st.Snapshot < 16 || st.FirstIndex <= 1 {
			t.Fatalf("replica %d: snapshot at %d, first index %d: the log was not compacted", i, st.Snapshot, st.FirstIndex)
		}
	}
	// The wal holds only what follows the snapshot.
	if fi, err := os.Stat(filepath.Join(g.dirs[lead], walFile)); err != nil || fi.Size() > 64<<10 {
		t.Fatalf("wal: %v, %v", fi, err)
	}
	for i := range g.logs {
		g.kill(i)
	}
	for i := range g.logs {
		g.restart(i)
	}
	lead = g.leader()
	want := strings.Join(ids, ",")
	for i := range g.logs {
		if got := slavesOf(g.load(i)); got != want {
			t.Fatalf("after restart replica %d loads %q, want %q", i, got, want)
		}
	}
}

func TestLaggingReplicaCatchesUpFromSnapshot(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	g.load(lead)
	down := (lead + 1) % 3
	g.kill(down)
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("s%d", i))
		if err := g.store(lead, registry(ids...)); err != nil {
			t.Fatal(err)
		}
	}
	g.restart(down)
	g.advance(time.Second)
	if st := g.status(g.logs[down]); st.Snapshot <= 1 {
		t.Fatalf("the lagging replica got no snapshot: %+v", st)
	}
	if got, want := slavesOf(g.load(down)), strings.Join(ids, ","); got != want {
		t.Fatalf("the lagging replica loads %q, want %q", got, want)
	}
}

func TestStaleWriterConflicts(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	a, b := lead, (lead+1)%3
	g.load(a)
	g.load(b)
	if err := g.store(a, registry("a1")); err != nil {
		t.Fatal(err)
	}
	// b last saw the empty registry: its write must not undo a's.
	err := g.store(b, registry("b1"))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale write: %v, want ErrConflict", err)
	}
	// After loading, b writes on top of a's write.
	if got := slavesOf(g.load(b)); got != "a1" {
		t.Fatalf("b loads %q", got)
	}
	if err := g.store(b, registry("a1", "b1")); err != nil {
		t.Fatal(err)
	}
	if err := g.store(a, registry("a2")); !errors.Is(err, ErrConflict) {
		t.Fatalf("a's stale write: %v, want ErrConflict", err)
	}
}

func TestSingleReplica(t *testing.T) {
	g := newGroup(t, 1)
	g.load(0)
	if err := g.store(0, registry("s1")); err != nil {
		t.Fatal(err)
	}
	g.kill(0)
	g.restart(0)
	if got := slavesOf(g.load(0)); got != "s1" {
		t.Fatalf("loads %q after restart", got)
	}
}

func TestQuorumMustBeAMajority(t *testing.T) {
	peers := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:5050"), netip.MustParseAddrPort("10.0.0.2:5050"), netip.MustParseAddrPort("10.0.0.3:5050"),
	}
	for q, ok := range map[int]bool{1: false, 2: true, 3: true, 4: false} {
		_, err := New(Config{Dir: t.TempDir(), Peers: peers, Quorum: q})
		if (err == nil) != ok {
			t.Errorf("quorum %d of 3: %v", q, err)
		}
	}
}

func TestReplicaSetIsFixed(t *testing.T) {
	g := newGroup(t, 1)
	g.kill(0)
	g.rts[0] = g.runtime(g.peers[0])
	l, err := New(Config{Dir: g.dirs[0], Peers: []netip.AddrPort{g.peers[0], netip.MustParseAddrPort("10.0.0.9:5050")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Start(g.rts[0]); err == nil || !strings.Contains(err.Error(), "replica set") {
		t.Fatalf("start with another replica set: %v", err)
	}
}

// The registrar over the log: it recovers, admits a slave, and aborts
// (the master would exit) when a quorum is lost, with the reason.
func TestRegistrarOverTheLog(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	r := registrar.New(g.logs[lead], 10*time.Second)
	if _, err := registrar.Spawn(g.rts[lead], r); err != nil {
		t.Fatal(err)
	}
	info := &mesos.MasterInfo{Id: proto.String("m1"), Ip: proto.Uint32(16777343), Port: proto.Uint32(5050)}
	if f := wait(g, r.Recover(info), 2*DefaultTimeout); f.Err() != nil {
		t.Fatal(f.Err())
	}
	slave := &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S1")}}
	if f := wait(g, r.Apply(registrar.AdmitSlave(slave)), 2*DefaultTimeout); f.Err() != nil || !f.Value() {
		t.Fatalf("admit: %v %v", f.Value(), f.Err())
	}
	other := (lead + 1) % 3
	if reg := g.load(other); slavesOf(reg) != "S1" || reg.GetMaster().GetInfo().GetId() != "m1" {
		t.Fatalf("replica %d holds %v", other, reg)
	}

	for i := range g.logs {
		if i != lead {
			g.kill(i)
		}
	}
	slave2 := &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S2")}}
	f := wait(g, r.Apply(registrar.AdmitSlave(slave2)), 20*time.Second)
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "registrar aborted") || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("admit without a quorum: %v, want the registrar aborted for want of a quorum", err)
	}
}

// A raft message is stepped only if it comes from the replica that its
// sender id names.
func TestForgedRaftMessageIsDropped(t *testing.T) {
	g := newGroup(t, 3)
	lead := g.leader()
	victim := (lead + 1) % 3
	before := g.status(g.logs[victim])
	// A heartbeat of a leader of a far later term, claiming to come from
	// the third replica but sent by another process of the leader's runtime.
	forger := (lead + 2) % 3
	m := &pb.Message{Type: pb.MsgHeartbeat.Enum(), To: proto.Uint64(uint64(victim + 1)), From: proto.Uint64(uint64(forger + 1)),
		Term: proto.Uint64(before.Term + 100)}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	from := process.UPID{ID: "impostor", Addr: g.peers[lead]}
	if err := g.rts[lead].Send(from, g.logs[victim].PID(), &RaftMessage{Message: b}); err != nil {
		t.Fatal(err)
	}
	g.hub.Clock().Settle()
	if after := g.status(g.logs[victim]); after.Term != before.Term {
		t.Fatalf("a forged heartbeat moved replica %d from term %d to %d", victim+1, before.Term, after.Term)
	}
	// The same message from the right process is stepped.
	if err := g.rts[forger].Send(g.logs[forger].PID(), g.logs[victim].PID(), &RaftMessage{Message: b}); err != nil {
		t.Fatal(err)
	}
	g.hub.Clock().Settle()
	if after := g.status(g.logs[victim]); after.Term != before.Term+100 {
		t.Fatalf("a genuine message did not reach raft: term %d, want %d", after.Term, before.Term+100)
	}
}

// A --quorum above raft's majority is honoured: a write is done once that
// many replicas applied it.
func TestQuorumAboveMajority(t *testing.T) {
	g := newGroupQuorum(t, 3, 3)
	lead := g.leader()
	g.load(lead)
	if err := g.store(lead, registry("s1")); err != nil {
		t.Fatalf("store with every replica up: %v", err)
	}
	g.kill((lead + 1) % 3)
	err := g.store(lead, registry("s1", "s2"))
	if err == nil || !strings.Contains(err.Error(), "applied by only 2 of the 3") {
		t.Fatalf("store with 2 of 3 replicas and --quorum=3: %v", err)
	}
}
