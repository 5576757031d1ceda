// Package scheduler is the driver for framework authors: implement
// Scheduler, create a Driver with the framework's info and the master's
// pid, and Start it. The driver speaks the Mesos scheduler protocol
// (mesos.scheduler.Call to the master, the legacy messages back), with
// registration retries and backoff, and implicit or explicit
// acknowledgement of status updates. Callbacks run one at a time on the
// driver's own process; driver methods may be called from anywhere,
// including from inside callbacks.
package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Scheduler receives the driver's callbacks, as Mesos's scheduler API.
type Scheduler interface {
	Registered(d *Driver, id *mesos.FrameworkID, master *mesos.MasterInfo)
	Reregistered(d *Driver, master *mesos.MasterInfo)
	Disconnected(d *Driver)
	ResourceOffers(d *Driver, offers []*mesos.Offer)
	OfferRescinded(d *Driver, id *mesos.OfferID)
	StatusUpdate(d *Driver, status *mesos.TaskStatus)
	FrameworkMessage(d *Driver, executor *mesos.ExecutorID, slave *mesos.SlaveID, data []byte)
	SlaveLost(d *Driver, slave *mesos.SlaveID)
	ExecutorLost(d *Driver, executor *mesos.ExecutorID, slave *mesos.SlaveID, status int)
	Error(d *Driver, message string)
}

// Status is the driver's state, as mesos.Status.
type Status = mesos.Status

// Errors returned by driver calls in the wrong state.
var (
	ErrNotRunning = errors.New("scheduler driver is not running")
	ErrNotStarted = errors.New("scheduler driver was already started")
)

// Options tune a driver.
type Options struct {
	// ExplicitAcknowledgements makes the framework acknowledge updates
	// itself with AcknowledgeStatusUpdate; by default the driver
	// acknowledges each update after StatusUpdate returns.
	ExplicitAcknowledgements bool
	// BackoffFactor is the registration backoff factor (2 s).
	BackoffFactor time.Duration
	// ID is the driver's process id; default `scheduler(N)`.
	ID string
	// Credential, when set, authenticates the framework (CRAM-MD5) with
	// each master before subscribing; its principal becomes the
	// FrameworkInfo's principal when that has none.
	Credential *mesos.Credential
	// Authenticatee authenticates with Credential; nil is CRAM-MD5. A
	// module of kind Authenticatee (package modules) can be built with
	// modules.New[auth.Authenticatee].
	Authenticatee auth.Authenticatee
	// Detector, when set, tells the driver which master leads (ZooKeeper,
	// or an in-memory detector.Group in a simulation): it subscribes with
	// each new leader, as after MasterDetected. NewDriver's master may then
	// be zero.
	Detector detector.Detector
}

// Driver connects a Scheduler to a master. Its methods are the framework's
// API; the driver's process behind it is its own.
type Driver struct {
	d *driver
}

// driver is the driver's process, `scheduler(N)`.
type driver struct {
	process.Process

	h *Driver // the handle given to the Scheduler's callbacks

	rt     *process.Runtime
	sched  Scheduler
	info   *mesos.FrameworkInfo
	master process.UPID
	opts   Options
	log    *slog.Logger

	mu     sync.Mutex // guards status for callers outside the process
	status mesos.Status
	done   chan struct{}

	// Process state, touched only on the driver's process.
	connected bool
	failover  bool // the next subscription is a failover (force)
	backoff   time.Duration
	retry     *process.Timer
	slavePIDs map[string]process.UPID // slave id → pid from offers

	authenticated  process.UPID // the master we authenticated with
	authenticating bool
}

// NewDriver returns a driver for framework info talking to the master at
// master, on runtime rt. A framework id in info means failover.
func NewDriver(rt *process.Runtime, sched Scheduler, info *mesos.FrameworkInfo, master process.UPID, opts Options) *Driver {
	if opts.BackoffFactor <= 0 {
		opts.BackoffFactor = 2 * time.Second
	}
	if opts.ID == "" {
		opts.ID = rt.GenerateID("scheduler")
	}
	d := &driver{
		h:         &Driver{},
		rt:        rt,
		sched:     sched,
		info:      proto.Clone(info).(*mesos.FrameworkInfo),
		master:    master,
		opts:      opts,
		log:       rt.Logger().With("component", "scheduler-driver"),
		status:    mesos.Status_DRIVER_NOT_STARTED,
		done:      make(chan struct{}),
		slavePIDs: make(map[string]process.UPID),
		failover:  info.GetId().GetValue() != "",
	}
	if c := opts.Credential; c != nil && d.info.GetPrincipal() == "" {
		d.info.Principal = proto.String(c.GetPrincipal())
	}
	d.h.d = d
	return d.h
}

// Start spawns the driver's process and starts registering.
func (h *Driver) Start() (mesos.Status, error) { return h.d.Start() }

func (d *driver) Start() (mesos.Status, error) {
	d.mu.Lock()
	if d.status != mesos.Status_DRIVER_NOT_STARTED {
		st := d.status
		d.mu.Unlock()
		return st, ErrNotStarted
	}
	d.status = mesos.Status_DRIVER_RUNNING
	d.mu.Unlock()
	if _, err := d.rt.Spawn(d, d.opts.ID); err != nil {
		d.setStatus(mesos.Status_DRIVER_ABORTED)
		return mesos.Status_DRIVER_ABORTED, fmt.Errorf("start scheduler driver: %w", err)
	}
	return mesos.Status_DRIVER_RUNNING, nil
}

// Initialize installs the handlers and sends the first subscription.
func (d *driver) Initialize() {
	process.Install(&d.Process, d.registered)
	process.Install(&d.Process, d.reregistered)
	process.Install(&d.Process, d.resourceOffers)
	process.Install(&d.Process, d.rescinded)
	process.Install(&d.Process, d.statusUpdate)
	process.Install(&d.Process, d.lostSlave)
	process.Install(&d.Process, d.exitedExecutor)
	process.Install(&d.Process, d.executorMessage)
	process.Install(&d.Process, d.frameworkError)
	d.backoff = d.opts.BackoffFactor
	if d.master.IsValid() {
		d.Link(d.master)
		d.subscribe()
	}
	if d.opts.Detector != nil {
		d.detect(nil)
	}
}

// detect follows the detector: each leader it reports after previous
// continues on the driver's process.
func (d *driver) detect(previous *mesos.MasterInfo) {
	d.opts.Detector.Detect(previous).OnReady(process.Defer1(d.rt, d.Self(), func(leader *mesos.MasterInfo) {
		if !d.running() {
			return
		}
		switch pid, err := process.ParseUPID(leader.GetPid()); {
		case leader == nil:
			d.masterDetected(process.UPID{}, false)
		case err != nil:
			d.log.Error("bad pid of the detected master", "pid", leader.GetPid(), "err", err)
			d.masterDetected(process.UPID{}, false)
		default:
			d.masterDetected(pid, true)
		}
		d.detect(leader)
	}))
}

// MasterDetected switches the driver to a new leading master (from a
// ZooKeeper detector; ok false: no leader for now). A connected driver is
// disconnected (Disconnected is called) and subscribes again with the new
// master; a zero master in NewDriver waits for this.
func (h *Driver) MasterDetected(pid process.UPID, ok bool) { h.d.MasterDetected(pid, ok) }

func (d *driver) MasterDetected(pid process.UPID, ok bool) {
	process.Run(d.rt, d.Self(), func() { d.masterDetected(pid, ok) })
}

func (d *driver) masterDetected(pid process.UPID, ok bool) {
	if ok && pid == d.master {
		return
	}
	d.log.Info("new leading master detected", "master", pid.String(), "leader", ok)
	if d.connected {
		d.connected = false
		d.sched.Disconnected(d.h)
	}
	d.Clock().Cancel(d.retry)
	if !ok {
		d.master = process.UPID{}
		return
	}
	d.master = pid
	d.backoff = d.opts.BackoffFactor
	d.Link(pid)
	d.subscribe()
}

// subscribe sends SUBSCRIBE and schedules a retry with backoff until the
// master answers: a random delay in [0, backoff], backoff doubling up to
// 60 s and failover_timeout/10.
func (d *driver) subscribe() {
	if d.connected || !d.running() || !d.master.IsValid() {
		return
	}
	if c := d.opts.Credential; c != nil && d.authenticated != d.master {
		d.authenticate(c)
		return
	}
	call := &schedulerpb.Call{
		Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: d.info, Force: proto.Bool(d.failover)},
	}
	if id := d.info.GetId(); id != nil {
		call.FrameworkId = id
	}
	d.sendCall(call)
	limit := d.backoff
	delay := time.Duration(d.rt.RandFloat() * float64(limit))
	d.retry = d.Delay(delay, d.subscribe)
	next := 2 * d.backoff
	maxBackoff := 60 * time.Second
	if ft := time.Duration(d.info.GetFailoverTimeout() * float64(time.Second) / 10); ft > 0 && ft < maxBackoff {
		maxBackoff = ft
	}
	if next > maxBackoff {
		next = maxBackoff
	}
	d.backoff = next
}

// authenticate authenticates with the current master, then subscribes;
// a refused credential is an error that aborts the driver, a failed
// attempt is retried with the registration backoff.
func (d *driver) authenticate(c *mesos.Credential) {
	if d.authenticating {
		return
	}
	d.authenticating = true
	master := d.master
	var authn auth.Authenticatee = crammd5.Authenticatee{}
	if d.opts.Authenticatee != nil {
		authn = d.opts.Authenticatee
	}
	f := authn.Authenticate(d.rt, master, d.Self(), c)
	f.OnAny(process.Defer1(d.rt, d.Self(), func(f future.Future[bool]) {
		ok, err := f.Get()
		d.authenticating = false
		if master != d.master || !d.running() {
			return
		}
		switch {
		case err != nil:
			d.log.Warn("authentication failed; retrying", "err", err)
			d.retry = d.Delay(time.Duration(d.rt.RandFloat()*float64(d.backoff)), d.subscribe)
		case !ok:
			d.sched.Error(d.h, "Master refused authentication")
			d.abortLocal()
		default:
			d.authenticated = master
			d.subscribe()
		}
	}))
}

func (d *driver) sendCall(call *schedulerpb.Call) {
	if err := d.Send(d.master, call); err != nil {
		d.log.Error("cannot send call", "type", call.GetType().String(), "err", err)
	}
}

func (d *driver) fromMaster(from process.UPID) bool {
	if from != d.master {
		d.log.Debug("ignoring message not from the master", "from", from.String())
		return false
	}
	return true
}

func (d *driver) registered(from process.UPID, msg *messages.FrameworkRegisteredMessage) {
	if !d.fromMaster(from) || d.connected || !d.running() {
		return
	}
	d.connected = true
	d.failover = false
	d.Clock().Cancel(d.retry)
	d.relink()
	d.info.Id = msg.GetFrameworkId()
	d.sched.Registered(d.h, msg.GetFrameworkId(), msg.GetMasterInfo())
}

// relink makes sure a link to the master stands once it answered: the
// subscription it answered may have been sent before the last link
// attempt broke (a slow network), and without a link the driver would
// never hear that the master went away.
func (d *driver) relink() { d.Link(d.master) }

func (d *driver) reregistered(from process.UPID, msg *messages.FrameworkReregisteredMessage) {
	if !d.fromMaster(from) || d.connected || !d.running() {
		return
	}
	d.connected = true
	d.failover = false
	d.Clock().Cancel(d.retry)
	d.relink()
	d.sched.Reregistered(d.h, msg.GetMasterInfo())
}

func (d *driver) resourceOffers(from process.UPID, msg *messages.ResourceOffersMessage) {
	if !d.fromMaster(from) || !d.connected || !d.running() {
		return
	}
	if len(msg.GetPids()) != len(msg.GetOffers()) {
		d.log.Warn("offers and pids differ in number; ignoring the offers")
		return
	}
	for i, o := range msg.GetOffers() {
		if pid, err := process.ParseUPID(msg.GetPids()[i]); err == nil {
			d.slavePIDs[o.GetSlaveId().GetValue()] = pid
		}
	}
	d.sched.ResourceOffers(d.h, msg.GetOffers())
}

func (d *driver) rescinded(from process.UPID, msg *messages.RescindResourceOfferMessage) {
	if !d.fromMaster(from) || !d.connected || !d.running() {
		return
	}
	d.sched.OfferRescinded(d.h, msg.GetOfferId())
}

func (d *driver) statusUpdate(from process.UPID, msg *messages.StatusUpdateMessage) {
	if !d.fromMaster(from) || !d.connected || !d.running() {
		return
	}
	u := msg.GetUpdate()
	status := proto.Clone(u.GetStatus()).(*mesos.TaskStatus)
	ackable := len(u.GetUuid()) > 0 && msg.GetPid() != "" && msg.GetPid() != d.Self().String()
	if ackable {
		status.Uuid = u.Uuid
		if status.SlaveId == nil {
			status.SlaveId = u.SlaveId
		}
	} else {
		status.Uuid = nil
	}
	d.sched.StatusUpdate(d.h, status)
	if ackable && !d.opts.ExplicitAcknowledgements && d.running() {
		d.acknowledge(status)
	}
}

func (d *driver) acknowledge(status *mesos.TaskStatus) {
	if len(status.GetUuid()) == 0 {
		return
	}
	d.sendCall(&schedulerpb.Call{
		FrameworkId: d.info.GetId(),
		Type:        schedulerpb.Call_ACKNOWLEDGE.Enum(),
		Acknowledge: &schedulerpb.Call_Acknowledge{SlaveId: status.GetSlaveId(), TaskId: status.GetTaskId(), Uuid: status.GetUuid()},
	})
}

func (d *driver) lostSlave(from process.UPID, msg *messages.LostSlaveMessage) {
	if !d.fromMaster(from) || !d.connected || !d.running() {
		return
	}
	delete(d.slavePIDs, msg.GetSlaveId().GetValue())
	d.sched.SlaveLost(d.h, msg.GetSlaveId())
}

func (d *driver) exitedExecutor(from process.UPID, msg *messages.ExitedExecutorMessage) {
	if !d.fromMaster(from) || !d.connected || !d.running() {
		return
	}
	d.sched.ExecutorLost(d.h, msg.GetExecutorId(), msg.GetSlaveId(), int(msg.GetStatus()))
}

func (d *driver) executorMessage(_ process.UPID, msg *messages.ExecutorToFrameworkMessage) {
	if !d.running() {
		return
	}
	d.sched.FrameworkMessage(d.h, msg.GetExecutorId(), msg.GetSlaveId(), msg.GetData())
}

func (d *driver) frameworkError(_ process.UPID, msg *messages.FrameworkErrorMessage) {
	if !d.running() {
		return
	}
	d.deactivate()
	d.sched.Error(d.h, msg.GetMessage())
	d.abortLocal()
}

// Exited is the broken link to the master: the driver is disconnected
// and registers again with backoff.
func (d *driver) Exited(pid process.UPID) {
	if pid != d.master || !d.running() {
		return
	}
	if d.connected {
		d.connected = false
		d.sched.Disconnected(d.h)
	}
	d.authenticated = process.UPID{} // authenticate again with the master
	d.failover = d.info.GetId().GetValue() != ""
	d.backoff = d.opts.BackoffFactor
	// Link again with the subscription, not at once: a master that is
	// gone would break the new link at once, and again, without end.
	d.Clock().Cancel(d.retry)
	master := d.master
	d.retry = d.Delay(time.Duration(d.rt.RandFloat()*float64(d.backoff)), func() {
		if d.master == master {
			d.Link(master)
		}
		d.subscribe()
	})
}

func (d *driver) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status == mesos.Status_DRIVER_RUNNING
}

func (d *driver) setStatus(s mesos.Status) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status != mesos.Status_DRIVER_RUNNING && d.status != mesos.Status_DRIVER_NOT_STARTED {
		return false
	}
	d.status = s
	close(d.done)
	return true
}

// deactivate tells a connected master to stop offering to the framework
// (the driver is aborting).
func (d *driver) deactivate() {
	if !d.connected || d.info.GetId() == nil {
		d.log.Debug("not sending a deactivate message: the master is disconnected")
		return
	}
	if err := d.Send(d.master, &messages.DeactivateFrameworkMessage{FrameworkId: d.info.GetId()}); err != nil {
		d.log.Error("cannot send DeactivateFrameworkMessage", "err", err)
	}
}

func (d *driver) abortLocal() {
	if d.setStatus(mesos.Status_DRIVER_ABORTED) {
		d.Clock().Cancel(d.retry)
	}
}

// do runs fn on the driver's process if the driver is running.
func (d *driver) do(fn func()) (mesos.Status, error) {
	d.mu.Lock()
	st := d.status
	d.mu.Unlock()
	if st != mesos.Status_DRIVER_RUNNING {
		return st, ErrNotRunning
	}
	process.Run(d.rt, d.Self(), fn)
	return st, nil
}

// Stop stops the driver. Without failover the framework is torn down
// (its tasks killed); with failover it stays registered for a new
// scheduler instance to take over within its failover timeout.
func (h *Driver) Stop(failover bool) (mesos.Status, error) { return h.d.Stop(failover) }

func (d *driver) Stop(failover bool) (mesos.Status, error) {
	st, err := d.do(func() {
		if !failover && d.info.GetId() != nil {
			d.sendCall(&schedulerpb.Call{FrameworkId: d.info.GetId(), Type: schedulerpb.Call_TEARDOWN.Enum()})
		}
		d.Clock().Cancel(d.retry)
		d.setStatus(mesos.Status_DRIVER_STOPPED)
		d.Terminate()
	})
	if err != nil {
		return st, err
	}
	return mesos.Status_DRIVER_STOPPED, nil
}

// Abort stops the driver. As Mesos's driver does, it asks a connected
// master to deactivate the framework (DeactivateFrameworkMessage: no more
// offers, outstanding ones rescinded); the framework and its tasks stay
// registered until its failover timeout, for a new scheduler instance to
// take over.
func (h *Driver) Abort() (mesos.Status, error) { return h.d.Abort() }

func (d *driver) Abort() (mesos.Status, error) {
	st, err := d.do(func() {
		d.deactivate()
		d.abortLocal()
		d.Terminate()
	})
	if err != nil {
		return st, err
	}
	return mesos.Status_DRIVER_ABORTED, nil
}

// Join blocks until the driver is stopped or aborted and returns how.
func (h *Driver) Join() mesos.Status { return h.d.Join() }

func (d *driver) Join() mesos.Status {
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// Run starts the driver and joins it.
func (h *Driver) Run() (mesos.Status, error) { return h.d.Run() }

func (d *driver) Run() (mesos.Status, error) {
	if st, err := d.Start(); err != nil {
		return st, err
	}
	return d.Join(), nil
}

// LaunchTasks launches tasks on the given offers, as ACCEPT with one
// LAUNCH operation; the rest of the offers is declined with filters.
func (h *Driver) LaunchTasks(offerIDs []*mesos.OfferID, tasks []*mesos.TaskInfo, filters *mesos.Filters) (mesos.Status, error) {
	return h.d.LaunchTasks(offerIDs, tasks, filters)
}

func (d *driver) LaunchTasks(offerIDs []*mesos.OfferID, tasks []*mesos.TaskInfo, filters *mesos.Filters) (mesos.Status, error) {
	op := &mesos.Offer_Operation{Type: mesos.Offer_Operation_LAUNCH.Enum(), Launch: &mesos.Offer_Operation_Launch{TaskInfos: tasks}}
	return d.AcceptOffers(offerIDs, []*mesos.Offer_Operation{op}, filters)
}

// AcceptOffers applies operations to the offers.
func (h *Driver) AcceptOffers(offerIDs []*mesos.OfferID, ops []*mesos.Offer_Operation, filters *mesos.Filters) (mesos.Status, error) {
	return h.d.AcceptOffers(offerIDs, ops, filters)
}

func (d *driver) AcceptOffers(offerIDs []*mesos.OfferID, ops []*mesos.Offer_Operation, filters *mesos.Filters) (mesos.Status, error) {
	call := &schedulerpb.Call{
		Type:   schedulerpb.Call_ACCEPT.Enum(),
		Accept: &schedulerpb.Call_Accept{OfferIds: offerIDs, Operations: ops, Filters: filters},
	}
	if err := checkInitialized(call); err != nil {
		return mesos.Status_DRIVER_RUNNING, err
	}
	return d.do(func() {
		if !d.connected {
			d.lostTasks(ops, "Master disconnected")
			return
		}
		call.FrameworkId = d.info.GetId()
		d.sendCall(call)
	})
}

// lostTasks tells the scheduler that tasks it tried to launch while
// disconnected are lost, as the Mesos driver does.
func (d *driver) lostTasks(ops []*mesos.Offer_Operation, why string) {
	for _, op := range ops {
		for _, t := range op.GetLaunch().GetTaskInfos() {
			d.sched.StatusUpdate(d.h, &mesos.TaskStatus{
				TaskId:    t.GetTaskId(),
				State:     mesos.TaskState_TASK_LOST.Enum(),
				Message:   proto.String(why),
				Source:    mesos.TaskStatus_SOURCE_MASTER.Enum(),
				Reason:    mesos.TaskStatus_REASON_MASTER_DISCONNECTED.Enum(),
				Timestamp: proto.Float64(mesos.Timestamp(d.Clock().Now())),
			})
		}
	}
}

// DeclineOffer declines an offer; its resources are not offered to this
// framework again for filters.refuse_seconds (default 5 s).
func (h *Driver) DeclineOffer(id *mesos.OfferID, filters *mesos.Filters) (mesos.Status, error) {
	return h.d.DeclineOffer(id, filters)
}

func (d *driver) DeclineOffer(id *mesos.OfferID, filters *mesos.Filters) (mesos.Status, error) {
	return d.do(func() {
		if !d.connected {
			return
		}
		d.sendCall(&schedulerpb.Call{
			FrameworkId: d.info.GetId(),
			Type:        schedulerpb.Call_DECLINE.Enum(),
			Decline:     &schedulerpb.Call_Decline{OfferIds: []*mesos.OfferID{id}, Filters: filters},
		})
	})
}

// ReviveOffers removes all filters set by this framework.
func (h *Driver) ReviveOffers() (mesos.Status, error) { return h.d.ReviveOffers() }

func (d *driver) ReviveOffers() (mesos.Status, error) {
	return d.simpleCall(schedulerpb.Call_REVIVE)
}

// SuppressOffers stops offers to this framework until ReviveOffers.
func (h *Driver) SuppressOffers() (mesos.Status, error) { return h.d.SuppressOffers() }

func (d *driver) SuppressOffers() (mesos.Status, error) {
	return d.simpleCall(schedulerpb.Call_SUPPRESS)
}

func (d *driver) simpleCall(t schedulerpb.Call_Type) (mesos.Status, error) {
	return d.do(func() {
		if d.connected {
			d.sendCall(&schedulerpb.Call{FrameworkId: d.info.GetId(), Type: t.Enum()})
		}
	})
}

// KillTask asks for a task to be killed.
func (h *Driver) KillTask(id *mesos.TaskID) (mesos.Status, error) { return h.d.KillTask(id) }

func (d *driver) KillTask(id *mesos.TaskID) (mesos.Status, error) {
	return d.do(func() {
		if d.connected {
			d.sendCall(&schedulerpb.Call{FrameworkId: d.info.GetId(), Type: schedulerpb.Call_KILL.Enum(), Kill: &schedulerpb.Call_Kill{TaskId: id}})
		}
	})
}

// ReconcileTasks asks for the latest state of the given tasks, or of all
// the framework's tasks when statuses is empty.
func (h *Driver) ReconcileTasks(statuses []*mesos.TaskStatus) (mesos.Status, error) {
	return h.d.ReconcileTasks(statuses)
}

func (d *driver) ReconcileTasks(statuses []*mesos.TaskStatus) (mesos.Status, error) {
	rec := &schedulerpb.Call_Reconcile{}
	for _, s := range statuses {
		if s.GetTaskId() == nil {
			return mesos.Status_DRIVER_RUNNING, fmt.Errorf("reconcile: a status without task_id")
		}
		rec.Tasks = append(rec.Tasks, &schedulerpb.Call_Reconcile_Task{TaskId: s.GetTaskId(), SlaveId: s.GetSlaveId()})
	}
	return d.do(func() {
		if d.connected {
			d.sendCall(&schedulerpb.Call{FrameworkId: d.info.GetId(), Type: schedulerpb.Call_RECONCILE.Enum(), Reconcile: rec})
		}
	})
}

// SendFrameworkMessage sends data to an executor: straight to its slave
// when the driver knows the slave's pid from an offer, else via the master.
func (h *Driver) SendFrameworkMessage(executor *mesos.ExecutorID, slave *mesos.SlaveID, data []byte) (mesos.Status, error) {
	return h.d.SendFrameworkMessage(executor, slave, data)
}

func (d *driver) SendFrameworkMessage(executor *mesos.ExecutorID, slave *mesos.SlaveID, data []byte) (mesos.Status, error) {
	return d.do(func() {
		if !d.connected {
			return
		}
		if pid, ok := d.slavePIDs[slave.GetValue()]; ok {
			if err := d.Send(pid, &messages.FrameworkToExecutorMessage{SlaveId: slave, FrameworkId: d.info.GetId(), ExecutorId: executor, Data: data}); err != nil {
				d.log.Error("cannot send framework message", "err", err)
			}
			return
		}
		d.sendCall(&schedulerpb.Call{
			FrameworkId: d.info.GetId(),
			Type:        schedulerpb.Call_MESSAGE.Enum(),
			Message:     &schedulerpb.Call_Message{SlaveId: slave, ExecutorId: executor, Data: data},
		})
	})
}

// AcknowledgeStatusUpdate acknowledges an update when the driver was made
// with ExplicitAcknowledgements.
func (h *Driver) AcknowledgeStatusUpdate(status *mesos.TaskStatus) (mesos.Status, error) {
	return h.d.AcknowledgeStatusUpdate(status)
}

func (d *driver) AcknowledgeStatusUpdate(status *mesos.TaskStatus) (mesos.Status, error) {
	if !d.opts.ExplicitAcknowledgements {
		return mesos.Status_DRIVER_RUNNING, fmt.Errorf("acknowledge: the driver acknowledges implicitly")
	}
	if status.GetTaskId() == nil || status.GetSlaveId() == nil {
		return mesos.Status_DRIVER_RUNNING, fmt.Errorf("acknowledge: status needs task_id and slave_id")
	}
	return d.do(func() {
		if d.connected {
			d.acknowledge(status)
		}
	})
}

// FrameworkID returns the framework id once registered (on the driver's
// process; from elsewhere use it from the Registered callback).
func (h *Driver) FrameworkID() *mesos.FrameworkID { return h.d.FrameworkID() }

// PID returns the driver's process id (valid once started).
func (h *Driver) PID() process.UPID { return h.d.Self() }

func (d *driver) FrameworkID() *mesos.FrameworkID { return d.info.GetId() }

// checkInitialized rejects calls missing required fields at the call
// site, as gogo-based drivers do.
func checkInitialized(m proto.Message) error {
	if _, err := proto.Marshal(m); err != nil {
		return fmt.Errorf("incomplete call: %w", err)
	}
	return nil
}
