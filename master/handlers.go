package master

import (
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
)

func (m *master) installHandlers() {
	c := m.metrics
	handle(m, c.registerFramework.Inc, func(from process.UPID, msg *messages.RegisterFrameworkMessage) {
		info := msg.GetFramework()
		if info.GetId().GetValue() != "" {
			// Old drivers register with an id after failover.
			m.subscribe(from, info, true)
			return
		}
		m.subscribe(from, info, false)
	})
	handle(m, c.reregisterFramework.Inc, func(from process.UPID, msg *messages.ReregisterFrameworkMessage) {
		m.subscribe(from, msg.GetFramework(), msg.GetFailover())
	})
	handle(m, c.unregisterFramework.Inc, func(from process.UPID, msg *messages.UnregisterFrameworkMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.removeFramework(f)
		}
	})
	handle(m, c.deactivateFramework.Inc, func(from process.UPID, msg *messages.DeactivateFrameworkMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.deactivateFramework(f)
		}
	})
	handle(m, c.resourceRequest.Inc, func(process.UPID, *messages.ResourceRequestMessage) {
		// The hierarchical allocator ignores requests, as Mesos's does.
	})
	handle(m, c.launchTasks.Inc, func(from process.UPID, msg *messages.LaunchTasksMessage) {
		f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue())
		if f == nil {
			return
		}
		if len(msg.GetTasks()) == 0 {
			m.decline(f, msg.GetOfferIds(), msg.GetFilters())
			return
		}
		op := &mesos.Offer_Operation{
			Type:   mesos.Offer_Operation_LAUNCH.Enum(),
			Launch: &mesos.Offer_Operation_Launch{TaskInfos: msg.GetTasks()},
		}
		m.accept(f, msg.GetOfferIds(), []*mesos.Offer_Operation{op}, msg.GetFilters())
	})
	handle(m, c.reviveOffers.Inc, func(from process.UPID, msg *messages.ReviveOffersMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.alloc.ReviveOffers(f.id)
		}
	})
	handle(m, c.killTask.Inc, func(from process.UPID, msg *messages.KillTaskMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.kill(f, msg.GetTaskId(), nil, msg.GetKillPolicy())
		}
	})
	handle(m, c.statusUpdateAck.Inc, func(from process.UPID, msg *messages.StatusUpdateAcknowledgementMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.acknowledge(f, msg.GetSlaveId(), msg.GetTaskId(), msg.GetUuid())
		}
	})
	handle(m, c.frameworkToExecutor.Inc, func(from process.UPID, msg *messages.FrameworkToExecutorMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.frameworkToExecutor(f, msg)
		}
	})
	handle(m, c.reconcileTasks.Inc, func(from process.UPID, msg *messages.ReconcileTasksMessage) {
		if f := m.frameworkFrom(from, msg.GetFrameworkId().GetValue()); f != nil {
			m.reconcile(f, msg.GetStatuses())
		}
	})
	handle(m, nil, m.call)

	handle(m, c.authenticate.Inc, m.authenticate)
	handle(m, c.registerSlave.Inc, whenRecovered(m, m.registerSlave))
	handle(m, c.reregisterSlave.Inc, whenRecovered(m, m.reregisterSlave))
	handle(m, c.unregisterSlave.Inc, m.unregisterSlave)
	handle(m, c.statusUpdate.Inc, m.statusUpdate)
	handle(m, nil, m.executorToFramework)
	handle(m, c.exitedExecutor.Inc, m.exitedExecutor)
	handle(m, nil, m.updateSlave)
}

// call handles mesos.scheduler.Call, the message the C++ driver (0.25 and
// later) sends for everything.
func (m *master) call(from process.UPID, call *schedulerpb.Call) {
	c := m.metrics
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		c.registerFramework.Inc()
		sub := call.GetSubscribe()
		m.subscribe(from, sub.GetFrameworkInfo(), sub.GetForce())
		return
	}
	f := m.frameworkFrom(from, call.GetFrameworkId().GetValue())
	if f == nil {
		return
	}
	switch call.GetType() {
	case schedulerpb.Call_TEARDOWN:
		c.unregisterFramework.Inc()
		m.removeFramework(f)
	case schedulerpb.Call_ACCEPT:
		c.launchTasks.Inc()
		a := call.GetAccept()
		m.accept(f, a.GetOfferIds(), a.GetOperations(), a.GetFilters())
	case schedulerpb.Call_DECLINE:
		c.launchTasks.Inc()
		d := call.GetDecline()
		m.decline(f, d.GetOfferIds(), d.GetFilters())
	case schedulerpb.Call_REVIVE:
		c.reviveOffers.Inc()
		m.alloc.ReviveOffers(f.id)
	case schedulerpb.Call_SUPPRESS:
		m.alloc.SuppressOffers(f.id)
	case schedulerpb.Call_KILL:
		c.killTask.Inc()
		k := call.GetKill()
		m.kill(f, k.GetTaskId(), k.GetSlaveId(), k.GetKillPolicy())
	case schedulerpb.Call_SHUTDOWN:
		sh := call.GetShutdown()
		if s := m.slaves[sh.GetSlaveId().GetValue()]; s != nil && s.connected {
			m.send(s.pid, &messages.ShutdownExecutorMessage{ExecutorId: sh.GetExecutorId(), FrameworkId: f.frameworkID()})
		}
	case schedulerpb.Call_ACKNOWLEDGE:
		c.statusUpdateAck.Inc()
		a := call.GetAcknowledge()
		m.acknowledge(f, a.GetSlaveId(), a.GetTaskId(), a.GetUuid())
	case schedulerpb.Call_RECONCILE:
		c.reconcileTasks.Inc()
		var statuses []*mesos.TaskStatus
		for _, t := range call.GetReconcile().GetTasks() {
			statuses = append(statuses, &mesos.TaskStatus{TaskId: t.GetTaskId(), SlaveId: t.GetSlaveId(), State: mesos.TaskState_TASK_STAGING.Enum()})
		}
		m.reconcile(f, statuses)
	case schedulerpb.Call_MESSAGE:
		c.frameworkToExecutor.Inc()
		msg := call.GetMessage()
		m.frameworkToExecutor(f, &messages.FrameworkToExecutorMessage{
			SlaveId: msg.GetSlaveId(), FrameworkId: f.frameworkID(), ExecutorId: msg.GetExecutorId(), Data: msg.GetData(),
		})
	case schedulerpb.Call_ACCEPT_INVERSE_OFFERS:
		a := call.GetAcceptInverseOffers()
		m.answerInverseOffers(f, a.GetInverseOfferIds(), a.GetFilters(), true)
	case schedulerpb.Call_DECLINE_INVERSE_OFFERS:
		d := call.GetDeclineInverseOffers()
		m.answerInverseOffers(f, d.GetInverseOfferIds(), d.GetFilters(), false)
	case schedulerpb.Call_REQUEST:
		c.resourceRequest.Inc()
	default:
		m.log.Warn("unsupported scheduler call dropped", "type", call.GetType().String(), "framework", f.id)
	}
}

// Exited handles a broken link: a framework's scheduler (behind the
// messages its rate limit holds) or a slave.
func (m *master) Exited(pid process.UPID) {
	m.throttleExited(pid, func() { m.exited(pid) })
}

func (m *master) exited(pid process.UPID) {
	for _, f := range m.sortedFrameworks() {
		if f.pid == pid && f.connected {
			m.disconnectFramework(f)
		}
	}
	if s := m.slavesByPID[pid]; s != nil {
		m.disconnectSlave(s)
	}
	delete(m.httpSchedulers, pid) // an HTTP subscription's stream ended
	delete(m.authenticated, pid)  // a reconnecting peer authenticates again
}

func sortStrings(s []string) { sort.Strings(s) }

// whenRecovered holds a slave's (re-)registration until the registry is
// recovered (the registry's slaves must be known first): the last one of
// each slave is handled as soon as it is, instead of waiting for the
// slave's next retry, which backs off further each time (thousands of
// slaves re-registering with a new leader would otherwise come back in
// waves over tens of seconds).
func whenRecovered[T proto.Message](m *master, handler func(from process.UPID, msg T)) func(process.UPID, T) {
	return func(from process.UPID, msg T) {
		if m.registryReady {
			handler(from, msg)
			return
		}
		if m.parked == nil {
			m.parked = make(map[process.UPID]func())
		}
		if _, ok := m.parked[from]; !ok && len(m.parked) >= maxParked {
			m.log.Warn("dropping a slave's registration until the registry is recovered", "from", from.String(), "held", len(m.parked))
			return
		}
		m.parked[from] = func() { handler(from, msg) }
	}
}

// maxParked bounds the registrations held while the registry is read.
const maxParked = 100_000

// runParked handles the registrations held while the registry was read,
// in pid order.
func (m *master) runParked() {
	parked := m.parked
	m.parked = nil
	if len(parked) == 0 {
		return
	}
	m.log.Info("handling the registrations that came while the registry was read", "slaves", len(parked))
	pids := make([]process.UPID, 0, len(parked))
	for pid := range parked {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i].String() < pids[j].String() })
	for _, pid := range pids {
		parked[pid]()
	}
}
