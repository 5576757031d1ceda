package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Freezer states, as freezer.state reads and takes them.
const (
	Frozen   = "FROZEN"
	Freezing = "FREEZING"
	Thawed   = "THAWED"
)

// FreezerState returns cgroup's freezer.state: Frozen, Freezing or Thawed.
func FreezerState(cgroup string) (string, error) {
	s, err := Read(Freezer, cgroup, "freezer.state")
	return strings.TrimSpace(s), err
}

// Freeze stops every process in cgroup and its nested cgroups (freezer
// subsystem) and returns once freezer.state reads FROZEN. A freeze the
// kernel leaves in FREEZING (a task in an uninterruptible sleep) is asked
// again after a short backoff, a bounded number of times; then Freeze
// fails, and the cgroup may be left partly frozen (Thaw undoes it). It
// refuses to freeze a cgroup holding the calling process.
func Freeze(cgroup string, pause Pause) error {
	m, err := hierarchy(Freezer)
	if err != nil {
		return err
	}
	if err := refuseSelf(Freezer, cgroup); err != nil {
		return err
	}
	return setFreezer(dir(m.point, cgroup), Frozen, pause)
}

// Thaw resumes the processes of cgroup and its nested cgroups (unless a
// nested cgroup was frozen by itself) and returns once freezer.state reads
// THAWED.
func Thaw(cgroup string, pause Pause) error {
	m, err := hierarchy(Freezer)
	if err != nil {
		return err
	}
	return setFreezer(dir(m.point, cgroup), Thawed, pause)
}

// setFreezer writes state to d's freezer.state until it reads back so.
func setFreezer(d, state string, pause Pause) error {
	file := filepath.Join(d, "freezer.state")
	got := ""
	for attempt := range busyRetries {
		if err := writeFile(file, state); err != nil {
			return err
		}
		s, err := readFile(file)
		if err != nil {
			return err
		}
		if got = strings.TrimSpace(s); got == state {
			return nil
		}
		backoff(attempt, pause)
	}
	return fmt.Errorf("cgroups: %s still reads %s after %d attempts to set %s", file, got, busyRetries, state)
}

// refuseSelf fails when the calling process is in cgroup or below it:
// freezing or killing it would take the caller down too.
func refuseSelf(subsystem, cgroup string) error {
	self, err := Self(subsystem)
	if err != nil {
		return err
	}
	c := strings.TrimPrefix(path.Clean("/"+cgroup), "/")
	if c == "" || self == c || strings.HasPrefix(self, c+"/") {
		return fmt.Errorf("cgroups: refusing to freeze or kill %s cgroup %q: it holds this process (in %q)", subsystem, "/"+c, "/"+self)
	}
	return nil
}

// Kill sends SIGKILL to every process in cgroup and its nested cgroups
// and returns once they are all gone from cgroup.procs (a bounded wait;
// then it fails naming how many are left). When subsystem's hierarchy
// carries the freezer, the processes are frozen first, so that none can
// fork while being killed, and thawed after the signals so that they die;
// a freeze that does not complete is logged and the kill goes ahead
// without it, re-signalling each round. Elsewhere each round signals the
// processes still listed. Kill refuses the root cgroup and any cgroup
// holding the calling process; a missing cgroup is not an error.
func Kill(subsystem, cgroup string, pause Pause) error {
	m, err := hierarchy(subsystem)
	if err != nil {
		return err
	}
	if isRoot(cgroup) {
		return fmt.Errorf("cgroups: refusing to kill every process of %s", m.point)
	}
	if err := refuseSelf(subsystem, cgroup); err != nil {
		return err
	}
	top := dir(m.point, cgroup)
	freezer := m.has(Freezer)
	if freezer {
		if err := setFreezer(top, Frozen, pause); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			slog.Warn("cgroups: freeze before kill failed; killing unfrozen", "cgroup", top, "err", err)
		}
	}
	var pids []int
	for attempt := range busyRetries {
		cgs, err := descendants(top)
		if err != nil {
			return err
		}
		if pids, err = pidsIn(cgs); err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("cgroups: kill %d in %s: %w", pid, top, err)
			}
		}
		if freezer && attempt == 0 {
			// Thaw every level, parents first (a child reads FROZEN while
			// its parent is): a nested cgroup frozen by itself stays
			// frozen when only its parent thaws.
			for _, d := range cgs {
				if err := setFreezer(d, Thawed, pause); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		backoff(attempt, pause)
	}
	return fmt.Errorf("cgroups: %d processes still in %s after SIGKILL: %v", len(pids), top, pids)
}

// pidsIn reads the cgroup.procs of each cgroup directory; cgroups removed
// meanwhile are skipped.
func pidsIn(dirs []string) ([]int, error) {
	var all []int
	for _, d := range dirs {
		ids, err := readIDs(filepath.Join(d, "cgroup.procs"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// KillAll destroys cgroup in subsystem's hierarchy: Kill, then Remove of
// the cgroup and every cgroup nested in it. With the freezer subsystem it
// is the freezer launcher's destroy.
func KillAll(subsystem, cgroup string, pause Pause) error {
	if err := Kill(subsystem, cgroup, pause); err != nil {
		return err
	}
	return Remove(subsystem, cgroup, pause)
}
