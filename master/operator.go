package master

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/jsonv1"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// installOperatorRoutes serves the master's read-only operator endpoints
// of Mesos 1.0 besides /state: /master/slaves, /master/frameworks and
// /master/state-summary, with Mesos's field names (and the metrics under
// the docs' names, documentedGauges).
func (m *master) installOperatorRoutes() {
	slaves := func(*http.Request) future.Future[*process.Response] { return process.JSON(m.slavesJSON()) }
	m.Route("/slaves", "Information about registered slaves.", m.readable(slaves))
	frameworks := func(*http.Request) future.Future[*process.Response] { return process.JSON(m.frameworksJSON()) }
	m.Route("/frameworks", "Information about registered frameworks.", m.readable(frameworks))
	summary := func(*http.Request) future.Future[*process.Response] { return process.JSON(m.stateSummaryJSON()) }
	m.Route("/state-summary", "Summary of the state of all frameworks and slaves, without tasks.", m.readable(summary))
	m.documentedGauges()
}

// slavesJSON is /master/slaves: {"slaves": [...]} as in /state.
func (m *master) slavesJSON() jsonObj {
	slaves := make([]jsonObj, 0, len(m.slaves))
	for _, id := range sortedKeys(m.slaves) {
		slaves = append(slaves, m.slaveJSON(m.slaves[id]))
	}
	return jsonObj{"slaves": slaves}
}

// frameworksJSON is /master/frameworks: the frameworks, completed ones and
// unregistered ones, as in /state.
func (m *master) frameworksJSON() jsonObj {
	frameworks := make([]jsonObj, 0, len(m.frameworks))
	for _, id := range sortedKeys(m.frameworks) {
		frameworks = append(frameworks, m.frameworkJSON(m.frameworks[id]))
	}
	completed := make([]jsonObj, 0, len(m.completed))
	for _, f := range m.completed {
		completed = append(completed, m.frameworkJSON(f))
	}
	_, unregistered := m.orphans()
	return jsonObj{
		"frameworks":              frameworks,
		"completed_frameworks":    completed,
		"unregistered_frameworks": unregistered,
	}
}

// taskStates are the states Mesos counts in /master/state-summary, each a
// key of its own ("TASK_RUNNING": 2).
var taskStates = []mesos.TaskState{
	mesos.TaskState_TASK_STAGING, mesos.TaskState_TASK_STARTING, mesos.TaskState_TASK_RUNNING,
	mesos.TaskState_TASK_FINISHED, mesos.TaskState_TASK_KILLED, mesos.TaskState_TASK_FAILED,
	mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_ERROR,
}

// stateSummaryJSON is /master/state-summary: each slave and framework
// without tasks, with the number of tasks in each state and the ids of the
// frameworks on a slave (framework_ids) and the slaves of a framework
// (slave_ids). Completed tasks count too.
func (m *master) stateSummaryJSON() jsonObj {
	type counts struct {
		states map[mesos.TaskState]int
		others map[string]bool
	}
	newCounts := func() *counts { return &counts{states: map[mesos.TaskState]int{}, others: map[string]bool{}} }
	bySlave, byFramework := map[string]*counts{}, map[string]*counts{}
	count := func(t *mesos.Task) {
		sid, fid := t.GetSlaveId().GetValue(), t.GetFrameworkId().GetValue()
		if bySlave[sid] == nil {
			bySlave[sid] = newCounts()
		}
		if byFramework[fid] == nil {
			byFramework[fid] = newCounts()
		}
		bySlave[sid].states[t.GetState()]++
		bySlave[sid].others[fid] = true
		byFramework[fid].states[t.GetState()]++
		byFramework[fid].others[sid] = true
	}
	for _, f := range m.frameworks {
		for _, t := range f.tasks {
			count(t)
		}
		for _, t := range f.completed {
			count(t)
		}
	}
	fill := func(obj jsonObj, c *counts, key string) jsonObj {
		if c == nil {
			c = newCounts()
		}
		for _, st := range taskStates {
			obj[st.String()] = c.states[st]
		}
		ids := make([]string, 0, len(c.others))
		for id := range c.others {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		obj[key] = ids
		return obj
	}
	slaves := make([]jsonObj, 0, len(m.slaves))
	for _, id := range sortedKeys(m.slaves) {
		s := m.slaves[id]
		obj := m.slaveJSON(s)
		slaves = append(slaves, fill(obj, bySlave[id], "framework_ids"))
	}
	frameworks := make([]jsonObj, 0, len(m.frameworks))
	for _, id := range sortedKeys(m.frameworks) {
		f := m.frameworks[id]
		full := m.frameworkJSON(f)
		obj := jsonObj{}
		for _, k := range []string{"id", "name", "pid", "used_resources", "offered_resources", "capabilities", "hostname", "webui_url", "active"} {
			obj[k] = full[k]
		}
		frameworks = append(frameworks, fill(obj, byFramework[id], "slave_ids"))
	}
	out := jsonObj{
		"hostname":   m.info.GetHostname(),
		"slaves":     slaves,
		"frameworks": frameworks,
	}
	if m.cfg.Cluster != "" {
		out["cluster"] = m.cfg.Cluster
	}
	return out
}

// sortTasksByStart orders tasks as Mesos's /master/tasks does: by the
// timestamp of their first status, tasks without a status first when
// ascending (the default order is descending). Equal keys keep their
// given order (framework id, then task id) ascending, reversed
// descending, so that pages are stable.
func sortTasksByStart(tasks []*mesos.Task, ascending bool) {
	less := func(a, b *mesos.Task) bool {
		as, bs := a.GetStatuses(), b.GetStatuses()
		switch {
		case len(as) == 0 || len(bs) == 0:
			return len(as) == 0 && len(bs) > 0
		default:
			return as[0].GetTimestamp() < bs[0].GetTimestamp()
		}
	}
	sort.SliceStable(tasks, func(i, j int) bool { return less(tasks[i], tasks[j]) })
	if !ascending {
		for i, j := 0, len(tasks)-1; i < j; i, j = i+1, j-1 {
			tasks[i], tasks[j] = tasks[j], tasks[i]
		}
	}
}

// orphans are the tasks slaves run for frameworks this master does not
// hold (after a master failover, until they subscribe again), and the ids
// of those frameworks: /state's orphan_tasks and unregistered_frameworks.
func (m *master) orphans() (tasks []jsonObj, frameworks []string) {
	ts, frameworks := m.orphanTasks()
	tasks = make([]jsonObj, 0, len(ts))
	for _, t := range ts {
		tasks = append(tasks, taskJSON(t))
	}
	return tasks, frameworks
}

// orphanTasks are the tasks of orphans, by slave, framework and task id,
// and the ids of their frameworks, sorted.
func (m *master) orphanTasks() (tasks []*mesos.Task, frameworks []string) {
	frameworks = []string{}
	seen := map[string]bool{}
	for _, sid := range sortedKeys(m.slaves) {
		s := m.slaves[sid]
		for _, fid := range sortedKeys(s.tasks) {
			if m.frameworks[fid] != nil || len(s.tasks[fid]) == 0 {
				continue
			}
			for _, tid := range sortedTaskIDs(s.tasks[fid]) {
				tasks = append(tasks, s.tasks[fid][tid])
			}
			if !seen[fid] {
				seen[fid] = true
				frameworks = append(frameworks, fid)
			}
		}
	}
	sort.Strings(frameworks)
	return tasks, frameworks
}

// statusJSON is a task status in /state: state, timestamp, healthy, and
// labels and container_status (its network_infos with ip_address) as
// Mesos writes them.
func statusJSON(s *mesos.TaskStatus) jsonObj {
	st := jsonObj{"state": s.GetState().String(), "timestamp": s.GetTimestamp()}
	if s.Healthy != nil {
		st["healthy"] = s.GetHealthy()
	}
	if l := s.GetLabels(); l != nil {
		st["labels"] = labelsJSON(l)
	}
	if cs := s.GetContainerStatus(); cs != nil {
		if raw, err := jsonv1.Marshal(cs); err == nil {
			st["container_status"] = json.RawMessage(raw)
		}
	}
	return st
}

// taskProtoFields adds a task's discovery and container, as Mesos writes
// those protobufs in /state.
func taskProtoFields(t *mesos.Task, obj jsonObj) {
	if d := t.GetDiscovery(); d != nil {
		if raw, err := jsonv1.Marshal(d); err == nil {
			obj["discovery"] = json.RawMessage(raw)
		}
	}
	if c := t.GetContainer(); c != nil {
		if raw, err := jsonv1.Marshal(c); err == nil {
			obj["container"] = json.RawMessage(raw)
		}
	}
}
