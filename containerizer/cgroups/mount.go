package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Subsystem names used by the helpers of this package.
const (
	CPU     = "cpu"
	CPUAcct = "cpuacct"
	Memory  = "memory"
	Freezer = "freezer"
)

// ErrUnavailable is wrapped by every error of Available: cgroups v1 cannot
// be used here (not Linux, not root, a subsystem not mounted or read-only,
// or a host with only the cgroups v2 hierarchy).
var ErrUnavailable = errors.New("cgroups v1 unavailable")

// ErrNotMounted is wrapped by the errors of Mount (and of every function
// that needs a subsystem's hierarchy) when no cgroups v1 hierarchy carries
// the subsystem.
var ErrNotMounted = errors.New("subsystem not mounted")

// mountInfo is one cgroup-related line of /proc/self/mountinfo.
type mountInfo struct {
	point    string   // where it is mounted
	root     string   // the directory of the hierarchy shown at point
	fsType   string   // "cgroup" or "cgroup2"
	options  []string // super options: subsystems, "name=...", flags
	readOnly bool     // mounted read-only
}

// has reports whether the v1 mount carries subsystem.
func (m mountInfo) has(subsystem string) bool {
	return m.fsType == "cgroup" && slices.Contains(m.options, subsystem)
}

// mountinfoPath is read by readMounts; tests never change it, they call
// parseMountInfo directly.
const mountinfoPath = "/proc/self/mountinfo"

// readMounts returns the cgroup and cgroup2 mounts of this process.
func readMounts() ([]mountInfo, error) {
	f, err := os.Open(mountinfoPath)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	ms, err := parseMountInfo(f)
	if err != nil {
		return nil, fmt.Errorf("cgroups: reading %s: %w", mountinfoPath, err)
	}
	return ms, nil
}

// parseMountInfo reads mountinfo lines (proc(5)) and keeps those of type
// cgroup or cgroup2, in file order.
func parseMountInfo(r io.Reader) ([]mountInfo, error) {
	var out []mountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// id parent major:minor root point options [optional...] - type source super
		sep := slices.Index(fields, "-")
		if sep < 6 || len(fields) < sep+4 {
			continue
		}
		fsType := fields[sep+1]
		if fsType != "cgroup" && fsType != "cgroup2" {
			continue
		}
		out = append(out, mountInfo{
			point:    unescapeOctal(fields[4]),
			root:     unescapeOctal(fields[3]),
			fsType:   fsType,
			options:  strings.Split(fields[sep+3], ","),
			readOnly: slices.Contains(strings.Split(fields[5], ","), "ro"),
		})
	}
	return out, sc.Err()
}

// unescapeOctal undoes the \NNN escapes the kernel writes for spaces, tabs,
// newlines and backslashes in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hierarchies caches the v1 mount found for each subsystem.
var hierarchies sync.Map // subsystem -> mountInfo

// hierarchy finds the v1 mount carrying subsystem.
func hierarchy(subsystem string) (mountInfo, error) {
	if m, ok := hierarchies.Load(subsystem); ok {
		return m.(mountInfo), nil
	}
	ms, err := readMounts()
	if err != nil {
		return mountInfo{}, err
	}
	for _, m := range ms {
		if m.has(subsystem) {
			hierarchies.Store(subsystem, m)
			return m, nil
		}
	}
	return mountInfo{}, fmt.Errorf("cgroups: %q: %w (no cgroup v1 hierarchy with it in %s)", subsystem, ErrNotMounted, mountinfoPath)
}

// Mount returns the mount point of the cgroups v1 hierarchy that carries
// subsystem (for example "/sys/fs/cgroup/memory"), read from
// /proc/self/mountinfo. The first matching mount wins; results are cached
// for the life of the process.
func Mount(subsystem string) (string, error) {
	m, err := hierarchy(subsystem)
	if err != nil {
		return "", err
	}
	return m.point, nil
}

// Subsystems returns every subsystem attached to the hierarchy that
// carries subsystem (for example ["cpu", "cpuacct"] when they are
// co-mounted), including "name=..." labels.
func Subsystems(subsystem string) ([]string, error) {
	m, err := hierarchy(subsystem)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range m.options {
		if o != "rw" && o != "ro" && o != "noprefix" && o != "xattr" && o != "clone_children" &&
			!strings.HasPrefix(o, "release_agent=") {
			out = append(out, o)
		}
	}
	return out, nil
}

// Available reports whether every named subsystem can be used: the
// system is Linux, the process runs as root, and each subsystem is mounted
// as a writable cgroups v1 hierarchy. The error, which wraps
// ErrUnavailable, says what is missing; a host with only the cgroups v2
// hierarchy is named as such.
func Available(subsystems ...string) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("cgroups: %w: this is %s, cgroups need Linux", ErrUnavailable, runtime.GOOS)
	}
	if euid := os.Geteuid(); euid != 0 {
		return fmt.Errorf("cgroups: %w: not running as root (euid %d)", ErrUnavailable, euid)
	}
	ms, err := readMounts()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	for _, s := range subsystems {
		i := slices.IndexFunc(ms, func(m mountInfo) bool { return m.has(s) })
		if i < 0 {
			if j := slices.IndexFunc(ms, func(m mountInfo) bool { return m.fsType == "cgroup2" }); j >= 0 {
				where := ms[j].point
				if ctl, err := os.ReadFile(filepath.Join(where, "cgroup.controllers")); err == nil &&
					slices.Contains(strings.Fields(string(ctl)), v2Name(s)) {
					return fmt.Errorf("cgroups: %w: %w: %q is attached to the cgroups v2 (unified) hierarchy at %s; gomesos needs it in a v1 hierarchy", ErrUnavailable, ErrNotMounted, s, where)
				}
				return fmt.Errorf("cgroups: %w: %w: %q has no cgroups v1 hierarchy (only cgroups v2 is mounted, at %s)", ErrUnavailable, ErrNotMounted, s, where)
			}
			return fmt.Errorf("cgroups: %w: %w: %q has no cgroups v1 hierarchy in %s", ErrUnavailable, ErrNotMounted, s, mountinfoPath)
		}
		m := ms[i]
		if m.readOnly {
			return fmt.Errorf("cgroups: %w: %q is mounted read-only at %s", ErrUnavailable, s, m.point)
		}
		if err := unix.Access(m.point, unix.W_OK); err != nil {
			return fmt.Errorf("cgroups: %w: %q hierarchy %s is not writable: %w", ErrUnavailable, s, m.point, err)
		}
	}
	return nil
}

// v2Name maps a v1 subsystem to the v2 controller that replaced it.
func v2Name(subsystem string) string {
	if subsystem == CPUAcct {
		return CPU
	}
	return subsystem
}

// Self returns the cgroup of the calling process in subsystem's
// hierarchy, relative to its mount point ("" for the root), from
// /proc/self/cgroup.
func Self(subsystem string) (string, error) {
	return cgroupOf("self", subsystem)
}

// Of returns the cgroup of process pid in subsystem's hierarchy, relative
// to its mount point ("" for the root), from /proc/<pid>/cgroup.
func Of(pid int, subsystem string) (string, error) {
	return cgroupOf(strconv.Itoa(pid), subsystem)
}

func cgroupOf(proc, subsystem string) (string, error) {
	m, err := hierarchy(subsystem)
	if err != nil {
		return "", err
	}
	file := "/proc/" + proc + "/cgroup"
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cgroups: %w", err)
	}
	p, ok := parseProcCgroup(string(data), subsystem)
	if !ok {
		return "", fmt.Errorf("cgroups: %s has no line for %q", file, subsystem)
	}
	// A mount may show a sub-tree of the hierarchy (inside a container);
	// paths in /proc are relative to the hierarchy's true root.
	if m.root != "/" {
		rel, found := strings.CutPrefix(p, m.root)
		if !found || (rel != "" && rel[0] != '/') {
			return "", fmt.Errorf("cgroups: %s: %q cgroup %s is outside the mounted sub-tree %s at %s", file, subsystem, p, m.root, m.point)
		}
		p = rel
	}
	return strings.TrimPrefix(path.Clean("/"+p), "/"), nil
}

// parseProcCgroup finds subsystem's path in the text of /proc/<pid>/cgroup
// ("id:subsystems:path" lines).
func parseProcCgroup(text, subsystem string) (string, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[1] == "" {
			continue
		}
		if slices.Contains(strings.Split(parts[1], ","), subsystem) {
			return parts[2], true
		}
	}
	return "", false
}

// dir is the directory of cgroup in the hierarchy mounted at point.
func dir(point, cgroup string) string {
	return filepath.Join(point, path.Clean("/"+cgroup))
}

// Path returns the directory of cgroup in subsystem's hierarchy, for
// example Path("memory", "mesos/c1") = "/sys/fs/cgroup/memory/mesos/c1".
func Path(subsystem, cgroup string) (string, error) {
	m, err := hierarchy(subsystem)
	if err != nil {
		return "", err
	}
	return dir(m.point, cgroup), nil
}
