package replog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func entry(index, term uint64, data string) *pb.Entry {
	return &pb.Entry{Index: proto.Uint64(index), Term: proto.Uint64(term), Type: pb.EntryNormal.Enum(), Data: []byte(data)}
}

func hardState(term, commit uint64) *pb.HardState {
	return &pb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(1), Commit: proto.Uint64(commit)}
}

// openTest opens a one-replica directory.
func openTest(t *testing.T, dir string) *disk {
	t.Helper()
	d, err := openDisk(dir, []string{"alone"}, []uint64{1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return d
}

func lastIndex(t *testing.T, d *disk) uint64 {
	t.Helper()
	i, err := d.mem.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestDiskReplaysEntriesAndHardState(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	if err := d.save(hardState(2, 1), []*pb.Entry{entry(2, 2, "a"), entry(3, 2, "b")}, nil); err != nil {
		t.Fatal(err)
	}
	// A new leader overwrites entry 3.
	if err := d.save(hardState(3, 3), []*pb.Entry{entry(3, 3, "c")}, nil); err != nil {
		t.Fatal(err)
	}
	d.close()
	d = openTest(t, dir)
	if got := lastIndex(t, d); got != 3 {
		t.Fatalf("last index %d, want 3", got)
	}
	ents, err := d.mem.Entries(2, 4, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(ents[0].GetData()) != "a" || string(ents[1].GetData()) != "c" || ents[1].GetTerm() != 3 {
		t.Fatalf("entries %v", ents)
	}
	hs, _, _ := d.mem.InitialState()
	if hs.GetTerm() != 3 || hs.GetCommit() != 3 {
		t.Fatalf("hard state %v", hs)
	}
}

func TestDiskCutsATornLastRecord(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	if err := d.save(hardState(2, 2), []*pb.Entry{entry(2, 2, "a")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.save(hardState(2, 3), []*pb.Entry{entry(3, 2, "b")}, nil); err != nil {
		t.Fatal(err)
	}
	d.close()
	wal := filepath.Join(dir, walFile)
	b, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wal, b[:len(b)-3], 0o644); err != nil { // a crash in mid-write
		t.Fatal(err)
	}
	d = openTest(t, dir)
	if got := lastIndex(t, d); got != 2 {
		t.Fatalf("last index %d after a torn record, want 2", got)
	}
	// The torn bytes are gone: appending goes on from a clean end.
	if err := d.save(hardState(2, 3), []*pb.Entry{entry(3, 2, "b2")}, nil); err != nil {
		t.Fatal(err)
	}
	d.close()
	d = openTest(t, dir)
	if got := lastIndex(t, d); got != 3 {
		t.Fatalf("last index %d, want 3", got)
	}
}

func TestDiskRefusesDamageInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	for i := uint64(2); i < 5; i++ {
		if err := d.save(hardState(2, i), []*pb.Entry{entry(i, 2, "x")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.close()
	wal := filepath.Join(dir, walFile)
	b, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	b[recordHeader+2] ^= 0xff // inside the first record
	if err := os.WriteFile(wal, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openDisk(dir, []string{"alone"}, []uint64{1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open a damaged wal: %v, want ErrCorrupt", err)
	}
}

func TestDiskCompactionKeepsTheTail(t *testing.T) {
	dir := t.TempDir()
	d := openTest(t, dir)
	for i := uint64(2); i <= 20; i++ {
		if err := d.save(hardState(2, i), []*pb.Entry{entry(i, 2, "x")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	state, _ := proto.Marshal(&State{Version: proto.Uint64(18)})
	if err := d.compact(18, 15, state); err != nil {
		t.Fatal(err)
	}
	if first, _ := d.mem.FirstIndex(); first != 15 {
		t.Fatalf("first index %d in memory, want 15", first)
	}
	d.close()
	d = openTest(t, dir)
	snap, _ := d.mem.Snapshot()
	if snap.GetMetadata().GetIndex() != 18 || lastIndex(t, d) != 20 {
		t.Fatalf("after reopening: snapshot at %d, last index %d", snap.GetMetadata().GetIndex(), lastIndex(t, d))
	}
	var st State
	if err := proto.Unmarshal(snap.GetData(), &st); err != nil || st.GetVersion() != 18 {
		t.Fatalf("snapshot state %v, %v", &st, err)
	}
}
