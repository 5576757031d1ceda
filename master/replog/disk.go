package replog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	raft "go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/atomicfile"
)

// The files of a replica's directory.
const (
	peersFile    = "peers"    // Peers: the replica set the directory belongs to
	snapshotFile = "snapshot" // the latest raft snapshot (pb.Snapshot), replaced atomically
	walFile      = "wal"      // Records appended since that snapshot
)

// recordHeader is a record's length (4 bytes) and CRC-32C (4 bytes),
// little-endian, before its bytes.
const recordHeader = 8

// maxRecord bounds a record's length, so that a damaged header cannot make
// a replica allocate gigabytes.
const maxRecord = 256 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is returned (wrapped) when a replica's files are damaged
// beyond a torn last record.
var ErrCorrupt = errors.New("replicated log: corrupted")

// disk is a replica's durable raft state: the latest snapshot and the
// records written since, mirrored in a raft.MemoryStorage that raft
// reads. Every write is fsynced before save returns, so raft's rule
// (persist before sending) holds when the caller sends after save.
type disk struct {
	dir string
	wal *os.File
	mem *raft.MemoryStorage
	// snap is the metadata of the latest snapshot (index, term, voters).
	snap *pb.SnapshotMetadata
}

// openDisk opens (or creates, for the replica set peers with raft ids
// ids) the replica directory dir and replays it. The first snapshot of a
// new directory holds the replica set and an empty State, at index 1 and
// term 1, so that every replica starts from the same log.
func openDisk(dir string, peers []string, ids []uint64) (*disk, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("replicated log %s: %w", dir, err)
	}
	if err := checkPeers(dir, peers); err != nil {
		return nil, err
	}
	d := &disk{dir: dir, mem: raft.NewMemoryStorage()}
	snap, err := d.readSnapshot()
	if err != nil {
		return nil, err
	}
	if snap == nil {
		empty, err := proto.Marshal(&State{})
		if err != nil {
			return nil, fmt.Errorf("replicated log: %w", err)
		}
		snap = &pb.Snapshot{Data: empty, Metadata: &pb.SnapshotMetadata{
			Index: proto.Uint64(1), Term: proto.Uint64(1), ConfState: &pb.ConfState{Voters: ids},
		}}
		if err := d.writeSnapshot(snap); err != nil {
			return nil, err
		}
	}
	if err := d.mem.ApplySnapshot(snap); err != nil {
		return nil, fmt.Errorf("replicated log %s: %w", dir, err)
	}
	d.snap = snap.GetMetadata()
	if err := d.replay(); err != nil {
		return nil, err
	}
	return d, nil
}

// checkPeers records the replica set in a new directory, and refuses a
// directory made for another set: raft ids are positions in it.
func checkPeers(dir string, peers []string) error {
	path := filepath.Join(dir, peersFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err := proto.Marshal(&Peers{Addresses: peers})
		if err != nil {
			return fmt.Errorf("replicated log: %w", err)
		}
		if err := atomicfile.Write(path, b); err != nil {
			return fmt.Errorf("replicated log: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	var was Peers
	if err := proto.Unmarshal(b, &was); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if !slices.Equal(was.GetAddresses(), peers) {
		return fmt.Errorf("replicated log %s belongs to the replicas %v, not %v: changing the replica set is not supported (start with an empty directory)",
			dir, was.GetAddresses(), peers)
	}
	return nil
}

func (d *disk) readSnapshot() (*pb.Snapshot, error) {
	path := filepath.Join(d.dir, snapshotFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replicated log: %w", err)
	}
	snap := &pb.Snapshot{}
	if err := proto.Unmarshal(b, snap); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if snap.GetMetadata().GetIndex() == 0 {
		return nil, fmt.Errorf("%w: %s: snapshot without an index", ErrCorrupt, path)
	}
	return snap, nil
}

func (d *disk) writeSnapshot(snap *pb.Snapshot) error {
	b, err := proto.Marshal(snap)
	if err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(d.dir, snapshotFile), b); err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	return nil
}

// replay reads the write-ahead file into mem and opens it for appending.
// A torn last record (a crash in the middle of a write) is cut off; any
// other damage is ErrCorrupt.
func (d *disk) replay() error {
	path := filepath.Join(d.dir, walFile)
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replicated log: %w", err)
	}
	good := 0
	for good < len(b) {
		rec, n, err := decodeRecord(b[good:])
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break // torn: cut off below
		}
		if err != nil {
			return fmt.Errorf("%w: %s at offset %d: %w", ErrCorrupt, path, good, err)
		}
		if err := d.load(rec); err != nil {
			return fmt.Errorf("%w: %s at offset %d: %w", ErrCorrupt, path, good, err)
		}
		good += n
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	if good < len(b) {
		if err := f.Truncate(int64(good)); err == nil {
			err = f.Sync()
		}
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("replicated log: cut the torn end of %s: %w", path, err)
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		_ = f.Close()
		return fmt.Errorf("replicated log: %w", err)
	}
	d.wal = f
	return nil
}

// load puts one replayed record into mem: entries the snapshot covers
// are skipped, later ones appended (replacing a conflicting suffix, as
// raft did when it handed them out).
func (d *disk) load(rec *Record) error {
	var ents []*pb.Entry
	for _, b := range rec.GetEntries() {
		e := &pb.Entry{}
		if err := proto.Unmarshal(b, e); err != nil {
			return fmt.Errorf("entry: %w", err)
		}
		if e.GetIndex() > d.snap.GetIndex() {
			ents = append(ents, e)
		}
	}
	if len(ents) > 0 {
		last, _ := d.mem.LastIndex()
		if ents[0].GetIndex() > last+1 {
			return fmt.Errorf("entry %d follows entry %d: a gap in the log", ents[0].GetIndex(), last)
		}
		if err := d.mem.Append(ents); err != nil {
			return fmt.Errorf("append entries: %w", err)
		}
	}
	if hs := rec.GetHardState(); hs != nil {
		st := &pb.HardState{}
		if err := proto.Unmarshal(hs, st); err != nil {
			return fmt.Errorf("hard state: %w", err)
		}
		if err := d.mem.SetHardState(st); err != nil {
			return fmt.Errorf("hard state: %w", err)
		}
	}
	return nil
}

// save makes a Ready's snapshot, entries and hard state durable, then
// gives them to mem. A snapshot replaces the snapshot file and starts a
// new write-ahead file.
func (d *disk) save(hs *pb.HardState, ents []*pb.Entry, snap *pb.Snapshot) error {
	if !raft.IsEmptySnap(snap) {
		if err := d.writeSnapshot(snap); err != nil {
			return err
		}
		if err := d.mem.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("replicated log: apply snapshot: %w", err)
		}
		d.snap = snap.GetMetadata()
		st, _, err := d.mem.InitialState()
		if err != nil {
			return fmt.Errorf("replicated log: %w", err)
		}
		if err := d.rewrite(st, nil); err != nil {
			return err
		}
	}
	if raft.IsEmptyHardState(hs) && len(ents) == 0 {
		return nil
	}
	rec, err := newRecord(hs, ents)
	if err != nil {
		return err
	}
	if _, err := d.wal.Write(rec); err != nil {
		return fmt.Errorf("replicated log: write %s: %w", d.wal.Name(), err)
	}
	if err := d.wal.Sync(); err != nil {
		return fmt.Errorf("replicated log: sync %s: %w", d.wal.Name(), err)
	}
	if len(ents) > 0 {
		if err := d.mem.Append(ents); err != nil {
			return fmt.Errorf("replicated log: append entries: %w", err)
		}
	}
	if !raft.IsEmptyHardState(hs) {
		if err := d.mem.SetHardState(hs); err != nil {
			return fmt.Errorf("replicated log: %w", err)
		}
	}
	return nil
}

// compact takes a snapshot of the state at index (applied, so durable)
// and drops the entries before keepFrom from memory and disk.
func (d *disk) compact(index, keepFrom uint64, state []byte) error {
	snap, err := d.mem.CreateSnapshot(index, d.snap.GetConfState(), state)
	if err != nil {
		return fmt.Errorf("replicated log: snapshot at %d: %w", index, err)
	}
	if err := d.writeSnapshot(snap); err != nil {
		return err
	}
	d.snap = snap.GetMetadata()
	if keepFrom > index {
		keepFrom = index
	}
	if first, _ := d.mem.FirstIndex(); keepFrom > first {
		if err := d.mem.Compact(keepFrom - 1); err != nil {
			return fmt.Errorf("replicated log: compact to %d: %w", keepFrom-1, err)
		}
	}
	first, _ := d.mem.FirstIndex()
	last, _ := d.mem.LastIndex()
	var ents []*pb.Entry
	if last >= first {
		if ents, err = d.mem.Entries(first, last+1, ^uint64(0)); err != nil {
			return fmt.Errorf("replicated log: %w", err)
		}
	}
	st, _, err := d.mem.InitialState()
	if err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	return d.rewrite(st, ents)
}

// rewrite replaces the write-ahead file with one record of hs and ents.
func (d *disk) rewrite(hs *pb.HardState, ents []*pb.Entry) error {
	path := filepath.Join(d.dir, walFile)
	var data []byte
	if !raft.IsEmptyHardState(hs) || len(ents) > 0 {
		rec, err := newRecord(hs, ents)
		if err != nil {
			return err
		}
		data = rec
	}
	if err := d.wal.Close(); err != nil {
		return fmt.Errorf("replicated log: close %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("replicated log: %w", err)
	}
	d.wal = f
	return nil
}

// close closes the write-ahead file.
func (d *disk) close() {
	if d.wal != nil {
		_ = d.wal.Close()
		d.wal = nil
	}
}

// newRecord frames a record of hs (if not empty) and ents.
func newRecord(hs *pb.HardState, ents []*pb.Entry) ([]byte, error) {
	rec := &Record{}
	if !raft.IsEmptyHardState(hs) {
		b, err := proto.Marshal(hs)
		if err != nil {
			return nil, fmt.Errorf("replicated log: %w", err)
		}
		rec.HardState = b
	}
	for _, e := range ents {
		b, err := proto.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("replicated log: %w", err)
		}
		rec.Entries = append(rec.Entries, b)
	}
	body, err := proto.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("replicated log: %w", err)
	}
	out := make([]byte, recordHeader, recordHeader+len(body))
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(out[4:8], crc32.Checksum(body, crcTable))
	return append(out, body...), nil
}

// decodeRecord reads the record at the start of b and its framed length.
// A record cut short, or a last one whose checksum fails (a torn write),
// is io.ErrUnexpectedEOF.
func decodeRecord(b []byte) (*Record, int, error) {
	if len(b) < recordHeader {
		return nil, 0, io.ErrUnexpectedEOF
	}
	n := int(binary.LittleEndian.Uint32(b[0:4]))
	if n > maxRecord {
		return nil, 0, fmt.Errorf("record of %d bytes", n)
	}
	if len(b) < recordHeader+n {
		return nil, 0, io.ErrUnexpectedEOF
	}
	body := b[recordHeader : recordHeader+n]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[4:8]) {
		if len(b) == recordHeader+n || bytes.Count(b[recordHeader+n:], []byte{0}) == len(b)-recordHeader-n {
			return nil, 0, io.ErrUnexpectedEOF
		}
		return nil, 0, errors.New("record checksum mismatch")
	}
	rec := &Record{}
	if err := proto.Unmarshal(body, rec); err != nil {
		return nil, 0, fmt.Errorf("record: %w", err)
	}
	return rec, recordHeader + n, nil
}
