package master

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"sort"

	"github.com/gomesos/gomesos/internal/jsonw"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// installOperatorRoutes serves the master's read-only operator endpoints
// of Mesos 1.0 besides /state: /master/slaves, /master/frameworks and
// /master/state-summary, with Mesos's field names (and the metrics under
// the docs' names, documentedGauges).
func (m *master) installOperatorRoutes() {
	slaves := func(*http.Request) future.Future[*process.Response] { return m.aside((*stateCopy).writeSlavesOnly) }
	m.Route("/slaves", "Information about registered slaves.", m.readable(slaves))
	frameworks := func(*http.Request) future.Future[*process.Response] { return m.aside((*stateCopy).writeFrameworksOnly) }
	m.Route("/frameworks", "Information about registered frameworks.", m.readable(frameworks))
	summary := func(*http.Request) future.Future[*process.Response] { return m.aside((*stateCopy).writeSummary) }
	m.Route("/state-summary", "Summary of the state of all frameworks and slaves, without tasks.", m.readable(summary))
	m.documentedGauges()
}

// writeSlaves is /master/slaves: {"slaves": [...]} as in /state.
func (c *stateCopy) writeSlavesOnly(w *jsonw.Writer) {
	w.Open()
	w.Key("slaves")
	c.writeSlaves(w)
	w.Close()
}

// writeFrameworksOnly is /master/frameworks: the frameworks, completed
// ones and unregistered ones, as in /state.
func (c *stateCopy) writeFrameworksOnly(w *jsonw.Writer) {
	w.Open()
	c.writeFrameworks(w)
	w.Close()
}

// taskStates are the states Mesos counts in /master/state-summary, each a
// key of its own ("TASK_RUNNING": 2).
var taskStates = []mesos.TaskState{
	mesos.TaskState_TASK_STAGING, mesos.TaskState_TASK_STARTING, mesos.TaskState_TASK_RUNNING,
	mesos.TaskState_TASK_FINISHED, mesos.TaskState_TASK_KILLED, mesos.TaskState_TASK_FAILED,
	mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_ERROR,
}

// writeSummary is /master/state-summary: each slave and framework
// without tasks, with the number of tasks in each state and the ids of the
// frameworks on a slave (framework_ids) and the slaves of a framework
// (slave_ids). Completed tasks count too.
func (c *stateCopy) writeSummary(w *jsonw.Writer) {
	type counts struct {
		states map[mesos.TaskState]int
		others map[string]bool
	}
	newCounts := func() *counts { return &counts{states: map[mesos.TaskState]int{}, others: map[string]bool{}} }
	bySlave, byFramework := map[string]*counts{}, map[string]*counts{}
	count := func(t taskView) {
		sid, fid := t.t.GetSlaveId().GetValue(), t.t.GetFrameworkId().GetValue()
		if bySlave[sid] == nil {
			bySlave[sid] = newCounts()
		}
		if byFramework[fid] == nil {
			byFramework[fid] = newCounts()
		}
		bySlave[sid].states[t.state]++
		bySlave[sid].others[fid] = true
		byFramework[fid].states[t.state]++
		byFramework[fid].others[sid] = true
	}
	for _, f := range c.frameworks {
		for _, t := range f.tasks {
			count(t)
		}
		for _, t := range f.completed {
			count(t)
		}
	}
	fill := func(c *counts, key string) {
		if c == nil {
			c = newCounts()
		}
		for _, st := range taskStates {
			w.Key(st.String())
			w.Int(int64(c.states[st]))
		}
		w.Key(key)
		w.Strings(nonNil(slices.Sorted(maps.Keys(c.others))))
	}
	w.Open()
	c.writeHead(w)
	w.Key("slaves")
	w.OpenArray()
	for i := range c.slaves {
		w.Elem()
		w.Open()
		c.slaves[i].write(w)
		fill(bySlave[c.slaves[i].id()], "framework_ids")
		w.Close()
	}
	w.CloseArray()
	w.Key("frameworks")
	w.OpenArray()
	for i := range c.frameworks {
		w.Elem()
		w.Open()
		c.frameworks[i].writeSummary(w)
		fill(byFramework[c.frameworks[i].id], "slave_ids")
		w.Close()
	}
	w.CloseArray()
	w.Close()
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

// orphanTasks are the tasks that admitted slaves hold of frameworks not
// registered (after a failover, until they re-register), by slave,
// framework and task id, and the ids of those frameworks, sorted. The
// books say which frameworks those are: no walk over the slaves when
// there are none.
func (m *master) orphanTasks() (tasks []*mesos.Task, frameworks []string) {
	frameworks = []string{}
	for fid := range m.books.tasks {
		if m.frameworks[fid] == nil {
			frameworks = append(frameworks, fid)
		}
	}
	if len(frameworks) == 0 {
		return nil, frameworks
	}
	sort.Strings(frameworks)
	for _, s := range m.slaves {
		for _, fid := range frameworks {
			for _, t := range s.tasks[fid] {
				tasks = append(tasks, t)
			}
		}
	}
	slices.SortFunc(tasks, func(a, b *mesos.Task) int {
		return cmp.Or(cmp.Compare(a.GetSlaveId().GetValue(), b.GetSlaveId().GetValue()),
			cmp.Compare(a.GetFrameworkId().GetValue(), b.GetFrameworkId().GetValue()),
			cmp.Compare(a.GetTaskId().GetValue(), b.GetTaskId().GetValue()))
	})
	return tasks, frameworks
}
