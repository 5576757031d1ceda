// Package docker implements the Docker containerizer on the Docker Engine
// API (over --docker_socket, plain HTTP and JSON; see Client): a command
// task whose ContainerInfo is DOCKER runs in a container of its image,
// named mesos-<slave id>.<container id>, with the sandbox mounted at
// /mnt/mesos/sandbox, its network (HOST, NONE, BRIDGE with port mappings
// from the offered ports), volumes, privileged mode, cpu shares and
// memory limit from the task's resources. The command executor runs on
// the host as for the Mesos containerizer; its task process is a small
// runner (Run, in the mesos-executor binary) that starts the prepared
// container, copies its output into the sandbox's stdout and stderr,
// stops it when killed and exits with its exit code.
//
// Like the Mesos containerizer, this is an OS edge: Engine calls run on
// goroutines of its own that complete the futures it returned.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Environment variables the runner reads (set on the command executor).
const (
	EnvContainer   = "MESOS_DOCKER_CONTAINER"    // the container's name
	EnvSocket      = "MESOS_DOCKER_SOCKET"       // the Engine's socket
	EnvStopTimeout = "MESOS_DOCKER_STOP_TIMEOUT" // seconds between SIGTERM and SIGKILL on stop
)

// SandboxMount is where a task's sandbox appears in its container.
const SandboxMount = "/mnt/mesos/sandbox"

// labelWorkDir marks the containers of the slave of one work directory,
// for orphan clean-up at recovery.
const labelWorkDir = "org.gomesos.slave_work_dir"

// Config holds the Docker containerizer's settings (slave flags).
type Config struct {
	// Socket is --docker_socket (default /var/run/docker.sock).
	Socket string
	// WorkDir is the slave's work directory.
	WorkDir string
	// RemoveDelay (--docker_remove_delay) is how long a stopped container
	// is kept before it is removed.
	RemoveDelay time.Duration
	// KillOrphans (--docker_kill_orphans) removes, at recovery, this
	// slave's containers it does not know of.
	KillOrphans bool
	// StopTimeout (--docker_stop_timeout) is how long a stopped container
	// gets between SIGTERM and SIGKILL.
	StopTimeout time.Duration
	// Executors launches the command executors on the host: a Mesos
	// containerizer. Required.
	Executors containerizer.Containerizer
	// After returns a channel closed once d of real time has passed (for
	// RemoveDelay: the Engine runs in real time). Pass
	// walltime.Clock{}.After. Required.
	After func(d time.Duration) (<-chan struct{}, func())
	// Now stamps usage samples. Required.
	Now    func() time.Time
	Logger *slog.Logger
}

// osEdge runs blocking Engine calls on a goroutine of its own; it
// completes the futures it was given.
func osEdge(fn func()) { go fn() }

// logsEdge copies a container's log stream on a goroutine of its own (in
// the runner, outside any actor).
func logsEdge(fn func()) { go fn() }

// Docker is the Docker containerizer.
type Docker struct {
	cfg    Config
	log    *slog.Logger
	client *Client

	mu    sync.Mutex
	names map[string]string // container id -> docker container name
}

// New returns a Docker containerizer for cfg; it checks that the Engine
// answers.
func New(cfg Config) (*Docker, error) {
	if cfg.Executors == nil || cfg.After == nil || cfg.Now == nil {
		return nil, errors.New("docker containerizer: Config.Executors, After and Now are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := NewClient(cfg.Socket)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		return nil, fmt.Errorf("docker containerizer: the Docker Engine does not answer: %w", err)
	}
	abs, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	cfg.WorkDir = abs
	return &Docker{cfg: cfg, log: cfg.Logger.With("component", "docker-containerizer"), client: c, names: make(map[string]string)}, nil
}

// Isolators names what limits the containers (for /state).
func (d *Docker) Isolators() []string { return nil }

// MayOwn says whether a recovered container may be the Docker
// containerizer's: its executor's ContainerInfo is DOCKER.
func (d *Docker) MayOwn(r containerizer.Recovered) bool {
	return r.Executor.GetContainer().GetType() == mesos.ContainerInfo_DOCKER
}

// Name is the Docker container name of a Mesos container.
func Name(slaveID, containerID string) string {
	return "mesos-" + slaveID + "." + containerID
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// supports says why spec is not the Docker containerizer's, or nil.
func supports(spec containerizer.LaunchSpec) error {
	task, exec := containerizer.ContainerInfos(spec)
	if task.GetType() != mesos.ContainerInfo_DOCKER && exec.GetType() != mesos.ContainerInfo_DOCKER {
		return containerizer.Unsupported("the docker containerizer runs only DOCKER containers")
	}
	if spec.Task == nil || spec.Task.GetExecutor() != nil {
		return containerizer.Unsupported("the docker containerizer runs command tasks only (custom executors in images are not supported yet)")
	}
	if task.GetDocker().GetImage() == "" {
		return errors.New("the task's DOCKER ContainerInfo names no image")
	}
	return nil
}

// Launch pulls the task's image if needed, creates its container, and
// starts the command executor on the host, whose task process starts the
// container. The future holds the executor's pid.
func (d *Docker) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	if err := supports(spec); err != nil {
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	}
	name := Name(envValue(spec.Env, "MESOS_SLAVE_ID"), spec.ContainerID)
	d.mu.Lock()
	if _, dup := d.names[spec.ContainerID]; dup {
		d.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	d.names[spec.ContainerID] = name
	d.mu.Unlock()
	cfg, err := d.containerConfig(spec)
	if err != nil {
		d.forget(spec.ContainerID)
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	}
	created := future.Async(osEdge, func() (future.Nothing, error) {
		ctx := context.Background()
		image := cfg.Image
		have, err := d.client.ImageExists(ctx, image)
		if err != nil {
			return future.Nothing{}, err
		}
		if !have || spec.Task.GetContainer().GetDocker().GetForcePullImage() {
			if err := d.client.Pull(ctx, image); err != nil {
				return future.Nothing{}, err
			}
		}
		if err := d.client.Create(ctx, name, cfg); err != nil {
			return future.Nothing{}, fmt.Errorf("create container %s: %w", name, err)
		}
		d.log.Info("created docker container", "container", spec.ContainerID, "name", name, "image", image)
		return future.Nothing{}, nil
	})
	return future.RepairF(future.ThenF(created, func(future.Nothing) future.Future[int] {
		// The executor runs on the host, as for the Mesos containerizer;
		// it is told which container its task is.
		inner := spec
		inner.Task = nil
		ex := proto.Clone(spec.Executor).(*mesos.ExecutorInfo)
		ex.Container = nil
		inner.Executor = ex
		inner.Env = append(append([]string(nil), spec.Env...),
			EnvContainer+"="+name, EnvSocket+"="+d.client.socket,
			EnvStopTimeout+"="+strconv.Itoa(int(d.cfg.StopTimeout/time.Second)))
		return d.cfg.Executors.Launch(inner)
	}), func(err error) future.Future[int] {
		d.forget(spec.ContainerID)
		osEdge(func() { _ = d.client.Remove(context.Background(), name) })
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	})
}

func (d *Docker) forget(id string) {
	d.mu.Lock()
	delete(d.names, id)
	d.mu.Unlock()
}

// limits are the docker limits of res: memory in bytes (at least 32 MB)
// and cpu shares (1024 a cpu, at least 10), as Mesos sets them.
func limits(res resources.Resources) (memory, shares int64) {
	if mem := res.Scalar("mem"); mem > 0 {
		memory = max(int64(mem*1024*1024), 32<<20)
	}
	if cpus := res.Scalar("cpus"); cpus > 0 {
		shares = max(int64(cpus*1024), 10)
	}
	return memory, shares
}

// containerConfig is the Engine configuration of spec's container.
func (d *Docker) containerConfig(spec containerizer.LaunchSpec) (ContainerConfig, error) {
	t := spec.Task
	ci := t.GetContainer()
	di := ci.GetDocker()
	cfg := ContainerConfig{
		Image:      di.GetImage(),
		WorkingDir: SandboxMount,
		Hostname:   ci.GetHostname(),
		Labels:     map[string]string{labelWorkDir: d.cfg.WorkDir},
		Env:        []string{"MESOS_SANDBOX=" + SandboxMount, "MESOS_CONTAINER_NAME=" + Name(envValue(spec.Env, "MESOS_SLAVE_ID"), spec.ContainerID)},
	}
	for _, v := range t.GetCommand().GetEnvironment().GetVariables() {
		cfg.Env = append(cfg.Env, v.GetName()+"="+v.GetValue())
	}
	cmd := t.GetCommand()
	switch {
	case cmd.Shell == nil || cmd.GetShell():
		if cmd.GetValue() != "" {
			cfg.Cmd = []string{"/bin/sh", "-c", cmd.GetValue()}
		}
	default:
		// shell=false: value (if any) replaces the entrypoint; the
		// arguments are the command, as with docker run.
		if cmd.GetValue() != "" {
			cfg.Entrypoint = []string{cmd.GetValue()}
		}
		cfg.Cmd = cmd.GetArguments()
	}
	if u := cmd.GetUser(); u != "" {
		cfg.User = u
	}
	mem, shares := limits(resources.FromProto(t.GetResources()))
	hc := HostConfig{
		Binds:      []string{spec.Directory + ":" + SandboxMount},
		Privileged: di.GetPrivileged(),
		Memory:     mem,
		CPUShares:  shares,
	}
	for _, v := range ci.GetVolumes() {
		mode := "rw"
		if v.GetMode() == mesos.Volume_RO {
			mode = "ro"
		}
		host := v.GetHostPath()
		if host == "" {
			return cfg, fmt.Errorf("volume %s has no host_path (images as volumes are not supported)", v.GetContainerPath())
		}
		if !filepath.IsAbs(host) {
			host = filepath.Join(spec.Directory, host)
		}
		hc.Binds = append(hc.Binds, host+":"+v.GetContainerPath()+":"+mode)
	}
	switch di.GetNetwork() {
	case mesos.ContainerInfo_DockerInfo_HOST:
		hc.NetworkMode = "host"
	case mesos.ContainerInfo_DockerInfo_NONE:
		hc.NetworkMode = "none"
	case mesos.ContainerInfo_DockerInfo_BRIDGE:
		hc.NetworkMode = "bridge"
	default:
		return cfg, fmt.Errorf("docker network %s is not supported", di.GetNetwork())
	}
	if len(di.GetPortMappings()) > 0 {
		if di.GetNetwork() != mesos.ContainerInfo_DockerInfo_BRIDGE {
			return cfg, errors.New("port mappings need the BRIDGE network")
		}
		ports := offeredPorts(t.GetResources())
		hc.PortBindings = map[string][]PortBinding{}
		cfg.ExposedPorts = map[string]struct{}{}
		for _, pm := range di.GetPortMappings() {
			if !ports[pm.GetHostPort()] {
				return cfg, fmt.Errorf("port mapping to host port %d, which is not in the task's ports resources", pm.GetHostPort())
			}
			protocol := strings.ToLower(pm.GetProtocol())
			if protocol == "" {
				protocol = "tcp"
			}
			key := fmt.Sprintf("%d/%s", pm.GetContainerPort(), protocol)
			cfg.ExposedPorts[key] = struct{}{}
			hc.PortBindings[key] = append(hc.PortBindings[key], PortBinding{HostPort: strconv.Itoa(int(pm.GetHostPort()))})
		}
	}
	for _, p := range di.GetParameters() {
		// Mesos passes parameters as `docker run --key=value`; the API
		// has no such thing, so the common ones are mapped.
		switch p.GetKey() {
		case "env", "e":
			cfg.Env = append(cfg.Env, p.GetValue())
		case "label", "l":
			k, v, _ := strings.Cut(p.GetValue(), "=")
			cfg.Labels[k] = v
		case "hostname", "h":
			cfg.Hostname = p.GetValue()
		case "user", "u":
			cfg.User = p.GetValue()
		case "workdir", "w":
			cfg.WorkingDir = p.GetValue()
		default:
			return cfg, fmt.Errorf("docker parameter %q is not supported (env, label, hostname, user, workdir are)", p.GetKey())
		}
	}
	cfg.HostConfig = hc
	return cfg, nil
}

// offeredPorts are the ports of a task's ports resources.
func offeredPorts(res []*mesos.Resource) map[uint32]bool {
	out := map[uint32]bool{}
	for _, r := range res {
		if r.GetName() != "ports" {
			continue
		}
		for _, rg := range r.GetRanges().GetRange() {
			for p := rg.GetBegin(); p <= rg.GetEnd() && p-rg.GetBegin() < 65536; p++ {
				out[uint32(p)] = true
			}
		}
	}
	return out
}

func (d *Docker) name(id string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.names[id]
	if !ok {
		return "", fmt.Errorf("unknown container %s", id)
	}
	return n, nil
}

// Update changes the container's memory limit and cpu shares.
func (d *Docker) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	name, err := d.name(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("update: %w", err))
	}
	// The executor's allowance stays on the host; the container gets the
	// tasks' resources (the command executor's one task).
	extra, _ := resources.Parse("cpus:0.1;mem:32", "*")
	mem, shares := limits(res.Minus(extra))
	return future.Async(osEdge, func() (future.Nothing, error) {
		if err := d.client.Update(context.Background(), name, mem, shares); err != nil && !IsNotFound(err) {
			return future.Nothing{}, fmt.Errorf("update %s: %w", id, err)
		}
		return future.Nothing{}, nil
	})
}

// Usage samples the container's usage from the Engine.
func (d *Docker) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	name, err := d.name(id)
	if err != nil {
		return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage: %w", err))
	}
	now := d.cfg.Now()
	return future.Async(osEdge, func() (*mesos.ResourceStatistics, error) {
		s, err := d.client.Stats(context.Background(), name)
		if err != nil {
			return nil, fmt.Errorf("usage %s: %w", id, err)
		}
		st := &mesos.ResourceStatistics{
			Timestamp:             proto.Float64(mesos.Timestamp(now)),
			CpusUserTimeSecs:      proto.Float64(float64(s.CPUStats.CPUUsage.UsageInUsermode) / 1e9),
			CpusSystemTimeSecs:    proto.Float64(float64(s.CPUStats.CPUUsage.UsageInKernelmode) / 1e9),
			CpusNrPeriods:         proto.Uint32(uint32(s.CPUStats.ThrottlingData.Periods)),
			CpusNrThrottled:       proto.Uint32(uint32(s.CPUStats.ThrottlingData.ThrottledPeriods)),
			CpusThrottledTimeSecs: proto.Float64(float64(s.CPUStats.ThrottlingData.ThrottledTime) / 1e9),
			MemRssBytes:           proto.Uint64(s.MemoryStats.Usage),
		}
		if rss, ok := s.MemoryStats.Stats["rss"]; ok {
			st.MemRssBytes = proto.Uint64(rss)
			st.MemAnonBytes = proto.Uint64(rss)
		}
		if c, ok := s.MemoryStats.Stats["cache"]; ok {
			st.MemFileBytes = proto.Uint64(c)
		}
		if s.MemoryStats.Limit > 0 {
			st.MemLimitBytes = proto.Uint64(s.MemoryStats.Limit)
		}
		return st, nil
	})
}

// Wait completes when the executor has ended; its container is removed
// after --docker_remove_delay.
func (d *Docker) Wait(id string) future.Future[containerizer.Termination] {
	name, err := d.name(id)
	if err != nil {
		return future.Failed[containerizer.Termination](fmt.Errorf("wait: %w", err))
	}
	w := d.cfg.Executors.Wait(id)
	w.OnAny(func(future.Future[containerizer.Termination]) { d.removeLater(id, name) })
	return w
}

// removeLater stops the container now (the executor is gone) and removes
// it after RemoveDelay.
func (d *Docker) removeLater(id, name string) {
	d.mu.Lock()
	if d.names[id] == "" {
		d.mu.Unlock()
		return // already handled
	}
	d.names[id] = ""
	d.mu.Unlock()
	osEdge(func() {
		ctx := context.Background()
		if err := d.client.Stop(ctx, name, int(d.cfg.StopTimeout/time.Second)); err != nil && !IsNotFound(err) {
			d.log.Warn("cannot stop the docker container", "name", name, "err", err)
		}
		if d.cfg.RemoveDelay > 0 {
			expired, _ := d.cfg.After(d.cfg.RemoveDelay)
			<-expired
		}
		if err := d.client.Remove(ctx, name); err != nil {
			d.log.Warn("cannot remove the docker container", "name", name, "err", err)
		}
		d.forget(id)
	})
}

// Destroy kills the executor and the container.
func (d *Docker) Destroy(id string) future.Future[future.Nothing] {
	name, err := d.name(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("destroy: %w", err))
	}
	killed := future.Async(osEdge, func() (future.Nothing, error) {
		if name == "" {
			return future.Nothing{}, nil
		}
		if err := d.client.Stop(context.Background(), name, 0); err != nil && !IsNotFound(err) {
			return future.Nothing{}, fmt.Errorf("destroy %s: stop %s: %w", id, name, err)
		}
		return future.Nothing{}, nil
	})
	return future.ThenF(killed, func(future.Nothing) future.Future[future.Nothing] { return d.cfg.Executors.Destroy(id) })
}

// Containers lists the live containers.
func (d *Docker) Containers() future.Future[[]string] {
	return d.cfg.Executors.Containers()
}

// Recover adopts the executors that still run (through the host
// containerizer) and, with KillOrphans, removes this slave's docker
// containers that belong to none of them.
func (d *Docker) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	inner := make([]containerizer.Recovered, len(known))
	for i, r := range known {
		r.Executor = nil // the host containerizer runs the executor
		inner[i] = r
	}
	return future.ThenF(d.cfg.Executors.Recover(inner), func(alive map[string]bool) future.Future[map[string]bool] {
		return future.Async(osEdge, func() (map[string]bool, error) {
			list, err := d.client.List(context.Background(), labelWorkDir+"="+d.cfg.WorkDir)
			if err != nil {
				return nil, fmt.Errorf("recover: list docker containers: %w", err)
			}
			var orphans []string
			for _, c := range list {
				if len(c.Names) == 0 {
					continue
				}
				name := strings.TrimPrefix(c.Names[0], "/")
				cid := name[strings.LastIndexByte(name, '.')+1:]
				if alive[cid] {
					d.mu.Lock()
					d.names[cid] = name
					d.mu.Unlock()
					continue
				}
				orphans = append(orphans, name)
			}
			sort.Strings(orphans)
			for _, name := range orphans {
				if !d.cfg.KillOrphans {
					d.log.Info("leaving an orphan docker container (--docker_kill_orphans=false)", "name", name)
					continue
				}
				d.log.Info("removing an orphan docker container", "name", name)
				if err := d.client.Remove(context.Background(), name); err != nil {
					d.log.Warn("cannot remove an orphan docker container", "name", name, "err", err)
				}
			}
			return alive, nil
		})
	})
}
