package cluster

import (
	"bytes"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// FakeSlave is a slave that speaks the slave's messages to the master
// without running anything: it registers, answers pings, accepts tasks
// (reporting TASK_RUNNING when AutoRun is set), kills them, echoes
// framework messages, and delivers its status updates reliably: one stream
// per task, only the head outstanding, resent every 10 s until
// acknowledged. It stands in for the real slave in master tests.
type FakeSlave struct {
	process.Process

	c          *Cluster
	Info       *mesos.SlaveInfo
	AutoRun    bool
	registered *future.Promise[*mesos.SlaveID]

	ID       *mesos.SlaveID
	Tasks    map[string]*messages.RunTaskMessage
	Shutdown string // the ShutdownMessage's text, once shut down

	streams map[string][]*messages.StatusUpdate // task id → pending updates
	retries map[string]*process.Timer
}

// StatusRetryInterval is how long the fake slave waits for an
// acknowledgement before resending (the status update manager's 10 s).
const StatusRetryInterval = 10 * time.Second

// StartFakeSlave starts a fake slave with the given resources (Mesos text
// form) that registers with the cluster's master.
func (c *Cluster) StartFakeSlave(res string) *FakeSlave {
	c.T.Helper()
	r, err := resources.Parse(res, "*")
	if err != nil {
		c.T.Fatalf("fake slave resources %q: %v", res, err)
	}
	s := &FakeSlave{
		c:          c,
		Info:       &mesos.SlaveInfo{Hostname: proto.String("localhost"), Resources: r.ToProto()},
		AutoRun:    true,
		registered: future.NewPromise[*mesos.SlaveID](),
		Tasks:      make(map[string]*messages.RunTaskMessage),
		streams:    make(map[string][]*messages.StatusUpdate),
		retries:    make(map[string]*process.Timer),
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
		tid := m.GetTaskId().GetValue()
		q := s.streams[tid]
		if len(q) == 0 || !bytes.Equal(q[0].GetUuid(), m.GetUuid()) {
			return // duplicate or unexpected
		}
		s.Clock().Cancel(s.retries[tid])
		s.streams[tid] = q[1:]
		if len(s.streams[tid]) > 0 {
			s.forward(tid)
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
		var uuid [16]byte
		s.Runtime().RandBytes(uuid[:])
		now := float64(s.Clock().Now().UnixNano()) / 1e9
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
		tid := id.GetValue()
		s.streams[tid] = append(s.streams[tid], u)
		if len(s.streams[tid]) == 1 {
			s.forward(tid)
		}
	})
}

// forward sends the head of a task's stream and arms its retry.
func (s *FakeSlave) forward(tid string) {
	u := s.streams[tid][0]
	_ = s.Send(s.c.MasterPID, &messages.StatusUpdateMessage{Update: u, Pid: proto.String(s.Self().String())})
	s.retries[tid] = s.Delay(StatusRetryInterval, func() {
		if q := s.streams[tid]; len(q) > 0 && q[0] == u {
			s.forward(tid)
		}
	})
}

// Pending returns how many updates of task id await acknowledgement.
func (s *FakeSlave) Pending(id string) future.Future[int] {
	return process.Dispatch(s.Runtime(), s.Self(), func() int { return len(s.streams[id]) })
}

// String names the slave in test output.
func (s *FakeSlave) String() string { return fmt.Sprintf("fake slave %s", s.Self()) }
