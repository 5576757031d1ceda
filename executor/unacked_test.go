package executor_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// ackingSlave registers the executor, keeps its status updates and
// acknowledges those the test asks for; it answers re-registration.
type ackingSlave struct {
	registrar
	updates []*messages.StatusUpdate
	rereg   *future.Promise[*messages.ReregisterExecutorMessage]
}

func (s *ackingSlave) Initialize() {
	s.registrar.Initialize()
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateMessage) {
		s.updates = append(s.updates, m.GetUpdate())
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ReregisterExecutorMessage) {
		s.rereg.Set(m)
	})
}

func (s *ackingSlave) ack(executor process.UPID, u *messages.StatusUpdate) {
	_ = s.Send(executor, &messages.StatusUpdateAcknowledgementMessage{
		SlaveId: u.SlaveId, FrameworkId: u.FrameworkId, TaskId: u.GetStatus().TaskId, Uuid: u.Uuid,
	})
}

// The driver keeps each task's updates until the slave acknowledges them,
// forgets a task once its terminal update is acknowledged, and re-registers
// with what is still unacknowledged, in order.
func TestExecutorDriverResendsUnacknowledgedUpdatesInOrder(t *testing.T) {
	rt, err := process.New(process.Options{Testing: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rt.Clock().Pause()
	slave := &ackingSlave{rereg: future.NewPromise[*messages.ReregisterExecutorMessage]()}
	slavePID, err := rt.Spawn(slave, "slave(1)")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{registered: future.NewPromise[future.Nothing](), disconnected: future.NewPromise[future.Nothing](), shutdown: future.NewPromise[future.Nothing]()}
	d := executor.NewDriver(rt, r, executor.Env{SlavePID: slavePID, SlaveID: "S0", FrameworkID: "F0", ExecutorID: "E0", Checkpoint: true})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if !process.Await(rt, r.registered.Future(), bound) {
		t.Fatal("not registered")
	}
	status := func(tid string, st mesos.TaskState) {
		if _, err := d.SendStatusUpdate(&mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String(tid)}, State: st.Enum()}); err != nil {
			t.Fatal(err)
		}
	}
	status("a", mesos.TaskState_TASK_RUNNING)
	status("b", mesos.TaskState_TASK_RUNNING)
	status("a", mesos.TaskState_TASK_FINISHED)
	status("b", mesos.TaskState_TASK_FINISHED)
	rt.Clock().Settle()
	if len(slave.updates) != 4 || d.Unacknowledged() != 4 {
		t.Fatalf("slave got %d updates, driver holds %d, want 4 and 4", len(slave.updates), d.Unacknowledged())
	}
	for _, u := range slave.updates {
		if len(u.GetUuid()) != 16 || u.GetTimestamp() == 0 || u.GetFrameworkId().GetValue() != "F0" {
			t.Fatalf("update without uuid, timestamp or framework: %v", u)
		}
	}
	exec := d.PID()
	slave.ack(exec, slave.updates[0]) // a RUNNING
	slave.ack(exec, slave.updates[2]) // a FINISHED: a is done
	slave.ack(exec, slave.updates[2]) // again: ignored
	rt.Clock().Settle()
	if n := d.Unacknowledged(); n != 2 {
		t.Fatalf("%d unacknowledged, want b's 2", n)
	}
	drained := d.Drained()

	_ = slave.Send(exec, &messages.ReconnectExecutorMessage{SlaveId: &mesos.SlaveID{Value: proto.String("S0")}})
	if !process.Await(rt, slave.rereg.Future(), bound) {
		t.Fatal("no re-registration")
	}
	m, _ := slave.rereg.Future().Get()
	var got []string
	for _, u := range m.GetUpdates() {
		got = append(got, u.GetStatus().GetTaskId().GetValue()+" "+u.GetStatus().GetState().String())
	}
	if len(got) != 2 || got[0] != "b TASK_RUNNING" || got[1] != "b TASK_FINISHED" {
		t.Fatalf("re-registered with %v, want [b TASK_RUNNING b TASK_FINISHED]", got)
	}
	if drained.IsReady() {
		t.Fatal("drained with updates unacknowledged")
	}
	// The slave acknowledges in order: b FINISHED's acknowledgement says
	// b RUNNING's was lost, and acknowledges both.
	slave.ack(exec, slave.updates[3])
	if !process.Await(rt, drained, bound) {
		t.Fatal("not drained after every update was acknowledged")
	}
}
