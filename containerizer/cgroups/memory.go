package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// isUnlimited reports whether a v1 memory limit is the kernel's "no limit"
// value (the largest page count, reported as about 2^63 bytes).
func isUnlimited(v uint64) bool {
	return v >= 1<<62
}

// SetHardLimit writes cgroup's memory.limit_in_bytes as is. Lowering it
// below what the cgroup uses makes the kernel reclaim, and fail with EBUSY
// if it cannot; see SetLimit for the policy isolators want.
func SetHardLimit(cgroup string, bytes uint64) error {
	return Write(Memory, cgroup, "memory.limit_in_bytes", strconv.FormatUint(bytes, 10))
}

// SetSoftLimit writes cgroup's memory.soft_limit_in_bytes, the level the
// kernel reclaims the cgroup towards when the host is short of memory.
func SetSoftLimit(cgroup string, bytes uint64) error {
	return Write(Memory, cgroup, "memory.soft_limit_in_bytes", strconv.FormatUint(bytes, 10))
}

// Limit returns cgroup's memory.limit_in_bytes.
func Limit(cgroup string) (uint64, error) {
	d, err := Path(Memory, cgroup)
	if err != nil {
		return 0, err
	}
	return readUint(filepath.Join(d, "memory.limit_in_bytes"))
}

// SetLimit applies a memory allocation of bytes to cgroup the way the
// Mesos memory isolator does. The soft limit is always set to bytes. The
// hard limit (memory.limit_in_bytes) is set to bytes only when that does
// not lower it — the first time, when it is still unlimited, or when the
// allocation grows. When the allocation shrinks the hard limit is left
// where it is: lowering it under a running task makes the kernel reclaim
// the task's memory at once (failing with EBUSY when it cannot) and leaves
// the task one allocation away from the OOM killer, so a smaller
// allocation is enforced only through the soft limit, under memory
// pressure. It reports whether the hard limit was written.
func SetLimit(cgroup string, bytes uint64) (hard bool, err error) {
	return setLimit(cgroup, bytes, false)
}

// SetLimitWithSwap is SetLimit that also limits memory plus swap
// (memory.memsw.limit_in_bytes, the --cgroups_limit_swap mode) to bytes,
// under the same rule. It fails when the kernel has no swap accounting.
func SetLimitWithSwap(cgroup string, bytes uint64) (hard bool, err error) {
	return setLimit(cgroup, bytes, true)
}

func setLimit(cgroup string, bytes uint64, swap bool) (bool, error) {
	if err := SetSoftLimit(cgroup, bytes); err != nil {
		return false, err
	}
	current, err := Limit(cgroup)
	if err != nil {
		return false, err
	}
	if bytes < current && !isUnlimited(current) {
		return false, nil
	}
	hardWrite := func() error { return SetHardLimit(cgroup, bytes) }
	swapWrite := func() error {
		return Write(Memory, cgroup, "memory.memsw.limit_in_bytes", strconv.FormatUint(bytes, 10))
	}
	// The kernel keeps memsw >= limit at every step: raise memsw first,
	// lower it last.
	steps := []func() error{hardWrite}
	if swap {
		if bytes >= current {
			steps = []func() error{swapWrite, hardWrite}
		} else {
			steps = []func() error{hardWrite, swapWrite}
		}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// MemStats is a cgroup's memory accounting (memory subsystem).
type MemStats struct {
	// Usage and MaxUsage are memory.usage_in_bytes and
	// memory.max_usage_in_bytes: everything charged (RSS, page cache).
	Usage, MaxUsage uint64
	// Limit and SoftLimit are memory.limit_in_bytes and
	// memory.soft_limit_in_bytes.
	Limit, SoftLimit uint64
	// MemswUsage and MemswLimit are memory.memsw.usage_in_bytes and
	// memory.memsw.limit_in_bytes; Memsw is false, and they zero, when the
	// kernel has no swap accounting.
	Memsw                  bool
	MemswUsage, MemswLimit uint64
	// Stat is memory.stat as read: "rss", "cache", "mapped_file", ... for
	// the cgroup itself and "total_rss", "total_cache", ... including its
	// nested cgroups.
	Stat map[string]uint64
}

// MemoryUsage reads cgroup's memory accounting files.
func MemoryUsage(cgroup string) (MemStats, error) {
	d, err := Path(Memory, cgroup)
	if err != nil {
		return MemStats{}, err
	}
	var m MemStats
	for _, f := range []struct {
		file string
		v    *uint64
	}{
		{"memory.usage_in_bytes", &m.Usage},
		{"memory.max_usage_in_bytes", &m.MaxUsage},
		{"memory.limit_in_bytes", &m.Limit},
		{"memory.soft_limit_in_bytes", &m.SoftLimit},
	} {
		if *f.v, err = readUint(filepath.Join(d, f.file)); err != nil {
			return MemStats{}, err
		}
	}
	m.MemswUsage, err = readUint(filepath.Join(d, "memory.memsw.usage_in_bytes"))
	switch {
	case err == nil:
		m.Memsw = true
		if m.MemswLimit, err = readUint(filepath.Join(d, "memory.memsw.limit_in_bytes")); err != nil {
			return MemStats{}, err
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return MemStats{}, err
	}
	file := filepath.Join(d, "memory.stat")
	s, err := readFile(file)
	if err != nil {
		return MemStats{}, err
	}
	if m.Stat, err = parseKeyValues(s); err != nil {
		return MemStats{}, fmt.Errorf("cgroups: %s: %w", file, err)
	}
	return m, nil
}

// Fill sets the memory fields of st: the total charged, the limits, and
// from memory.stat (hierarchical totals) the page cache as file/cache
// bytes, anonymous memory as anon/RSS bytes, mapped files, swap and
// unevictable memory.
func (m MemStats) Fill(st *mesos.ResourceStatistics) {
	st.MemTotalBytes = proto.Uint64(m.Usage)
	st.MemLimitBytes = proto.Uint64(m.Limit)
	st.MemSoftLimitBytes = proto.Uint64(m.SoftLimit)
	if m.Memsw {
		st.MemTotalMemswBytes = proto.Uint64(m.MemswUsage)
	}
	set := func(dst **uint64, key string) {
		if v, ok := m.Stat[key]; ok {
			*dst = proto.Uint64(v)
		}
	}
	set(&st.MemFileBytes, "total_cache")
	set(&st.MemCacheBytes, "total_cache")
	set(&st.MemAnonBytes, "total_rss")
	set(&st.MemRssBytes, "total_rss")
	set(&st.MemMappedFileBytes, "total_mapped_file")
	set(&st.MemSwapBytes, "total_swap")
	set(&st.MemUnevictableBytes, "total_unevictable")
}

// OOMState is a cgroup's memory.oom_control.
type OOMState struct {
	// KillDisable is oom_kill_disable: the OOM killer is off and tasks
	// that hit the limit wait instead.
	KillDisable bool
	// UnderOOM is under_oom: the cgroup is out of memory right now.
	UnderOOM bool
	// Kills is oom_kill: processes the OOM killer has killed in the cgroup
	// (kernels from 4.13).
	Kills uint64
}

// OOMControl reads cgroup's memory.oom_control.
func OOMControl(cgroup string) (OOMState, error) {
	d, err := Path(Memory, cgroup)
	if err != nil {
		return OOMState{}, err
	}
	file := filepath.Join(d, "memory.oom_control")
	s, err := readFile(file)
	if err != nil {
		return OOMState{}, err
	}
	kv, err := parseKeyValues(s)
	if err != nil {
		return OOMState{}, fmt.Errorf("cgroups: %s: %w", file, err)
	}
	return OOMState{
		KillDisable: kv["oom_kill_disable"] != 0,
		UnderOOM:    kv["under_oom"] != 0,
		Kills:       kv["oom_kill"],
	}, nil
}
