// Package loadgen emulates a Mesos cluster's load on a master: thousands
// of protocol-level slaves, each a process of our runtime with its own
// UPID speaking the slave's messages over the wire, and frameworks (our
// scheduler.Driver) that launch tasks as fast as offers allow. The slaves
// register, answer pings, run tasks (TASK_RUNNING at once, a terminal
// update after a set duration), deliver status updates reliably, and
// re-register when the leading master changes. Nothing is executed: the
// master is what is measured.
package loadgen

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/statusupdate"
)

// SlaveConfig shapes every emulated slave of a fleet.
type SlaveConfig struct {
	// Resources in Mesos text form (default
	// "cpus:8;mem:16384;disk:100000;ports:[31000-32000]").
	Resources string
	// Hostname of every slave (default "localhost").
	Hostname string
	// TaskDuration is how long a task runs before TASK_FINISHED; zero
	// means it runs until killed.
	TaskDuration time.Duration
	// BackoffFactor is the registration backoff (1 s, as the slave's
	// --registration_backoff_factor): the first (re-)registration with a
	// newly detected master is sent after a random delay in [0, factor],
	// retries after [0, 2·factor], [0, 4·factor], ... capped at 60 s.
	BackoffFactor time.Duration
}

func (c *SlaveConfig) defaults() {
	if c.Resources == "" {
		c.Resources = "cpus:8;mem:16384;disk:100000;ports:[31000-32000]"
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.BackoffFactor <= 0 {
		c.BackoffFactor = time.Second
	}
}

// maxBackoff caps the registration retry interval, as the slave does.
const maxBackoff = time.Minute

// Counters are the fleet's live figures, safe to read at any time.
type Counters struct {
	Registered   atomic.Int64 // slaves that got SlaveRegisteredMessage (first time)
	Reregistered atomic.Int64 // SlaveReregisteredMessages taken (one per slave and master change)
	Shutdown     atomic.Int64 // slaves the master shut down
	Tasks        atomic.Int64 // RunTaskMessages taken
	Updates      atomic.Int64 // status updates created
	Resent       atomic.Int64 // status updates sent again (retry or re-registration)
}

// SlaveTimes are one slave's registration times by the runtime's Clock.
type SlaveTimes struct {
	Started      time.Time // spawned
	Registered   time.Time // first SlaveRegisteredMessage
	Detected     time.Time // the last master change
	Reregistered time.Time // the last SlaveReregisteredMessage
	Running      int       // tasks not yet terminal
	Pending      int       // status updates awaiting acknowledgement
}

// slave is one emulated slave's process, `slave(N)`.
type slave struct {
	process.Process

	cfg   SlaveConfig
	c     *Counters
	info  *mesos.SlaveInfo
	total resources.Resources

	master     process.UPID // zero while no master is known
	registered bool         // with the current master
	backoff    time.Duration
	retry      *process.Timer

	tasks      map[streamKey]*task
	frameworks map[string]*mesos.FrameworkInfo
	streams    map[streamKey]*statusupdate.Stream
	resends    map[streamKey]*process.Timer

	times SlaveTimes
}

// streamKey names a task: task ids are unique within a framework.
type streamKey struct{ framework, task string }

type task struct {
	info    *mesos.TaskInfo
	state   mesos.TaskState
	finish  *process.Timer
	arrived time.Time // when its RunTaskMessage arrived
}

func newSlave(cfg SlaveConfig, total resources.Resources, c *Counters, master process.UPID) *slave {
	return &slave{
		cfg:        cfg,
		c:          c,
		total:      total,
		info:       &mesos.SlaveInfo{Hostname: proto.String(cfg.Hostname), Resources: total.ToProto()},
		master:     master,
		tasks:      make(map[streamKey]*task),
		frameworks: make(map[string]*mesos.FrameworkInfo),
		streams:    make(map[streamKey]*statusupdate.Stream),
		resends:    make(map[streamKey]*process.Timer),
	}
}

// Initialize installs the handlers and, with a known master, registers.
func (s *slave) Initialize() {
	s.times.Started = s.Clock().Now()
	process.Install(&s.Process, s.registeredMsg)
	process.Install(&s.Process, s.reregisteredMsg)
	process.Install(&s.Process, func(from process.UPID, _ *messages.PingSlaveMessage) {
		_ = s.Send(from, &messages.PongSlaveMessage{})
	})
	process.Install(&s.Process, s.runTask)
	process.Install(&s.Process, s.killTask)
	process.Install(&s.Process, s.acknowledged)
	process.Install(&s.Process, s.shutdownFramework)
	process.Install(&s.Process, func(process.UPID, *messages.ShutdownMessage) {
		s.c.Shutdown.Add(1)
		s.Terminate()
	})
	process.Install(&s.Process, func(process.UPID, *messages.UpdateFrameworkMessage) {})
	process.Install(&s.Process, func(process.UPID, *messages.ReconcileTasksMessage) {})
	if s.master.IsValid() {
		m := s.master
		s.master = process.UPID{}
		s.masterDetected(m)
	}
}

// Finalize cancels the slave's timers.
func (s *slave) Finalize() {
	s.Clock().Cancel(s.retry)
	for _, t := range s.resends {
		s.Clock().Cancel(t)
	}
	for _, t := range s.tasks {
		s.Clock().Cancel(t.finish)
	}
}

// masterDetected switches to a new leading master (zero: none for now)
// and (re-)registers with it after a random part of the backoff.
func (s *slave) masterDetected(pid process.UPID) {
	if pid == s.master {
		return
	}
	s.master = pid
	s.registered = false
	s.Clock().Cancel(s.retry)
	s.times.Detected = s.Clock().Now()
	if !pid.IsValid() {
		return
	}
	s.Link(pid)
	s.backoff = s.cfg.BackoffFactor
	s.retry = s.Delay(s.jitter(s.backoff), s.register)
}

func (s *slave) jitter(d time.Duration) time.Duration {
	return time.Duration(s.Runtime().RandFloat() * float64(d))
}

// register sends RegisterSlaveMessage (ReregisterSlaveMessage once the
// slave has an id) and retries with a doubling backoff until answered.
func (s *slave) register() {
	if s.registered || !s.master.IsValid() {
		return
	}
	if s.info.GetId() == nil {
		_ = s.Send(s.master, &messages.RegisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0")})
	} else {
		_ = s.Send(s.master, s.reregistration())
	}
	s.backoff = min(2*s.backoff, maxBackoff)
	s.retry = s.Delay(s.jitter(s.backoff), s.register)
}

func (s *slave) reregistration() *messages.ReregisterSlaveMessage {
	msg := &messages.ReregisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0")}
	keys := make([]streamKey, 0, len(s.tasks))
	for k := range s.tasks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].framework < keys[j].framework || keys[i].framework == keys[j].framework && keys[i].task < keys[j].task
	})
	fws := map[string]bool{}
	for _, k := range keys {
		t := s.tasks[k]
		msg.Tasks = append(msg.Tasks, &mesos.Task{
			Name: t.info.Name, TaskId: t.info.TaskId, FrameworkId: &mesos.FrameworkID{Value: proto.String(k.framework)},
			SlaveId: s.info.Id, State: t.state.Enum(), Resources: t.info.Resources,
		})
		if !fws[k.framework] && s.frameworks[k.framework] != nil {
			fws[k.framework] = true
			msg.Frameworks = append(msg.Frameworks, s.frameworks[k.framework])
		}
	}
	return msg
}

func (s *slave) registeredMsg(from process.UPID, m *messages.SlaveRegisteredMessage) {
	if s.registered || from.ID != s.master.ID {
		return
	}
	s.registered = true
	s.Clock().Cancel(s.retry)
	if s.info.Id == nil {
		s.info.Id = m.GetSlaveId()
		s.times.Registered = s.Clock().Now()
		s.c.Registered.Add(1)
	}
}

func (s *slave) reregisteredMsg(from process.UPID, m *messages.SlaveReregisteredMessage) {
	if s.registered || from.ID != s.master.ID {
		return
	}
	s.registered = true
	s.Clock().Cancel(s.retry)
	s.times.Reregistered = s.Clock().Now()
	s.c.Reregistered.Add(1)
	// Updates that waited for the new master go out now.
	for _, k := range s.sortedStreams() {
		st := s.streams[k]
		if head := st.Forward(s.Clock().Now()); head != nil {
			s.c.Resent.Add(1)
			s.forward(k, head)
		}
	}
}

func (s *slave) sortedStreams() []streamKey {
	keys := make([]streamKey, 0, len(s.streams))
	for k := range s.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].framework < keys[j].framework || keys[i].framework == keys[j].framework && keys[i].task < keys[j].task
	})
	return keys
}

func (s *slave) runTask(_ process.UPID, m *messages.RunTaskMessage) {
	ti := m.GetTask()
	key := streamKey{m.GetFrameworkId().GetValue(), ti.GetTaskId().GetValue()}
	if _, dup := s.tasks[key]; dup || s.info.Id == nil {
		return
	}
	s.c.Tasks.Add(1)
	if fw := m.GetFramework(); fw != nil {
		fw = proto.Clone(fw).(*mesos.FrameworkInfo)
		fw.Id = m.GetFrameworkId()
		s.frameworks[key.framework] = fw
	}
	t := &task{info: ti, arrived: s.Clock().Now()}
	s.tasks[key] = t
	s.update(key, mesos.TaskState_TASK_RUNNING)
	if s.cfg.TaskDuration > 0 {
		t.finish = s.Delay(s.cfg.TaskDuration, func() { s.update(key, mesos.TaskState_TASK_FINISHED) })
	}
}

func (s *slave) killTask(_ process.UPID, m *messages.KillTaskMessage) {
	key := streamKey{m.GetFrameworkId().GetValue(), m.GetTaskId().GetValue()}
	if t := s.tasks[key]; t != nil && !mesos.IsTerminal(t.state) {
		s.Clock().Cancel(t.finish)
		s.update(key, mesos.TaskState_TASK_KILLED)
	}
}

func (s *slave) shutdownFramework(_ process.UPID, m *messages.ShutdownFrameworkMessage) {
	fid := m.GetFrameworkId().GetValue()
	for k, t := range s.tasks {
		if k.framework == fid {
			s.Clock().Cancel(t.finish)
			s.Clock().Cancel(s.resends[k])
			delete(s.tasks, k)
			delete(s.streams, k)
			delete(s.resends, k)
		}
	}
	delete(s.frameworks, fid)
}

// update creates a status update of the task and delivers it reliably.
func (s *slave) update(key streamKey, state mesos.TaskState) {
	t := s.tasks[key]
	if t == nil {
		return
	}
	t.state = state
	uuid := mesos.NewUUID(s.Runtime().RandBytes)
	now := mesos.Timestamp(s.Clock().Now())
	u := &messages.StatusUpdate{
		FrameworkId: &mesos.FrameworkID{Value: proto.String(key.framework)},
		SlaveId:     s.info.Id,
		Status: &mesos.TaskStatus{
			TaskId: t.info.TaskId, State: state.Enum(), SlaveId: s.info.Id,
			Source: mesos.TaskStatus_SOURCE_SLAVE.Enum(), Timestamp: proto.Float64(now), Uuid: uuid[:],
		},
		Timestamp:   proto.Float64(now),
		Uuid:        uuid[:],
		LatestState: state.Enum(),
	}
	if state == mesos.TaskState_TASK_RUNNING {
		// The load generator's frameworks share this process's clock:
		// the arrival time lets them split the launch latency in two.
		u.Status.Data = stampArrival(t.arrived)
	}
	st := s.streams[key]
	if st == nil {
		st = statusupdate.New(key.framework, key.task)
		s.streams[key] = st
	}
	c, err := st.Update(u)
	if err != nil {
		return
	}
	s.c.Updates.Add(1)
	if st.Commit(c).HeadChanged {
		s.forward(key, st.Forward(s.Clock().Now()))
	}
}

// forward sends head (if any) to the master, when registered, and arms
// the timer that resends it when due.
func (s *slave) forward(key streamKey, head *messages.StatusUpdate) {
	if head == nil {
		return
	}
	if s.registered {
		_ = s.Send(s.master, &messages.StatusUpdateMessage{Update: head, Pid: proto.String(s.Self().String())})
	}
	st := s.streams[key]
	s.Clock().Cancel(s.resends[key])
	if due, ok := st.Due(); ok {
		s.resends[key] = s.Delay(due.Sub(s.Clock().Now()), func() {
			if next := st.Retry(s.Clock().Now()); next != nil {
				s.c.Resent.Add(1)
				s.forward(key, next)
			}
		})
	}
}

func (s *slave) acknowledged(_ process.UPID, m *messages.StatusUpdateAcknowledgementMessage) {
	key := streamKey{m.GetFrameworkId().GetValue(), m.GetTaskId().GetValue()}
	st := s.streams[key]
	if st == nil {
		return
	}
	c, err := st.Acknowledge(m.GetUuid())
	if err != nil || c.Outcome != statusupdate.Accepted {
		return // a duplicate or unexpected acknowledgement
	}
	s.Clock().Cancel(s.resends[key])
	delete(s.resends, key)
	if st.Commit(c).HeadChanged {
		s.forward(key, st.Forward(s.Clock().Now()))
	}
	if st.Terminated() && st.Len() == 0 {
		delete(s.streams, key)
		delete(s.tasks, key)
	}
}

// snapshot returns the slave's times and counts.
func (s *slave) snapshot() SlaveTimes {
	t := s.times
	for _, tk := range s.tasks {
		if !mesos.IsTerminal(tk.state) {
			t.Running++
		}
	}
	for _, st := range s.streams {
		t.Pending += st.Len()
	}
	return t
}

// String names the slave in logs.
func (s *slave) String() string { return fmt.Sprintf("emulated slave %s", s.Self()) }

// stampArrival encodes a RunTaskMessage's arrival time for a TASK_RUNNING
// update's data; arrivalOf reads it back (false when absent).
func stampArrival(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

func arrivalOf(data []byte) (time.Time, bool) {
	if len(data) != 8 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(data))), true
}
