// Package builtin holds the per-daemon processes every Mesos daemon
// serves besides its own: "version" (/version) and "system"
// (/system/stats.json and the system/* metrics). Spawn them once per
// runtime; spawning again (a master and a slave sharing a runtime) is a
// no-op.
package builtin

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"sort"
	"syscall"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// SpawnVersion starts the "version" process: GET /version answers
// Mesos's fields (version, build_date, build_time, build_user, git_sha,
// git_branch, git_tag), the build ones from the Go build information
// where it has them.
func SpawnVersion(rt *process.Runtime, version string) error {
	return spawnOnce(rt, &versionProcess{version: version}, "version")
}

// SpawnSystem starts the "system" process: GET /system/stats.json and the
// gauges system/cpus_total, system/load_1min, _5min, _15min,
// system/mem_total_bytes and system/mem_free_bytes, read from the kernel
// when asked.
func SpawnSystem(rt *process.Runtime) error {
	return spawnOnce(rt, &systemProcess{}, "system")
}

// spawnOnce spawns a under id unless a process of that id is running.
func spawnOnce(rt *process.Runtime, a process.Actor, id string) error {
	if _, err := rt.Spawn(a, id); err != nil && !errors.Is(err, process.ErrIDTaken) {
		return fmt.Errorf("builtin: %w", err)
	}
	return nil
}

type versionProcess struct {
	process.Process
	version string
}

func (v *versionProcess) Initialize() {
	v.Route("/", "Provides version information about this daemon.", func(*http.Request) future.Future[*process.Response] {
		return process.JSON(versionJSON(v.version))
	})
}

// BuildInfo is what a daemon reports of its build (/version, and the v1
// operator APIs' GET_VERSION): Mesos's fields.
type BuildInfo struct {
	Version, BuildDate, BuildUser, GitSHA, GitBranch, GitTag string
	BuildTime                                                float64
}

// Build describes this binary: version, and what the Go build
// information has of the rest (the commit and its time).
func Build(version string) BuildInfo {
	b := BuildInfo{Version: version}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.GitSHA = s.Value
			case "vcs.time":
				b.BuildDate = s.Value
			}
		}
	}
	return b
}

func versionJSON(version string) map[string]any {
	b := Build(version)
	return map[string]any{
		"version":    b.Version,
		"build_date": b.BuildDate,
		"build_time": b.BuildTime,
		"build_user": b.BuildUser,
		"git_sha":    b.GitSHA,
		"git_branch": b.GitBranch,
		"git_tag":    b.GitTag,
	}
}

type systemProcess struct {
	process.Process
}

// sample is what the kernel reports at one moment.
type sample struct {
	cpus                   int
	load1, load5, load15   float64
	memTotal, memFreeBytes float64
}

// read asks the kernel (sysinfo(2), as Mesos does for these values).
func read() (sample, error) {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return sample{}, fmt.Errorf("sysinfo: %w", err)
	}
	const loadScale = 1 << 16 // SI_LOAD_SHIFT
	unit := float64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	return sample{
		cpus:         runtime.NumCPU(),
		load1:        float64(si.Loads[0]) / loadScale,
		load5:        float64(si.Loads[1]) / loadScale,
		load15:       float64(si.Loads[2]) / loadScale,
		memTotal:     float64(si.Totalram) * unit,
		memFreeBytes: float64(si.Freeram) * unit,
	}, nil
}

func (s *systemProcess) Initialize() {
	s.Route("/stats.json", "Shows local system metrics.", func(*http.Request) future.Future[*process.Response] {
		v, err := read()
		if err != nil {
			return process.Status(http.StatusInternalServerError, err.Error())
		}
		return process.JSON(map[string]any{
			"cpus_total":      v.cpus,
			"avg_load_1min":   v.load1,
			"avg_load_5min":   v.load5,
			"avg_load_15min":  v.load15,
			"mem_total_bytes": v.memTotal,
			"mem_free_bytes":  v.memFreeBytes,
		})
	})
	for name, pick := range map[string]func(sample) float64{
		"cpus_total":      func(v sample) float64 { return float64(v.cpus) },
		"load_1min":       func(v sample) float64 { return v.load1 },
		"load_5min":       func(v sample) float64 { return v.load5 },
		"load_15min":      func(v sample) float64 { return v.load15 },
		"mem_total_bytes": func(v sample) float64 { return v.memTotal },
		"mem_free_bytes":  func(v sample) float64 { return v.memFreeBytes },
	} {
		pick := pick
		if err := s.Gauge("system/"+name, func() float64 {
			v, err := read()
			if err != nil {
				return 0
			}
			return pick(v)
		}); err != nil {
			s.Runtime().Logger().Error("cannot register metric", "name", name, "err", err)
		}
	}
}

func sortStrings(s []string) { sort.Strings(s) }
