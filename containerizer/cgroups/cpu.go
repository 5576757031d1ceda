package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// CPU shares: the kernel's weight for one whole CPU, and the smallest
// weight it accepts.
const (
	SharesPerCPU = 1024
	MinShares    = 2
)

// CFS bandwidth bounds: the period Mesos uses by default, and the
// smallest quota the kernel accepts.
const (
	DefaultCFSPeriod = 100 * time.Millisecond
	MinCFSQuota      = time.Millisecond
)

// UserHZ is the tick rate of cpuacct.stat and /proc/<pid>/stat times. The
// kernel fixes it at 100 for user space on every architecture Linux runs
// gomesos on.
const UserHZ = 100

// CPUShares converts a number of CPUs to a cpu.shares weight: 1024 per
// CPU, at least MinShares.
func CPUShares(cpus float64) uint64 {
	return max(uint64(cpus*SharesPerCPU), MinShares)
}

// SetShares sets cgroup's cpu.shares (cpu subsystem) to CPUShares(cpus).
func SetShares(cgroup string, cpus float64) error {
	return Write(CPU, cgroup, "cpu.shares", strconv.FormatUint(CPUShares(cpus), 10))
}

// Shares returns cgroup's cpu.shares.
func Shares(cgroup string) (uint64, error) {
	d, err := Path(CPU, cgroup)
	if err != nil {
		return 0, err
	}
	return readUint(filepath.Join(d, "cpu.shares"))
}

// CFSQuotaFor returns the cpu.cfs_quota_us value that caps cpus CPUs per
// period: period × cpus, at least MinCFSQuota.
func CFSQuotaFor(cpus float64, period time.Duration) time.Duration {
	return max(time.Duration(float64(period)*cpus), MinCFSQuota)
}

// SetCFSQuota caps cgroup (cpu subsystem) at cpus CPUs with CFS
// bandwidth control: cpu.cfs_period_us = period (DefaultCFSPeriod when
// zero) and cpu.cfs_quota_us = CFSQuotaFor(cpus, period).
func SetCFSQuota(cgroup string, cpus float64, period time.Duration) error {
	if period <= 0 {
		period = DefaultCFSPeriod
	}
	if err := Write(CPU, cgroup, "cpu.cfs_period_us", strconv.FormatInt(period.Microseconds(), 10)); err != nil {
		return err
	}
	quota := CFSQuotaFor(cpus, period)
	return Write(CPU, cgroup, "cpu.cfs_quota_us", strconv.FormatInt(quota.Microseconds(), 10))
}

// ClearCFSQuota removes cgroup's CFS bandwidth cap (cpu.cfs_quota_us = -1).
func ClearCFSQuota(cgroup string) error {
	return Write(CPU, cgroup, "cpu.cfs_quota_us", "-1")
}

// CFSQuota returns cgroup's CFS quota and period; a negative quota means
// no cap.
func CFSQuota(cgroup string) (quota, period time.Duration, err error) {
	q, err := Read(CPU, cgroup, "cpu.cfs_quota_us")
	if err != nil {
		return 0, 0, err
	}
	qus, err := strconv.ParseInt(strings.TrimSpace(q), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cgroups: %s cpu.cfs_quota_us: %w", cgroup, err)
	}
	p, err := Read(CPU, cgroup, "cpu.cfs_period_us")
	if err != nil {
		return 0, 0, err
	}
	pus, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("cgroups: %s cpu.cfs_period_us: %w", cgroup, err)
	}
	if qus < 0 {
		return -1, time.Duration(pus) * time.Microsecond, nil
	}
	return time.Duration(qus) * time.Microsecond, time.Duration(pus) * time.Microsecond, nil
}

// CPUUsage is a cgroup's CPU accounting (cpuacct subsystem).
type CPUUsage struct {
	// User and System are cpuacct.stat's user and system times, kept by
	// the kernel in USER_HZ ticks (10ms).
	User, System time.Duration
	// Usage is cpuacct.usage: total CPU time, in nanoseconds precision.
	Usage time.Duration
}

// CPUAcctStats reads cgroup's cpuacct.stat and cpuacct.usage.
func CPUAcctStats(cgroup string) (CPUUsage, error) {
	d, err := Path(CPUAcct, cgroup)
	if err != nil {
		return CPUUsage{}, err
	}
	file := filepath.Join(d, "cpuacct.stat")
	s, err := readFile(file)
	if err != nil {
		return CPUUsage{}, err
	}
	kv, err := parseKeyValues(s)
	if err != nil {
		return CPUUsage{}, fmt.Errorf("cgroups: %s: %w", file, err)
	}
	usage, err := readUint(filepath.Join(d, "cpuacct.usage"))
	if err != nil {
		return CPUUsage{}, err
	}
	return CPUUsage{
		User:   ticks(kv["user"]),
		System: ticks(kv["system"]),
		Usage:  time.Duration(usage),
	}, nil
}

// ticks converts USER_HZ ticks to a duration.
func ticks(n uint64) time.Duration {
	return time.Duration(n) * (time.Second / UserHZ)
}

// Fill sets the CPU time fields of st.
func (a CPUUsage) Fill(st *mesos.ResourceStatistics) {
	st.CpusUserTimeSecs = proto.Float64(a.User.Seconds())
	st.CpusSystemTimeSecs = proto.Float64(a.System.Seconds())
}

// CFSStats is a cgroup's CFS bandwidth accounting (cpu.stat).
type CFSStats struct {
	// Periods is nr_periods: enforcement periods that have elapsed while
	// the cgroup had runnable tasks.
	Periods uint64
	// Throttled is nr_throttled: periods in which the cgroup ran out of
	// quota.
	Throttled uint64
	// ThrottledTime is throttled_time: the total time tasks were held back.
	ThrottledTime time.Duration
}

// CPUStats reads cgroup's cpu.stat (cpu subsystem).
func CPUStats(cgroup string) (CFSStats, error) {
	d, err := Path(CPU, cgroup)
	if err != nil {
		return CFSStats{}, err
	}
	file := filepath.Join(d, "cpu.stat")
	s, err := readFile(file)
	if err != nil {
		return CFSStats{}, err
	}
	kv, err := parseKeyValues(s)
	if err != nil {
		return CFSStats{}, fmt.Errorf("cgroups: %s: %w", file, err)
	}
	return CFSStats{
		Periods:       kv["nr_periods"],
		Throttled:     kv["nr_throttled"],
		ThrottledTime: time.Duration(kv["throttled_time"]),
	}, nil
}

// Fill sets the throttling fields of st.
func (c CFSStats) Fill(st *mesos.ResourceStatistics) {
	st.CpusNrPeriods = proto.Uint32(uint32(c.Periods))
	st.CpusNrThrottled = proto.Uint32(uint32(c.Throttled))
	st.CpusThrottledTimeSecs = proto.Float64(c.ThrottledTime.Seconds())
}

// parseKeyValues parses "key value" lines of unsigned numbers, as in
// cpuacct.stat, cpu.stat, memory.stat and memory.oom_control.
func parseKeyValues(s string) (map[string]uint64, error) {
	kv := make(map[string]uint64)
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		kv[f[0]] = n
	}
	return kv, nil
}
