// Package containerizer defines the slave's containerizer seam, the
// Containerizer interface, and implements it with the Mesos containerizer:
// it fetches an executor's URIs into its sandbox, isolates it with the
// isolators chosen by --isolation (posix/cpu, posix/mem, cgroups/cpu,
// cgroups/mem), starts it through a launcher (posix process sessions, or
// the cgroups freezer when a cgroups isolator is on), reports usage,
// enforces limits, destroys whole process trees, and recovers the
// containers a previous slave left running.
//
// Every method returns a future: the slave continues with Defer onto
// itself when it completes, so nothing blocks its mailbox. The Mesos
// containerizer is the OS edge: it does its blocking work (fork/exec,
// waitpid, /proc and cgroup reads) on goroutines of its own and completes
// the futures from them. Package containerizer/inproc implements the same
// interface with executors that run as processes of the slave's runtime.
package containerizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
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
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Containerizer launches executors in containers and tracks them. Every
// method returns at once; its future completes when the work is done.
type Containerizer interface {
	// Recover adopts the containers a previous slave checkpointed and
	// reports which of them still run (by container id). Containers it
	// knows of that are not in known are orphans and are destroyed.
	Recover(known []Recovered) future.Future[map[string]bool]
	// Launch starts a container for spec; its future holds the OS pid of
	// the executor (0 when the executor is not an OS process).
	Launch(spec LaunchSpec) future.Future[int]
	// Update changes a container's resources (tasks added or removed).
	// Updates of one container take effect in the order they were made.
	Update(id string, res resources.Resources) future.Future[future.Nothing]
	// Usage samples a container's resource usage and limits.
	Usage(id string) future.Future[*mesos.ResourceStatistics]
	// Wait completes when the container has ended, with how it ended
	// (also for a container that ended recently); it fails for a
	// container it does not know.
	Wait(id string) future.Future[Termination]
	// Destroy kills every process of the container; Wait then completes.
	Destroy(id string) future.Future[future.Nothing]
	// Containers lists the live containers, sorted.
	Containers() future.Future[[]string]
}

// Config holds the Mesos containerizer's settings (slave flags).
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
	// Now is the clock that stamps usage samples (the slave passes its
	// runtime Clock's Now). Required.
	Now func() time.Time
	// Pause waits between the attempts of the bounded polls of kernel
	// state that have no event to wait on (a freezer state settling, a
	// cgroup emptying, a process tree stopping). It must pause in real
	// time: pass walltime.Sleep (package process/walltime) outside
	// tests. Nil retries at once.
	Pause  func(time.Duration)
	Logger *slog.Logger
	// Modules is --modules: the parameters of the isolator modules
	// (IsolatorConfig.Parameters); nil gives none.
	Modules *modules.Config
	// ContainerLogger gives containers their stdout and stderr
	// (--container_logger); nil is the sandbox logger, which writes the
	// files stdout and stderr of the sandbox.
	ContainerLogger ContainerLogger
}

// LaunchSpec says what to run in a new container.
type LaunchSpec struct {
	ContainerID string
	// Executor is the executor the container runs (its command is
	// Command).
	Executor *mesos.ExecutorInfo
	// Task is the task whose arrival started the executor, when there is
	// one (for the command executor, the task it runs): a containerizer
	// reads its ContainerInfo as well as the executor's.
	Task      *mesos.TaskInfo
	Command   *mesos.CommandInfo
	Resources resources.Resources // the executor's and its tasks'
	Directory string              // the sandbox
	Env       []string            // full environment
	User      string              // run (and fetch) as this user; empty: the slave's
	// Volumes are the persistent volumes in Resources, resolved to their
	// host directories. The slave links each into the sandbox at its
	// path (a symbolic link to the directory); a containerizer whose
	// containers have a root file system of their own (Docker) bind
	// mounts them there instead, as the link would dangle inside.
	Volumes []Volume
}

// Volume is a persistent volume a container uses.
type Volume struct {
	// ID is the volume's persistence id.
	ID string
	// HostPath is the volume's directory on the host.
	HostPath string
	// Path is where the container finds the volume, relative to its
	// sandbox (the volume's container_path, cleaned; never absolute nor
	// leaving the sandbox).
	Path string
	// ReadOnly is set for a volume whose mode is RO.
	ReadOnly bool
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
	// Executor is the checkpointed executor (its ContainerInfo tells
	// which containerizer owns the container); nil when unknown.
	Executor *mesos.ExecutorInfo
	// Directory is the container's sandbox.
	Directory string
}

// ErrUnsupported is wrapped by the error of a Launch whose ContainerInfo
// the containerizer cannot run: the composing containerizer then tries
// the next one. Make such errors with Unsupported.
var ErrUnsupported = errors.New("unsupported container")

// Unsupported returns an error wrapping ErrUnsupported that says why.
func Unsupported(why string) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, why)
}

// ContainerInfos returns the ContainerInfo of spec's task and of its
// executor (either may be nil).
func ContainerInfos(spec LaunchSpec) (task, executor *mesos.ContainerInfo) {
	return spec.Task.GetContainer(), spec.Executor.GetContainer()
}

// MesosSupports says why the Mesos containerizer cannot run spec, or nil
// when it can: it runs executors and tasks without a ContainerInfo or
// with a MESOS one that names no image (it provisions no images).
func MesosSupports(spec LaunchSpec) error {
	task, exec := ContainerInfos(spec)
	for _, c := range []struct {
		what string
		info *mesos.ContainerInfo
	}{{"task", task}, {"executor", exec}} {
		if c.info == nil {
			continue
		}
		if c.info.GetType() != mesos.ContainerInfo_MESOS {
			return Unsupported(fmt.Sprintf("the mesos containerizer runs no %s containers (the %s's ContainerInfo)", c.info.GetType(), c.what))
		}
		if c.info.GetMesos().GetImage() != nil {
			return Unsupported(fmt.Sprintf("the mesos containerizer provisions no images (the %s's ContainerInfo names one)", c.what))
		}
	}
	return nil
}

// osEdge runs blocking operating-system work on a goroutine of its own:
// the Mesos containerizer is the edge between the actors and the kernel,
// and completes its futures from there.
func osEdge(fn func()) { go fn() }

// Mesos is the Mesos containerizer: executors are OS processes, isolated
// and measured by the isolators of --isolation.
type Mesos struct {
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
	term      *future.Promise[Termination] // set once the container ended
	limited   *Limitation
	destroyed *future.Promise[future.Nothing] // the first Destroy's
	cancel    context.CancelFunc              // stops limitation watches

	updateMu sync.Mutex          // serializes isolator updates
	wanted   resources.Resources // the latest Update's resources (under Mesos.mu)
}

// Limitation is an isolator's report that a container broke its limit.
type Limitation struct {
	Reason  mesos.TaskStatus_Reason
	Message string
}

// Isolator isolates one resource of the Mesos containerizer's
// containers, as Mesos's isolators do: Prepare before the container's
// process starts, Isolate it (by pid) before it runs, Watch for a broken
// limit, Update on resource changes, Usage into a sample, Recover a
// container after a slave restart, list its Orphans (containers nobody
// knows of), and Cleanup once the container is gone. Built-in isolators
// (posix/cpu, posix/mem, cgroups/cpu, cgroups/mem) register themselves
// with package modules under their --isolation names (see
// RegisterIsolator); so can out-of-tree ones.
type Isolator interface {
	Name() string
	Prepare(id string, res resources.Resources) error
	Isolate(id string, pid int) error
	Watch(ctx context.Context, id string) <-chan Limitation
	Update(id string, res resources.Resources) error
	Usage(id string, pid int, st *mesos.ResourceStatistics) error
	Recover(id string, pid int) error
	Orphans(known map[string]bool) []string
	Cleanup(id string) error
}

type isolator = Isolator

// IsolatorConfig is what an isolator factory is given: the Mesos
// containerizer's cgroups settings and its pause for kernel polls.
type IsolatorConfig struct {
	CgroupsRoot      string
	CgroupsEnableCFS bool
	Pause            func(time.Duration)
	// Parameters are the isolator's parameters from --modules (nil when
	// --modules does not list it).
	Parameters modules.Parameters
}

// IsolatorFactory builds an isolator for a Mesos containerizer.
type IsolatorFactory func(IsolatorConfig) (Isolator, error)

// RegisterIsolator makes an isolator available to --isolation under name,
// in package modules' registry (kind Isolator). A name starting with
// "cgroups/" also puts the containers in freezer cgroups.
func RegisterIsolator(name string, f IsolatorFactory) {
	modules.Register(modules.KindIsolator, name, func(p modules.Parameters) (any, error) {
		return IsolatorFactory(func(c IsolatorConfig) (Isolator, error) {
			c.Parameters = p
			return f(c)
		}), nil
	})
}

func init() {
	RegisterIsolator("posix/cpu", func(IsolatorConfig) (Isolator, error) { return posixCPU{}, nil })
	RegisterIsolator("posix/mem", func(IsolatorConfig) (Isolator, error) { return posixMem{}, nil })
	RegisterIsolator("cgroups/cpu", func(c IsolatorConfig) (Isolator, error) {
		return newCgroupsCPU(c.CgroupsRoot, c.CgroupsEnableCFS, c.Pause)
	})
	RegisterIsolator("cgroups/mem", func(c IsolatorConfig) (Isolator, error) { return newCgroupsMem(c.CgroupsRoot, c.Pause) })
}

// launcher starts and kills container processes.
type launcher interface {
	destroy(id string, pid int) error
}

// NewMesos builds a Mesos containerizer for cfg.Isolation.
func NewMesos(cfg Config) (*Mesos, error) {
	if cfg.Isolation == "" {
		cfg.Isolation = "posix/cpu,posix/mem"
	}
	if cfg.CgroupsRoot == "" {
		cfg.CgroupsRoot = "mesos"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		return nil, errors.New("containerizer: Config.Now (the clock for usage samples) is required")
	}
	if cfg.Pause == nil {
		cfg.Pause = func(time.Duration) {}
	}
	if cfg.ContainerLogger == nil {
		cfg.ContainerLogger = SandboxLogger{}
	}
	c := &Mesos{cfg: cfg, log: cfg.Logger.With("component", "containerizer"), containers: make(map[string]*container), ended: make(map[string]*container)}
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
		if n == "" {
			continue
		}
		made, err := modules.New[IsolatorFactory](cfg.Modules, modules.KindIsolator, n, nil)
		if err != nil {
			return nil, fmt.Errorf("containerizer: --isolation=%s: %w", cfg.Isolation, err)
		}
		iso, err := made(IsolatorConfig{CgroupsRoot: cfg.CgroupsRoot, CgroupsEnableCFS: cfg.CgroupsEnableCFS, Pause: cfg.Pause})
		cg = cg || strings.HasPrefix(n, "cgroups/")
		if err != nil {
			return nil, fmt.Errorf("containerizer: isolator %s: %w", n, err)
		}
		c.isolators = append(c.isolators, iso)
	}
	if cg {
		l, err := newFreezerLauncher(cfg.CgroupsRoot, cfg.Pause)
		if err != nil {
			return nil, fmt.Errorf("containerizer: freezer launcher: %w", err)
		}
		c.launcher = l
		c.isolators = append(c.isolators, l)
	} else {
		c.launcher = posixLauncher{pause: cfg.Pause}
	}
	return c, nil
}

// Fetcher is the fetcher of the containers' URIs (Config.Fetcher, or the
// one NewMesos made).
func (c *Mesos) Fetcher() *fetcher.Fetcher { return c.fetcher }

// Isolators names the isolators in use.
func (c *Mesos) Isolators() []string {
	var out []string
	for _, i := range c.isolators {
		out = append(out, i.Name())
	}
	return out
}

// Launch fetches the spec's URIs, prepares isolation, starts the command
// and isolates it before it runs (the child waits on a pipe until its
// cgroups are set). Its future holds the pid of the container's process.
func (c *Mesos) Launch(spec LaunchSpec) future.Future[int] {
	if err := MesosSupports(spec); err != nil {
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	}
	c.mu.Lock()
	if _, dup := c.containers[spec.ContainerID]; dup {
		c.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	ct := &container{id: spec.ContainerID, resources: spec.Resources, wanted: spec.Resources, term: future.NewPromise[Termination]()}
	c.containers[spec.ContainerID] = ct
	c.mu.Unlock()
	return future.Async(osEdge, func() (int, error) {
		pid, err := c.launch(context.Background(), ct, spec)
		if err != nil {
			c.cleanup(ct)
			c.mu.Lock()
			delete(c.containers, spec.ContainerID)
			c.mu.Unlock()
			ct.term.Set(Termination{Status: -1, Message: err.Error()})
			return 0, err
		}
		return pid, nil
	})
}

func (c *Mesos) launch(ctx context.Context, ct *container, spec LaunchSpec) (int, error) {
	cmdInfo := spec.Command
	if err := c.fetcher.Fetch(ctx, cmdInfo.GetUris(), spec.Directory, spec.User); err != nil {
		return 0, fmt.Errorf("launch %s: fetch: %w", spec.ContainerID, err)
	}
	for _, iso := range c.isolators {
		if err := iso.Prepare(spec.ContainerID, spec.Resources); err != nil {
			return 0, fmt.Errorf("launch %s: prepare %s: %w", spec.ContainerID, iso.Name(), err)
		}
	}
	argv := Argv(cmdInfo)
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
	out, errf, err := c.cfg.ContainerLogger.Prepare(spec.Executor, spec.Directory)
	if err != nil {
		gateR.Close()
		return 0, fmt.Errorf("launch %s: container logger: %w", spec.ContainerID, err)
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
		if err := iso.Isolate(spec.ContainerID, pid); err != nil {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = cmd.Wait()
			return 0, fmt.Errorf("launch %s: isolate %s: %w", spec.ContainerID, iso.Name(), err)
		}
	}
	c.mu.Lock()
	ct.pid = pid
	c.mu.Unlock()
	c.watch(ct)
	if _, err := gateW.Write([]byte("\n")); err != nil {
		c.log.Warn("cannot release the container", "container", spec.ContainerID, "err", err)
	}
	osEdge(func() {
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
	})
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
func (c *Mesos) watch(ct *container) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	ct.cancel = cancel
	c.mu.Unlock()
	for _, iso := range c.isolators {
		ch := iso.Watch(ctx, ct.id)
		if ch == nil {
			continue
		}
		osEdge(func() {
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
				c.log.Info("container limitation", "container", ct.id, "message", l.Message)
				c.Destroy(ct.id)
			case <-ctx.Done():
			}
		})
	}
}

// exited records a container's end, after its whole tree is gone.
func (c *Mesos) exited(ct *container, status int) {
	// The executor may leave children behind: kill the rest of the tree.
	if err := c.launcher.destroy(ct.id, ct.pid); err != nil {
		c.log.Warn("cannot kill the rest of the container", "container", ct.id, "err", err)
	}
	// The executor's end can be read before an isolator's event about
	// why it ended (the OOM killer's): ask the isolators before their
	// state is cleaned up.
	c.mu.Lock()
	limited := ct.limited != nil
	c.mu.Unlock()
	if !limited {
		for _, iso := range c.isolators {
			if l, ok := iso.(interface {
				limitedNow(id string) (Limitation, bool)
			}); ok {
				if lim, yes := l.limitedNow(ct.id); yes {
					c.mu.Lock()
					if ct.limited == nil {
						ct.limited = &lim
					}
					c.mu.Unlock()
					break
				}
			}
		}
	}
	c.cleanup(ct)
	c.mu.Lock()
	term := Termination{Status: status}
	if l := ct.limited; l != nil {
		term.Limited, term.Reason, term.Message = true, l.Reason, l.Message
	}
	delete(c.containers, ct.id)
	c.ended[ct.id] = ct
	c.endedList = append(c.endedList, ct.id)
	if len(c.endedList) > keepEnded {
		delete(c.ended, c.endedList[0])
		c.endedList = c.endedList[1:]
	}
	c.mu.Unlock()
	ct.term.Set(term)
}

func (c *Mesos) cleanup(ct *container) {
	c.mu.Lock()
	cancel := ct.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for _, iso := range c.isolators {
		if err := iso.Cleanup(ct.id); err != nil {
			c.log.Warn("isolator cleanup failed", "isolator", iso.Name(), "container", ct.id, "err", err)
		}
	}
}

func (c *Mesos) get(id string) (*container, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.containers[id]
	if ct == nil {
		return nil, fmt.Errorf("unknown container %s", id)
	}
	return ct, nil
}

// Wait completes once the container has ended, with how it ended (also
// for a container that ended recently).
func (c *Mesos) Wait(id string) future.Future[Termination] {
	c.mu.Lock()
	ct := c.containers[id]
	if ct == nil {
		ct = c.ended[id]
	}
	c.mu.Unlock()
	if ct == nil {
		return future.Failed[Termination](fmt.Errorf("wait: unknown container %s", id))
	}
	return ct.term.Future()
}

// Destroy kills every process of the container; Wait then completes.
// Destroying a container twice returns the first destroy's future.
func (c *Mesos) Destroy(id string) future.Future[future.Nothing] {
	c.mu.Lock()
	ct := c.containers[id]
	if ct == nil {
		c.mu.Unlock()
		return future.Failed[future.Nothing](fmt.Errorf("destroy: unknown container %s", id))
	}
	if ct.destroyed != nil {
		c.mu.Unlock()
		return ct.destroyed.Future()
	}
	pr := future.NewPromise[future.Nothing]()
	ct.destroyed = pr
	pid := ct.pid
	c.mu.Unlock()
	osEdge(func() {
		if err := c.launcher.destroy(id, pid); err != nil {
			pr.Fail(fmt.Errorf("destroy %s: %w", id, err))
			return
		}
		pr.Set(future.Nothing{})
	})
	return pr.Future()
}

// Update changes a container's resources (tasks added or removed). The
// isolators are updated off the caller; concurrent updates of a container
// are serialized, and each applies the latest resources asked for, so the
// last Update wins.
func (c *Mesos) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	c.mu.Lock()
	ct := c.containers[id]
	if ct == nil {
		c.mu.Unlock()
		return future.Failed[future.Nothing](fmt.Errorf("update: unknown container %s", id))
	}
	ct.wanted = res
	c.mu.Unlock()
	return future.Async(osEdge, func() (future.Nothing, error) {
		ct.updateMu.Lock()
		defer ct.updateMu.Unlock()
		c.mu.Lock()
		want := ct.wanted
		c.mu.Unlock()
		for _, iso := range c.isolators {
			if err := iso.Update(id, want); err != nil {
				return future.Nothing{}, fmt.Errorf("update %s: %s: %w", id, iso.Name(), err)
			}
		}
		c.mu.Lock()
		ct.resources = want
		c.mu.Unlock()
		return future.Nothing{}, nil
	})
}

// Usage samples a container's resource usage and limits, stamped with
// Config.Now.
func (c *Mesos) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	ct, err := c.get(id)
	if err != nil {
		return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage: %w", err))
	}
	c.mu.Lock()
	res, pid := ct.resources, ct.pid
	c.mu.Unlock()
	now := c.cfg.Now()
	return future.Async(osEdge, func() (*mesos.ResourceStatistics, error) {
		st := &mesos.ResourceStatistics{Timestamp: proto.Float64(mesos.Timestamp(now))}
		if cpus := res.Scalar("cpus"); cpus > 0 {
			st.CpusLimit = &cpus
		}
		if mem := res.Scalar("mem"); mem > 0 {
			b := uint64(mem * 1024 * 1024)
			st.MemLimitBytes = &b
		}
		for _, iso := range c.isolators {
			if err := iso.Usage(id, pid, st); err != nil {
				return nil, fmt.Errorf("usage %s: %s: %w", id, iso.Name(), err)
			}
		}
		return st, nil
	})
}

// Containers lists the live containers.
func (c *Mesos) Containers() future.Future[[]string] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return future.Ready(slices.Sorted(maps.Keys(c.containers)))
}

// Recover adopts the containers a previous slave checkpointed: those
// whose process still runs are tracked again (Wait works for them) and
// reported alive; orphans (isolated containers nobody checkpointed) are
// destroyed.
func (c *Mesos) Recover(known []Recovered) future.Future[map[string]bool] {
	return future.Async(osEdge, func() (map[string]bool, error) { return c.recover(known), nil })
}

func (c *Mesos) recover(known []Recovered) map[string]bool {
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
		ct := &container{id: r.ContainerID, pid: r.PID, resources: r.Resources, wanted: r.Resources, term: future.NewPromise[Termination]()}
		for _, iso := range c.isolators {
			if err := iso.Recover(r.ContainerID, r.PID); err != nil {
				c.log.Warn("isolator cannot recover container", "isolator", iso.Name(), "container", r.ContainerID, "err", err)
			}
		}
		c.mu.Lock()
		c.containers[r.ContainerID] = ct
		c.mu.Unlock()
		c.watch(ct)
		alive[r.ContainerID] = true
		osEdge(func() {
			defer unix.Close(fd)
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			for {
				if _, err := unix.Poll(fds, -1); err != unix.EINTR {
					break
				}
			}
			c.exited(ct, -1)
		})
	}
	for _, iso := range c.isolators {
		for _, id := range iso.Orphans(names) {
			c.log.Info("destroying an orphan container", "container", id, "isolator", iso.Name())
			_ = c.launcher.destroy(id, 0)
			_ = iso.Cleanup(id)
		}
	}
	return alive
}

// MayOwn says whether a recovered container may be one of the Mesos
// containerizer's: its executor has no ContainerInfo, or a MESOS one.
func (c *Mesos) MayOwn(r Recovered) bool {
	return MesosSupports(LaunchSpec{Executor: r.Executor}) == nil
}

// Argv is the command line a CommandInfo runs: the value through
// /bin/sh -c when shell is unset or true, else the value as the program
// with the arguments after arguments[0] (which names it, as argv[0]).
func Argv(cmd *mesos.CommandInfo) []string {
	if cmd.Shell == nil || cmd.GetShell() {
		return []string{"/bin/sh", "-c", cmd.GetValue()}
	}
	argv := []string{cmd.GetValue()}
	if args := cmd.GetArguments(); len(args) > 0 {
		argv = append(argv, args[1:]...)
	}
	return argv
}
