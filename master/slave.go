package master

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// slave is the master's record of a registered slave.
type slave struct {
	id        string
	info      *mesos.SlaveInfo
	pid       process.UPID
	version   string
	connected bool
	active    bool

	registered   time.Time
	reregistered time.Time

	total   resources.Resources
	used    resources.Resources // by tasks and executors
	offered resources.Resources

	tasks     map[string]map[string]*mesos.Task         // framework id → task id
	executors map[string]map[string]*mesos.ExecutorInfo // framework id → executor id
	offers    map[string]*offer
	observer  *observer
	// pendingKills are kills asked for while the slave was disconnected
	// (framework id + "/" + task id): sent when it re-registers.
	pendingKills map[string]*mesos.KillPolicy
	// books are the master's sums this slave counts in while admitted
	// (see setTotal and setUsed).
	books *books
	// shutdownScheduled is set while a health-check removal waits for a
	// rate-limit permit; a pong cancels it.
	shutdownScheduled bool
}

func (s *slave) slaveID() *mesos.SlaveID { return &mesos.SlaveID{Value: proto.String(s.id)} }

func (s *slave) addTask(t *mesos.Task) {
	fid := t.GetFrameworkId().GetValue()
	if s.tasks[fid] == nil {
		s.tasks[fid] = make(map[string]*mesos.Task)
	}
	tid := t.GetTaskId().GetValue()
	if _, ok := s.tasks[fid][tid]; !ok && s.books != nil {
		s.books.countTasks(fid, 1)
	}
	s.tasks[fid][tid] = t
	if !mesos.IsTerminal(t.GetState()) {
		s.setUsed(s.used.Plus(resources.FromProto(t.GetResources())))
	}
}

func (s *slave) addExecutor(fid string, e *mesos.ExecutorInfo) bool {
	if s.executors[fid] == nil {
		s.executors[fid] = make(map[string]*mesos.ExecutorInfo)
	}
	eid := e.GetExecutorId().GetValue()
	if _, ok := s.executors[fid][eid]; ok {
		return false
	}
	s.executors[fid][eid] = e
	s.setUsed(s.used.Plus(resources.FromProto(e.GetResources())))
	return true
}

// slaveAuthenticated refuses (ShutdownMessage) a slave that must have
// authenticated and has not.
func (m *master) slaveAuthenticated(from process.UPID) bool {
	if _, ok := m.authenticated[from]; m.cfg.AuthenticateSlaves && !ok {
		m.log.Warn("refusing an unauthenticated slave", "pid", from.String())
		m.send(from, &messages.ShutdownMessage{Message: proto.String("Agent is not authenticated")})
		return false
	}
	return true
}

func (m *master) registerSlave(from process.UPID, msg *messages.RegisterSlaveMessage) {
	if !m.slaveAuthenticated(from) {
		return
	}
	if s := m.slavesByPID[from]; s != nil {
		if s.connected {
			// A retry: answer again.
			m.send(from, &messages.SlaveRegisteredMessage{SlaveId: s.slaveID(), Connection: m.connection()})
			return
		}
		m.removeSlave(s, "a new slave registered at the same address")
	}
	if m.registering[from] {
		return // a retry while the registry admits it
	}
	if m.machineDown(msg.GetSlave(), from) {
		return
	}
	info := proto.Clone(msg.GetSlave()).(*mesos.SlaveInfo)
	info.Id = m.newSlaveID()
	m.registering[from] = true
	// The slave is added, and hears of its id, once the registry holds it.
	m.afterAdmitted(m.registrar.admit(info), func() {
		delete(m.registering, from)
		s := m.addSlave(info, from, msg.GetVersion())
		s.setTotal(m.slaveTotal(info, msg.GetCheckpointedResources()))
		m.allocSlave(s)
		m.agentAdded(s)
		m.metrics.slaveRegistrations.Inc()
		m.log.Info("registered slave", "slave", s.id, "pid", from.String(), "resources", s.total.String())
		m.send(from, &messages.SlaveRegisteredMessage{SlaveId: s.slaveID(), Connection: m.connection()})
	})
}

func (m *master) connection() *messages.MasterSlaveConnection {
	total := m.cfg.SlavePingTimeout.Seconds() * float64(m.cfg.MaxSlavePingTimeouts)
	return &messages.MasterSlaveConnection{TotalPingTimeoutSeconds: proto.Float64(total)}
}

func (m *master) addSlave(info *mesos.SlaveInfo, pid process.UPID, version string) *slave {
	now := m.Clock().Now()
	s := &slave{
		id:         info.GetId().GetValue(),
		info:       info,
		pid:        pid,
		version:    version,
		connected:  true,
		active:     true,
		registered: now,
		total:      resources.FromProto(info.GetResources()),
		tasks:      make(map[string]map[string]*mesos.Task),
		executors:  make(map[string]map[string]*mesos.ExecutorInfo),
		offers:     make(map[string]*offer),
	}
	if old := m.slaves[s.id]; old != nil {
		old.leaveBooks()
	}
	m.slaves[s.id] = s
	s.enterBooks(&m.books)
	m.slavesByPID[pid] = s
	m.Link(pid)
	m.startObserver(s)
	return s
}

// allocSlave hands s to the allocator with what is in use on it.
func (m *master) allocSlave(s *slave) {
	used := make(map[string]resources.Resources)
	for _, fid := range sortedKeys(s.tasks) {
		for _, tid := range sortedKeys(s.tasks[fid]) {
			if t := s.tasks[fid][tid]; !mesos.IsTerminal(t.GetState()) {
				used[fid] = used[fid].Plus(resources.FromProto(t.GetResources()))
			}
		}
	}
	for _, fid := range sortedKeys(s.executors) {
		for _, eid := range sortedKeys(s.executors[fid]) {
			used[fid] = used[fid].Plus(resources.FromProto(s.executors[fid][eid].GetResources()))
		}
	}
	m.alloc.AddSlave(s.id, s.info.GetHostname(), s.total, used)
}

func (m *master) reregisterSlave(from process.UPID, msg *messages.ReregisterSlaveMessage) {
	if !m.slaveAuthenticated(from) {
		return
	}
	info := msg.GetSlave()
	id := info.GetId().GetValue()
	if id == "" {
		m.log.Warn("re-registration without a slave id", "from", from.String())
		return
	}
	if m.removedSlaves[id] {
		m.send(from, &messages.ShutdownMessage{Message: proto.String("Agent attempted to re-register after removal")})
		return
	}
	if m.machineDown(info, from) {
		return
	}
	if reason := m.unknownSlaveID(id); reason != "" {
		m.log.Warn("refusing re-registration", "slave", id, "from", from.String(), "reason", reason)
		m.send(from, &messages.ShutdownMessage{Message: proto.String("Agent attempted to re-register with an unknown id: " + reason)})
		return
	}
	if ri := m.recovered[id]; ri != nil {
		if why := claimRefused(ri, info, from); why != "" {
			m.log.Warn("refusing re-registration of a recovered slave", "slave", id, "from", from.String(), "reason", why)
			m.send(from, &messages.ShutdownMessage{Message: proto.String("Agent attempted to re-register with different IP / hostname")})
			return
		}
	}
	m.metrics.slaveReregistrations.Inc()
	delete(m.recovered, id)
	admitted := m.registrar.readmit(info)
	if s := m.slaves[id]; s != nil {
		if s.info.GetHostname() != info.GetHostname() || s.pid.Addr.Addr() != from.Addr.Addr() {
			m.send(from, &messages.ShutdownMessage{Message: proto.String("Agent attempted to re-register with different IP / hostname")})
			return
		}
		delete(m.slavesByPID, s.pid)
		s.pid = from
		m.slavesByPID[from] = s
		s.reregistered = m.Clock().Now()
		m.Link(from)
		reconciliations, kills := m.reconcileSlave(s, msg)
		if !s.connected || !s.active {
			s.connected, s.active = true, true
			m.alloc.ActivateSlave(s.id)
		}
		if s.observer != nil {
			s.observer.reconnected()
		}
		m.log.Info("slave re-registered", "slave", s.id, "pid", from.String())
		m.afterAdmitted(admitted, func() {
			m.send(from, &messages.SlaveReregisteredMessage{SlaveId: s.slaveID(), Reconciliations: reconciliations, Connection: m.connection()})
			// Kills asked for while it was away, now that it is back.
			for _, k := range kills {
				m.send(from, k)
			}
			m.reconcileCheckpointed(s, msg.GetCheckpointedResources())
		})
		m.updateSlaveFrameworks(s)
		return
	}
	// A slave this master does not know (e.g. after master failover):
	// readmit it with its tasks and executors.
	// Tasks and executors of frameworks this master removed are not
	// taken back: the slave is told to shut those frameworks down.
	s := m.addSlave(proto.Clone(info).(*mesos.SlaveInfo), from, msg.GetVersion())
	s.setTotal(m.slaveTotal(info, msg.GetCheckpointedResources()))
	removed := map[string]bool{}
	for _, e := range msg.GetExecutorInfos() {
		fid := e.GetFrameworkId().GetValue()
		if m.removedFrameworks[fid] {
			removed[fid] = true
			continue
		}
		s.addExecutor(fid, e)
		if f := m.frameworks[fid]; f != nil {
			if f.executors[s.id] == nil {
				f.executors[s.id] = make(map[string]*mesos.ExecutorInfo)
			}
			f.executors[s.id][e.GetExecutorId().GetValue()] = e
		}
	}
	for _, t := range msg.GetTasks() {
		if fid := t.GetFrameworkId().GetValue(); m.removedFrameworks[fid] {
			removed[fid] = true
			continue
		}
		t = proto.Clone(t).(*mesos.Task)
		s.addTask(t)
		if f := m.frameworks[t.GetFrameworkId().GetValue()]; f != nil {
			f.tasks[t.GetTaskId().GetValue()] = t
		}
	}
	m.allocSlave(s)
	m.agentAdded(s)
	m.log.Info("readmitted slave", "slave", s.id, "pid", from.String(), "tasks", len(msg.GetTasks()))
	m.afterAdmitted(admitted, func() {
		m.send(from, &messages.SlaveReregisteredMessage{SlaveId: s.slaveID(), Connection: m.connection()})
		for _, fid := range sortedKeys(removed) {
			m.send(from, &messages.ShutdownFrameworkMessage{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}})
		}
	})
	m.updateSlaveFrameworks(s)
}

// claimRefused says why a re-registration may not take a slave the
// registry holds (recovered: not back yet with this master), or "": the
// hostname must be the registry's, and when that hostname is an IP
// address, the message must come from it. The registry keeps no pid, so
// this is what stops a peer elsewhere from claiming a recovered slave's
// id (and its tasks) before the slave itself is back.
func claimRefused(recorded, claimed *mesos.SlaveInfo, from process.UPID) string {
	if recorded.GetHostname() != claimed.GetHostname() {
		return fmt.Sprintf("hostname %q, the registry has %q", claimed.GetHostname(), recorded.GetHostname())
	}
	if ip, err := netip.ParseAddr(recorded.GetHostname()); err == nil && ip.Unmap() != from.Addr.Addr().Unmap() {
		return fmt.Sprintf("sent from %s, the registry's slave is at %s", from.Addr.Addr(), ip)
	}
	return ""
}

// unknownSlaveID says why a re-registering slave's id is refused, or ""
// when it is acceptable: ids are made of safe characters only (they name
// directories on the slave), and the master or its registry must know
// them. Without a durable registry, an id from another master (one that
// failed over) is readmitted, as Mesos does with a non-strict registry
// (--registry_strict refuses it).
func (m *master) unknownSlaveID(id string) string {
	if len(id) > 256 || id == "." || id == ".." {
		return "malformed id"
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "id holds characters other than letters, digits, '-', '_' and '.'"
		}
	}
	if m.slaves[id] != nil || m.recovered[id] != nil || m.registrar.has(id) {
		return ""
	}
	if strings.HasPrefix(id, m.id+"-") {
		return "this master never issued the id"
	}
	if m.cfg.Registry != nil || m.cfg.RegistryStrict {
		return "the registry does not hold the id"
	}
	return ""
}

// updateSlaveFrameworks tells a (re)registered slave the current pids of
// the frameworks that have tasks there.
func (m *master) updateSlaveFrameworks(s *slave) {
	for _, fid := range sortedKeys(s.tasks) {
		if f := m.frameworks[fid]; f != nil {
			m.send(s.pid, &messages.UpdateFrameworkMessage{FrameworkId: f.frameworkID(), Pid: proto.String(f.pid.String())})
		}
	}
}

// reconcileSlave compares what a re-registering slave reports with what the
// master holds: tasks the slave does not know are listed for it to report
// lost; tasks of removed frameworks are shut down.
func (m *master) reconcileSlave(s *slave, msg *messages.ReregisterSlaveMessage) (out []*messages.ReconcileTasksMessage, kills []*messages.KillTaskMessage) {
	reported := make(map[string]bool) // framework id + "/" + task id: task ids are per framework
	for _, t := range msg.GetTasks() {
		fid := t.GetFrameworkId().GetValue()
		key := fid + "/" + t.GetTaskId().GetValue()
		reported[key] = true
		if policy, ok := s.pendingKills[key]; ok && !m.removedFrameworks[fid] {
			kills = append(kills, &messages.KillTaskMessage{FrameworkId: t.GetFrameworkId(), TaskId: t.GetTaskId(), KillPolicy: policy})
		}
		if m.removedFrameworks[fid] {
			m.send(s.pid, &messages.ShutdownFrameworkMessage{FrameworkId: t.GetFrameworkId()})
		}
	}
	s.pendingKills = nil
	for _, fid := range sortedKeys(s.tasks) {
		var statuses []*mesos.TaskStatus
		for _, tid := range sortedKeys(s.tasks[fid]) {
			if t := s.tasks[fid][tid]; !reported[fid+"/"+tid] && !mesos.IsTerminal(t.GetState()) {
				statuses = append(statuses, &mesos.TaskStatus{TaskId: t.GetTaskId(), State: t.State, SlaveId: s.slaveID()})
			}
		}
		if len(statuses) > 0 {
			out = append(out, &messages.ReconcileTasksMessage{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, Statuses: statuses})
		}
	}
	return out, kills
}

func (m *master) unregisterSlave(from process.UPID, msg *messages.UnregisterSlaveMessage) {
	s := m.slaves[msg.GetSlaveId().GetValue()]
	if s == nil || s.pid != from {
		return
	}
	m.removeSlave(s, "unregistered")
}

// disconnectSlave handles a broken link to a slave: no more offers from
// it; the health checks decide whether it is removed.
func (m *master) disconnectSlave(s *slave) {
	if !s.connected {
		return // a restarted slave keeps its pid: duplicate exits happen
	}
	m.log.Info("slave disconnected", "slave", s.id, "pid", s.pid.String())
	s.connected = false
	if s.active {
		s.active = false
		m.alloc.DeactivateSlave(s.id)
	}
	if s.observer != nil {
		s.observer.disconnected()
	}
	m.rescindSlaveOffers(s)
}

// removeSlave removes s: its tasks become TASK_LOST, frameworks are told
// the slave is lost, offers on it are rescinded, and its id is never
// accepted again.
func (m *master) removeSlave(s *slave, reason string) {
	m.log.Info("removing slave", "slave", s.id, "pid", s.pid.String(), "reason", reason)
	m.rescindSlaveOffers(s)
	for _, fid := range sortedKeys(s.tasks) {
		f := m.frameworks[fid]
		for _, tid := range sortedKeys(s.tasks[fid]) {
			t := s.tasks[fid][tid]
			if !mesos.IsTerminal(t.GetState()) {
				t.State = mesos.TaskState_TASK_LOST.Enum()
				m.metrics.countTaskState(mesos.TaskState_TASK_LOST)
				if f != nil {
					u := m.masterUpdate(f, t.GetTaskId(), s.slaveID(), t.GetExecutorId(), mesos.TaskState_TASK_LOST,
						mesos.TaskStatus_REASON_SLAVE_REMOVED, "Slave "+s.info.GetHostname()+" removed: "+reason, nil)
					t.Statuses = append(t.Statuses, u.GetStatus())
					m.taskUpdated(t, u.GetStatus())
					m.forwardUpdate(f, u, process.UPID{})
				}
			}
			if f != nil {
				delete(f.tasks, tid)
				f.addCompleted(t)
			}
		}
	}
	for fid := range s.executors {
		if f := m.frameworks[fid]; f != nil {
			delete(f.executors, s.id)
		}
	}
	for _, f := range m.sortedFrameworks() {
		if f.connected {
			m.send(f.pid, &messages.LostSlaveMessage{SlaveId: s.slaveID()})
		}
	}
	if s.observer != nil {
		m.Runtime().Terminate(s.observer.Self())
	}
	delete(m.slaves, s.id)
	s.leaveBooks()
	if m.slavesByPID[s.pid] == s {
		delete(m.slavesByPID, s.pid)
	}
	m.removedSlaves[s.id] = true
	m.registrar.remove(s.id)
	m.metrics.slaveRemovals.Inc()
	m.alloc.RemoveSlave(s.id)
	m.agentRemoved(s.id)
}

// observer is the `slave-observer(N)` process that pings one slave.
type observer struct {
	process.Process
	m       *master // only touched through dispatch to the master
	master  process.UPID
	slaveID string
	slave   process.UPID
	timeout time.Duration
	max     int

	connected bool
	pinged    bool // a ping is outstanding
	misses    int
	timer     *process.Timer
}

func (m *master) startObserver(s *slave) {
	o := &observer{
		m:         m,
		master:    m.Self(),
		slaveID:   s.id,
		slave:     s.pid,
		timeout:   m.cfg.SlavePingTimeout,
		max:       m.cfg.MaxSlavePingTimeouts,
		connected: true,
	}
	rt := m.Runtime()
	if _, err := rt.Spawn(o, rt.GenerateID("slave-observer")); err != nil {
		m.log.Error("cannot start slave observer", "slave", s.id, "err", err)
		return
	}
	s.observer = o
}

func (o *observer) Initialize() {
	process.Install(&o.Process, func(from process.UPID, _ *messages.PongSlaveMessage) {
		o.pinged = false
		o.misses = 0
		m, sid := o.m, o.slaveID
		process.Run(o.Runtime(), o.master, func() { m.slaveHealthy(sid) })
	})
	o.ping()
}

// reconnected is called by the master (via dispatch) when the slave
// re-registers: pings say connected again and point at its new pid.
// disconnected makes the pings say the master holds the slave
// disconnected, so that a slave that did not notice (its own link to the
// master is fine) registers again.
func (o *observer) disconnected() {
	process.Run(o.Runtime(), o.Self(), func() { o.connected = false })
}

func (o *observer) reconnected() {
	s := o.m.slaves[o.slaveID]
	if s == nil {
		return
	}
	pid := s.pid
	process.Run(o.Runtime(), o.Self(), func() {
		o.slave = pid
		o.connected = true
		// A re-registered slave starts with a clean record: pings it
		// missed before do not count against it.
		o.pinged = false
		o.misses = 0
	})
}

func (o *observer) ping() {
	if o.pinged {
		o.misses++
		if o.misses >= o.max {
			m, sid := o.m, o.slaveID
			process.Run(o.Runtime(), o.master, func() { m.slaveUnhealthy(sid) })
		}
	}
	if err := o.Send(o.slave, &messages.PingSlaveMessage{Connected: proto.Bool(o.connected)}); err != nil {
		o.Runtime().Logger().Error("cannot ping slave", "slave", o.slaveID, "err", err)
	}
	o.pinged = true
	o.timer = o.Delay(o.timeout, o.ping)
}

func (o *observer) Finalize() { o.Clock().Cancel(o.timer) }

// slaveUnhealthy schedules the removal of a slave that missed too many
// pings, subject to the removal rate limit.
func (m *master) slaveUnhealthy(id string) {
	s := m.slaves[id]
	if s == nil || s.shutdownScheduled {
		return
	}
	s.shutdownScheduled = true
	m.metrics.slaveShutdownsScheduled.Inc()
	m.removals.acquire(m, func() {
		s := m.slaves[id]
		if s == nil || !s.shutdownScheduled {
			return
		}
		m.metrics.slaveShutdownsCompleted.Inc()
		m.send(s.pid, &messages.ShutdownMessage{Message: proto.String("health check timed out")})
		m.removeSlave(s, "health check timed out")
	})
}

// slaveHealthy cancels a scheduled removal after a pong.
func (m *master) slaveHealthy(id string) {
	if s := m.slaves[id]; s != nil && s.shutdownScheduled {
		s.shutdownScheduled = false
		m.metrics.slaveShutdownsCanceled.Inc()
	}
}

// rateLimiter hands out permits at most limit.Permits per limit.Per, on
// the master's clock; a nil limiter grants at once.
type rateLimiter struct {
	limit   RateLimit
	next    time.Time // when the next permit is free
	waiting int
}

func (r *rateLimiter) acquire(m *master, fn func()) {
	if r == nil {
		fn()
		return
	}
	now := m.Clock().Now()
	interval := r.limit.Per / time.Duration(r.limit.Permits)
	at := r.next
	if at.Before(now) {
		at = now
	}
	r.next = at.Add(interval)
	if d := at.Sub(now); d > 0 {
		m.Delay(d, fn)
		return
	}
	fn()
}
