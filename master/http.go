package master

import (
	"net/http"
	"strconv"

	"github.com/gomesos/gomesos/internal/jsonw"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

func (m *master) installRoutes() {
	// /state of a big cluster is tens of megabytes: the master copies
	// what it shows (copyState) and the rendering runs off its process.
	state := func(*http.Request) future.Future[*process.Response] { return m.aside((*stateCopy).writeState) }
	m.Route("/state", "Information about the state of the master.", m.readable(state))
	m.Route("/state.json", "Information about the state of the master.", m.readable(state))
	m.Route("/health", "Health check of the master.", func(*http.Request) future.Future[*process.Response] {
		return process.Status(http.StatusOK, "")
	})
	m.Route("/redirect", "Redirects to the leading master.", m.redirect)
	m.Route("/flags", "The master's flags.", m.readable(func(*http.Request) future.Future[*process.Response] {
		return process.JSON(map[string]any{"flags": nonNilMap(m.cfg.Flags)})
	}))
	tasks := func(r *http.Request) future.Future[*process.Response] {
		return process.OK("application/json", m.tasksJSON(r))
	}
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

// tasksJSON is /master/tasks: a page of the tasks, newest first unless
// order=asc.
func (m *master) tasksJSON(r *http.Request) []byte {
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
	var w jsonw.Writer
	w.Open()
	w.Key("tasks")
	w.OpenArray()
	var scratch resources.Resources
	for i := offset; i < len(all) && i < offset+limit; i++ {
		w.Elem()
		v := viewTask(all[i])
		v.write(&w, &scratch)
	}
	w.CloseArray()
	w.Close()
	return w.B
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
		out = append(out, jsonObj{"name": ri.name, "weight": ri.weight, "frameworks": nonNil(ri.frameworks), "resources": ri.used.JSONMap()})
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
