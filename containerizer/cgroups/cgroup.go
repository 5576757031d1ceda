package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Create makes cgroup (and any missing parents) in subsystem's hierarchy.
// An existing cgroup is not an error.
func Create(subsystem, cgroup string) error {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("cgroups: create %s: %w", d, err)
	}
	return nil
}

// Exists reports whether cgroup exists in subsystem's hierarchy.
func Exists(subsystem, cgroup string) (bool, error) {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(d)
	switch {
	case err == nil:
		return fi.IsDir(), nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("cgroups: %w", err)
	}
}

// Remove deletes cgroup and every cgroup nested in it, deepest first. The
// cgroups must hold no processes (see KillAll); a cgroup the kernel still
// reports busy just after its last process exited is retried a few times.
// A cgroup that does not exist is not an error, so Remove is idempotent.
// The root of a hierarchy is never removed.
func Remove(subsystem, cgroup string, pause Pause) error {
	m, err := hierarchy(subsystem)
	if err != nil {
		return err
	}
	if isRoot(cgroup) {
		return fmt.Errorf("cgroups: refusing to remove the root of %s", m.point)
	}
	all, err := descendants(dir(m.point, cgroup))
	if err != nil {
		return err
	}
	// descendants lists parents before children; remove in reverse.
	for _, d := range slices.Backward(all) {
		if err := rmdir(d, pause); err != nil {
			return err
		}
	}
	return nil
}

// isRoot reports whether cgroup names the root of its hierarchy.
func isRoot(cgroup string) bool {
	return path.Clean("/"+cgroup) == "/"
}

// rmdir removes one cgroup directory, retrying a bounded number of times
// while the kernel reports it busy.
func rmdir(d string, pause Pause) error {
	var err error
	for attempt := range busyRetries {
		err = unix.Rmdir(d)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		backoff(attempt, pause)
	}
	return fmt.Errorf("cgroups: remove %s: %w", d, err)
}

// busyRetries bounds the retries of rmdir, Freeze, Thaw and Kill. With
// backoff's schedule it allows a little under five seconds in total.
const busyRetries = 60

// Pause waits between the attempts of a bounded poll of kernel state. In
// cgroups v1 the kernel gives no event for a cgroup becoming empty or a
// freezer state settling, so callers poll; the caller supplies the wait
// (real time at the OS edge, see process/walltime). A nil Pause retries
// at once.
type Pause func(time.Duration)

// backoff pauses before retry attempt+1: 1ms doubling to a 100ms cap.
func backoff(attempt int, pause Pause) {
	if pause != nil {
		pause(min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond))
	}
}

// descendants returns d and every directory below it, parents before
// children. A missing d yields nothing.
func descendants(d string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if p == d {
					return fs.SkipAll
				}
				return nil // vanished while walking
			}
			return err
		}
		if e.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cgroups: walk %s: %w", d, err)
	}
	return out, nil
}

// List returns the cgroups directly below root in subsystem's hierarchy,
// as cgroup paths (root joined with each child's name), sorted. A missing
// root yields an empty list. After a restart, the slave lists its
// --cgroups_root to find containers it no longer knows (orphans).
func List(subsystem, root string) ([]string, error) {
	d, err := Path(subsystem, root)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgroups: list %s: %w", d, err)
	}
	base := strings.TrimPrefix(path.Clean("/"+root), "/")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, path.Join(base, e.Name()))
		}
	}
	return out, nil
}

// Read returns the contents of a control file of cgroup (for example
// Read("memory", "mesos/c1", "memory.limit_in_bytes")), without the
// trailing newline.
func Read(subsystem, cgroup, control string) (string, error) {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return "", err
	}
	return readFile(filepath.Join(d, control))
}

func readFile(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cgroups: %w", err)
	}
	return strings.TrimRight(string(data), "\n"), nil
}

// Write writes value to a control file of cgroup in one write(2), as the
// kernel expects.
func Write(subsystem, cgroup, control, value string) error {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(d, control), value)
}

func writeFile(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cgroups: write %q: %w", value, err)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cgroups: write %q to %s: %w", value, file, unwrapPath(err))
	}
	return nil
}

// unwrapPath strips an *fs.PathError whose path the caller already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readUint reads a control file holding one unsigned number.
func readUint(file string) (uint64, error) {
	s, err := readFile(file)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroups: %s: %w", file, err)
	}
	return n, nil
}

// Assign moves process pid, with all its threads, into cgroup (writing
// cgroup.procs). Its children forked afterwards are born in the cgroup.
func Assign(subsystem, cgroup string, pid int) error {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid))
}

// Pids returns the processes (thread-group ids) in cgroup itself, not in
// its nested cgroups, sorted and without duplicates, from cgroup.procs.
func Pids(subsystem, cgroup string) ([]int, error) {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return nil, err
	}
	return readIDs(filepath.Join(d, "cgroup.procs"))
}

// Tasks returns the threads in cgroup itself, sorted and without
// duplicates, from tasks.
func Tasks(subsystem, cgroup string) ([]int, error) {
	d, err := Path(subsystem, cgroup)
	if err != nil {
		return nil, err
	}
	return readIDs(filepath.Join(d, "tasks"))
}

// readIDs parses a cgroup.procs or tasks file.
func readIDs(file string) ([]int, error) {
	s, err := readFile(file)
	if err != nil {
		return nil, err
	}
	var ids []int
	for f := range strings.FieldsSeq(s) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("cgroups: %s: %w", file, err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}
