package state

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

func update(tid string, state mesos.TaskState, uuid string) *messages.StatusUpdate {
	return &messages.StatusUpdate{
		FrameworkId: &mesos.FrameworkID{Value: proto.String("f")},
		Status:      &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String(tid)}, State: state.Enum()},
		Timestamp:   proto.Float64(1), Uuid: []byte(uuid),
	}
}

// TestCheckpointAndRecover runs on the OS's file system and on the
// in-memory twin: the twin must recover, truncate torn records and report
// corruption as files on disk do.
func TestCheckpointAndRecover(t *testing.T) {
	t.Run("os", func(t *testing.T) { testCheckpointAndRecover(t, OS, t.TempDir()) })
	t.Run("mem", func(t *testing.T) { testCheckpointAndRecover(t, NewMemFS(), "/var/lib/mesos") })
}

func testCheckpointAndRecover(t *testing.T, fsys FS, dir string) {
	p := Paths{WorkDir: dir}
	size := func(path string) int {
		t.Helper()
		b, err := fsys.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	if s, err := Recover(fsys, p, true); s != nil || err != nil {
		t.Fatalf("empty work dir: %v %v", s, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WriteString(fsys, p.BootID(), CurrentBootID()))
	must(WriteMessage(fsys, p.SlaveInfo("S1"), &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S1")}}))
	must(Link(fsys, "S1", p.LatestSlave()))
	must(WriteMessage(fsys, p.FrameworkInfo("S1", "f"), &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("n"), Checkpoint: proto.Bool(true)}))
	must(WriteString(fsys, p.FrameworkPID("S1", "f"), "scheduler@127.0.0.1:9"))
	must(WriteMessage(fsys, p.ExecutorInfo("S1", "f", "e"), &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("e")}, Command: &mesos.CommandInfo{Value: proto.String("x")}}))
	must(Link(fsys, "c1", p.Executor("S1", "f", "e")+"/runs/latest"))
	must(WriteString(fsys, p.ForkedPID("S1", "f", "e", "c1"), "1234"))
	must(WriteString(fsys, p.LibprocessPID("S1", "f", "e", "c1"), "executor(1)@127.0.0.1:7"))
	must(WriteMessage(fsys, p.TaskInfo("S1", "f", "e", "c1", "t"), &mesos.Task{
		Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String("t")}, FrameworkId: &mesos.FrameworkID{Value: proto.String("f")},
		SlaveId: &mesos.SlaveID{Value: proto.String("S1")}, State: mesos.TaskState_TASK_STAGING.Enum(),
	}))
	up := p.TaskUpdates("S1", "f", "e", "c1", "t")
	must(AppendMessage(fsys, up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: update("t", mesos.TaskState_TASK_RUNNING, "u1")}))
	must(AppendMessage(fsys, up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: []byte("u1")}))
	must(AppendMessage(fsys, up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: update("t", mesos.TaskState_TASK_FINISHED, "u2")}))

	s, err := Recover(fsys, p, true)
	must(err)
	if s.ID != "S1" || s.Reboot || s.Info.GetHostname() != "h" {
		t.Fatalf("slave: %+v", s)
	}
	f := s.Frameworks["f"]
	if f == nil || f.PID != "scheduler@127.0.0.1:9" || !f.Info.GetCheckpoint() {
		t.Fatalf("framework: %+v", f)
	}
	e := f.Executors["e"]
	if e == nil || e.Latest != "c1" {
		t.Fatalf("executor: %+v", e)
	}
	r := e.Runs["c1"]
	if r.ForkedPID != 1234 || r.LibprocessPID != "executor(1)@127.0.0.1:7" || r.Completed || r.HTTP {
		t.Fatalf("run: %+v", r)
	}
	// An executor that subscribed over HTTP leaves http.marker in its run.
	must(WriteString(fsys, p.HTTPMarker("S1", "f", "e", "c1"), ""))
	if s, err := Recover(fsys, p, true); err != nil || !s.Frameworks["f"].Executors["e"].Runs["c1"].HTTP {
		t.Fatalf("the HTTP marker was not recovered (%v)", err)
	}
	must(fsys.Remove(p.HTTPMarker("S1", "f", "e", "c1")))
	pending := r.Tasks["t"].Pending()
	if len(pending) != 1 || string(pending[0].GetUuid()) != "u2" {
		t.Fatalf("pending: %v", pending)
	}

	// A torn last record (a crash in mid-append): strict recovery
	// truncates it away and goes on.
	whole := size(up)
	must(fsys.AppendFile(up, []byte{200, 0, 0, 0, 1, 2}))
	s, err = Recover(fsys, p, true)
	if err != nil {
		t.Fatalf("strict recovery of a torn record: %v", err)
	}
	if len(s.Truncated) != 1 || s.Truncated[0] != up || len(s.Frameworks["f"].Executors["e"].Runs["c1"].Tasks["t"].Pending()) != 1 {
		t.Fatalf("after the torn record: truncated %v, errors %v", s.Truncated, s.Errors)
	}
	if got := size(up); got != whole {
		t.Fatalf("task.updates not truncated to its whole records: %d bytes, want %d", got, whole)
	}
	// A torn size (fewer than 4 bytes) too.
	must(fsys.AppendFile(up, []byte{7, 0}))
	if _, err := Recover(fsys, p, true); err != nil {
		t.Fatalf("strict recovery of a torn size: %v", err)
	}
	if got := size(up); got != whole {
		t.Fatalf("task.updates is %d bytes, want %d", got, whole)
	}

	// A whole record that does not decode is corruption: strict recovery
	// fails naming the file, non-strict keeps the rest.
	must(fsys.AppendFile(up, []byte{3, 0, 0, 0, 0xff, 0xff, 0xff}))
	_, err = Recover(fsys, p, true)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), up) || !strings.Contains(err.Error(), "remove") {
		t.Fatalf("strict recovery of a corrupt record: %v", err)
	}
	s, err = Recover(fsys, p, false)
	must(err)
	if len(s.Errors) != 1 || len(s.Frameworks["f"].Executors["e"].Runs["c1"].Tasks["t"].Pending()) != 1 {
		t.Fatalf("non-strict: errors %v", s.Errors)
	}

	// A different boot id means a reboot.
	must(WriteString(fsys, p.BootID(), "another-boot"))
	s, err = Recover(fsys, p, false)
	must(err)
	if !s.Reboot {
		t.Fatal("reboot not detected")
	}
}

// TestMemFSLikeOS checks the in-memory twin's file-system behaviour that
// the slave relies on against the OS's: replacing links, listing
// directories (links are not directories), removing, and what is missing.
func TestMemFSLikeOS(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys FS
		dir  string
	}{{"os", OS, t.TempDir()}, {"mem", NewMemFS(), "/work"}} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, d := tc.fsys, tc.dir
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, err := fsys.ReadFile(d + "/a/missing"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing file: %v", err)
			}
			if _, err := fsys.Readlink(d + "/latest"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing link: %v", err)
			}
			if names, err := fsys.Dirs(d + "/nothing"); names != nil || err != nil {
				t.Fatalf("missing dir: %v %v", names, err)
			}
			must(fsys.WriteFile(d+"/runs/c2/x", []byte("1")))
			must(fsys.WriteFile(d+"/runs/c1/x", []byte("2")))
			must(fsys.WriteFile(d+"/runs/c1/x", []byte("3")))
			must(fsys.Symlink("c1", d+"/runs/latest"))
			must(fsys.Symlink("c2", d+"/runs/latest"))
			if got, err := fsys.Readlink(d + "/runs/latest"); got != "c2" || err != nil {
				t.Fatalf("link: %q %v", got, err)
			}
			if names, err := fsys.Dirs(d + "/runs"); strings.Join(names, ",") != "c1,c2" || err != nil {
				t.Fatalf("dirs: %v %v", names, err)
			}
			if b, err := fsys.ReadFile(d + "/runs/c1/x"); string(b) != "3" || err != nil {
				t.Fatalf("read: %q %v", b, err)
			}
			must(fsys.AppendFile(d+"/runs/c1/u", []byte("ab")))
			must(fsys.AppendFile(d+"/runs/c1/u", []byte("cd")))
			must(fsys.Truncate(d+"/runs/c1/u", 3))
			if b, _ := fsys.ReadFile(d + "/runs/c1/u"); string(b) != "abc" {
				t.Fatalf("append+truncate: %q", b)
			}
			if !fsys.Exists(d+"/runs/c1") || !fsys.Exists(d+"/runs/latest") || fsys.Exists(d+"/runs/c3") {
				t.Fatal("exists")
			}
			must(fsys.Remove(d + "/runs/latest"))
			if err := fsys.Remove(d + "/runs/latest"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("remove twice: %v", err)
			}
			must(fsys.RemoveAll(d + "/runs/c1"))
			must(fsys.RemoveAll(d + "/runs/c1"))
			if fsys.Exists(d+"/runs/c1/x") || fsys.Exists(d+"/runs/c1") || !fsys.Exists(d+"/runs/c2/x") {
				t.Fatal("removeall")
			}
		})
	}
}
