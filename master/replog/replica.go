package replog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"

	raft "go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// catchUp is how many entries before a snapshot stay in memory, so that
// a follower a little behind gets entries rather than the snapshot.
const catchUp = 16

// replica is a replica's process: the raft node, its storage and the
// replicated state.
type replica struct {
	process.Process

	cfg  Config
	id   uint64
	disk *disk
	rn   *raft.RawNode
	log  *slog.Logger

	state    *State // the replicated state as of applied
	applied  uint64
	writer   writer
	pending  map[uint64]*proposal // this incarnation's proposals, by seq
	ticker   *process.Timer
	leader   uint64 // last leader seen, 0 for none
	stalled  bool   // a proposal timed out since the last commit
	err      error  // set when the replica failed (disk)
	finished bool
}

// writer is this replica as a writer of entries: its id and incarnation
// (drawn at start) tell its entries apart; base is the registry version
// it last saw (by a read barrier or its own write).
type writer struct {
	incarnation uint64
	seq         uint64
	base        uint64
}

// proposal is a Load (registry nil) or Store waiting for its entry.
type proposal struct {
	seq      uint64
	data     []byte // the marshalled Entry
	registry []byte // nil for a read barrier
	proposed bool   // raft took it (else it is proposed again next tick)
	applied  bool   // applied here; with a quorum above raft's majority it waits for acks
	acks     map[uint64]bool
	done     *future.Promise[[]byte]
	timer    *process.Timer
}

// Initialize starts the raft node from the replica's storage.
func (r *replica) Initialize() {
	r.log = r.Runtime().Logger().With("component", "replicated-log", "replica", r.id)
	process.Install(&r.Process, r.received)
	process.Install(&r.Process, r.appliedBy)
	r.pending = make(map[uint64]*proposal)
	var b [8]byte
	r.Runtime().RandBytes(b[:])
	r.writer.incarnation = binary.LittleEndian.Uint64(b[:])

	snap, err := r.disk.mem.Snapshot()
	if err == nil {
		err = r.restore(snap)
	}
	if err == nil {
		r.rn, err = raft.NewRawNode(&raft.Config{
			ID:              r.id,
			ElectionTick:    r.cfg.ElectionTicks,
			HeartbeatTick:   1,
			Storage:         r.disk.mem,
			Applied:         r.applied,
			MaxSizePerMsg:   1 << 20,
			MaxInflightMsgs: 256,
			CheckQuorum:     true, // a leader cut off from a quorum steps down
			PreVote:         true,
			Logger:          slogRaft{r.log.With("raft", true)},
		})
	}
	if err != nil {
		r.fail(fmt.Errorf("replicated log: start: %w", err))
		return
	}
	r.writer.base = r.state.GetVersion()
	r.log.Info("replica started", "replicas", len(r.cfg.Peers), "quorum", r.cfg.Quorum,
		"dir", r.cfg.Dir, "applied", r.applied, "version", r.state.GetVersion())
	if len(r.cfg.Peers) == 1 {
		_ = r.rn.Campaign() // alone: no reason to wait an election timeout
	}
	r.ready()
	r.ticker = r.Delay(r.cfg.TickInterval, r.tick)
}

// Finalize fails what is still waiting and closes the files.
func (r *replica) Finalize() {
	r.finished = true
	r.Clock().Cancel(r.ticker)
	for _, p := range r.pending {
		r.Clock().Cancel(p.timer)
		p.done.Fail(fmt.Errorf("replicated log: %w", process.ErrTerminated))
	}
	r.pending = nil
	r.disk.close()
}

func (r *replica) tick() {
	if r.err != nil || r.finished {
		return
	}
	r.rn.Tick()
	for _, seq := range r.unproposed() {
		r.submit(r.pending[seq])
	}
	r.ready()
	r.ticker = r.Delay(r.cfg.TickInterval, r.tick)
}

// unproposed lists the proposals raft has not taken yet, oldest first.
func (r *replica) unproposed() []uint64 {
	var seqs []uint64
	for seq, p := range r.pending {
		if !p.proposed {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs
}

// received steps a raft message from a peer: only if it is addressed to
// this replica and comes from the replica its sender id names.
func (r *replica) received(from process.UPID, msg *RaftMessage) {
	if r.err != nil || r.finished {
		return
	}
	m := &pb.Message{}
	if err := proto.Unmarshal(msg.GetMessage(), m); err != nil {
		r.log.Warn("dropping a malformed raft message", "from", from.String(), "err", err)
		return
	}
	if m.GetTo() != r.id || !r.isPeer(m.GetFrom(), from) {
		r.log.Warn("dropping a raft message from an unexpected sender", "from", from.String(),
			"raft_from", m.GetFrom(), "raft_to", m.GetTo())
		return
	}
	if err := r.rn.Step(m); err != nil {
		r.log.Debug("raft refused a message", "from", from.String(), "type", m.GetType().String(), "err", err)
		return
	}
	r.ready()
}

func (r *replica) isPeer(id uint64, from process.UPID) bool {
	if id == 0 || id > uint64(len(r.cfg.Peers)) || id == r.id {
		return false
	}
	return from == r.peer(id)
}

func (r *replica) peer(id uint64) process.UPID {
	return process.UPID{ID: ProcessID, Addr: r.cfg.Peers[id-1]}
}

// propose submits an entry holding registry (a read barrier when nil);
// the future is the registry once the entry is applied.
func (r *replica) propose(registry []byte) future.Future[[]byte] {
	if r.err != nil {
		return future.Failed[[]byte](r.err)
	}
	r.writer.seq++
	e := &Entry{
		Registry: registry, Base: proto.Uint64(r.writer.base), Writer: proto.Uint64(r.id),
		Incarnation: proto.Uint64(r.writer.incarnation), Seq: proto.Uint64(r.writer.seq),
	}
	data, err := proto.Marshal(e)
	if err != nil {
		return future.Failed[[]byte](fmt.Errorf("replicated log: %w", err))
	}
	p := &proposal{seq: r.writer.seq, data: data, registry: registry, done: future.NewPromise[[]byte]()}
	r.pending[p.seq] = p
	p.timer = r.Delay(r.cfg.Timeout, func() { r.expire(p) })
	r.submit(p)
	r.ready()
	return p.done.Future()
}

// submit hands p to raft; without a leader raft drops it, and the next
// tick tries again.
func (r *replica) submit(p *proposal) {
	if err := r.rn.Propose(p.data); err != nil {
		return
	}
	p.proposed = true
}

// expire fails a proposal not committed within the timeout, saying why.
func (r *replica) expire(p *proposal) {
	if r.pending[p.seq] != p {
		return
	}
	delete(r.pending, p.seq)
	what := "write"
	if p.registry == nil {
		what = "read"
	}
	why := r.quorumStatus()
	if p.applied {
		why = fmt.Sprintf("committed, but applied by only %d of the %d replicas --quorum asks for", len(p.acks), r.cfg.Quorum)
	}
	if !r.stalled {
		r.stalled = true
		r.log.Error("registry writes are stopped: the replicated log cannot commit", "why", why, "timeout", r.cfg.Timeout)
	}
	p.done.Fail(fmt.Errorf("replicated log: %s not committed within %v: %s", what, r.cfg.Timeout, why))
}

// quorumStatus says what this replica knows about the quorum.
func (r *replica) quorumStatus() string {
	st := r.rn.BasicStatus()
	switch {
	case st.Lead == raft.None:
		return fmt.Sprintf("no leader: fewer than %d of %d replicas reachable (quorum)", r.cfg.Quorum, len(r.cfg.Peers))
	case st.Lead == r.id:
		active := 0
		r.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			if id == r.id || pr.RecentActive {
				active++
			}
		})
		return fmt.Sprintf("this replica leads, %d of %d replicas recently reachable, quorum %d", active, len(r.cfg.Peers), r.cfg.Quorum)
	default:
		return fmt.Sprintf("leader is replica %d (%s), not answering", st.Lead, r.peer(st.Lead).Addr)
	}
}

// ready handles raft's Ready until there is none: persist, send, apply.
func (r *replica) ready() {
	for r.err == nil && r.rn.HasReady() {
		rd := r.rn.Ready()
		if err := r.disk.save(rd.HardState, rd.Entries, rd.Snapshot); err != nil {
			r.fail(err)
			return
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			if err := r.restore(rd.Snapshot); err != nil {
				r.fail(err)
				return
			}
		}
		var snapsSent []uint64
		for _, m := range rd.Messages {
			r.send(m)
			if m.GetType() == pb.MsgSnap {
				snapsSent = append(snapsSent, m.GetTo())
			}
		}
		for _, e := range rd.CommittedEntries {
			r.apply(e)
		}
		if rd.SoftState != nil && rd.SoftState.Lead != r.leader {
			r.leader = rd.SoftState.Lead
			if r.leader == raft.None {
				r.log.Warn("the replicated log has no leader")
			} else {
				r.log.Info("replicated log leader elected", "leader", r.leader, "address", r.peer(r.leader).Addr.String())
			}
		}
		r.rn.Advance(rd)
		for _, to := range snapsSent {
			// Delivery is not confirmed on our wire: report success, and
			// raft probes the follower again if it did not get it.
			r.rn.ReportSnapshot(to, raft.SnapshotFinish)
		}
	}
	r.compact()
}

func (r *replica) send(m *pb.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		r.log.Error("cannot marshal a raft message", "err", err)
		return
	}
	if err := r.Send(r.peer(m.GetTo()), &RaftMessage{Message: b}); err != nil {
		r.log.Error("cannot send a raft message", "to", m.GetTo(), "err", err)
	}
}

// apply applies a committed entry to the state and completes this
// replica's proposal for it.
func (r *replica) apply(e *pb.Entry) {
	r.applied = e.GetIndex()
	if e.GetType() != pb.EntryNormal || len(e.GetData()) == 0 {
		return // a new leader's empty entry (no configuration changes are proposed)
	}
	var ent Entry
	if err := proto.Unmarshal(e.GetData(), &ent); err != nil {
		r.log.Error("skipping a malformed log entry", "index", e.GetIndex(), "err", err)
		return
	}
	if ent.Registry != nil && r.wantAcks() && ent.GetWriter() != r.id && ent.GetWriter() <= uint64(len(r.cfg.Peers)) {
		_ = r.Send(r.peer(ent.GetWriter()), &Applied{Incarnation: ent.Incarnation, Seq: ent.Seq})
	}
	installed := false
	if ent.Registry != nil && ent.GetBase() == r.state.GetVersion() {
		r.state = &State{
			Registry: ent.Registry, Version: proto.Uint64(e.GetIndex()),
			Writer: ent.Writer, Incarnation: ent.Incarnation, Seq: ent.Seq,
		}
		installed = true
	}
	if ent.GetWriter() != r.id || ent.GetIncarnation() != r.writer.incarnation {
		return
	}
	r.stalled = false
	p := r.pending[ent.GetSeq()]
	var err error
	switch {
	case ent.Registry == nil, installed:
		r.writer.base = r.state.GetVersion()
	case bytes.Equal(ent.Registry, r.state.GetRegistry()):
		// An earlier try of the same write got in first.
		r.writer.base = r.state.GetVersion()
	default:
		err = fmt.Errorf("%w (version %d, the write was based on version %d)", ErrConflict, r.state.GetVersion(), ent.GetBase())
		r.log.Warn("a registry write lost to another writer's", "version", r.state.GetVersion(), "base", ent.GetBase())
	}
	if p == nil {
		return
	}
	if err != nil {
		r.finish(p, nil, err)
		return
	}
	if p.registry != nil && r.wantAcks() {
		p.applied = true
		r.ack(p, r.id)
		return
	}
	r.finish(p, r.state.GetRegistry(), nil)
}

// wantAcks reports whether writes wait for a quorum of replicas to apply
// them: when --quorum is larger than the majority raft commits with.
func (r *replica) wantAcks() bool { return r.cfg.Quorum > len(r.cfg.Peers)/2+1 }

// appliedBy counts a peer's Applied for one of this replica's writes.
func (r *replica) appliedBy(from process.UPID, msg *Applied) {
	if r.err != nil || r.finished || msg.GetIncarnation() != r.writer.incarnation {
		return
	}
	for id := uint64(1); id <= uint64(len(r.cfg.Peers)); id++ {
		if id != r.id && from == r.peer(id) {
			if p := r.pending[msg.GetSeq()]; p != nil && p.registry != nil {
				r.ack(p, id)
			}
			return
		}
	}
	r.log.Warn("dropping an Applied from an unexpected sender", "from", from.String())
}

// ack records that replica id applied p; p is done once it is applied
// here and a quorum applied it.
func (r *replica) ack(p *proposal, id uint64) {
	if p.acks == nil {
		p.acks = make(map[uint64]bool)
	}
	p.acks[id] = true
	if p.applied && len(p.acks) >= r.cfg.Quorum {
		r.finish(p, p.registry, nil)
	}
}

// finish completes p.
func (r *replica) finish(p *proposal, registry []byte, err error) {
	delete(r.pending, p.seq)
	r.Clock().Cancel(p.timer)
	if err != nil {
		p.done.Fail(err)
		return
	}
	p.done.Set(bytes.Clone(registry))
}

// restore installs a snapshot's state.
func (r *replica) restore(snap *pb.Snapshot) error {
	st := &State{}
	if err := proto.Unmarshal(snap.GetData(), st); err != nil {
		return fmt.Errorf("%w: snapshot at %d: %w", ErrCorrupt, snap.GetMetadata().GetIndex(), err)
	}
	r.state = st
	r.applied = snap.GetMetadata().GetIndex()
	if st.GetWriter() == r.id && st.GetIncarnation() == r.writer.incarnation && r.writer.incarnation != 0 {
		// This replica's write is in the snapshot: it saw that version.
		r.writer.base = st.GetVersion()
		if p := r.pending[st.GetSeq()]; p != nil {
			r.finish(p, st.GetRegistry(), nil)
		}
	}
	return nil
}

// compact snapshots the state once SnapshotEvery entries were applied
// since the last snapshot.
func (r *replica) compact() {
	if r.err != nil || r.applied < r.disk.snap.GetIndex()+r.cfg.SnapshotEvery {
		return
	}
	data, err := proto.Marshal(r.state)
	if err != nil {
		r.fail(fmt.Errorf("replicated log: %w", err))
		return
	}
	keepFrom := uint64(1)
	if r.applied > catchUp {
		keepFrom = r.applied - catchUp
	}
	if err := r.disk.compact(r.applied, keepFrom, data); err != nil {
		r.fail(err)
		return
	}
	r.log.Debug("replicated log snapshot", "index", r.applied)
}

// fail stops the replica for good: a replica that cannot persist must not
// take part in raft any more.
func (r *replica) fail(err error) {
	if r.err != nil {
		return
	}
	r.err = err
	r.log.Error("the replica stops: it cannot keep its log", "err", err)
	r.Clock().Cancel(r.ticker)
	for _, p := range r.pending {
		r.Clock().Cancel(p.timer)
		p.done.Fail(err)
	}
	r.pending = map[uint64]*proposal{}
}

func (r *replica) status() Status {
	st := Status{ID: r.id, Applied: r.applied, Snapshot: r.disk.snap.GetIndex(), Version: r.state.GetVersion()}
	if r.rn != nil {
		bs := r.rn.BasicStatus()
		st.Leader, st.Term = bs.Lead, bs.GetTerm()
	}
	st.FirstIndex, _ = r.disk.mem.FirstIndex()
	return st
}
