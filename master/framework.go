package master

import (
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// framework is the master's record of a registered framework.
type framework struct {
	id        string
	info      *mesos.FrameworkInfo
	pid       process.UPID
	connected bool
	active    bool

	registered   time.Time
	reregistered time.Time
	unregistered time.Time
	// generation counts (re)subscriptions, so a failover timer started
	// for one disconnection does not remove a framework that came back.
	generation int

	tasks     map[string]*mesos.Task // by task id
	completed []*mesos.Task          // terminal and acknowledged, newest last, bounded
	offers    map[string]*offer
	// executors running for this framework: slave id → executor id → info
	executors map[string]map[string]*mesos.ExecutorInfo
}

const maxCompletedTasks = 1000
const maxCompletedFrameworks = 50

func (f *framework) frameworkID() *mesos.FrameworkID {
	return &mesos.FrameworkID{Value: proto.String(f.id)}
}

func (f *framework) role() string { return roleOf(f.info) }

// roleOf is a framework's role: "*" when it names none.
func roleOf(info *mesos.FrameworkInfo) string {
	if r := info.GetRole(); r != "" {
		return r
	}
	return "*"
}

// used returns the resources of the framework's live tasks and executors.
func (f *framework) used() resources.Resources {
	var total resources.Resources
	for _, id := range sortedKeys(f.tasks) {
		if t := f.tasks[id]; !mesos.IsTerminal(t.GetState()) {
			total = total.Plus(resources.FromProto(t.GetResources()))
		}
	}
	for _, sid := range sortedKeys(f.executors) {
		for _, eid := range sortedKeys(f.executors[sid]) {
			total = total.Plus(resources.FromProto(f.executors[sid][eid].GetResources()))
		}
	}
	return total
}

// subscribe handles a (re)subscription from pid: the legacy
// Register/ReregisterFrameworkMessage and Call SUBSCRIBE all land here.
func (m *master) subscribe(from process.UPID, info *mesos.FrameworkInfo, force bool) {
	if err := m.validateFrameworkInfo(info); err != "" {
		m.frameworkError(from, err)
		return
	}
	if err := m.frameworkAuthError(from, info.GetPrincipal()); err != "" {
		m.frameworkError(from, err)
		return
	}
	if authed, ok := m.authenticated[from]; ok && info.GetPrincipal() == "" {
		// An authenticated framework that names no principal has the
		// one it authenticated as.
		info = proto.Clone(info).(*mesos.FrameworkInfo)
		info.Principal = proto.String(authed)
	}
	if err := m.frameworkAuthzError(info); err != "" {
		m.frameworkError(from, err)
		return
	}
	id := info.GetId().GetValue()
	if id == "" {
		// A retry from a pid that already registered gets its id again.
		for _, f := range m.sortedFrameworks() {
			if f.pid == from && f.connected {
				m.send(from, &messages.FrameworkRegisteredMessage{FrameworkId: f.frameworkID(), MasterInfo: m.info})
				return
			}
		}
		info = proto.Clone(info).(*mesos.FrameworkInfo)
		info.Id = m.newFrameworkID()
		f := m.addFramework(info, from)
		m.log.Info("registered framework", "framework", f.id, "name", info.GetName(), "pid", from.String())
		m.send(from, &messages.FrameworkRegisteredMessage{FrameworkId: f.frameworkID(), MasterInfo: m.info})
		return
	}
	if m.removedFrameworks[id] {
		m.frameworkError(from, "Framework has been removed")
		return
	}
	f, known := m.frameworks[id]
	if !known {
		// A framework this master has not seen (e.g. after master
		// failover): take it in with the id it already has.
		f = m.addFramework(proto.Clone(info).(*mesos.FrameworkInfo), from)
		m.log.Info("re-registered unknown framework", "framework", id, "pid", from.String())
		m.send(from, &messages.FrameworkRegisteredMessage{FrameworkId: f.frameworkID(), MasterInfo: m.info})
		m.broadcastFrameworkPID(f)
		return
	}
	// With authentication, only the framework's own principal may take
	// it over (a failover names the framework by its id alone).
	if m.cfg.Authenticate && info.GetPrincipal() != f.info.GetPrincipal() {
		m.frameworkError(from, "Framework principal '"+info.GetPrincipal()+"' does not match the principal of framework "+id)
		return
	}
	// An HTTP framework resubscribing on a new stream after its old one
	// broke is a failover too.
	if m.httpSchedulers[from] && !f.connected {
		force = true
	}
	switch {
	case f.pid != from && !force:
		m.frameworkError(from, "Framework failed over")
		return
	case f.pid != from:
		// Failover to a new scheduler instance.
		if f.connected {
			m.frameworkError(f.pid, "Framework failed over")
		}
		m.log.Info("framework failed over", "framework", id, "old", f.pid.String(), "new", from.String())
		m.rescindAllOffers(f)
		m.retrackFramework(f, from, mergeFrameworkInfo(f.info, info))
		m.reconnectFramework(f)
		m.send(from, &messages.FrameworkRegisteredMessage{FrameworkId: f.frameworkID(), MasterInfo: m.info})
	default:
		m.log.Info("framework re-registered", "framework", id, "pid", from.String())
		m.rescindAllOffers(f)
		m.retrackFramework(f, from, mergeFrameworkInfo(f.info, info))
		m.reconnectFramework(f)
		m.send(from, &messages.FrameworkReregisteredMessage{FrameworkId: f.frameworkID(), MasterInfo: m.info})
	}
	m.broadcastFrameworkPID(f)
}

// validateFrameworkInfo returns why info is refused, or "".
func (m *master) validateFrameworkInfo(info *mesos.FrameworkInfo) string {
	role := info.GetRole()
	if role == "" {
		role = "*"
	}
	if err := validRole(role); err != "" {
		return err
	}
	if len(m.cfg.Roles) > 0 && role != "*" {
		ok := false
		for _, r := range m.cfg.Roles {
			if r == role {
				ok = true
			}
		}
		if !ok {
			return "Role '" + role + "' is not present in the master's --roles"
		}
	}
	if t := info.GetFailoverTimeout(); t < 0 || t > float64(1<<62)/1e9 {
		return "Illegal failover_timeout"
	}
	return ""
}

// validRole checks Mesos's role name rules.
func validRole(role string) string {
	switch {
	case role == "":
		return "Empty role name is invalid"
	case role == "." || role == "..":
		return "Role name '" + role + "' is invalid"
	case role[0] == '-':
		return "Role name '" + role + "' cannot start with '-'"
	}
	for _, c := range role {
		if c <= ' ' || c == '/' || c == 0x7f {
			return "Role name '" + role + "' contains an invalid character"
		}
	}
	return ""
}

func mergeFrameworkInfo(old, new *mesos.FrameworkInfo) *mesos.FrameworkInfo {
	merged := proto.Clone(new).(*mesos.FrameworkInfo)
	merged.Id = old.Id
	return merged
}

func (m *master) addFramework(info *mesos.FrameworkInfo, pid process.UPID) *framework {
	now := m.Clock().Now()
	f := &framework{
		id:         info.GetId().GetValue(),
		info:       info,
		pid:        pid,
		connected:  true,
		active:     true,
		registered: now,
		tasks:      make(map[string]*mesos.Task),
		offers:     make(map[string]*offer),
		executors:  make(map[string]map[string]*mesos.ExecutorInfo),
	}
	m.frameworks[f.id] = f
	m.trackFramework(f)
	m.Link(pid)
	// Tasks that re-registered slaves already reported for it.
	used := make(map[string]resources.Resources)
	for _, s := range m.sortedSlaves() {
		if ts := s.tasks[f.id]; ts != nil {
			for _, tid := range sortedKeys(ts) {
				t := ts[tid]
				f.tasks[tid] = t
				used[s.id] = used[s.id].Plus(resources.FromProto(t.GetResources()))
			}
		}
		if es := s.executors[f.id]; es != nil {
			f.executors[s.id] = es
		}
	}
	m.alloc.AddFramework(f.id, f.role(), used, m.Clock().Now())
	if takesRevocable(f.info) {
		m.alloc.UpdateFramework(f.id, true)
	}
	m.frameworkAdded(f)
	return f
}

func (m *master) reconnectFramework(f *framework) {
	f.connected = true
	f.active = true
	f.generation++
	f.reregistered = m.Clock().Now()
	m.Link(f.pid)
	m.alloc.UpdateFramework(f.id, takesRevocable(f.info))
	m.alloc.ActivateFramework(f.id)
}

// broadcastFrameworkPID tells every slave the framework's current pid.
func (m *master) broadcastFrameworkPID(f *framework) {
	for _, s := range m.sortedSlaves() {
		if s.connected {
			m.send(s.pid, &messages.UpdateFrameworkMessage{FrameworkId: f.frameworkID(), Pid: proto.String(f.pid.String())})
		}
	}
}

func (m *master) frameworkError(to process.UPID, msg string) {
	m.log.Info("refusing framework", "pid", to.String(), "reason", msg)
	m.send(to, &messages.FrameworkErrorMessage{Message: proto.String(msg)})
}

// frameworkFrom returns the framework with id if from is its current pid.
func (m *master) frameworkFrom(from process.UPID, id string) *framework {
	f := m.frameworks[id]
	if f == nil {
		m.log.Debug("message from unknown framework", "framework", id, "from", from.String())
		return nil
	}
	if f.pid != from {
		m.log.Debug("ignoring message from a stale framework pid", "framework", id, "from", from.String(), "pid", f.pid.String())
		return nil
	}
	return f
}

// deactivateFramework stops offers to f and takes back its offers.
func (m *master) deactivateFramework(f *framework) {
	if !f.active {
		return
	}
	f.active = false
	m.alloc.DeactivateFramework(f.id)
	m.rescindAllOffers(f)
}

// disconnectFramework handles a broken link to f's scheduler: offers go
// back, and the framework is removed unless it resubscribes within its
// failover timeout.
func (m *master) disconnectFramework(f *framework) {
	m.log.Info("framework disconnected", "framework", f.id, "pid", f.pid.String())
	f.connected = false
	m.deactivateFramework(f)
	gen := f.generation
	timeout := time.Duration(f.info.GetFailoverTimeout() * float64(time.Second))
	m.Delay(timeout, func() {
		if g, ok := m.frameworks[f.id]; ok && g == f && !f.connected && f.generation == gen {
			m.log.Info("framework failover timeout", "framework", f.id, "timeout", timeout)
			m.removeFramework(f)
		}
	})
}

// removeFramework tears f down: its executors and tasks are shut down on
// every slave, its offers withdrawn, and its id is never accepted again.
func (m *master) removeFramework(f *framework) {
	m.log.Info("removing framework", "framework", f.id)
	m.frameworkRemoved(f)
	if m.httpSchedulers[f.pid] {
		// An HTTP framework's stream ends with it.
		delete(m.httpSchedulers, f.pid)
		m.Runtime().TerminateAfterQueued(f.pid)
	}
	m.deactivateFramework(f)
	for _, s := range m.sortedSlaves() {
		if len(s.tasks[f.id]) > 0 || len(s.executors[f.id]) > 0 {
			m.send(s.pid, &messages.ShutdownFrameworkMessage{FrameworkId: f.frameworkID()})
		}
		for _, tid := range sortedKeys(s.tasks[f.id]) {
			// A terminal task (its update not yet acknowledged) gave
			// its resources back when it ended.
			if t := s.tasks[f.id][tid]; !mesos.IsTerminal(t.GetState()) || mutationFreeTerminalTwice {
				s.setUsed(s.used.Minus(resources.FromProto(t.GetResources())))
			}
		}
		for _, eid := range sortedKeys(s.executors[f.id]) {
			s.setUsed(s.used.Minus(resources.FromProto(s.executors[f.id][eid].GetResources())))
		}
		s.forgetFramework(f.id)
		delete(s.executors, f.id)
	}
	for _, id := range sortedKeys(f.tasks) {
		t := f.tasks[id]
		if !mesos.IsTerminal(t.GetState()) {
			t.State = mesos.TaskState_TASK_KILLED.Enum()
			m.metrics.countTaskState(mesos.TaskState_TASK_KILLED)
		}
		f.addCompleted(t)
	}
	f.tasks = map[string]*mesos.Task{}
	f.connected, f.active = false, false
	f.unregistered = m.Clock().Now()
	delete(m.frameworks, f.id)
	m.untrackFramework(f.pid, f.info.GetPrincipal())
	m.removedFrameworks[f.id] = true
	m.completed = append(m.completed, f)
	if len(m.completed) > maxCompletedFrameworks {
		m.completed = m.completed[1:]
	}
	m.alloc.RemoveFramework(f.id)
}

func (f *framework) addCompleted(t *mesos.Task) {
	f.completed = append(f.completed, t)
	if len(f.completed) > maxCompletedTasks {
		f.completed = f.completed[1:]
	}
}
