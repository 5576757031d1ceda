package master

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

func (m *master) installRoutes() {
	// /state of a big cluster is tens of megabytes: the master copies
	// what it needs and the encoding runs off its process.
	state := func(*http.Request) future.Future[*process.Response] { return process.JSONAside(m.stateAside()) }
	m.Route("/state", "Information about the state of the master.", m.readable(state))
	m.Route("/state.json", "Information about the state of the master.", m.readable(state))
	m.Route("/health", "Health check of the master.", func(*http.Request) future.Future[*process.Response] {
		return process.Status(http.StatusOK, "")
	})
	m.Route("/redirect", "Redirects to the leading master.", m.redirect)
	m.Route("/flags", "The master's flags.", m.readable(func(*http.Request) future.Future[*process.Response] {
		return process.JSON(map[string]any{"flags": nonNilMap(m.cfg.Flags)})
	}))
	tasks := func(r *http.Request) future.Future[*process.Response] { return process.JSON(m.tasksJSON(r)) }
	m.Route("/tasks", "Lists tasks of all frameworks.", m.readable(tasks))
	m.Route("/tasks.json", "Lists tasks of all frameworks.", m.readable(tasks))
	roles := func(*http.Request) future.Future[*process.Response] { return process.JSON(m.rolesJSON()) }
	m.Route("/roles", "Information about roles.", m.readable(roles))
	m.Route("/roles.json", "Information about roles.", m.readable(roles))
	m.Route("/teardown", "Tears down a framework: POST frameworkId=<id>.", m.teardownHTTP)
	m.installOperationRoutes()
	m.installQuotaRoute()
	m.installMaintenanceRoutes()
	if m.cfg.WebUI != nil {
		ui := process.Handler(m.cfg.WebUI)
		m.Route("/", "The web UI.", ui)
		m.Route("/static", "The web UI's assets.", ui)
	}
}

func (m *master) teardownHTTP(r *http.Request) future.Future[*process.Response] {
	if r.Method != http.MethodPost {
		return process.Status(http.StatusMethodNotAllowed, "Expecting POST")
	}
	if err := r.ParseForm(); err != nil {
		return process.Status(http.StatusBadRequest, "Unable to parse body: "+err.Error())
	}
	id := r.PostForm.Get("frameworkId")
	if id == "" {
		return process.Status(http.StatusBadRequest, "Missing 'frameworkId' query parameter")
	}
	caller, denied := m.authenticateHTTP(r, httpWrite)
	if denied != nil {
		return future.Ready(denied)
	}
	f := m.frameworks[id]
	if f == nil {
		return process.Status(http.StatusBadRequest, "No framework found with specified ID")
	}
	if m.cfg.Authorizer != nil && !m.cfg.Authorizer.ShutdownFramework(caller, f.info.GetPrincipal()) {
		return process.Status(http.StatusUnauthorized, "Not authorized to tear down framework "+id)
	}
	m.removeFramework(f)
	return process.Status(http.StatusOK, "")
}

type jsonObj = map[string]any

// stateJSON is /master/state as maps.
func (m *master) stateJSON() jsonObj {
	slaves := make([]jsonObj, 0, len(m.slaves))
	for _, id := range sortedKeys(m.slaves) {
		slaves = append(slaves, m.slaveJSON(m.slaves[id]))
	}
	return m.stateWith(slaves)
}

// stateAside is /master/state with each slave as a slaveView: values
// the master no longer changes, rendered when the whole is encoded, off
// the master's process (process.JSONAside).
func (m *master) stateAside() jsonObj {
	slaves := make([]slaveView, 0, len(m.slaves))
	for _, id := range sortedKeys(m.slaves) {
		slaves = append(slaves, m.slaveView(m.slaves[id]))
	}
	return m.stateWith(slaves)
}

// stateWith is /master/state with slaves as given.
func (m *master) stateWith(slaves any) jsonObj {
	frameworks := make([]jsonObj, 0, len(m.frameworks))
	for _, id := range sortedKeys(m.frameworks) {
		frameworks = append(frameworks, m.frameworkJSON(m.frameworks[id]))
	}
	completed := make([]jsonObj, 0, len(m.completed))
	for _, f := range m.completed {
		completed = append(completed, m.frameworkJSON(f))
	}
	activated, deactivated := 0, 0
	for _, s := range m.slaves {
		if s.active {
			activated++
		} else {
			deactivated++
		}
	}
	orphanTasks, unregistered := m.orphans()
	state := jsonObj{
		"version":                 m.cfg.Version,
		"id":                      m.id,
		"pid":                     m.Self().String(),
		"hostname":                m.info.GetHostname(),
		"start_time":              mesos.Timestamp(m.start),
		"activated_slaves":        activated,
		"deactivated_slaves":      deactivated,
		"slaves":                  slaves,
		"frameworks":              frameworks,
		"completed_frameworks":    completed,
		"orphan_tasks":            orphanTasks,
		"unregistered_frameworks": unregistered,
		"flags":                   m.cfg.Flags,
	}
	if m.cfg.Cluster != "" {
		state["cluster"] = m.cfg.Cluster
	}
	if m.leader {
		state["leader"] = m.Self().String()
		state["elected_time"] = mesos.Timestamp(m.elected)
	} else if m.detected != nil {
		state["leader"] = m.detected.GetPid()
	}
	return state
}

// slaveView is what /state shows of a slave, copied out of the master:
// every field is a value the master replaces, never changes in place.
type slaveView struct {
	id, pid, hostname, version string
	registered                 time.Time
	total, used, offered       resources.Resources
	attributes                 []*mesos.Attribute
	active                     bool
}

func (m *master) slaveView(s *slave) slaveView {
	return slaveView{
		id: s.id, pid: s.pid.String(), hostname: s.info.GetHostname(), version: s.version,
		registered: s.registered, total: s.total, used: s.used, offered: s.offered,
		attributes: s.info.GetAttributes(), active: s.active,
	}
}

func (m *master) slaveJSON(s *slave) jsonObj { return m.slaveView(s).json() }

// json renders the slave as /state does.
func (v slaveView) json() jsonObj {
	attrs := jsonObj{}
	for _, a := range v.attributes {
		attrs[a.GetName()] = attributeValue(a)
	}
	out := jsonObj{
		"id":                v.id,
		"pid":               v.pid,
		"hostname":          v.hostname,
		"registered_time":   mesos.Timestamp(v.registered),
		"resources":         v.total.ToJSONMap(),
		"used_resources":    v.used.ToJSONMap(),
		"offered_resources": v.offered.ToJSONMap(),
		"attributes":        attrs,
		"active":            v.active,
		"version":           v.version,
	}
	addReservationsJSON(out, v.total)
	return out
}

// MarshalJSON implements json.Marshaler.
func (v slaveView) MarshalJSON() ([]byte, error) { return json.Marshal(v.json()) }

func attributeValue(a *mesos.Attribute) any {
	switch a.GetType() {
	case mesos.Value_SCALAR:
		return a.GetScalar().GetValue()
	case mesos.Value_TEXT:
		return a.GetText().GetValue()
	case mesos.Value_RANGES:
		return resources.FormatRanges(a.GetRanges())
	case mesos.Value_SET:
		return "{" + joinStrings(a.GetSet().GetItem(), ",") + "}"
	}
	return nil
}

func (m *master) frameworkJSON(f *framework) jsonObj {
	tasks := make([]jsonObj, 0, len(f.tasks))
	for _, id := range sortedTaskIDs(f.tasks) {
		tasks = append(tasks, taskJSON(f.tasks[id]))
	}
	completed := make([]jsonObj, 0, len(f.completed))
	for _, t := range f.completed {
		completed = append(completed, taskJSON(t))
	}
	offers := make([]jsonObj, 0, len(f.offers))
	var offered resources.Resources
	for _, o := range sortedOffers(f.offers) {
		offered = offered.Plus(o.res)
		offers = append(offers, jsonObj{
			"id":           o.id(),
			"framework_id": f.id,
			"slave_id":     o.s.id,
			"resources":    o.res.ToJSONMap(),
		})
	}
	executors := []jsonObj{}
	for _, sid := range sortedKeys(f.executors) {
		for _, eid := range sortedKeys(f.executors[sid]) {
			e := f.executors[sid][eid]
			executors = append(executors, jsonObj{
				"executor_id": eid,
				"name":        e.GetName(),
				"source":      e.GetSource(),
				"slave_id":    sid,
				"command":     jsonObj{"value": e.GetCommand().GetValue()},
				"resources":   resources.FromProto(e.GetResources()).ToJSONMap(),
			})
		}
	}
	used := f.used()
	var capabilities []string
	for _, c := range f.info.GetCapabilities() {
		capabilities = append(capabilities, c.GetType().String())
	}
	obj := jsonObj{
		"id":                f.id,
		"name":              f.info.GetName(),
		"pid":               f.pid.String(),
		"user":              f.info.GetUser(),
		"hostname":          f.info.GetHostname(),
		"webui_url":         f.info.GetWebuiUrl(),
		"role":              f.role(),
		"principal":         f.info.GetPrincipal(),
		"active":            f.active,
		"connected":         f.connected,
		"checkpoint":        f.info.GetCheckpoint(),
		"failover_timeout":  f.info.GetFailoverTimeout(),
		"capabilities":      nonNil(capabilities),
		"registered_time":   mesos.Timestamp(f.registered),
		"reregistered_time": mesos.Timestamp(f.reregistered),
		"unregistered_time": mesos.Timestamp(f.unregistered),
		"resources":         used.Plus(offered).ToJSONMap(),
		"used_resources":    used.ToJSONMap(),
		"offered_resources": offered.ToJSONMap(),
		"tasks":             tasks,
		"completed_tasks":   completed,
		"offers":            offers,
		"executors":         executors,
	}
	if l := f.info.GetLabels(); l != nil {
		obj["labels"] = labelsJSON(l)
	}
	return obj
}

func taskJSON(t *mesos.Task) jsonObj {
	statuses := make([]jsonObj, 0, len(t.GetStatuses()))
	for _, s := range t.GetStatuses() {
		statuses = append(statuses, statusJSON(s))
	}
	obj := jsonObj{
		"id":           t.GetTaskId().GetValue(),
		"name":         t.GetName(),
		"framework_id": t.GetFrameworkId().GetValue(),
		"executor_id":  t.GetExecutorId().GetValue(),
		"slave_id":     t.GetSlaveId().GetValue(),
		"state":        t.GetState().String(),
		"resources":    resources.FromProto(t.GetResources()).ToJSONMap(),
		"statuses":     statuses,
	}
	if l := t.GetLabels(); l != nil {
		obj["labels"] = labelsJSON(l)
	}
	taskProtoFields(t, obj)
	return obj
}

func labelsJSON(l *mesos.Labels) []jsonObj {
	out := make([]jsonObj, 0, len(l.GetLabels()))
	for _, kv := range l.GetLabels() {
		out = append(out, jsonObj{"key": kv.GetKey(), "value": kv.GetValue()})
	}
	return out
}

func (m *master) tasksJSON(r *http.Request) jsonObj {
	limit, offset := 100, 0
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v >= 0 {
		limit = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && v >= 0 {
		offset = v
	}
	var all []*mesos.Task
	for _, fid := range sortedKeys(m.frameworks) {
		f := m.frameworks[fid]
		for _, tid := range sortedTaskIDs(f.tasks) {
			all = append(all, f.tasks[tid])
		}
		all = append(all, f.completed...)
	}
	sortTasksByStart(all, r.URL.Query().Get("order") == "asc")
	out := []jsonObj{}
	for i := offset; i < len(all) && len(out) < limit; i++ {
		out = append(out, taskJSON(all[i]))
	}
	return jsonObj{"tasks": out}
}

// roleView is one role as /roles and GET_ROLES show it: its weight, its
// frameworks and what they use.
type roleView struct {
	name       string
	weight     float64
	frameworks []string
	used       resources.Resources
}

// roleViews lists "*", the --roles and the roles of frameworks, by name.
func (m *master) roleViews() []roleView {
	roles := map[string]*roleView{"*": {}}
	for _, r := range m.cfg.Roles {
		roles[r] = &roleView{}
	}
	for _, fid := range sortedKeys(m.frameworks) {
		f := m.frameworks[fid]
		ri := roles[f.role()]
		if ri == nil {
			ri = &roleView{}
			roles[f.role()] = ri
		}
		ri.frameworks = append(ri.frameworks, f.id)
		ri.used = ri.used.Plus(f.used())
	}
	out := make([]roleView, 0, len(roles))
	for _, name := range sortedKeys(roles) {
		ri := roles[name]
		ri.name, ri.weight = name, 1.0
		if v, ok := m.cfg.Weights[name]; ok {
			ri.weight = v
		}
		out = append(out, *ri)
	}
	return out
}

func (m *master) rolesJSON() jsonObj {
	out := []jsonObj{}
	for _, ri := range m.roleViews() {
		out = append(out, jsonObj{"name": ri.name, "weight": ri.weight, "frameworks": nonNil(ri.frameworks), "resources": ri.used.ToJSONMap()})
	}
	return jsonObj{"roles": out}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func joinStrings(s []string, sep string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
