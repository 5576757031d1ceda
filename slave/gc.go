package slave

import (
	"sort"
	"syscall"
	"time"

	"github.com/gomesos/gomesos/process"
)

// collector is the slave's garbage collector: directories of finished
// executors and frameworks are removed --gc_delay after they were
// scheduled, and sooner when the disk fills: every --disk_watch_interval
// the allowed age becomes gc_delay × max(0, 1 − gc_disk_headroom − usage)
// (usage of the work directory's file system, 0..1), as in Mesos.
type collector struct {
	s       *slave
	entries map[string]*gcEntry
	watch   *process.Timer
	// diskUsage reads the work directory's file system usage; tests
	// replace it.
	diskUsage func() (float64, error)
}

type gcEntry struct {
	path      string
	scheduled time.Time
	timer     *process.Timer
}

func newCollector(s *slave) *collector {
	c := &collector{s: s, entries: make(map[string]*gcEntry), diskUsage: func() (float64, error) { return diskUsage(s.cfg.WorkDir) }}
	c.armWatch()
	return c
}

// schedule removes path after gc_delay (again from now if it was already
// scheduled).
func (c *collector) schedule(path string) {
	if old := c.entries[path]; old != nil {
		c.s.Clock().Cancel(old.timer)
	}
	e := &gcEntry{path: path, scheduled: c.s.Clock().Now()}
	e.timer = c.s.Delay(c.s.cfg.GCDelay, func() { c.remove(e) })
	c.entries[path] = e
}

// unschedule keeps path (e.g. a framework that came back).
func (c *collector) unschedule(path string) {
	if e := c.entries[path]; e != nil {
		c.s.Clock().Cancel(e.timer)
		delete(c.entries, path)
	}
}

func (c *collector) remove(e *gcEntry) {
	if c.entries[e.path] != e {
		return
	}
	delete(c.entries, e.path)
	c.s.Clock().Cancel(e.timer)
	if err := c.s.cfg.Files.RemoveAll(e.path); err != nil {
		c.s.log.Warn("garbage collection failed", "path", e.path, "err", err)
		return
	}
	detachSandboxes(c.s.Runtime(), e.path)
	c.s.log.Info("garbage collected", "path", e.path)
}

// armWatch checks disk usage every --disk_watch_interval.
func (c *collector) armWatch() {
	c.watch = c.s.Delay(c.s.cfg.DiskWatchInterval, func() {
		c.prune()
		c.armWatch()
	})
}

// prune removes the entries older than the disk-adjusted delay.
func (c *collector) prune() {
	usage, err := c.diskUsage()
	if err != nil {
		c.s.log.Warn("cannot read disk usage", "err", err)
		return
	}
	factor := max(0, 1-c.s.cfg.GCDiskHeadroom-usage)
	age := time.Duration(float64(c.s.cfg.GCDelay) * factor)
	now := c.s.Clock().Now()
	var old []*gcEntry
	for _, e := range c.entries {
		if now.Sub(e.scheduled) >= age {
			old = append(old, e)
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].scheduled.Before(old[j].scheduled) })
	if len(old) > 0 {
		c.s.log.Info("pruning sandboxes for disk space", "usage", usage, "max_age", age, "count", len(old))
	}
	for _, e := range old {
		c.remove(e)
	}
}

// diskUsage is the used fraction of the file system holding dir.
func diskUsage(dir string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	if st.Blocks == 0 {
		return 0, nil
	}
	return float64(st.Blocks-st.Bavail) / float64(st.Blocks), nil
}
