package cgroups

import (
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/mesos"
)

const mountinfoFixture = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:33 /docker/abc /sys/fs/cgroup/free\040zer ro,relatime - cgroup cgroup rw,freezer
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
bad line
`

func TestParseMountInfo(t *testing.T) {
	ms, err := parseMountInfo(strings.NewReader(mountinfoFixture))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Fatalf("got %d cgroup mounts, want 5: %+v", len(ms), ms)
	}
	cpu := ms[0]
	if cpu.point != "/sys/fs/cgroup/cpu,cpuacct" || !cpu.has(CPU) || !cpu.has(CPUAcct) || cpu.has(Memory) {
		t.Errorf("cpu mount = %+v", cpu)
	}
	fr := ms[2]
	if fr.point != "/sys/fs/cgroup/free zer" || fr.root != "/docker/abc" || !fr.readOnly || !fr.has(Freezer) {
		t.Errorf("freezer mount = %+v", fr)
	}
	if !ms[3].has("name=systemd") {
		t.Errorf("systemd mount = %+v", ms[3])
	}
	if v2 := ms[4]; v2.fsType != "cgroup2" || v2.has(CPU) {
		t.Errorf("v2 mount = %+v", v2)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:     "/a b",
		`/a\134b`:     `/a\b`,
		`/plain`:      "/plain",
		`/trailing\0`: `/trailing\0`,
		`/x\011`:      "/x\t",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	text := "9:name=systemd:/\n4:memory:/process_api/x\n2:cpu,cpuacct:/mesos/c1\n0::/\n"
	for sub, want := range map[string]string{
		Memory:         "/process_api/x",
		CPUAcct:        "/mesos/c1",
		CPU:            "/mesos/c1",
		"name=systemd": "/",
	} {
		got, ok := parseProcCgroup(text, sub)
		if !ok || got != want {
			t.Errorf("parseProcCgroup(%q) = %q, %v; want %q", sub, got, ok, want)
		}
	}
	if _, ok := parseProcCgroup(text, Freezer); ok {
		t.Error("found a freezer line that is not there")
	}
}

func TestCPUShares(t *testing.T) {
	for cpus, want := range map[float64]uint64{0: 2, 0.001: 2, 0.1: 102, 0.5: 512, 1: 1024, 2.5: 2560} {
		if got := CPUShares(cpus); got != want {
			t.Errorf("CPUShares(%v) = %d, want %d", cpus, got, want)
		}
	}
}

func TestCFSQuotaFor(t *testing.T) {
	for _, c := range []struct {
		cpus   float64
		period time.Duration
		want   time.Duration
	}{
		{0.5, 100 * time.Millisecond, 50 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{0.001, 100 * time.Millisecond, time.Millisecond},
		{1, 10 * time.Millisecond, 10 * time.Millisecond},
	} {
		if got := CFSQuotaFor(c.cpus, c.period); got != c.want {
			t.Errorf("CFSQuotaFor(%v, %v) = %v, want %v", c.cpus, c.period, got, c.want)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	kv, err := parseKeyValues("user 12\nsystem 3\n\n")
	if err != nil || kv["user"] != 12 || kv["system"] != 3 {
		t.Fatalf("got %v, %v", kv, err)
	}
	if _, err := parseKeyValues("user twelve\n"); err == nil {
		t.Error("no error for a non-number")
	}
	if _, err := parseKeyValues("a 1 2\n"); err == nil {
		t.Error("no error for three fields")
	}
}

func TestFill(t *testing.T) {
	var st mesos.ResourceStatistics
	CPUUsage{User: 1500 * time.Millisecond, System: 250 * time.Millisecond}.Fill(&st)
	CFSStats{Periods: 10, Throttled: 4, ThrottledTime: 2 * time.Second}.Fill(&st)
	MemStats{
		Usage: 100, Limit: 200, SoftLimit: 150, Memsw: true, MemswUsage: 120,
		Stat: map[string]uint64{"total_rss": 60, "total_cache": 40, "total_mapped_file": 5, "total_swap": 1, "total_unevictable": 2},
	}.Fill(&st)
	if st.GetCpusUserTimeSecs() != 1.5 || st.GetCpusSystemTimeSecs() != 0.25 {
		t.Errorf("cpu times: %v", &st)
	}
	if st.GetCpusNrPeriods() != 10 || st.GetCpusNrThrottled() != 4 || st.GetCpusThrottledTimeSecs() != 2 {
		t.Errorf("throttling: %v", &st)
	}
	if st.GetMemTotalBytes() != 100 || st.GetMemLimitBytes() != 200 || st.GetMemSoftLimitBytes() != 150 ||
		st.GetMemTotalMemswBytes() != 120 || st.GetMemRssBytes() != 60 || st.GetMemAnonBytes() != 60 ||
		st.GetMemCacheBytes() != 40 || st.GetMemFileBytes() != 40 || st.GetMemMappedFileBytes() != 5 ||
		st.GetMemSwapBytes() != 1 || st.GetMemUnevictableBytes() != 2 {
		t.Errorf("memory: %v", &st)
	}
}

func TestIsRoot(t *testing.T) {
	for cg, want := range map[string]bool{"": true, "/": true, "/..": true, "a/..": true, "mesos": false, "/mesos/c": false} {
		if got := isRoot(cg); got != want {
			t.Errorf("isRoot(%q) = %v", cg, got)
		}
	}
	if got := dir("/sys/fs/cgroup/memory", "../../etc"); got != "/sys/fs/cgroup/memory/etc" {
		t.Errorf("dir escaped the mount: %s", got)
	}
}
