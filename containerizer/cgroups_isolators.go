package containerizer

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/gomesos/gomesos/containerizer/cgroups"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// Minimum allocations Mesos enforces on a container.
const (
	minCPUs     = 0.01
	minMemBytes = 32 << 20
)

// cgroupsCPU is the cgroups/cpu isolator: cpu.shares (and the CFS quota
// with --cgroups_enable_cfs) in the cpu hierarchy, accounting from
// cpuacct.
type cgroupsCPU struct {
	root  string
	cfs   bool
	pause cgroups.Pause
}

func newCgroupsCPU(root string, cfs bool, pause cgroups.Pause) (*cgroupsCPU, error) {
	if err := cgroups.Available(cgroups.CPU, cgroups.CPUAcct); err != nil {
		return nil, err
	}
	return &cgroupsCPU{root: root, cfs: cfs, pause: pause}, nil
}

func (c *cgroupsCPU) Name() string              { return "cgroups/cpu" }
func (c *cgroupsCPU) cgroup(id string) string   { return path.Join(c.root, id) }
func (c *cgroupsCPU) subsystems() []string      { return []string{cgroups.CPU, cgroups.CPUAcct} }
func (c *cgroupsCPU) Recover(string, int) error { return nil }

func (c *cgroupsCPU) Prepare(id string, res resources.Resources) error {
	for _, sub := range c.subsystems() {
		if err := cgroups.Create(sub, c.cgroup(id)); err != nil {
			return err
		}
	}
	return c.Update(id, res)
}

func (c *cgroupsCPU) Isolate(id string, pid int) error {
	for _, sub := range c.subsystems() {
		if err := cgroups.Assign(sub, c.cgroup(id), pid); err != nil {
			return err
		}
	}
	return nil
}

func (c *cgroupsCPU) Watch(context.Context, string) <-chan Limitation { return nil }

func (c *cgroupsCPU) Update(id string, res resources.Resources) error {
	cpus := max(res.Scalar("cpus"), minCPUs)
	if err := cgroups.SetShares(c.cgroup(id), cpus); err != nil {
		return err
	}
	if c.cfs {
		return cgroups.SetCFSQuota(c.cgroup(id), cpus, 100*time.Millisecond)
	}
	return nil
}

func (c *cgroupsCPU) Usage(id string, _ int, st *mesos.ResourceStatistics) error {
	acct, err := cgroups.CPUAcctStats(c.cgroup(id))
	if err != nil {
		return err
	}
	acct.Fill(st)
	if c.cfs {
		if cfs, err := cgroups.CPUStats(c.cgroup(id)); err == nil {
			cfs.Fill(st)
		}
	}
	return nil
}

func (c *cgroupsCPU) Orphans(known map[string]bool) []string {
	return listOrphans(cgroups.CPU, c.root, known)
}

func (c *cgroupsCPU) Cleanup(id string) error {
	var errs []string
	for _, sub := range c.subsystems() {
		if err := cgroups.Remove(sub, c.cgroup(id), c.pause); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// cgroupsMem is the cgroups/mem isolator: memory limits and OOM
// notification in the memory hierarchy. An OOM ends the container with
// REASON_CONTAINER_LIMITATION_MEMORY.
type cgroupsMem struct {
	root  string
	pause cgroups.Pause
}

func newCgroupsMem(root string, pause cgroups.Pause) (*cgroupsMem, error) {
	if err := cgroups.Available(cgroups.Memory); err != nil {
		return nil, err
	}
	return &cgroupsMem{root: root, pause: pause}, nil
}

func (m *cgroupsMem) Name() string              { return "cgroups/mem" }
func (m *cgroupsMem) cgroup(id string) string   { return path.Join(m.root, id) }
func (m *cgroupsMem) Recover(string, int) error { return nil }

func (m *cgroupsMem) Prepare(id string, res resources.Resources) error {
	if err := cgroups.Create(cgroups.Memory, m.cgroup(id)); err != nil {
		return err
	}
	return m.Update(id, res)
}

func (m *cgroupsMem) Isolate(id string, pid int) error {
	return cgroups.Assign(cgroups.Memory, m.cgroup(id), pid)
}

func (m *cgroupsMem) Update(id string, res resources.Resources) error {
	bytes := max(uint64(res.Scalar("mem")*(1<<20)), minMemBytes)
	_, err := cgroups.SetLimit(m.cgroup(id), bytes)
	return err
}

func (m *cgroupsMem) Watch(ctx context.Context, id string) <-chan Limitation {
	oom, cancel, err := cgroups.OOMListen(m.cgroup(id))
	if err != nil {
		return nil
	}
	out := make(chan Limitation, 1)
	osEdge(func() {
		defer cancel()
		select {
		case <-oom:
			msg := "Memory limit exceeded"
			if st, err := cgroups.MemoryUsage(m.cgroup(id)); err == nil {
				msg = fmt.Sprintf("Memory limit exceeded: Requested: %dMB Maximum Used: %dMB", st.Limit>>20, st.MaxUsage>>20)
			}
			out <- Limitation{Reason: mesos.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY, Message: msg}
		case <-ctx.Done():
		}
	})
	return out
}

// limitedNow reports a limitation the OOM killer left behind, for a
// container whose end came before the OOM event was read.
func (m *cgroupsMem) limitedNow(id string) (Limitation, bool) {
	st, err := cgroups.OOMControl(m.cgroup(id))
	if err != nil || (st.Kills == 0 && !st.UnderOOM) {
		return Limitation{}, false
	}
	msg := "Memory limit exceeded"
	if u, err := cgroups.MemoryUsage(m.cgroup(id)); err == nil {
		msg = fmt.Sprintf("Memory limit exceeded: Requested: %dMB Maximum Used: %dMB", u.Limit>>20, u.MaxUsage>>20)
	}
	return Limitation{Reason: mesos.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY, Message: msg}, true
}

func (m *cgroupsMem) Usage(id string, _ int, st *mesos.ResourceStatistics) error {
	mem, err := cgroups.MemoryUsage(m.cgroup(id))
	if err != nil {
		return err
	}
	mem.Fill(st)
	return nil
}

func (m *cgroupsMem) Orphans(known map[string]bool) []string {
	return listOrphans(cgroups.Memory, m.root, known)
}

func (m *cgroupsMem) Cleanup(id string) error {
	return cgroups.Remove(cgroups.Memory, m.cgroup(id), m.pause)
}

// freezerLauncher puts each container in its own freezer cgroup and
// destroys it by freezing, killing every process in it and thawing.
type freezerLauncher struct {
	root  string
	pause cgroups.Pause
}

func newFreezerLauncher(root string, pause cgroups.Pause) (*freezerLauncher, error) {
	if err := cgroups.Available(cgroups.Freezer); err != nil {
		return nil, err
	}
	return &freezerLauncher{root: root, pause: pause}, nil
}

func (l *freezerLauncher) Name() string              { return "linux launcher (freezer)" }
func (l *freezerLauncher) cgroup(id string) string   { return path.Join(l.root, id) }
func (l *freezerLauncher) Recover(string, int) error { return nil }

func (l *freezerLauncher) Prepare(id string, _ resources.Resources) error {
	return cgroups.Create(cgroups.Freezer, l.cgroup(id))
}

func (l *freezerLauncher) Isolate(id string, pid int) error {
	return cgroups.Assign(cgroups.Freezer, l.cgroup(id), pid)
}

func (l *freezerLauncher) Update(string, resources.Resources) error { return nil }
func (l *freezerLauncher) Watch(context.Context, string) <-chan Limitation {
	return nil
}
func (l *freezerLauncher) Usage(string, int, *mesos.ResourceStatistics) error { return nil }

func (l *freezerLauncher) Orphans(known map[string]bool) []string {
	return listOrphans(cgroups.Freezer, l.root, known)
}

func (l *freezerLauncher) destroy(id string, _ int) error {
	return cgroups.Kill(cgroups.Freezer, l.cgroup(id), l.pause)
}

func (l *freezerLauncher) Cleanup(id string) error {
	return cgroups.KillAll(cgroups.Freezer, l.cgroup(id), l.pause)
}

// listOrphans lists container cgroups under root that are not known.
func listOrphans(subsystem, root string, known map[string]bool) []string {
	list, err := cgroups.List(subsystem, root)
	if err != nil {
		return nil
	}
	var out []string
	for _, cg := range list {
		if id := path.Base(cg); !known[id] {
			out = append(out, id)
		}
	}
	return out
}
