package master

import "github.com/gomesos/gomesos/resources"

// bookNames are the scalars the master's resource gauges report
// (master/<name>[_revocable]_{total,used,percent}).
var bookNames = [...]string{"cpus", "mem", "disk"}

// books keeps the sums of the admitted slaves' totals and used resources
// per gauge scalar, revocable apart, in thousandths. Every change to a
// slave's total or used goes through setTotal/setUsed, so a metrics
// snapshot reads the sums instead of walking every slave (50,000 of them
// on a big cluster) once per gauge.
type books struct {
	// milli[name][revocable] for total and used.
	total, used [len(bookNames)][2]int64
	// tasks counts the tasks the admitted slaves hold, by framework id,
	// so that /state finds tasks of frameworks not registered (orphans)
	// without walking every slave's tasks.
	tasks map[string]int
}

// countTasks adds n tasks of framework fid.
func (b *books) countTasks(fid string, n int) {
	if b.tasks == nil {
		b.tasks = map[string]int{}
	}
	if b.tasks[fid] += n; b.tasks[fid] == 0 {
		delete(b.tasks, fid)
	}
}

// forgetTask removes a task from s.
func (s *slave) forgetTask(fid, tid string) {
	if _, ok := s.tasks[fid][tid]; !ok {
		return
	}
	delete(s.tasks[fid], tid)
	if s.books != nil {
		s.books.countTasks(fid, -1)
	}
}

// forgetFramework removes a framework's tasks from s.
func (s *slave) forgetFramework(fid string) {
	if s.books != nil {
		s.books.countTasks(fid, -len(s.tasks[fid]))
	}
	delete(s.tasks, fid)
}

// adjust moves sums from old to new.
func adjust(sums *[len(bookNames)][2]int64, old, new resources.Resources) {
	for i, name := range bookNames {
		for rev := range 2 {
			sums[i][rev] += new.ScalarMilliOf(name, rev == 1) - old.ScalarMilliOf(name, rev == 1)
		}
	}
}

// get returns a scalar's total and used sums.
func (b *books) get(name string, revocable bool) (total, used float64) {
	rev := 0
	if revocable {
		rev = 1
	}
	for i, n := range bookNames {
		if n == name {
			return float64(b.total[i][rev]) / 1000, float64(b.used[i][rev]) / 1000
		}
	}
	return 0, 0
}

// setTotal sets s's total resources, keeping the books.
func (s *slave) setTotal(r resources.Resources) {
	if s.books != nil {
		adjust(&s.books.total, s.total, r)
	}
	s.total = r
}

// setUsed sets the resources s's tasks and executors use, keeping the
// books.
func (s *slave) setUsed(r resources.Resources) {
	if s.books != nil {
		adjust(&s.books.used, s.used, r)
	}
	s.used = r
}

// enterBooks counts s (just admitted) in b; leaveBooks takes it out (it
// is being removed), after which its changes are no longer counted.
func (s *slave) enterBooks(b *books) {
	s.books = b
	adjust(&b.total, nil, s.total)
	adjust(&b.used, nil, s.used)
	for fid, ts := range s.tasks {
		b.countTasks(fid, len(ts))
	}
}

func (s *slave) leaveBooks() {
	if s.books == nil {
		return
	}
	adjust(&s.books.total, s.total, nil)
	adjust(&s.books.used, s.used, nil)
	for fid, ts := range s.tasks {
		s.books.countTasks(fid, -len(ts))
	}
	s.books = nil
}
