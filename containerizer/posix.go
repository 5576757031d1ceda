package containerizer

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/gomesos/gomesos/containerizer/procstat"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// posixBase is what the posix isolators share: nothing to prepare or
// enforce, usage read from /proc over the container's process tree.
type posixBase struct{}

func (posixBase) Prepare(string, resources.Resources) error       { return nil }
func (posixBase) Isolate(string, int) error                       { return nil }
func (posixBase) Watch(context.Context, string) <-chan Limitation { return nil }
func (posixBase) Update(string, resources.Resources) error        { return nil }
func (posixBase) Recover(string, int) error                       { return nil }
func (posixBase) Orphans(map[string]bool) []string                { return nil }
func (posixBase) Cleanup(string) error                            { return nil }

func (posixBase) usageOf(pid int) (procstat.Stats, error) {
	pids, err := procstat.Tree(pid)
	if err != nil {
		return procstat.Stats{}, err
	}
	return procstat.Usage(pids)
}

// posixCPU reports CPU times of the container's processes.
type posixCPU struct{ posixBase }

func (posixCPU) Name() string { return "posix/cpu" }

func (p posixCPU) Usage(_ string, pid int, st *mesos.ResourceStatistics) error {
	u, err := p.usageOf(pid)
	if err != nil {
		return err
	}
	u.Fill(st)
	return nil
}

// posixMem reports the resident memory of the container's processes.
type posixMem struct{ posixBase }

func (posixMem) Name() string { return "posix/mem" }

func (p posixMem) Usage(_ string, pid int, st *mesos.ResourceStatistics) error {
	u, err := p.usageOf(pid)
	if err != nil {
		return err
	}
	u.Fill(st)
	return nil
}

// posixLauncher runs each container in its own session and destroys it
// by killing the session's process tree.
type posixLauncher struct {
	pause func(time.Duration) // between rescans of a stopping tree
}

func (l posixLauncher) destroy(_ string, pid int) error {
	if pid <= 0 {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the session's process group
	_, err := procstat.KillTree(pid, syscall.SIGKILL, l.pause)
	if errors.Is(err, procstat.ErrNotFound) {
		return nil
	}
	return err
}
