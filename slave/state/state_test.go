package state

import (
	"errors"
	"os"
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

func TestCheckpointAndRecover(t *testing.T) {
	p := Paths{WorkDir: t.TempDir()}
	if s, err := Recover(p, true); s != nil || err != nil {
		t.Fatalf("empty work dir: %v %v", s, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WriteString(p.BootID(), CurrentBootID()))
	must(WriteMessage(p.SlaveInfo("S1"), &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S1")}}))
	must(Link("S1", p.LatestSlave()))
	must(WriteMessage(p.FrameworkInfo("S1", "f"), &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("n"), Checkpoint: proto.Bool(true)}))
	must(WriteString(p.FrameworkPID("S1", "f"), "scheduler@127.0.0.1:9"))
	must(WriteMessage(p.ExecutorInfo("S1", "f", "e"), &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("e")}, Command: &mesos.CommandInfo{Value: proto.String("x")}}))
	must(Link("c1", p.Executor("S1", "f", "e")+"/runs/latest"))
	must(WriteString(p.ForkedPID("S1", "f", "e", "c1"), "1234"))
	must(WriteString(p.LibprocessPID("S1", "f", "e", "c1"), "executor(1)@127.0.0.1:7"))
	must(WriteMessage(p.TaskInfo("S1", "f", "e", "c1", "t"), &mesos.Task{
		Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String("t")}, FrameworkId: &mesos.FrameworkID{Value: proto.String("f")},
		SlaveId: &mesos.SlaveID{Value: proto.String("S1")}, State: mesos.TaskState_TASK_STAGING.Enum(),
	}))
	up := p.TaskUpdates("S1", "f", "e", "c1", "t")
	must(AppendMessage(up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: update("t", mesos.TaskState_TASK_RUNNING, "u1")}))
	must(AppendMessage(up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: []byte("u1")}))
	must(AppendMessage(up, &messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(), Update: update("t", mesos.TaskState_TASK_FINISHED, "u2")}))

	s, err := Recover(p, true)
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
	if r.ForkedPID != 1234 || r.LibprocessPID != "executor(1)@127.0.0.1:7" || r.Completed {
		t.Fatalf("run: %+v", r)
	}
	pending := r.Tasks["t"].Pending()
	if len(pending) != 1 || string(pending[0].GetUuid()) != "u2" {
		t.Fatalf("pending: %v", pending)
	}

	// A torn last record (a crash in mid-append): strict recovery
	// truncates it away and goes on.
	whole, err := os.Stat(up)
	must(err)
	fh, err := os.OpenFile(up, os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	_, _ = fh.Write([]byte{200, 0, 0, 0, 1, 2})
	must(fh.Close())
	s, err = Recover(p, true)
	if err != nil {
		t.Fatalf("strict recovery of a torn record: %v", err)
	}
	if len(s.Truncated) != 1 || s.Truncated[0] != up || len(s.Frameworks["f"].Executors["e"].Runs["c1"].Tasks["t"].Pending()) != 1 {
		t.Fatalf("after the torn record: truncated %v, errors %v", s.Truncated, s.Errors)
	}
	if fi, err := os.Stat(up); err != nil || fi.Size() != whole.Size() {
		t.Fatalf("task.updates not truncated to its whole records: %v %v, want %d bytes", fi.Size(), err, whole.Size())
	}
	// A torn size (fewer than 4 bytes) too.
	fh, err = os.OpenFile(up, os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	_, _ = fh.Write([]byte{7, 0})
	must(fh.Close())
	if _, err := Recover(p, true); err != nil {
		t.Fatalf("strict recovery of a torn size: %v", err)
	}
	if fi, _ := os.Stat(up); fi.Size() != whole.Size() {
		t.Fatalf("task.updates is %d bytes, want %d", fi.Size(), whole.Size())
	}

	// A whole record that does not decode is corruption: strict recovery
	// fails naming the file, non-strict keeps the rest.
	data, err := os.ReadFile(up)
	must(err)
	must(os.WriteFile(up, append(data, 3, 0, 0, 0, 0xff, 0xff, 0xff), 0o644))
	_, err = Recover(p, true)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), up) || !strings.Contains(err.Error(), "remove") {
		t.Fatalf("strict recovery of a corrupt record: %v", err)
	}
	s, err = Recover(p, false)
	must(err)
	if len(s.Errors) != 1 || len(s.Frameworks["f"].Executors["e"].Runs["c1"].Tasks["t"].Pending()) != 1 {
		t.Fatalf("non-strict: errors %v", s.Errors)
	}

	// A different boot id means a reboot.
	must(WriteString(p.BootID(), "another-boot"))
	s, err = Recover(p, false)
	must(err)
	if !s.Reboot {
		t.Fatal("reboot not detected")
	}
}
