// Package replog is the master's replicated log: the registry kept by a
// group of masters on etcd raft (go.etcd.io/raft/v3), Mesos's
// --registry=replicated_log.
//
// Each master runs one replica, a process `replicated-log` of its
// runtime. The replica set is fixed and given to every master alike (the
// runtimes' addresses, e.g. from mesos-master's --replicated_log_peers);
// a replica's raft id is its position in the sorted set. Raft messages
// travel on the libprocess wire as gomesos.replog.RaftMessage, and a
// message is stepped only if it comes from the replica its raft sender id
// names. The raft node is a raft.RawNode driven from the replica's
// mailbox: ticks are Clock timers, and each event's Ready is handled
// before the next event (hard state, entries and snapshots written and
// fsynced to Dir before messages are sent; see disk.go for the files).
//
// Every log entry holds a whole registry (or a read barrier) and the
// version of the registry its writer last saw; an entry is installed only
// if the registry is still at that version, so two writers (an old and a
// new leading master, or a write and its own stale retry) cannot undo
// each other's writes. Load commits a read barrier and returns the
// registry as of then; Store commits a registry. Both fail after Timeout
// without a quorum (and say so in the log); a --quorum above raft's
// majority makes a Store wait until that many replicas applied it (they
// tell the writer with gomesos.replog.Applied). The registrar retries them
// until --registry_store_timeout. The state is snapshotted every
// SnapshotEvery entries, which bounds the log.
package replog

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"google.golang.org/protobuf/proto"
)

// ProcessID is the id of a replica's process in its runtime.
const ProcessID = "replicated-log"

// Defaults of Config.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultTickInterval  = 100 * time.Millisecond
	DefaultElectionTicks = 10
	DefaultSnapshotEvery = 100
)

// ErrConflict fails a Store whose registry was changed meanwhile by
// another writer (another master): storing it would lose that write.
var ErrConflict = errors.New("replicated log: the registry was changed by another writer")

// Config configures a replica.
type Config struct {
	// Dir holds the replica's files (mesos-master: --work_dir/replicated_log).
	Dir string
	// Peers are the addresses of every replica's runtime, this one's
	// included; empty means this replica alone. The set must be the same
	// on every replica and for the life of Dir.
	Peers []netip.AddrPort
	// Quorum is how many replicas must hold a write (--quorum): more
	// than half of Peers. Raft commits on a majority; a larger quorum
	// makes a write wait until that many replicas applied it. Zero
	// means a majority.
	Quorum int
	// Timeout fails a Load or Store not committed by then.
	Timeout time.Duration
	// TickInterval is raft's tick; ElectionTicks ticks without a leader
	// start an election, and the leader sends heartbeats every tick.
	TickInterval  time.Duration
	ElectionTicks int
	// SnapshotEvery is how many applied entries trigger a snapshot that
	// drops the log before it.
	SnapshotEvery uint64
}

// CheckQuorum reports whether quorum suits n replicas: Mesos requires a
// majority (quorum > n/2), and a quorum larger than n could never write.
func CheckQuorum(quorum, n int) error {
	if quorum <= n/2 || quorum > n {
		return fmt.Errorf("--quorum=%d with %d replicas: want a majority, more than %d and at most %d", quorum, n, n/2, n)
	}
	return nil
}

// Log is a replica of the replicated log. It implements the registrar's
// Storage; its methods may be called from any goroutine.
type Log struct {
	r *replica
}

// New checks cfg and returns a replica, not started.
func New(cfg Config) (*Log, error) {
	if cfg.Dir == "" {
		return nil, errors.New("replicated log: no directory")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.ElectionTicks <= 1 {
		cfg.ElectionTicks = DefaultElectionTicks
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	cfg.Peers = slices.Clone(cfg.Peers)
	slices.SortFunc(cfg.Peers, func(a, b netip.AddrPort) int { return a.Compare(b) })
	cfg.Peers = slices.Compact(cfg.Peers)
	if n := len(cfg.Peers); n > 0 {
		if cfg.Quorum == 0 {
			cfg.Quorum = n/2 + 1
		}
		if err := CheckQuorum(cfg.Quorum, n); err != nil {
			return nil, fmt.Errorf("replicated log: %w", err)
		}
	}
	return &Log{r: &replica{cfg: cfg}}, nil
}

// Start opens the replica's directory and spawns its process on rt, whose
// address must be one of the peers.
func (l *Log) Start(rt *process.Runtime) (process.UPID, error) {
	r := l.r
	alone := len(r.cfg.Peers) == 0
	if alone {
		r.cfg.Peers = []netip.AddrPort{rt.Addr()}
		r.cfg.Quorum = 1
	}
	i := slices.Index(r.cfg.Peers, rt.Addr())
	if i < 0 {
		return process.UPID{}, fmt.Errorf("replicated log: this master's address %s is not among the replicas %v", rt.Addr(), r.cfg.Peers)
	}
	r.id = uint64(i + 1)
	peers := make([]string, len(r.cfg.Peers))
	ids := make([]uint64, len(r.cfg.Peers))
	for i, a := range r.cfg.Peers {
		peers[i], ids[i] = a.String(), uint64(i+1)
	}
	if alone {
		// A lone replica never sends: its directory does not depend on
		// the address it happens to have.
		peers = []string{"alone"}
	}
	d, err := openDisk(r.cfg.Dir, peers, ids)
	if err != nil {
		return process.UPID{}, err
	}
	r.disk = d
	pid, err := rt.Spawn(r, ProcessID)
	if err != nil {
		d.close()
		return process.UPID{}, fmt.Errorf("spawn the replicated log: %w", err)
	}
	return pid, nil
}

// Stop terminates the replica and waits for it; its pending calls fail.
func (l *Log) Stop() {
	rt := l.r.Runtime()
	if rt == nil {
		return
	}
	rt.Terminate(l.r.Self())
	rt.Wait(l.r.Self())
}

// PID returns the replica's process id (zero before Start).
func (l *Log) PID() process.UPID { return l.r.Self() }

// Load returns the registry as of a read barrier committed now (nil if
// none was ever stored): every write committed before the call is in it.
func (l *Log) Load() future.Future[*messages.Registry] {
	f := process.DispatchF(l.r.Runtime(), l.r.Self(), func() future.Future[[]byte] { return l.r.propose(nil) })
	return future.Then(f, func(b []byte) (*messages.Registry, error) {
		if b == nil {
			return nil, nil
		}
		reg := &messages.Registry{}
		if err := proto.Unmarshal(b, reg); err != nil {
			return nil, fmt.Errorf("replicated log: registry: %w", err)
		}
		return reg, nil
	})
}

// Store commits reg as the registry; the future is ready once a quorum
// holds it.
func (l *Log) Store(reg *messages.Registry) future.Future[future.Nothing] {
	b, err := proto.Marshal(reg)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("replicated log: registry: %w", err))
	}
	if b == nil {
		b = []byte{}
	}
	f := process.DispatchF(l.r.Runtime(), l.r.Self(), func() future.Future[[]byte] { return l.r.propose(b) })
	return future.Then(f, func([]byte) (future.Nothing, error) { return future.Nothing{}, nil })
}

// Status is a replica's view of the log.
type Status struct {
	ID, Leader, Term uint64
	// Applied is the index of the last applied entry, Snapshot that of
	// the latest snapshot, FirstIndex the first entry kept.
	Applied, Snapshot, FirstIndex uint64
	// Version is the registry's version (the index of the entry that
	// installed it).
	Version uint64
}

// Status returns the replica's status.
func (l *Log) Status() future.Future[Status] {
	return process.Dispatch(l.r.Runtime(), l.r.Self(), l.r.status)
}

// slogRaft adapts slog to raft's Logger; raft's chatty Info lines (every
// vote) go to Debug: the replica logs leader changes itself.
type slogRaft struct{ l *slog.Logger }

func (s slogRaft) Debug(v ...any)              { s.l.Debug(fmt.Sprint(v...)) }
func (s slogRaft) Debugf(f string, v ...any)   { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s slogRaft) Info(v ...any)               { s.l.Debug(fmt.Sprint(v...)) }
func (s slogRaft) Infof(f string, v ...any)    { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s slogRaft) Warning(v ...any)            { s.l.Warn(fmt.Sprint(v...)) }
func (s slogRaft) Warningf(f string, v ...any) { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s slogRaft) Error(v ...any)              { s.l.Error(fmt.Sprint(v...)) }
func (s slogRaft) Errorf(f string, v ...any)   { s.l.Error(fmt.Sprintf(f, v...)) }
func (s slogRaft) Fatal(v ...any)              { s.Panic(v...) }
func (s slogRaft) Fatalf(f string, v ...any)   { s.Panicf(f, v...) }
func (s slogRaft) Panic(v ...any)              { m := fmt.Sprint(v...); s.l.Error(m); panic(m) }
func (s slogRaft) Panicf(f string, v ...any)   { s.Panic(fmt.Sprintf(f, v...)) }
