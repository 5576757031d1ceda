// Package procstat reads and signals process trees through Linux's /proc,
// for the posix isolators and the posix launcher: which processes belong to
// a container (Tree), what they use (Usage), and how to end them all
// (KillTree).
//
// The calls read /proc synchronously and return quickly; a process that
// exits while being read is skipped, not an error.
package procstat

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// ErrNotFound is wrapped when none of the processes asked about exists.
var ErrNotFound = errors.New("procstat: no such process")

// UserHZ is the tick rate of the times in /proc/<pid>/stat. The kernel
// fixes it at 100 for user space (sysconf(_SC_CLK_TCK)) on the
// architectures gomesos runs on.
const UserHZ = 100

// procDir is where the proc filesystem is mounted.
const procDir = "/proc"

// Process is what /proc/<pid>/stat says about one process.
type Process struct {
	Pid     int
	PPid    int    // parent
	Pgrp    int    // process group
	Session int    // session id: the pid of its leader
	Comm    string // executable name, up to 15 bytes
	// State is the one-letter state: R running, S sleeping, D disk
	// sleep, T stopped, t traced, Z zombie, X dead, I idle.
	State byte
	// UserTime and SystemTime are the CPU the process itself used.
	UserTime, SystemTime time.Duration
	// ChildrenUserTime and ChildrenSystemTime are the CPU of the children
	// it has waited for (and, in turn, of theirs).
	ChildrenUserTime, ChildrenSystemTime time.Duration
	Threads                              int
}

// Stat reads /proc/<pid>/stat. A missing process yields an error wrapping
// ErrNotFound.
func Stat(pid int) (Process, error) {
	file := procDir + "/" + strconv.Itoa(pid) + "/stat"
	data, err := os.ReadFile(file)
	if err != nil {
		if gone(err) {
			return Process{}, fmt.Errorf("%w: %d (%w)", ErrNotFound, pid, err)
		}
		return Process{}, fmt.Errorf("procstat: %w", err)
	}
	p, err := parseStat(string(data))
	if err != nil {
		return Process{}, fmt.Errorf("procstat: %s: %w", file, err)
	}
	return p, nil
}

// gone reports whether a /proc read failed because the process exited.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// parseStat parses the text of /proc/<pid>/stat (proc(5)). The command
// name sits in parentheses and may itself hold spaces and parentheses, so
// the fields are split after its last ')'.
func parseStat(s string) (Process, error) {
	open := strings.IndexByte(s, '(')
	end := strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Process{}, fmt.Errorf("no (comm) in %q", s)
	}
	var p Process
	var err error
	if p.Pid, err = strconv.Atoi(strings.TrimSpace(s[:open])); err != nil {
		return Process{}, fmt.Errorf("pid: %w", err)
	}
	p.Comm = s[open+1 : end]
	// rest[0] is field 3 (state) of proc(5); field n is rest[n-3].
	rest := strings.Fields(s[end+1:])
	if len(rest) < 18 || len(rest[0]) != 1 {
		return Process{}, fmt.Errorf("short stat line %q", s)
	}
	p.State = rest[0][0]
	ints := []struct {
		field int
		dst   *int
	}{{4, &p.PPid}, {5, &p.Pgrp}, {6, &p.Session}, {20, &p.Threads}}
	for _, f := range ints {
		if *f.dst, err = strconv.Atoi(rest[f.field-3]); err != nil {
			return Process{}, fmt.Errorf("field %d: %w", f.field, err)
		}
	}
	times := []struct {
		field int
		dst   *time.Duration
	}{{14, &p.UserTime}, {15, &p.SystemTime}, {16, &p.ChildrenUserTime}, {17, &p.ChildrenSystemTime}}
	for _, f := range times {
		n, err := strconv.ParseInt(rest[f.field-3], 10, 64)
		if err != nil {
			return Process{}, fmt.Errorf("field %d: %w", f.field, err)
		}
		*f.dst = time.Duration(n) * (time.Second / UserHZ)
	}
	return p, nil
}

// Snapshot reads the stat of every process in /proc, in pid order.
// Processes that exit during the scan are left out.
func Snapshot() ([]Process, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		p, err := Stat(pid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Process) int { return a.Pid - b.Pid })
	return out, nil
}

// Tree returns root and all its descendants (by parent pid), root first
// then breadth first. It fails with ErrNotFound when root does not exist.
// Processes that were orphaned (re-parented to init or a subreaper) are
// not descendants any more; KillTree also follows sessions for them.
func Tree(root int) ([]int, error) {
	if root <= 0 {
		return nil, fmt.Errorf("%w: pid %d", ErrNotFound, root)
	}
	procs, err := Snapshot()
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(procs, func(p Process) bool { return p.Pid == root }) {
		return nil, fmt.Errorf("%w: %d", ErrNotFound, root)
	}
	return tree(root, procs), nil
}

// tree walks the parent links of procs down from root.
func tree(root int, procs []Process) []int {
	children := make(map[int][]int)
	for _, p := range procs {
		if p.Pid != p.PPid {
			children[p.PPid] = append(children[p.PPid], p.Pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// Stats is the summed resource usage of a set of processes.
type Stats struct {
	// UserTime and SystemTime are the CPU the live processes used.
	UserTime, SystemTime time.Duration
	// ChildrenUserTime and ChildrenSystemTime are the CPU of their
	// exited, reaped children.
	ChildrenUserTime, ChildrenSystemTime time.Duration
	// RSS is the resident memory: resident pages of /proc/<pid>/statm
	// times the page size. Shared pages count once per process.
	RSS uint64
	// Processes and Threads count the live processes and their threads.
	Processes, Threads int
}

// Usage sums the usage of pids (typically Tree's result) from
// /proc/<pid>/stat and /proc/<pid>/statm, skipping processes that have
// exited. An empty pids gives zero Stats; pids none of which exists give
// an error wrapping ErrNotFound.
func Usage(pids []int) (Stats, error) {
	var s Stats
	page := uint64(os.Getpagesize())
	for _, pid := range pids {
		p, err := Stat(pid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Stats{}, err
		}
		resident, err := residentPages(pid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Stats{}, err
		}
		s.UserTime += p.UserTime
		s.SystemTime += p.SystemTime
		s.ChildrenUserTime += p.ChildrenUserTime
		s.ChildrenSystemTime += p.ChildrenSystemTime
		s.RSS += resident * page
		s.Processes++
		s.Threads += p.Threads
	}
	if len(pids) > 0 && s.Processes == 0 {
		return Stats{}, fmt.Errorf("%w: none of %v", ErrNotFound, pids)
	}
	return s, nil
}

// residentPages reads the second field of /proc/<pid>/statm.
func residentPages(pid int) (uint64, error) {
	file := procDir + "/" + strconv.Itoa(pid) + "/statm"
	data, err := os.ReadFile(file)
	if err != nil {
		if gone(err) {
			return 0, fmt.Errorf("%w: %d (%w)", ErrNotFound, pid, err)
		}
		return 0, fmt.Errorf("procstat: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, fmt.Errorf("procstat: %s: short line %q", file, data)
	}
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("procstat: %s: %w", file, err)
	}
	return n, nil
}

// Fill sets the CPU, memory and count fields of st. The CPU times include
// reaped children's, so a container's reported CPU time does not drop
// when one of its processes exits (Mesos's posix isolator counts live
// processes only, whose sum can go backwards).
func (s Stats) Fill(st *mesos.ResourceStatistics) {
	st.CpusUserTimeSecs = proto.Float64((s.UserTime + s.ChildrenUserTime).Seconds())
	st.CpusSystemTimeSecs = proto.Float64((s.SystemTime + s.ChildrenSystemTime).Seconds())
	st.MemRssBytes = proto.Uint64(s.RSS)
	st.Processes = proto.Uint32(uint32(s.Processes))
	st.Threads = proto.Uint32(uint32(s.Threads))
}
