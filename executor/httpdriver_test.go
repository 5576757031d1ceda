package executor_test

import (
	"bytes"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// fakeAgent is an in-process Agent: it records the calls and the test
// writes the Events of the live subscription.
type fakeAgent struct {
	subs, calls chan *executorpb.Call
	mu          sync.Mutex
	stream      *fakeEvents
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{subs: make(chan *executorpb.Call, 16), calls: make(chan *executorpb.Call, 16)}
}

func (a *fakeAgent) Subscribe(call *executorpb.Call) future.Future[executor.Events] {
	s := &fakeEvents{}
	a.mu.Lock()
	a.stream = s
	a.mu.Unlock()
	a.subs <- call
	return future.Ready[executor.Events](s)
}

func (a *fakeAgent) Call(call *executorpb.Call) future.Future[future.Nothing] {
	a.calls <- call
	return future.Ready(future.Nothing{})
}

func (a *fakeAgent) push(ev *executorpb.Event) {
	a.mu.Lock()
	s := a.stream
	a.mu.Unlock()
	s.push(ev)
}

type fakeEvents struct {
	mu      sync.Mutex
	queue   []*executorpb.Event
	waiting *future.Promise[*executorpb.Event]
	ended   bool
}

func (e *fakeEvents) Next() future.Future[*executorpb.Event] {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := future.NewPromise[*executorpb.Event]()
	switch {
	case len(e.queue) > 0:
		p.Set(e.queue[0])
		e.queue = e.queue[1:]
	case e.ended:
		p.Fail(errors.New("stream ended"))
	default:
		e.waiting = p
	}
	return p.Future()
}

func (e *fakeEvents) push(ev *executorpb.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.waiting; w != nil {
		e.waiting = nil
		w.Set(ev)
		return
	}
	e.queue = append(e.queue, ev)
}

// end breaks the stream (the slave went away).
func (e *fakeEvents) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ended = true
	if w := e.waiting; w != nil {
		e.waiting = nil
		w.Fail(errors.New("stream ended"))
	}
}

func (e *fakeEvents) Close() { e.end() }

// callbacks is an Executor that reports each callback on a channel.
type callbacks struct{ got chan string }

func (c *callbacks) Registered(*executor.Driver, *mesos.ExecutorInfo, *mesos.FrameworkInfo, *mesos.SlaveInfo) {
	c.got <- "registered"
}
func (c *callbacks) Reregistered(*executor.Driver, *mesos.SlaveInfo) { c.got <- "reregistered" }
func (c *callbacks) Disconnected(*executor.Driver)                   { c.got <- "disconnected" }
func (c *callbacks) LaunchTask(_ *executor.Driver, t *mesos.TaskInfo) {
	c.got <- "launch " + t.GetTaskId().GetValue()
}
func (c *callbacks) KillTask(_ *executor.Driver, id *mesos.TaskID) { c.got <- "kill " + id.GetValue() }
func (c *callbacks) FrameworkMessage(_ *executor.Driver, data []byte) {
	c.got <- "message " + string(data)
}
func (c *callbacks) Shutdown(*executor.Driver)          { c.got <- "shutdown" }
func (c *callbacks) Error(_ *executor.Driver, m string) { c.got <- "error " + m }

func recv[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound): // wall-clock: bounds a wait on the driver's goroutines
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// The HTTP driver maps each Event to its callback, posts updates and
// messages as calls, and after its stream breaks subscribes again (after
// a backoff on its clock) with its unacknowledged task and update; a
// second SUBSCRIBED is a re-registration.
func TestHTTPDriverEventsCallsAndResubscription(t *testing.T) {
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Testing: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rt.Clock().Pause()
	agent := newFakeAgent()
	cb := &callbacks{got: make(chan string, 16)}
	slavePID, _ := process.ParseUPID("slave(1)@127.0.0.1:5051")
	d := executor.NewDriver(rt, cb, executor.Env{
		SlavePID: slavePID, SlaveID: "S0", FrameworkID: "F0", ExecutorID: "E0", Checkpoint: true,
		RecoveryTimeout: time.Minute, SubscriptionBackoffMax: 2 * time.Second, HTTP: true, Agent: agent,
	})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	sub := recv(t, agent.subs, "SUBSCRIBE")
	if sub.GetType() != executorpb.Call_SUBSCRIBE || sub.GetExecutorId().GetValue() != "E0" || sub.GetFrameworkId().GetValue() != "F0" ||
		len(sub.GetSubscribe().GetUnacknowledgedTasks())+len(sub.GetSubscribe().GetUnacknowledgedUpdates()) != 0 {
		t.Fatalf("first SUBSCRIBE %v", sub)
	}
	agent.push(&executorpb.Event{Type: executorpb.Event_SUBSCRIBED.Enum(), Subscribed: &executorpb.Event_Subscribed{
		ExecutorInfo: &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("E0")}},
		SlaveInfo:    &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S0")}},
	}})
	if got := recv(t, cb.got, "callback"); got != "registered" {
		t.Fatalf("got %q, want registered", got)
	}
	task := &mesos.TaskInfo{TaskId: &mesos.TaskID{Value: proto.String("t1")}, Name: proto.String("t1")}
	agent.push(&executorpb.Event{Type: executorpb.Event_LAUNCH.Enum(), Launch: &executorpb.Event_Launch{Task: task}})
	agent.push(&executorpb.Event{Type: executorpb.Event_MESSAGE.Enum(), Message: &executorpb.Event_Message{Data: []byte("hi")}})
	agent.push(&executorpb.Event{Type: executorpb.Event_KILL.Enum(), Kill: &executorpb.Event_Kill{TaskId: task.TaskId}})
	for _, want := range []string{"launch t1", "message hi", "kill t1"} {
		if got := recv(t, cb.got, want); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if _, err := d.SendStatusUpdate(&mesos.TaskStatus{TaskId: task.TaskId, State: mesos.TaskState_TASK_RUNNING.Enum()}); err != nil {
		t.Fatal(err)
	}
	update := recv(t, agent.calls, "UPDATE")
	st := update.GetUpdate().GetStatus()
	if update.GetType() != executorpb.Call_UPDATE || len(st.GetUuid()) != 16 || st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR ||
		st.GetExecutorId().GetValue() != "E0" || st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("UPDATE %v", update)
	}
	if _, err := d.SendFrameworkMessage([]byte("out")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, agent.calls, "MESSAGE"); m.GetType() != executorpb.Call_MESSAGE || string(m.GetMessage().GetData()) != "out" {
		t.Fatalf("MESSAGE %v", m)
	}

	// The slave goes away before acknowledging: the driver subscribes
	// again within the backoff bound, with what is not acknowledged.
	agent.mu.Lock()
	agent.stream.end()
	agent.mu.Unlock()
	if got := recv(t, cb.got, "disconnected"); got != "disconnected" {
		t.Fatalf("got %q, want disconnected", got)
	}
	rt.Clock().Settle()
	rt.Clock().Advance(100 * time.Millisecond) // the first backoff
	again := recv(t, agent.subs, "second SUBSCRIBE")
	tasks, updates := again.GetSubscribe().GetUnacknowledgedTasks(), again.GetSubscribe().GetUnacknowledgedUpdates()
	if len(tasks) != 1 || tasks[0].GetTaskId().GetValue() != "t1" || len(updates) != 1 || !bytes.Equal(updates[0].GetStatus().GetUuid(), st.GetUuid()) {
		t.Fatalf("second SUBSCRIBE %v", again)
	}
	agent.push(&executorpb.Event{Type: executorpb.Event_SUBSCRIBED.Enum(), Subscribed: &executorpb.Event_Subscribed{
		SlaveInfo: &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S0")}},
	}})
	if got := recv(t, cb.got, "reregistered"); got != "reregistered" {
		t.Fatalf("got %q, want reregistered", got)
	}
	drained := d.Drained()
	agent.push(&executorpb.Event{Type: executorpb.Event_ACKNOWLEDGED.Enum(), Acknowledged: &executorpb.Event_Acknowledged{TaskId: task.TaskId, Uuid: st.GetUuid()}})
	if !process.Await(rt, drained, bound) {
		t.Fatal("the acknowledgement did not drain the update")
	}
	agent.push(&executorpb.Event{Type: executorpb.Event_SHUTDOWN.Enum()})
	if got := recv(t, cb.got, "shutdown"); got != "shutdown" {
		t.Fatalf("got %q, want shutdown", got)
	}
	if st := d.Join(); st != mesos.Status_DRIVER_STOPPED {
		t.Fatalf("driver ended %v", st)
	}
}
