package sim

import (
	"fmt"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/scheduler"
)

// New builds and starts a cluster of shape for a scenario driven step by
// step (Apply, Advance, Check); Run is the same with a whole schedule.
// Close it when done.
func New(cfg Config, shape Shape) (*Cluster, error) { return newCluster(cfg, shape) }

// Apply performs one event now (its At is ignored) and settles.
func (c *Cluster) Apply(e Event) {
	c.apply(e)
	c.settle()
}

// Advance moves virtual time forward by d in steps, running the pending
// restarts and heals at their times and checking the invariants after
// each step; it returns the first violation.
func (c *Cluster) Advance(d time.Duration) error {
	if err := c.until(c.Now().Add(d)); err != nil {
		return c.err(err)
	}
	return nil
}

// Quiesce heals every fault, restarts what is down, lets the cluster run
// for the Config's Quiesce, reconciles every framework's tasks, and
// checks every invariant, the quiescent ones included.
func (c *Cluster) Quiesce() error {
	c.healAll()
	if err := c.until(c.Now().Add(c.cfg.Quiesce)); err != nil {
		return c.err(err)
	}
	c.reconcileAll()
	if err := c.until(c.Now().Add(time.Minute)); err != nil {
		return c.err(err)
	}
	return c.err(c.check(true))
}

// Check checks the invariants that hold at every step.
func (c *Cluster) Check() error { return c.err(c.check(false)) }

func (c *Cluster) err(err error) error {
	if err == errStop {
		return c.violation
	}
	return err
}

// Settle runs the cluster until nothing is under way at the current
// virtual time.
func (c *Cluster) Settle() { c.settle() }

// Elapsed is the virtual time since the cluster started.
func (c *Cluster) Elapsed() time.Duration { return c.Now().Sub(c.start) }

// View is the invariants' view of the cluster now.
func (c *Cluster) View() *View { return c.view() }

// Host returns the runtime of host i (masters, then slaves, then
// frameworks; a slave's own runtime), or nil while it is down: add
// filters on it to script message faults precisely.
func (c *Cluster) Host(i int) *process.Runtime { return c.hostRuntime(i) }

// MasterHost, SlaveHost and FrameworkHost are host indexes.
func (c *Cluster) MasterHost(i int) int    { return i }
func (c *Cluster) SlaveHost(j int) int     { return c.shape.Masters + j }
func (c *Cluster) FrameworkHost(k int) int { return c.shape.Masters + c.shape.Slaves + k }

// ExecutorHost returns the runtime slave j's executors run on.
func (c *Cluster) ExecutorHost(j int) *process.Runtime { return c.slaves[j].execRT }

// Leader returns the leading master, or nil.
func (c *Cluster) Leader() *master.Master {
	if n := c.leader(); n != nil {
		return n.m
	}
	return nil
}

// Driver returns framework k's scheduler driver (nil while it is down).
func (c *Cluster) Driver(k int) *scheduler.Driver {
	if n := c.frameworks[k]; n.up {
		return n.d
	}
	return nil
}

// Framework returns framework k's scheduler.
func (c *Cluster) Framework(k int) Framework { return c.frameworks[k].fw }

// FrameworkID returns framework k's id ("" before it registered).
func (c *Cluster) FrameworkID(k int) string { return c.frameworks[k].id.GetValue() }

// Removed reports whether the master removed framework k (it was told
// so by an error).
func (c *Cluster) Removed(k int) bool { return c.frameworks[k].removed }

// RunningTasks lists the tasks executors run now: "framework/task" →
// slave index.
func (c *Cluster) RunningTasks() map[string]int { return c.view().Running }

// Heard returns the states framework k heard for a task, in order
// (reconciliation answers included).
func (c *Cluster) Heard(k int, taskID string) []string {
	return c.heardLog[taskKey{c.FrameworkID(k), taskID}]
}

// SlaveUp reports whether slave j's process runs.
func (c *Cluster) SlaveUp(j int) bool { return c.slaves[j].up }

// String names the cluster's shape.
func (c *Cluster) String() string {
	return fmt.Sprintf("%d masters, %d slaves, %d frameworks", c.shape.Masters, c.shape.Slaves, c.shape.Frameworks)
}
