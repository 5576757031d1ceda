// Package containerizer is the Mesos containerizer: it fetches an
// executor's URIs into its sandbox, isolates it with the isolators chosen
// by --isolation (posix/cpu, posix/mem, cgroups/cpu, cgroups/mem), starts
// it through a launcher (posix process sessions, or the cgroups freezer
// when a cgroups isolator is on), reports usage, enforces limits, destroys
// whole process trees, and recovers the containers a previous slave left
// running.
//
// Methods block on the operating system; the slave calls them off its
// actor and posts the results back.
package containerizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/fetcher"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// Config holds the containerizer's settings (slave flags).
type Config struct {
	// Isolation is the --isolation list; default "posix/cpu,posix/mem".
	Isolation string
	// CgroupsRoot is the cgroup under which containers live ("mesos").
	CgroupsRoot string
	// CgroupsEnableCFS caps CPU with CFS bandwidth (--cgroups_enable_cfs).
	CgroupsEnableCFS bool
	// Fetcher fetches CommandInfo.uris; nil means a fetcher with a cache
	// in a new temporary directory.
	Fetcher *fetcher.Fetcher
	Logger  *slog.Logger
}

// LaunchSpec says what to run in a new container.
type LaunchSpec struct {
	ContainerID string
	Command     *mesos.CommandInfo
	Resources   resources.Resources // the executor's and its tasks'
	Directory   string              // the sandbox
	Env         []string            // full environment
	User        string              // run (and fetch) as this user; empty: the slave's
}

// Termination is how a container ended.
type Termination struct {
	// Status is the exit status (wait(2) form: code or signal), or -1 when
	// unknown (a recovered container is not our child).
	Status int
	// Limited is set when an isolator ended the container (e.g. OOM).
	Limited bool
	Reason  mesos.TaskStatus_Reason
	Message string
}

// Recovered names a container the last slave checkpointed.
type Recovered struct {
	ContainerID string
	PID         int
	Resources   resources.Resources
}

// Containerizer launches and tracks containers.
type Containerizer struct {
	cfg       Config
	log       *slog.Logger
	isolators []isolator
	launcher  launcher
	fetcher   *fetcher.Fetcher

	mu         sync.Mutex
	containers map[string]*container
	// ended keeps the last terminated containers, so that a Wait that
	// comes after the end still gets the termination.
	ended     map[string]*container
	endedList []string
}

// keepEnded bounds ended.
const keepEnded = 1000

type container struct {
	id        string
	pid       int
	resources resources.Resources
	done      chan struct{}
	term      Termination
	limited   *limitation
	destroy   sync.Once
	cancel    context.CancelFunc // stops limitation watches
}

// limitation is an isolator's report that a container broke its limit.
type limitation struct {
	reason  mesos.TaskStatus_Reason
	message string
}

// isolator isolates one resource of containers.
type isolator interface {
	name() string
	prepare(id string, res resources.Resources) error
	isolate(id string, pid int) error
	watch(ctx context.Context, id string) <-chan limitation
	update(id string, res resources.Resources) error
	usage(id string, pid int, st *mesos.ResourceStatistics) error
	recover(id string, pid int) error
	orphans(known map[string]bool) []string
	cleanup(id string) error
}

// launcher starts and kills container processes.
type launcher interface {
	destroy(id string, pid int) error
}

// New builds a containerizer for cfg.Isolation.
func New(cfg Config) (*Containerizer, error) {
	if cfg.Isolation == "" {
		cfg.Isolation = "posix/cpu,posix/mem"
	}
	if cfg.CgroupsRoot == "" {
		cfg.CgroupsRoot = "mesos"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Containerizer{cfg: cfg, log: cfg.Logger.With("component", "containerizer"), containers: make(map[string]*container), ended: make(map[string]*container)}
	c.fetcher = cfg.Fetcher
	if c.fetcher == nil {
		dir, err := os.MkdirTemp("", "gomesos-fetch")
		if err != nil {
			return nil, fmt.Errorf("containerizer: fetcher cache: %w", err)
		}
		f, err := fetcher.New(fetcher.Config{CacheDir: dir, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("containerizer: %w", err)
		}
		c.fetcher = f
	}
	names := strings.Split(cfg.Isolation, ",")
	sort.Strings(names)
	cg := false
	for _, n := range names {
		n = strings.TrimSpace(n)
		var iso isolator
		var err error
		switch n {
		case "posix/cpu":
			iso = posixCPU{}
		case "posix/mem":
			iso = posixMem{}
		case "cgroups/cpu":
			iso, err = newCgroupsCPU(cfg.CgroupsRoot, cfg.CgroupsEnableCFS)
			cg = true
		case "cgroups/mem":
			iso, err = newCgroupsMem(cfg.CgroupsRoot)
			cg = true
		case "":
			continue
		default:
			return nil, fmt.Errorf("containerizer: unknown isolator %q in --isolation=%s (known: posix/cpu, posix/mem, cgroups/cpu, cgroups/mem)", n, cfg.Isolation)
		}
		if err != nil {
			return nil, fmt.Errorf("containerizer: isolator %s: %w", n, err)
		}
		c.isolators = append(c.isolators, iso)
	}
	if cg {
		l, err := newFreezerLauncher(cfg.CgroupsRoot)
		if err != nil {
			return nil, fmt.Errorf("containerizer: freezer launcher: %w", err)
		}
		c.launcher = l
		c.isolators = append(c.isolators, l)
	} else {
		c.launcher = posixLauncher{}
	}
	return c, nil
}

// Isolators names the isolators in use.
func (c *Containerizer) Isolators() []string {
	var out []string
	for _, i := range c.isolators {
		out = append(out, i.name())
	}
	return out
}

// Launch fetches the spec's URIs, prepares isolation, starts the command
// and isolates it before it runs (the child waits on a pipe until its
// cgroups are set). It returns the pid of the container's process.
func (c *Containerizer) Launch(ctx context.Context, spec LaunchSpec) (int, error) {
	c.mu.Lock()
	if _, dup := c.containers[spec.ContainerID]; dup {
		c.mu.Unlock()
		return 0, fmt.Errorf("launch %s: container already exists", spec.ContainerID)
	}
	ct := &container{id: spec.ContainerID, resources: spec.Resources, done: make(chan struct{})}
	c.containers[spec.ContainerID] = ct
	c.mu.Unlock()
	pid, err := c.launch(ctx, ct, spec)
	if err != nil {
		c.cleanup(ct)
		c.mu.Lock()
		delete(c.containers, spec.ContainerID)
		c.mu.Unlock()
		return 0, err
	}
	return pid, nil
}

func (c *Containerizer) launch(ctx context.Context, ct *container, spec LaunchSpec) (int, error) {
	cmdInfo := spec.Command
	if err := c.fetcher.Fetch(ctx, cmdInfo.GetUris(), spec.Directory, spec.User); err != nil {
		return 0, fmt.Errorf("launch %s: fetch: %w", spec.ContainerID, err)
	}
	for _, iso := range c.isolators {
		if err := iso.prepare(spec.ContainerID, spec.Resources); err != nil {
			return 0, fmt.Errorf("launch %s: prepare %s: %w", spec.ContainerID, iso.name(), err)
		}
	}
	var argv []string
	if cmdInfo.Shell == nil || cmdInfo.GetShell() {
		argv = []string{"/bin/sh", "-c", cmdInfo.GetValue()}
	} else {
		argv = []string{cmdInfo.GetValue()}
		if args := cmdInfo.GetArguments(); len(args) > 0 {
			argv = append(argv, args[1:]...)
		}
	}
	// The gate: the child shell waits for a byte on fd 3 (sent once it is
	// isolated), closes it, and execs the command.
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", spec.ContainerID, err)
	}
	defer gateW.Close()
	args := append([]string{"-c", `read -r _ <&3; exec 3<&-; exec "$@"`, "mesos-containerizer"}, argv...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir = spec.Directory
	cmd.Env = spec.Env
	cmd.ExtraFiles = []*os.File{gateR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if spec.User != "" {
		cred, home, err := credential(spec.User, spec.Directory)
		if err != nil {
			gateR.Close()
			return 0, fmt.Errorf("launch %s: %w", spec.ContainerID, err)
		}
		cmd.SysProcAttr.Credential = cred
		cmd.Env = append(withoutVars(cmd.Env, "USER", "HOME", "LOGNAME"), "USER="+spec.User, "LOGNAME="+spec.User, "HOME="+home)
	}
	out, err1 := os.OpenFile(spec.Directory+"/stdout", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	errf, err2 := os.OpenFile(spec.Directory+"/stderr", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err := errors.Join(err1, err2); err != nil {
		gateR.Close()
		return 0, fmt.Errorf("launch %s: sandbox stdout/stderr: %w", spec.ContainerID, err)
	}
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Start()
	gateR.Close()
	out.Close()
	errf.Close()
	if err != nil {
		return 0, fmt.Errorf("launch %s: start %s: %w", spec.ContainerID, argv[0], err)
	}
	pid := cmd.Process.Pid
	for _, iso := range c.isolators {
		if err := iso.isolate(spec.ContainerID, pid); err != nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = cmd.Wait()
			return 0, fmt.Errorf("launch %s: isolate %s: %w", spec.ContainerID, iso.name(), err)
		}
	}
	ct.pid = pid
	c.watch(ct)
	if _, err := gateW.Write([]byte("\n")); err != nil {
		c.log.Warn("cannot release the container", "container", spec.ContainerID, "err", err)
	}
	go func() {
		err := cmd.Wait()
		status := 0
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = int(ee.Sys().(syscall.WaitStatus))
			} else {
				status = -1
			}
		}
		c.exited(ct, status)
	}()
	c.log.Info("launched container", "container", spec.ContainerID, "pid", pid, "isolation", c.cfg.Isolation)
	return pid, nil
}

// withoutVars drops the named variables from env.
func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || n == name
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// credential looks user up, gives it the sandbox and returns its home.
func credential(name, sandbox string) (*syscall.Credential, string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, "", fmt.Errorf("switch to user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, "", fmt.Errorf("switch to user %q: %w", name, err)
	}
	err = filepath.Walk(sandbox, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
	if err != nil {
		return nil, "", fmt.Errorf("chown the sandbox to %q: %w", name, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, u.HomeDir, nil
}

// watch starts the isolators' limitation watches: a limitation destroys
// the container and is reported in its termination.
func (c *Containerizer) watch(ct *container) {
	ctx, cancel := context.WithCancel(context.Background())
	ct.cancel = cancel
	for _, iso := range c.isolators {
		ch := iso.watch(ctx, ct.id)
		if ch == nil {
			continue
		}
		go func() {
			select {
			case l, ok := <-ch:
				if !ok {
					return
				}
				c.mu.Lock()
				if ct.limited == nil {
					ct.limited = &l
				}
				c.mu.Unlock()
				c.log.Info("container limitation", "container", ct.id, "message", l.message)
				_ = c.Destroy(ct.id)
			case <-ctx.Done():
			}
		}()
	}
}

// exited records a container's end, after its whole tree is gone.
func (c *Containerizer) exited(ct *container, status int) {
	// The executor may leave children behind: kill the rest of the tree.
	if err := c.launcher.destroy(ct.id, ct.pid); err != nil {
		c.log.Warn("cannot kill the rest of the container", "container", ct.id, "err", err)
	}
	c.cleanup(ct)
	c.mu.Lock()
	ct.term = Termination{Status: status}
	if l := ct.limited; l != nil {
		ct.term.Limited, ct.term.Reason, ct.term.Message = true, l.reason, l.message
	}
	delete(c.containers, ct.id)
	c.ended[ct.id] = ct
	c.endedList = append(c.endedList, ct.id)
	if len(c.endedList) > keepEnded {
		delete(c.ended, c.endedList[0])
		c.endedList = c.endedList[1:]
	}
	c.mu.Unlock()
	close(ct.done)
}

func (c *Containerizer) cleanup(ct *container) {
	if ct.cancel != nil {
		ct.cancel()
	}
	for _, iso := range c.isolators {
		if err := iso.cleanup(ct.id); err != nil {
			c.log.Warn("isolator cleanup failed", "isolator", iso.name(), "container", ct.id, "err", err)
		}
	}
}

func (c *Containerizer) get(id string) (*container, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.containers[id]
	if ct == nil {
		return nil, fmt.Errorf("unknown container %s", id)
	}
	return ct, nil
}

// Wait blocks until the container has ended and returns how (also for a
// container that ended recently).
func (c *Containerizer) Wait(id string) (Termination, error) {
	c.mu.Lock()
	ct := c.containers[id]
	if ct == nil {
		ct = c.ended[id]
	}
	c.mu.Unlock()
	if ct == nil {
		return Termination{}, fmt.Errorf("wait: unknown container %s", id)
	}
	<-ct.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return ct.term, nil
}

// Destroy kills every process of the container; Wait then returns.
func (c *Containerizer) Destroy(id string) error {
	ct, err := c.get(id)
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	var derr error
	ct.destroy.Do(func() { derr = c.launcher.destroy(id, ct.pid) })
	if derr != nil {
		return fmt.Errorf("destroy %s: %w", id, derr)
	}
	return nil
}

// Update changes a container's resources (tasks added or removed).
func (c *Containerizer) Update(id string, res resources.Resources) error {
	ct, err := c.get(id)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	for _, iso := range c.isolators {
		if err := iso.update(id, res); err != nil {
			return fmt.Errorf("update %s: %s: %w", id, iso.name(), err)
		}
	}
	c.mu.Lock()
	ct.resources = res
	c.mu.Unlock()
	return nil
}

// Usage reports a container's resource usage and limits.
func (c *Containerizer) Usage(id string) (*mesos.ResourceStatistics, error) {
	ct, err := c.get(id)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	c.mu.Lock()
	res, pid := ct.resources, ct.pid
	c.mu.Unlock()
	st := &mesos.ResourceStatistics{
		Timestamp: proto.Float64(mesos.Timestamp(time.Now())), // wall-clock: a sample's time stamp
	}
	if cpus := res.Scalar("cpus"); cpus > 0 {
		st.CpusLimit = &cpus
	}
	if mem := res.Scalar("mem"); mem > 0 {
		b := uint64(mem * 1024 * 1024)
		st.MemLimitBytes = &b
	}
	for _, iso := range c.isolators {
		if err := iso.usage(id, pid, st); err != nil {
			return nil, fmt.Errorf("usage %s: %s: %w", id, iso.name(), err)
		}
	}
	return st, nil
}

// Containers lists the live containers.
func (c *Containerizer) Containers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.containers))
	for id := range c.containers {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Recover adopts the containers a previous slave checkpointed: those
// whose process still runs are tracked again (Wait works for them) and
// reported alive; orphans (isolated containers nobody checkpointed) are
// destroyed.
func (c *Containerizer) Recover(known []Recovered) (map[string]bool, error) {
	alive := make(map[string]bool)
	names := make(map[string]bool)
	for _, r := range known {
		names[r.ContainerID] = true
		if r.PID <= 0 {
			continue
		}
		fd, err := unix.PidfdOpen(r.PID, 0)
		if err != nil {
			continue // gone
		}
		ct := &container{id: r.ContainerID, pid: r.PID, resources: r.Resources, done: make(chan struct{})}
		for _, iso := range c.isolators {
			if err := iso.recover(r.ContainerID, r.PID); err != nil {
				c.log.Warn("isolator cannot recover container", "isolator", iso.name(), "container", r.ContainerID, "err", err)
			}
		}
		c.mu.Lock()
		c.containers[r.ContainerID] = ct
		c.mu.Unlock()
		c.watch(ct)
		alive[r.ContainerID] = true
		go func() {
			defer unix.Close(fd)
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			for {
				if _, err := unix.Poll(fds, -1); err != unix.EINTR {
					break
				}
			}
			c.exited(ct, -1)
		}()
	}
	for _, iso := range c.isolators {
		for _, id := range iso.orphans(names) {
			c.log.Info("destroying an orphan container", "container", id, "isolator", iso.name())
			_ = c.launcher.destroy(id, 0)
			_ = iso.cleanup(id)
		}
	}
	return alive, nil
}
