package master

import (
	"cmp"
	"iter"
	"maps"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/jsonw"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/jsonv1"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// stateCopy is what the read-only endpoints (/state, /slaves,
// /frameworks, /state-summary) show, copied on the master's process by
// copyState: a few words for each slave and task, no sorting, no
// rendering. Everything it points to is a value the master replaces
// rather than changes in place (SlaveInfo, FrameworkInfo, the resources,
// a task's ids, name, resources, labels and the statuses already in its
// list), so sorting and rendering (write*) run off the process.
type stateCopy struct {
	version, id, hostname, cluster string
	self                           process.UPID
	start, elected                 time.Time
	leader                         bool
	detected                       string // the leader a standby knows of
	flags                          map[string]string

	slaves                []slaveView
	frameworks, completed []frameworkView
	orphans               []taskView  // tasks on slaves of frameworks not registered
	unregistered          []string    // those frameworks' ids
	tasks                 []taskView  // the frameworks' tasks, each framework's a part
	offers                []offerView // the frameworks' offers, likewise
	spare                 *spareViews
}

// slaveView is what the endpoints show of a slave.
type slaveView struct {
	info                 *mesos.SlaveInfo // id, hostname, attributes
	version              string
	pid                  process.UPID
	registered           time.Time
	total, used, offered resources.Resources
	active               bool
}

// frameworkView is what the endpoints show of a framework.
type frameworkView struct {
	id                                     string
	info                                   *mesos.FrameworkInfo
	pid                                    process.UPID
	active, connected                      bool
	registered, reregistered, unregistered time.Time
	tasks, completed                       []taskView
	offers                                 []offerView
	executors                              []executorView
}

// taskView is a task with the fields the master changes in place copied.
type taskView struct {
	t        *mesos.Task
	state    mesos.TaskState
	statuses []*mesos.TaskStatus
}

type offerView struct {
	id, slave string
	res       resources.Resources
}

type executorView struct {
	slave, id string
	info      *mesos.ExecutorInfo
}

// spareViews keeps the lists of the last copy rendered for the next copy:
// allocating (zeroing) new ones was most of the master's hold at 50,000
// slaves (9 MB for the slaves alone); kept ones are written over in
// place. The rendering goroutine gives them back, hence the lock.
type spareViews struct {
	mu     sync.Mutex
	slaves []slaveView
	tasks  []taskView
	offers []offerView
}

func (sp *spareViews) take() (slaves []slaveView, tasks []taskView, offers []offerView) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	slaves, tasks, offers = sp.slaves[:0], sp.tasks[:0], sp.offers[:0]
	sp.slaves, sp.tasks, sp.offers = nil, nil, nil
	return slaves, tasks, offers
}

// keep returns the longer of kept and list, emptied.
func keep[T any](kept, list []T) []T {
	if cap(list) > cap(kept) {
		return list[:0]
	}
	return kept
}

// recycle gives the copy's lists back for a later copy, cleared so that
// they hold on to nothing; the copy must not be used after.
func (c *stateCopy) recycle() {
	clear(c.slaves)
	clear(c.tasks)
	clear(c.offers)
	c.spare.mu.Lock()
	defer c.spare.mu.Unlock()
	c.spare.slaves = keep(c.spare.slaves, c.slaves)
	c.spare.tasks = keep(c.spare.tasks, c.tasks)
	c.spare.offers = keep(c.spare.offers, c.offers)
	c.slaves, c.tasks, c.offers = nil, nil, nil
}

// copyState copies what the read-only endpoints show.
func (m *master) copyState() *stateCopy {
	tasks, offers := 0, 0
	for _, f := range m.frameworks {
		tasks += len(f.tasks) + len(f.completed)
		offers += len(f.offers)
	}
	for _, f := range m.completed {
		tasks += len(f.tasks) + len(f.completed)
		offers += len(f.offers)
	}
	slaves, taskList, offerList := m.spareViews.take()
	c := &stateCopy{
		version: m.cfg.Version, id: m.id, hostname: m.info.GetHostname(), cluster: m.cfg.Cluster,
		self: m.Self(), start: m.start, elected: m.elected, leader: m.leader, flags: m.cfg.Flags,
		slaves: slices.Grow(slaves, len(m.slaves)), tasks: slices.Grow(taskList, tasks), offers: slices.Grow(offerList, offers),
		spare:      &m.spareViews,
		frameworks: make([]frameworkView, 0, len(m.frameworks)),
		completed:  make([]frameworkView, 0, len(m.completed)),
	}
	if m.detected != nil {
		c.detected = m.detected.GetPid()
	}
	for _, s := range m.slaves {
		c.slaves = append(c.slaves, slaveView{
			info: s.info, version: s.version, pid: s.pid, registered: s.registered,
			total: s.total, used: s.used, offered: s.offered, active: s.active,
		})
	}
	orphans, unregistered := m.orphanTasks()
	for _, t := range orphans {
		c.orphans = append(c.orphans, viewTask(t))
	}
	c.unregistered = unregistered
	for _, f := range m.frameworks {
		c.frameworks = append(c.frameworks, c.viewFramework(f))
	}
	for _, f := range m.completed {
		c.completed = append(c.completed, c.viewFramework(f))
	}
	return c
}

func viewTask(t *mesos.Task) taskView {
	return taskView{t: t, state: t.GetState(), statuses: t.Statuses[:len(t.Statuses):len(t.Statuses)]}
}

// viewTasks copies ts into the copy's task list (sized beforehand, so it
// never moves) and returns their part of it.
func (c *stateCopy) viewTasks(ts iter.Seq[*mesos.Task]) []taskView {
	start := len(c.tasks)
	for t := range ts {
		c.tasks = append(c.tasks, viewTask(t))
	}
	return c.tasks[start:len(c.tasks):len(c.tasks)]
}

func (c *stateCopy) viewFramework(f *framework) frameworkView {
	v := frameworkView{
		id: f.id, info: f.info, pid: f.pid, active: f.active, connected: f.connected,
		registered: f.registered, reregistered: f.reregistered, unregistered: f.unregistered,
		tasks: c.viewTasks(maps.Values(f.tasks)), completed: c.viewTasks(slices.Values(f.completed)),
	}
	start := len(c.offers)
	for _, o := range f.offers {
		c.offers = append(c.offers, offerView{id: o.id(), slave: o.s.id, res: o.res})
	}
	v.offers = c.offers[start:len(c.offers):len(c.offers)]
	for sid, es := range f.executors {
		for eid, e := range es {
			v.executors = append(v.executors, executorView{slave: sid, id: eid, info: e})
		}
	}
	return v
}

// sort puts everything in the order the endpoints list it, by id (orphan
// tasks come sorted). Off the master's process.
func (c *stateCopy) sort() {
	slices.SortFunc(c.slaves, func(a, b slaveView) int { return cmp.Compare(a.id(), b.id()) })
	slices.SortFunc(c.frameworks, func(a, b frameworkView) int { return cmp.Compare(a.id, b.id) })
	for _, fs := range [][]frameworkView{c.frameworks, c.completed} {
		for i := range fs {
			f := &fs[i]
			slices.SortFunc(f.tasks, func(a, b taskView) int { return cmp.Compare(a.t.GetTaskId().GetValue(), b.t.GetTaskId().GetValue()) })
			slices.SortFunc(f.offers, func(a, b offerView) int { return cmp.Compare(a.id, b.id) })
			slices.SortFunc(f.executors, func(a, b executorView) int {
				return cmp.Or(cmp.Compare(a.slave, b.slave), cmp.Compare(a.id, b.id))
			})
		}
	}
}

// aside answers with what write renders of a fresh copy, sorted and
// rendered off the master's process.
func (m *master) aside(write func(c *stateCopy, w *jsonw.Writer)) future.Future[*process.Response] {
	c := m.copyState()
	return process.Aside("application/json", func() []byte {
		defer c.recycle()
		return c.render(write)
	})
}

// render sorts the copy and returns what write writes of it.
func (c *stateCopy) render(write func(c *stateCopy, w *jsonw.Writer)) []byte {
	c.sort()
	// About 900 bytes a slave and 500 a task: one allocation for most.
	w := jsonw.Writer{B: make([]byte, 0, 4096+900*len(c.slaves)+500*(len(c.tasks)+len(c.orphans)))}
	write(c, &w)
	return w.B
}

// writeState writes /master/state.
func (c *stateCopy) writeState(w *jsonw.Writer) {
	w.Open()
	c.writeHead(w)
	activated := 0
	for i := range c.slaves {
		if c.slaves[i].active {
			activated++
		}
	}
	w.KeyInt("activated_slaves", int64(activated))
	w.KeyInt("deactivated_slaves", int64(len(c.slaves)-activated))
	w.KeyFloat("start_time", mesos.Timestamp(c.start))
	w.KeyString("version", c.version)
	w.KeyString("id", c.id)
	w.KeyString("pid", c.self.String())
	w.Key("flags")
	w.Value(c.flags)
	if c.leader {
		w.KeyString("leader", c.self.String())
		w.KeyFloat("elected_time", mesos.Timestamp(c.elected))
	} else if c.detected != "" {
		w.KeyString("leader", c.detected)
	}
	w.Key("slaves")
	c.writeSlaves(w)
	c.writeFrameworks(w)
	writeTasks(w, "orphan_tasks", c.orphans)
	w.Close()
}

// writeTasks writes the member key: the tasks.
func writeTasks(w *jsonw.Writer, key string, tasks []taskView) {
	w.Key(key)
	w.OpenArray()
	var scratch resources.Resources
	for i := range tasks {
		w.Elem()
		tasks[i].write(w, &scratch)
	}
	w.CloseArray()
}

// writeHead writes the members /state and /state-summary share.
func (c *stateCopy) writeHead(w *jsonw.Writer) {
	w.KeyString("hostname", c.hostname)
	if c.cluster != "" {
		w.KeyString("cluster", c.cluster)
	}
}

func (c *stateCopy) writeSlaves(w *jsonw.Writer) {
	w.OpenArray()
	for i := range c.slaves {
		w.Elem()
		w.Open()
		c.slaves[i].write(w)
		w.Close()
	}
	w.CloseArray()
}

// writeFrameworks writes the members frameworks, completed_frameworks and
// unregistered_frameworks.
func (c *stateCopy) writeFrameworks(w *jsonw.Writer) {
	for _, list := range []struct {
		key string
		fs  []frameworkView
	}{{"frameworks", c.frameworks}, {"completed_frameworks", c.completed}} {
		w.Key(list.key)
		w.OpenArray()
		for i := range list.fs {
			w.Elem()
			list.fs[i].write(w)
		}
		w.CloseArray()
	}
	w.Key("unregistered_frameworks")
	w.Strings(c.unregistered)
}

func (v *slaveView) id() string { return v.info.GetId().GetValue() }

// write writes the slave's members (the caller opens and closes the
// object: /state-summary adds its counts).
func (v *slaveView) write(w *jsonw.Writer) {
	w.KeyString("id", v.id())
	w.KeyString("pid", v.pid.String())
	w.KeyString("hostname", v.info.GetHostname())
	w.KeyFloat("registered_time", mesos.Timestamp(v.registered))
	w.Key("resources")
	v.total.WriteJSONMap(w)
	w.Key("used_resources")
	v.used.WriteJSONMap(w)
	w.Key("offered_resources")
	v.offered.WriteJSONMap(w)
	w.Key("attributes")
	w.Open()
	for _, a := range v.info.GetAttributes() {
		w.Key(a.GetName())
		w.Value(attributeValue(a))
	}
	w.Close()
	w.KeyBool("active", v.active)
	w.KeyString("version", v.version)
	writeReservations(w, v.total)
}

// writeReservations writes a slave's reserved_resources (by role),
// reserved_resources_full and unreserved_resources.
func writeReservations(w *jsonw.Writer, total resources.Resources) {
	reserved := false
	for _, r := range total {
		if r.IsReserved() {
			reserved = true
			break
		}
	}
	if !reserved { // the common case, without ByRole's maps
		w.Key("reserved_resources")
		w.Raw([]byte("{}"))
		w.Key("reserved_resources_full")
		w.Raw([]byte("{}"))
		w.Key("unreserved_resources")
		total.WriteJSONMap(w)
		return
	}
	byRole := total.ByRole()
	roles := slices.Sorted(maps.Keys(byRole))
	w.Key("reserved_resources")
	w.Open()
	for _, role := range roles {
		w.Key(role)
		byRole[role].WriteJSONMap(w)
	}
	w.Close()
	w.Key("reserved_resources_full")
	w.Open()
	for _, role := range roles {
		w.Key(role)
		w.Value(byRole[role].ToJSONArray())
	}
	w.Close()
	w.Key("unreserved_resources")
	total.Unreserved().WriteJSONMap(w)
}

// used is what the framework's live tasks and its executors hold.
func (f *frameworkView) used() resources.Resources {
	var total resources.Resources
	for _, t := range f.tasks {
		if !mesos.IsTerminal(t.state) {
			total = resources.AddProto(total, t.t.GetResources())
		}
	}
	for _, e := range f.executors {
		total = resources.AddProto(total, e.info.GetResources())
	}
	return total
}

func (f *frameworkView) offered() resources.Resources {
	var total resources.Resources
	for _, o := range f.offers {
		total = resources.Add(total, o.res)
	}
	return total
}

// writeSummary writes the members /state-summary shows of a framework.
func (f *frameworkView) writeSummary(w *jsonw.Writer) {
	w.KeyString("id", f.id)
	w.KeyString("name", f.info.GetName())
	w.KeyString("pid", f.pid.String())
	w.KeyString("hostname", f.info.GetHostname())
	w.KeyString("webui_url", f.info.GetWebuiUrl())
	w.KeyBool("active", f.active)
	w.Key("capabilities")
	w.OpenArray()
	for _, c := range f.info.GetCapabilities() {
		w.Elem()
		w.String(c.GetType().String())
	}
	w.CloseArray()
	w.Key("used_resources")
	f.used().WriteJSONMap(w)
	w.Key("offered_resources")
	f.offered().WriteJSONMap(w)
}

// write writes the framework as /state does.
func (f *frameworkView) write(w *jsonw.Writer) {
	used, offered := f.used(), f.offered()
	w.Open()
	f.writeSummary(w)
	w.KeyString("user", f.info.GetUser())
	w.KeyString("role", roleOf(f.info))
	w.KeyString("principal", f.info.GetPrincipal())
	w.KeyBool("connected", f.connected)
	w.KeyBool("checkpoint", f.info.GetCheckpoint())
	w.KeyFloat("failover_timeout", f.info.GetFailoverTimeout())
	w.KeyFloat("registered_time", mesos.Timestamp(f.registered))
	w.KeyFloat("reregistered_time", mesos.Timestamp(f.reregistered))
	w.KeyFloat("unregistered_time", mesos.Timestamp(f.unregistered))
	w.Key("resources")
	used.Plus(offered).WriteJSONMap(w)
	writeTasks(w, "tasks", f.tasks)
	writeTasks(w, "completed_tasks", f.completed)
	w.Key("offers")
	w.OpenArray()
	for _, o := range f.offers {
		w.Elem()
		w.Open()
		w.KeyString("id", o.id)
		w.KeyString("framework_id", f.id)
		w.KeyString("slave_id", o.slave)
		w.Key("resources")
		o.res.WriteJSONMap(w)
		w.Close()
	}
	w.CloseArray()
	w.Key("executors")
	w.OpenArray()
	for _, e := range f.executors {
		w.Elem()
		w.Open()
		w.KeyString("executor_id", e.id)
		w.KeyString("name", e.info.GetName())
		w.KeyString("source", e.info.GetSource())
		w.KeyString("slave_id", e.slave)
		w.Key("command")
		w.Open()
		w.KeyString("value", e.info.GetCommand().GetValue())
		w.Close()
		w.Key("resources")
		resources.FromProto(e.info.GetResources()).WriteJSONMap(w)
		w.Close()
	}
	w.CloseArray()
	if l := f.info.GetLabels(); l != nil {
		w.Key("labels")
		writeLabels(w, l)
	}
	w.Close()
}

// write writes the task as /state does; scratch is the caller's, for
// adding up the task's resources without allocating.
func (v *taskView) write(w *jsonw.Writer, scratch *resources.Resources) {
	t := v.t
	w.Open()
	w.KeyString("id", t.GetTaskId().GetValue())
	w.KeyString("name", t.GetName())
	w.KeyString("framework_id", t.GetFrameworkId().GetValue())
	w.KeyString("executor_id", t.GetExecutorId().GetValue())
	w.KeyString("slave_id", t.GetSlaveId().GetValue())
	w.KeyString("state", v.state.String())
	w.Key("resources")
	*scratch = resources.AddProto((*scratch)[:0], t.GetResources())
	scratch.WriteJSONMap(w)
	w.Key("statuses")
	w.OpenArray()
	for _, s := range v.statuses {
		w.Elem()
		writeStatus(w, s)
	}
	w.CloseArray()
	if l := t.GetLabels(); l != nil {
		w.Key("labels")
		writeLabels(w, l)
	}
	if d := t.GetDiscovery(); d != nil {
		writeProto(w, "discovery", d)
	}
	if c := t.GetContainer(); c != nil {
		writeProto(w, "container", c)
	}
	w.Close()
}

func writeStatus(w *jsonw.Writer, s *mesos.TaskStatus) {
	w.Open()
	w.KeyString("state", s.GetState().String())
	w.KeyFloat("timestamp", s.GetTimestamp())
	if s.Healthy != nil {
		w.KeyBool("healthy", s.GetHealthy())
	}
	if l := s.GetLabels(); l != nil {
		w.Key("labels")
		writeLabels(w, l)
	}
	if cs := s.GetContainerStatus(); cs != nil {
		writeProto(w, "container_status", cs)
	}
	w.Close()
}

func writeLabels(w *jsonw.Writer, l *mesos.Labels) {
	w.OpenArray()
	for _, kv := range l.GetLabels() {
		w.Elem()
		w.Open()
		w.KeyString("key", kv.GetKey())
		w.KeyString("value", kv.GetValue())
		w.Close()
	}
	w.CloseArray()
}

// writeProto writes a protobuf member in Mesos's JSON form (jsonv1).
func writeProto(w *jsonw.Writer, key string, msg proto.Message) {
	raw, err := jsonv1.Marshal(msg)
	if err != nil {
		return
	}
	w.Key(key)
	w.Raw(raw)
}
