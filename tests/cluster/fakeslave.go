package cluster

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/statusupdate"
)

// FakeSlave is a slave that speaks the slave's messages to the master
// without running anything: it registers, answers pings, accepts tasks
// (reporting TASK_RUNNING when AutoRun is set), kills them, echoes
// framework messages, and delivers its status updates reliably, as the
// real slave does: one statusupdate.Stream per (framework, task), only the
// head outstanding, resent 10 s after it was sent (then 20 s, 40 s, ...)
// until acknowledged. It stands in for the real slave in master tests.
// Tasks are keyed by task id alone, so give each test's tasks distinct ids.
type FakeSlave struct {
	process.Process

	c          *Cluster
	Info       *mesos.SlaveInfo
	AutoRun    bool
	registered *future.Promise[*mesos.SlaveID]

	ID       *mesos.SlaveID
	Tasks    map[string]*messages.RunTaskMessage
	Shutdown string // the ShutdownMessage's text, once shut down

	streams map[streamKey]*statusupdate.Stream
	retries map[streamKey]*process.Timer
}

// streamKey names a task's stream: task ids are unique within a framework.
type streamKey struct{ framework, task string }

// StatusRetryInterval is how long the fake slave waits for an
// acknowledgement before it first resends (the status update manager's
// 10 s; the interval doubles after each resend).
const StatusRetryInterval = statusupdate.RetryMin

// StartFakeSlave starts a fake slave with the given resources (Mesos text
// form) that registers with the cluster's master.
func (c *Cluster) StartFakeSlave(res string) *FakeSlave {
	c.T.Helper()
	return c.StartFakeSlaveOn("localhost", res)
}

// StartFakeSlaveOn starts a fake slave that registers with hostname (its
// machine, for maintenance, is that hostname and 127.0.0.1).
func (c *Cluster) StartFakeSlaveOn(hostname, res string) *FakeSlave {
	c.T.Helper()
	r, err := resources.Parse(res, "*")
	if err != nil {
		c.T.Fatalf("fake slave resources %q: %v", res, err)
	}
	s := &FakeSlave{
		c:          c,
		Info:       &mesos.SlaveInfo{Hostname: proto.String(hostname), Resources: r.ToProto()},
		AutoRun:    true,
		registered: future.NewPromise[*mesos.SlaveID](),
		Tasks:      make(map[string]*messages.RunTaskMessage),
		streams:    make(map[streamKey]*statusupdate.Stream),
		retries:    make(map[streamKey]*process.Timer),
	}
	if _, err := c.RT.Spawn(s, c.RT.GenerateID("slave")); err != nil {
		c.T.Fatalf("spawn fake slave: %v", err)
	}
	return s
}

// Registered returns a future for the slave id the master assigned.
func (s *FakeSlave) Registered() future.Future[*mesos.SlaveID] { return s.registered.Future() }

// Initialize installs the handlers and registers.
func (s *FakeSlave) Initialize() {
	master := s.c.MasterPID
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveRegisteredMessage) {
		s.ID = m.GetSlaveId()
		s.Info.Id = s.ID
		s.registered.Set(s.ID)
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.SlaveReregisteredMessage) {})
	process.Install(&s.Process, func(from process.UPID, _ *messages.PingSlaveMessage) {
		_ = s.Send(from, &messages.PongSlaveMessage{})
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.RunTaskMessage) {
		s.Tasks[m.GetTask().GetTaskId().GetValue()] = m
		if s.AutoRun {
			s.Update(m.GetTask().GetTaskId(), mesos.TaskState_TASK_RUNNING)
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.KillTaskMessage) {
		if _, ok := s.Tasks[m.GetTaskId().GetValue()]; ok {
			s.Update(m.GetTaskId(), mesos.TaskState_TASK_KILLED)
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateAcknowledgementMessage) {
		key := streamKey{m.GetFrameworkId().GetValue(), m.GetTaskId().GetValue()}
		st := s.streams[key]
		if st == nil {
			return
		}
		c, err := st.Acknowledge(m.GetUuid())
		if err != nil || c.Outcome != statusupdate.Accepted {
			return // duplicate or unexpected
		}
		s.Clock().Cancel(s.retries[key])
		r := st.Commit(c)
		if r.HeadChanged {
			s.forward(key, st.Forward(s.Clock().Now()))
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownFrameworkMessage) {
		for tid, rt := range s.Tasks {
			if rt.GetFrameworkId().GetValue() == m.GetFrameworkId().GetValue() {
				delete(s.Tasks, tid)
			}
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.ShutdownMessage) {
		s.Shutdown = m.GetMessage()
		if s.Shutdown == "" {
			s.Shutdown = "shutdown"
		}
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.FrameworkToExecutorMessage) {
		// Echo, as a trivial executor would.
		rt := s.Tasks[firstTask(s.Tasks, m.GetFrameworkId().GetValue())]
		reply := &messages.ExecutorToFrameworkMessage{SlaveId: m.SlaveId, FrameworkId: m.FrameworkId, ExecutorId: m.ExecutorId, Data: m.Data}
		if rt != nil && rt.GetPid() != "" {
			if pid, err := process.ParseUPID(rt.GetPid()); err == nil {
				_ = s.Send(pid, reply)
				return
			}
		}
		_ = s.Send(master, reply)
	})
	process.Install(&s.Process, func(process.UPID, *messages.UpdateFrameworkMessage) {})
	s.Link(master)
	_ = s.Send(master, &messages.RegisterSlaveMessage{Slave: s.Info, Version: proto.String("1.0.0")})
}

func firstTask(tasks map[string]*messages.RunTaskMessage, fid string) string {
	for id, t := range tasks {
		if t.GetFrameworkId().GetValue() == fid {
			return id
		}
	}
	return ""
}

// Update queues a status update for task id and delivers it reliably.
// Call it from the test goroutine or the slave's process.
func (s *FakeSlave) Update(id *mesos.TaskID, state mesos.TaskState) {
	process.Run(s.Runtime(), s.Self(), func() {
		rt := s.Tasks[id.GetValue()]
		if rt == nil {
			return
		}
		uuid := mesos.NewUUID(s.Runtime().RandBytes)
		now := mesos.Timestamp(s.Clock().Now())
		u := &messages.StatusUpdate{
			FrameworkId: rt.GetFrameworkId(),
			SlaveId:     s.ID,
			Status: &mesos.TaskStatus{
				TaskId:    id,
				State:     state.Enum(),
				SlaveId:   s.ID,
				Source:    mesos.TaskStatus_SOURCE_SLAVE.Enum(),
				Timestamp: proto.Float64(now),
				Uuid:      uuid[:],
			},
			Timestamp:   proto.Float64(now),
			Uuid:        uuid[:],
			LatestState: state.Enum(),
		}
		key := streamKey{rt.GetFrameworkId().GetValue(), id.GetValue()}
		st := s.streams[key]
		if st == nil || st.Terminated() {
			st = statusupdate.New(key.framework, key.task)
			s.streams[key] = st
		}
		c, err := st.Update(u)
		if err != nil {
			return
		}
		if st.Commit(c).HeadChanged {
			s.forward(key, st.Forward(s.Clock().Now()))
		}
	})
}

// forward sends head (if any) to the master and arms the timer that
// resends it when due.
func (s *FakeSlave) forward(key streamKey, head *messages.StatusUpdate) {
	if head == nil {
		return
	}
	_ = s.Send(s.c.MasterPID, &messages.StatusUpdateMessage{Update: head, Pid: proto.String(s.Self().String())})
	st := s.streams[key]
	s.Clock().Cancel(s.retries[key])
	if due, ok := st.Due(); ok {
		s.retries[key] = s.Delay(due.Sub(s.Clock().Now()), func() {
			s.forward(key, st.Retry(s.Clock().Now()))
		})
	}
}

// Pending returns how many updates of task id (of any framework) await
// acknowledgement.
func (s *FakeSlave) Pending(id string) future.Future[int] {
	return process.Dispatch(s.Runtime(), s.Self(), func() int {
		n := 0
		for k, st := range s.streams {
			if k.task == id {
				n += st.Len()
			}
		}
		return n
	})
}

// String names the slave in test output.
func (s *FakeSlave) String() string { return fmt.Sprintf("fake slave %s", s.Self()) }
