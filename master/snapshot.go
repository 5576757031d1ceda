package master

import (
	"maps"
	"slices"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Snapshot is the master's bookkeeping at one moment, as plain values:
// what a simulation checks its invariants against. Lists are sorted by
// id.
type Snapshot struct {
	Leading       bool
	Slaves        []SlaveSnapshot
	Frameworks    []FrameworkSnapshot
	Offers        []OfferSnapshot
	RemovedSlaves []string // ids removed (lost, shut down) since this master started
	// BooksAgree reports whether the sums the resource gauges read (kept
	// as slaves change) equal the slaves' totals and used added up now.
	BooksAgree bool
}

// SlaveSnapshot is one admitted slave.
type SlaveSnapshot struct {
	ID                   string
	PID                  process.UPID
	Connected, Active    bool
	Total, Used, Offered resources.Resources
	// Tasks the master holds on it: identity, state and resources only
	// (no status history). Their fields are shared with the master's own
	// records: read them, never change them.
	Tasks []*mesos.Task
	// Executors it holds on it (shared likewise).
	Executors []*mesos.ExecutorInfo
}

// FrameworkSnapshot is one registered framework.
type FrameworkSnapshot struct {
	ID                string
	Connected, Active bool
}

// OfferSnapshot is one outstanding offer.
type OfferSnapshot struct {
	ID, SlaveID, FrameworkID string
	Resources                resources.Resources
}

// Snapshot returns the master's bookkeeping, taken on its process.
func (h *Master) Snapshot() future.Future[*Snapshot] {
	m := h.m
	return process.Dispatch(m.Runtime(), m.Self(), m.snapshot)
}

func (m *master) snapshot() *Snapshot {
	out := &Snapshot{Leading: m.leader, Slaves: make([]SlaveSnapshot, 0, len(m.slaves))}
	for _, id := range sortedKeys(m.slaves) {
		s := m.slaves[id]
		ss := SlaveSnapshot{
			ID: id, PID: s.pid, Connected: s.connected, Active: s.active,
			Total: s.total, Used: s.used, Offered: s.offered,
		}
		n := 0
		for _, ts := range s.tasks {
			n += len(ts)
		}
		// The copies share one array: one allocation a slave, not one a
		// task (the simulator takes a snapshot every few virtual seconds).
		copies := make([]mesos.Task, n)
		if n > 0 {
			ss.Tasks = make([]*mesos.Task, 0, n)
		}
		for _, fid := range sortedKeys(s.tasks) {
			for _, tid := range sortedKeys(s.tasks[fid]) {
				t, c := s.tasks[fid][tid], &copies[len(ss.Tasks)]
				c.Name, c.TaskId, c.FrameworkId, c.ExecutorId = t.Name, t.TaskId, t.FrameworkId, t.ExecutorId
				c.SlaveId, c.State, c.Resources = t.SlaveId, t.State, t.Resources
				c.StatusUpdateState = t.StatusUpdateState
				ss.Tasks = append(ss.Tasks, c)
			}
		}
		for _, fid := range sortedKeys(s.executors) {
			for _, eid := range sortedKeys(s.executors[fid]) {
				ss.Executors = append(ss.Executors, s.executors[fid][eid])
			}
		}
		out.Slaves = append(out.Slaves, ss)
	}
	for _, id := range sortedKeys(m.frameworks) {
		f := m.frameworks[id]
		out.Frameworks = append(out.Frameworks, FrameworkSnapshot{ID: id, Connected: f.connected, Active: f.active})
	}
	for _, id := range sortedKeys(m.offers) {
		o := m.offers[id]
		out.Offers = append(out.Offers, OfferSnapshot{ID: id, SlaveID: o.s.id, FrameworkID: o.f.id, Resources: o.res})
	}
	for id := range m.removedSlaves {
		out.RemovedSlaves = append(out.RemovedSlaves, id)
	}
	slices.Sort(out.RemovedSlaves)
	out.BooksAgree = m.booksAgree()
	return out
}

// booksAgree recomputes the books from the slaves and compares.
func (m *master) booksAgree() bool {
	var want books
	for _, s := range m.slaves {
		adjust(&want.total, nil, s.total)
		adjust(&want.used, nil, s.used)
		for fid, ts := range s.tasks {
			if len(ts) > 0 {
				want.countTasks(fid, len(ts))
			}
		}
	}
	return want.total == m.books.total && want.used == m.books.used && maps.Equal(want.tasks, m.books.tasks)
}
