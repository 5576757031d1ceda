// Package executor is the driver for executor authors: implement
// Executor, create a Driver (it reads the MESOS_* environment the slave
// sets) and Run it. It registers, receives tasks, kills and framework
// messages, sends status updates that it keeps until the slave
// acknowledges them, and re-registers with its unacknowledged updates and
// tasks after a slave restart. It speaks to the slave over either
// transport, with the same Executor callbacks: the slave's libprocess
// executor messages (the default), or the v1 executor HTTP API
// (Env.HTTP: SUBSCRIBE, UPDATE and MESSAGE calls to /api/v1/executor and
// its stream of Events; after a restart the driver subscribes again,
// retrying at most Env.SubscriptionBackoffMax apart).
package executor

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/metrics"
	"github.com/gomesos/gomesos/statusupdate"
)

// Executor receives the driver's callbacks, as Mesos's executor API.
type Executor interface {
	Registered(d *Driver, executor *mesos.ExecutorInfo, framework *mesos.FrameworkInfo, slave *mesos.SlaveInfo)
	Reregistered(d *Driver, slave *mesos.SlaveInfo)
	Disconnected(d *Driver)
	LaunchTask(d *Driver, task *mesos.TaskInfo)
	KillTask(d *Driver, id *mesos.TaskID)
	FrameworkMessage(d *Driver, data []byte)
	Shutdown(d *Driver)
	Error(d *Driver, message string)
}

// Env is what the slave tells an executor through its environment.
type Env struct {
	SlavePID        process.UPID  // MESOS_SLAVE_PID
	SlaveID         string        // MESOS_SLAVE_ID
	FrameworkID     string        // MESOS_FRAMEWORK_ID
	ExecutorID      string        // MESOS_EXECUTOR_ID
	Directory       string        // MESOS_DIRECTORY
	Checkpoint      bool          // MESOS_CHECKPOINT=1
	RecoveryTimeout time.Duration // MESOS_RECOVERY_TIMEOUT (default 15 min)
	// SubscriptionBackoffMax (MESOS_SUBSCRIPTION_BACKOFF_MAX, default
	// 2 s) bounds the wait between two subscription attempts of an HTTP
	// executor.
	SubscriptionBackoffMax time.Duration

	// HTTP makes the driver speak the v1 executor HTTP API instead of
	// libprocess messages (the command executor sets it from
	// MESOS_HTTP_COMMAND_EXECUTOR=1); JSON makes it use JSON there
	// instead of protobuf.
	HTTP bool
	JSON bool
	// Agent, when set, is the HTTP executor's line to the slave (default:
	// an HTTPAgent at AgentURL of SlavePID).
	Agent Agent
}

// EnvFromOS reads the MESOS_* variables; a missing or bad required one is
// an error naming it.
func EnvFromOS() (Env, error) { return EnvFrom(os.Getenv) }

// EnvFrom reads the MESOS_* variables through getenv (e.g. from a launch
// spec's environment instead of the process's); a missing or bad
// required one is an error naming it.
func EnvFrom(getenv func(string) string) (Env, error) {
	var e Env
	pid := getenv("MESOS_SLAVE_PID")
	if pid == "" {
		return e, errors.New("executor environment: MESOS_SLAVE_PID is not set")
	}
	u, err := process.ParseUPID(pid)
	if err != nil {
		return e, fmt.Errorf("executor environment: MESOS_SLAVE_PID: %w", err)
	}
	e.SlavePID = u
	for name, dst := range map[string]*string{
		"MESOS_SLAVE_ID": &e.SlaveID, "MESOS_FRAMEWORK_ID": &e.FrameworkID, "MESOS_EXECUTOR_ID": &e.ExecutorID,
	} {
		if *dst = getenv(name); *dst == "" {
			return e, fmt.Errorf("executor environment: %s is not set", name)
		}
	}
	e.Directory = getenv("MESOS_DIRECTORY")
	e.Checkpoint = getenv("MESOS_CHECKPOINT") == "1"
	e.RecoveryTimeout = 15 * time.Minute
	if s := getenv("MESOS_RECOVERY_TIMEOUT"); s != "" {
		d, err := metrics.ParseDuration(s)
		if err != nil {
			return e, fmt.Errorf("executor environment: MESOS_RECOVERY_TIMEOUT: %w", err)
		}
		e.RecoveryTimeout = d
	}
	e.SubscriptionBackoffMax = 2 * time.Second
	if s := getenv("MESOS_SUBSCRIPTION_BACKOFF_MAX"); s != "" {
		d, err := metrics.ParseDuration(s)
		if err != nil || d <= 0 {
			return e, fmt.Errorf("executor environment: MESOS_SUBSCRIPTION_BACKOFF_MAX: bad duration %q", s)
		}
		e.SubscriptionBackoffMax = d
	}
	return e, nil
}

// Driver connects an Executor to its slave. Its methods are the
// executor's API; the driver's process behind it is its own.
type Driver struct {
	d *driver
}

// driver is the driver's process.
type driver struct {
	process.Process

	h *Driver // the handle given to the Executor's callbacks

	rt   *process.Runtime
	exec Executor
	env  Env
	log  *slog.Logger

	mu     sync.Mutex
	status mesos.Status
	done   chan struct{}

	// Process state.
	slave      process.UPID
	connected  bool
	streams    map[string]*statusupdate.Stream // task id → updates sent, not yet acknowledged
	tasks      map[string]*mesos.TaskInfo      // launched, no terminal update acknowledged
	recovering *process.Timer
	drained    []*future.Promise[future.Nothing]

	// HTTP transport (env.HTTP).
	agent      Agent
	events     Events // the live subscription's stream
	subscribed bool   // SUBSCRIBED seen once: later ones are re-registrations
	backoff    time.Duration
	retry      *process.Timer
	outbox     []*executorpb.Call // calls to post, in order, one at a time
	posting    bool
}

// NewDriver returns a driver for exec on runtime rt.
func NewDriver(rt *process.Runtime, exec Executor, env Env) *Driver {
	d := &driver{
		h:       &Driver{},
		rt:      rt,
		exec:    exec,
		env:     env,
		log:     rt.Logger().With("component", "executor-driver"),
		status:  mesos.Status_DRIVER_NOT_STARTED,
		done:    make(chan struct{}),
		slave:   env.SlavePID,
		streams: make(map[string]*statusupdate.Stream),
		tasks:   make(map[string]*mesos.TaskInfo),
	}
	d.h.d = d
	return d.h
}

// PID returns the driver's process id (valid once started).
func (h *Driver) PID() process.UPID { return h.d.Self() }

// Delay runs fn on the driver's process (where the Executor's callbacks
// run) after d on the runtime's clock; Cancel stops it.
func (h *Driver) Delay(d time.Duration, fn func()) *process.Timer { return h.d.Delay(d, fn) }

// Now is the time by the driver's clock (the runtime's Clock).
func (h *Driver) Now() time.Time { return h.d.Clock().Now() }

// Cancel stops a timer from Delay; a nil or fired timer is ignored.
func (h *Driver) Cancel(t *process.Timer) { h.d.Clock().Cancel(t) }

// Start spawns the driver's process, which registers with the slave.
func (h *Driver) Start() (mesos.Status, error) { return h.d.Start() }

func (d *driver) Start() (mesos.Status, error) {
	d.mu.Lock()
	if d.status != mesos.Status_DRIVER_NOT_STARTED {
		st := d.status
		d.mu.Unlock()
		return st, errors.New("executor driver was already started")
	}
	d.status = mesos.Status_DRIVER_RUNNING
	d.mu.Unlock()
	if _, err := d.rt.Spawn(d, d.rt.GenerateID("executor")); err != nil {
		d.finish(mesos.Status_DRIVER_ABORTED)
		return mesos.Status_DRIVER_ABORTED, fmt.Errorf("start executor driver: %w", err)
	}
	return mesos.Status_DRIVER_RUNNING, nil
}

// Run starts the driver and waits until it stops.
func (h *Driver) Run() (mesos.Status, error) { return h.d.Run() }

func (d *driver) Run() (mesos.Status, error) {
	if st, err := d.Start(); err != nil {
		return st, err
	}
	return d.Join(), nil
}

// Join waits until the driver is stopped or aborted.
func (h *Driver) Join() mesos.Status { return h.d.Join() }

func (d *driver) Join() mesos.Status {
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

func (d *driver) finish(st mesos.Status) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status == mesos.Status_DRIVER_STOPPED || d.status == mesos.Status_DRIVER_ABORTED {
		return
	}
	d.status = st
	close(d.done)
}

func (d *driver) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status == mesos.Status_DRIVER_RUNNING
}

// Stop stops the driver.
func (h *Driver) Stop() (mesos.Status, error) { return h.d.Stop() }

func (d *driver) Stop() (mesos.Status, error) {
	if !d.running() {
		return d.Join(), nil
	}
	process.Run(d.rt, d.Self(), func() {
		d.finish(mesos.Status_DRIVER_STOPPED)
		d.Terminate()
	})
	return mesos.Status_DRIVER_STOPPED, nil
}

// Abort stops the driver without waiting for anything.
func (h *Driver) Abort() (mesos.Status, error) { return h.d.Abort() }

func (d *driver) Abort() (mesos.Status, error) {
	process.Run(d.rt, d.Self(), func() {
		d.finish(mesos.Status_DRIVER_ABORTED)
		d.Terminate()
	})
	return mesos.Status_DRIVER_ABORTED, nil
}

func (d *driver) frameworkID() *mesos.FrameworkID {
	return &mesos.FrameworkID{Value: proto.String(d.env.FrameworkID)}
}

func (d *driver) executorID() *mesos.ExecutorID {
	return &mesos.ExecutorID{Value: proto.String(d.env.ExecutorID)}
}

func (d *driver) slaveID() *mesos.SlaveID { return &mesos.SlaveID{Value: proto.String(d.env.SlaveID)} }

func (d *driver) send(msg proto.Message) {
	if err := d.Send(d.slave, msg); err != nil {
		d.log.Error("cannot send to the slave", "err", err)
	}
}

// fromSlave reports whether a message comes from our slave: nobody else
// may launch, kill or shut down our tasks.
func (d *driver) fromSlave(from process.UPID) bool {
	if from != d.slave {
		d.log.Debug("ignoring a message not from our slave", "from", from.String(), "slave", d.slave.String())
		return false
	}
	return true
}

// Initialize registers with the slave: it installs the handlers of the
// slave's messages and sends RegisterExecutorMessage, or (HTTP) it
// subscribes.
func (d *driver) Initialize() {
	if d.env.HTTP {
		d.agent = d.env.Agent
		if d.agent == nil {
			d.agent = NewHTTPAgent(AgentURL(d.slave.String()), d.env.JSON)
		}
		d.subscribe()
		return
	}
	process.Install(&d.Process, func(from process.UPID, m *messages.ExecutorRegisteredMessage) {
		if d.fromSlave(from) {
			d.registered(m.GetExecutorInfo(), m.GetFrameworkInfo(), m.GetSlaveInfo())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.ExecutorReregisteredMessage) {
		if d.fromSlave(from) {
			d.reregistered(m.GetSlaveInfo())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.ReconnectExecutorMessage) {
		if !d.running() {
			return
		}
		// Only our slave, restarted: the same slave id, on the slave's
		// host (the runtime checks that the sender lives at the address
		// its connection comes from).
		if m.GetSlaveId().GetValue() != d.env.SlaveID || from.Addr.Addr().Unmap() != d.slave.Addr.Addr().Unmap() {
			d.log.Debug("ignoring a reconnect request not from our slave", "from", from.String(), "slave", m.GetSlaveId().GetValue())
			return
		}
		// The slave restarted: adopt its pid and re-register with what
		// it has not acknowledged.
		d.slave = from
		d.Link(from)
		d.send(&messages.ReregisterExecutorMessage{ExecutorId: d.executorID(), FrameworkId: d.frameworkID(), Tasks: d.unacknowledgedTasks(), Updates: d.pendingUpdates()})
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.RunTaskMessage) {
		if d.fromSlave(from) {
			d.launch(m.GetTask())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.KillTaskMessage) {
		if d.running() && d.fromSlave(from) {
			d.exec.KillTask(d.h, m.GetTaskId())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.StatusUpdateAcknowledgementMessage) {
		if d.fromSlave(from) {
			d.acknowledged(m.GetTaskId().GetValue(), m.GetUuid())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.FrameworkToExecutorMessage) {
		if d.running() && d.fromSlave(from) {
			d.exec.FrameworkMessage(d.h, m.GetData())
		}
	})
	process.Install(&d.Process, func(from process.UPID, m *messages.ShutdownExecutorMessage) {
		if d.fromSlave(from) {
			d.shutdown()
		}
	})
	d.Link(d.slave)
	d.send(&messages.RegisterExecutorMessage{FrameworkId: d.frameworkID(), ExecutorId: d.executorID()})
}

// registered is the slave's first answer (ExecutorRegisteredMessage, or
// the first SUBSCRIBED).
func (d *driver) registered(e *mesos.ExecutorInfo, f *mesos.FrameworkInfo, s *mesos.SlaveInfo) {
	if !d.running() {
		return
	}
	d.connected = true
	d.exec.Registered(d.h, e, f, s)
}

// reregistered is a restarted slave's answer (ExecutorReregisteredMessage,
// or a later SUBSCRIBED).
func (d *driver) reregistered(s *mesos.SlaveInfo) {
	if !d.running() {
		return
	}
	d.connected = true
	d.Clock().Cancel(d.recovering)
	d.recovering = nil
	d.exec.Reregistered(d.h, s)
}

// launch gives the executor a task, once.
func (d *driver) launch(t *mesos.TaskInfo) {
	if !d.running() {
		return
	}
	if _, dup := d.tasks[t.GetTaskId().GetValue()]; dup {
		d.log.Error("task launched twice; ignoring the second", "task", t.GetTaskId().GetValue())
		return
	}
	d.tasks[t.GetTaskId().GetValue()] = t
	d.exec.LaunchTask(d.h, t)
}

// shutdown is the slave's order to shut down.
func (d *driver) shutdown() {
	if !d.running() {
		return
	}
	d.exec.Shutdown(d.h)
	d.finish(mesos.Status_DRIVER_STOPPED)
	d.Terminate()
}

// unacknowledgedTasks are the tasks launched whose terminal update the
// slave has not acknowledged, by id.
func (d *driver) unacknowledgedTasks() []*mesos.TaskInfo {
	out := make([]*mesos.TaskInfo, 0, len(d.tasks))
	for _, id := range slices.Sorted(maps.Keys(d.tasks)) {
		out = append(out, d.tasks[id])
	}
	return out
}

// pendingUpdates are the updates sent and not acknowledged, by task id
// and in order within a task.
func (d *driver) pendingUpdates() []*messages.StatusUpdate {
	var out []*messages.StatusUpdate
	for _, id := range slices.Sorted(maps.Keys(d.streams)) {
		out = append(out, d.streams[id].Pending()...)
	}
	return out
}

// Exited is the broken link to the slave: without checkpointing the
// executor shuts down; with it, it waits the recovery timeout for the
// slave to come back (ReconnectExecutorMessage).
func (d *driver) Exited(pid process.UPID) {
	if pid != d.slave || !d.running() || d.env.HTTP {
		return
	}
	d.lostSlave()
}

// lostSlave handles a lost connection to the slave: without
// checkpointing the executor shuts down; with it, it waits the recovery
// timeout for the slave to come back.
func (d *driver) lostSlave() {
	wasConnected := d.connected
	d.connected = false
	if wasConnected {
		d.exec.Disconnected(d.h)
	}
	if !d.env.Checkpoint {
		d.log.Info("slave exited; shutting down (no checkpointing)")
		d.exec.Shutdown(d.h)
		d.finish(mesos.Status_DRIVER_ABORTED)
		d.Terminate()
		return
	}
	if d.recovering != nil {
		return // already counting
	}
	d.recovering = d.Delay(d.env.RecoveryTimeout, func() {
		d.recovering = nil
		if !d.connected {
			d.log.Info("slave did not come back within the recovery timeout; shutting down", "timeout", d.env.RecoveryTimeout)
			d.exec.Shutdown(d.h)
			d.finish(mesos.Status_DRIVER_ABORTED)
			d.Terminate()
		}
	})
}

// SendStatusUpdate sends a task's status to the slave, which acknowledges
// it; the driver keeps it until then. TASK_STAGING is refused.
func (h *Driver) SendStatusUpdate(status *mesos.TaskStatus) (mesos.Status, error) {
	return h.d.SendStatusUpdate(status)
}

func (d *driver) SendStatusUpdate(status *mesos.TaskStatus) (mesos.Status, error) {
	if status.GetState() == mesos.TaskState_TASK_STAGING {
		return mesos.Status_DRIVER_RUNNING, errors.New("executor may not send TASK_STAGING")
	}
	if status.GetTaskId() == nil {
		return mesos.Status_DRIVER_RUNNING, errors.New("status update without task_id")
	}
	if !d.running() {
		return mesos.Status_DRIVER_NOT_STARTED, errors.New("executor driver is not running")
	}
	status = proto.Clone(status).(*mesos.TaskStatus)
	process.Run(d.rt, d.Self(), func() {
		uuid := mesos.NewUUID(d.rt.RandBytes)
		now := mesos.Timestamp(d.Clock().Now())
		status.SlaveId = d.slaveID()
		status.ExecutorId = d.executorID()
		status.Source = mesos.TaskStatus_SOURCE_EXECUTOR.Enum()
		status.Uuid = uuid[:]
		if status.Timestamp == nil {
			status.Timestamp = proto.Float64(now)
		}
		u := &messages.StatusUpdate{
			FrameworkId: d.frameworkID(),
			ExecutorId:  d.executorID(),
			SlaveId:     d.slaveID(),
			Status:      status,
			Timestamp:   proto.Float64(now),
			Uuid:        uuid[:],
		}
		tid := status.GetTaskId().GetValue()
		st := d.streams[tid]
		if st == nil {
			st = statusupdate.New(d.env.FrameworkID, tid)
			d.streams[tid] = st
		}
		c, err := st.Update(u)
		if err != nil {
			d.log.Error("dropping a status update", "task", tid, "err", err)
			return
		}
		st.Commit(c)
		// Every update goes out at once; the slave acknowledges each as it
		// takes it, in order, and the stream keeps it until then.
		if d.env.HTTP {
			d.post(&executorpb.Call{ExecutorId: d.executorID(), FrameworkId: d.frameworkID(),
				Type: executorpb.Call_UPDATE.Enum(), Update: &executorpb.Call_Update{Status: status}})
			return
		}
		d.send(&messages.StatusUpdateMessage{Update: u, Pid: proto.String(d.Self().String())})
	})
	return mesos.Status_DRIVER_RUNNING, nil
}

// SendFrameworkMessage sends data to the executor's scheduler.
func (h *Driver) SendFrameworkMessage(data []byte) (mesos.Status, error) {
	return h.d.SendFrameworkMessage(data)
}

func (d *driver) SendFrameworkMessage(data []byte) (mesos.Status, error) {
	if !d.running() {
		return mesos.Status_DRIVER_NOT_STARTED, errors.New("executor driver is not running")
	}
	process.Run(d.rt, d.Self(), func() {
		if d.env.HTTP {
			d.post(&executorpb.Call{ExecutorId: d.executorID(), FrameworkId: d.frameworkID(),
				Type: executorpb.Call_MESSAGE.Enum(), Message: &executorpb.Call_Message{Data: data}})
			return
		}
		d.send(&messages.ExecutorToFrameworkMessage{SlaveId: d.slaveID(), FrameworkId: d.frameworkID(), ExecutorId: d.executorID(), Data: data})
	})
	return mesos.Status_DRIVER_RUNNING, nil
}

// Drained returns a future completed once no sent update awaits an
// acknowledgement (at once if none does).
func (h *Driver) Drained() future.Future[future.Nothing] { return h.d.Drained() }

func (d *driver) Drained() future.Future[future.Nothing] {
	return process.DispatchF(d.rt, d.Self(), func() future.Future[future.Nothing] {
		p := future.NewPromise[future.Nothing]()
		d.drained = append(d.drained, p)
		d.checkDrained()
		return p.Future()
	})
}

// acknowledged takes the slave's acknowledgement of a task's update; the
// acknowledgement of its terminal update ends the task.
func (d *driver) acknowledged(tid string, uuid []byte) {
	st := d.streams[tid]
	if st == nil {
		return
	}
	c, err := st.Acknowledge(uuid)
	if err != nil {
		d.log.Debug("ignoring a status update acknowledgement", "task", tid, "err", err)
		return
	}
	switch c.Outcome {
	case statusupdate.Accepted:
	case statusupdate.NotHead:
		// The slave takes a task's updates in order and acknowledges
		// each: an acknowledgement of a later one says it holds the
		// earlier ones too (their acknowledgements were lost).
		for st.Len() > 0 {
			head := st.Pending()[0].GetUuid()
			hc, err := st.Acknowledge(head)
			if err != nil || hc.Outcome != statusupdate.Accepted {
				break
			}
			r := st.Commit(hc)
			if r.Done {
				d.ended(tid)
				break
			}
			if bytes.Equal(head, uuid) {
				break
			}
		}
		d.checkDrained()
		return
	default:
		d.log.Debug("ignoring a status update acknowledgement", "task", tid, "outcome", c.Outcome.String())
		return
	}
	if r := st.Commit(c); r.Done {
		d.ended(tid)
	}
	d.checkDrained()
}

// ended forgets a task whose terminal update was acknowledged.
func (d *driver) ended(tid string) {
	delete(d.tasks, tid)
	delete(d.streams, tid)
}

// unacknowledged is how many sent updates await an acknowledgement.
func (d *driver) unacknowledged() int {
	n := 0
	for _, st := range d.streams {
		n += st.Len()
	}
	return n
}

func (d *driver) checkDrained() {
	if d.unacknowledged() > 0 {
		return
	}
	for _, p := range d.drained {
		p.Set(future.Nothing{})
	}
	d.drained = nil
}

// Unacknowledged returns how many updates await acknowledgement.
func (h *Driver) Unacknowledged() int { return h.d.Unacknowledged() }

func (d *driver) Unacknowledged() int {
	f := process.Dispatch(d.rt, d.Self(), d.unacknowledged)
	n, _ := f.Get()
	return n
}
