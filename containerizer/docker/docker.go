// Package docker implements the Docker containerizer on the Docker Engine
// API (over --docker_socket, plain HTTP and JSON; see Client). It runs two
// kinds of containers, both named mesos-<slave id>.<container id>, with
// the sandbox mounted at /mnt/mesos/sandbox, the persistent volumes the
// resources use bind mounted at their paths in it, the ContainerInfo's
// volumes, privileged mode, cpu shares and memory limit:
//
//   - A command task whose ContainerInfo is DOCKER runs in a container of
//     its image, with its network (HOST, NONE, BRIDGE with port mappings
//     from the offered ports). The command executor runs on the host as
//     for the Mesos containerizer; its task process is a small runner
//     (Run, in the mesos-executor binary) that starts the prepared
//     container, copies its output into the sandbox's stdout and stderr,
//     stops it when killed and exits with its exit code.
//   - A custom executor whose ExecutorInfo has a DOCKER ContainerInfo runs
//     in a container of its image, on the host network (it must reach the
//     slave), with its MESOS_* environment and MESOS_DIRECTORY and
//     MESOS_SANDBOX at /mnt/mesos/sandbox. The runner is then the process
//     the host containerizer launches for the executor: the container
//     lives as long as the runner, and Wait, Destroy and recovery go
//     through it as for any executor.
//
// Like the Mesos containerizer, this is an OS edge: Engine calls run on
// goroutines of its own that complete the futures it returned.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
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

// Labels of the containers: labelWorkDir marks those of the slave of one
// work directory, for orphan clean-up at recovery; labelExecutor those
// that run an executor (not a command task); labelVolumes lists the
// persistence ids of the volumes bound into the container.
const (
	labelWorkDir  = "org.gomesos.slave_work_dir"
	labelExecutor = "org.gomesos.executor"
	labelVolumes  = "org.gomesos.volumes"
)

// hostOnlyEnv are the variables of an executor's environment that name
// host paths or the host's search path: an executor in a container gets
// its image's instead.
var hostOnlyEnv = []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"}

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
	// LauncherDir (--launcher_dir) holds mesos-executor, whose runner
	// (RunArg) is the host process of an executor in a container.
	// Required to run executors in containers.
	LauncherDir string
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

	mu         sync.Mutex
	containers map[string]*dockerContainer // by container id
}

// dockerContainer is what the containerizer keeps of one of its
// containers.
type dockerContainer struct {
	name     string          // the Docker container's name
	executor bool            // the executor runs in it (not a command task)
	volumes  map[string]bool // the persistence ids of the volumes bound into it
	ended    bool            // the executor ended: the container is being removed
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
	return &Docker{cfg: cfg, log: cfg.Logger.With("component", "docker-containerizer"), client: c, containers: make(map[string]*dockerContainer)}, nil
}

// Isolators names what limits the containers (for /state).
func (d *Docker) Isolators() []string { return nil }

// MayOwn says whether a recovered container may be the Docker
// containerizer's: its executor's ContainerInfo is DOCKER.
func (d *Docker) MayOwn(r containerizer.Recovered) bool {
	return isDocker(r.Executor.GetContainer())
}

// isDocker says whether ci is a DOCKER ContainerInfo (the generated
// getter reads an absent one as DOCKER, the enum's first value).
func isDocker(ci *mesos.ContainerInfo) bool {
	return ci != nil && ci.GetType() == mesos.ContainerInfo_DOCKER
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

// runsExecutor says whether spec's container runs its executor (a custom
// executor in an image) rather than a command task.
func runsExecutor(spec containerizer.LaunchSpec) bool {
	return spec.Task == nil || spec.Task.GetExecutor() != nil
}

// supports says why spec is not the Docker containerizer's, or nil.
func supports(spec containerizer.LaunchSpec) error {
	task, exec := containerizer.ContainerInfos(spec)
	if !isDocker(task) && !isDocker(exec) {
		return containerizer.Unsupported("the docker containerizer runs only DOCKER containers")
	}
	if !runsExecutor(spec) {
		if task.GetDocker().GetImage() == "" {
			return errors.New("the task's DOCKER ContainerInfo names no image")
		}
		return nil
	}
	if !isDocker(exec) {
		return containerizer.Unsupported("a task of a custom executor runs in its executor's container: give the ExecutorInfo the DOCKER ContainerInfo, not the task")
	}
	if isDocker(task) {
		return errors.New("a task of a custom executor cannot have a DOCKER ContainerInfo of its own: it runs in its executor's container")
	}
	if exec.GetDocker().GetImage() == "" {
		return errors.New("the executor's DOCKER ContainerInfo names no image")
	}
	if exec.GetDocker().GetNetwork() != mesos.ContainerInfo_DockerInfo_HOST {
		return fmt.Errorf("an executor's container needs the HOST network to reach the slave, not %s", exec.GetDocker().GetNetwork())
	}
	return nil
}

// Launch pulls the image if needed, creates the container and starts on
// the host the command executor (for a command task; its task process
// starts the container) or the runner (for an executor in the
// container). The future holds the host process's pid.
func (d *Docker) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	if err := supports(spec); err != nil {
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	}
	executor := runsExecutor(spec)
	if executor && d.cfg.LauncherDir == "" {
		return future.Failed[int](fmt.Errorf("launch %s: the docker containerizer has no launcher directory (--launcher_dir) to run an executor's container from", spec.ContainerID))
	}
	cfg, err := d.containerConfig(spec)
	if err != nil {
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	}
	name := Name(envValue(spec.Env, "MESOS_SLAVE_ID"), spec.ContainerID)
	ct := &dockerContainer{name: name, executor: executor, volumes: map[string]bool{}}
	for _, v := range spec.Volumes {
		ct.volumes[v.ID] = true
	}
	d.mu.Lock()
	if _, dup := d.containers[spec.ContainerID]; dup {
		d.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	d.containers[spec.ContainerID] = ct
	d.mu.Unlock()
	ci := spec.Task.GetContainer()
	if executor {
		ci = spec.Executor.GetContainer()
	}
	created := future.Async(osEdge, func() (future.Nothing, error) {
		ctx := context.Background()
		image := cfg.Image
		have, err := d.client.ImageExists(ctx, image)
		if err != nil {
			return future.Nothing{}, err
		}
		if !have || ci.GetDocker().GetForcePullImage() {
			if err := d.client.Pull(ctx, image); err != nil {
				return future.Nothing{}, err
			}
		}
		if err := mountPoints(spec.Directory, spec.Volumes); err != nil {
			return future.Nothing{}, err
		}
		if err := d.client.Create(ctx, name, cfg); err != nil {
			return future.Nothing{}, fmt.Errorf("create container %s: %w", name, err)
		}
		d.log.Info("created docker container", "container", spec.ContainerID, "name", name, "image", image, "executor", executor)
		return future.Nothing{}, nil
	})
	return future.RepairF(future.ThenF(created, func(future.Nothing) future.Future[int] {
		return d.cfg.Executors.Launch(d.hostSpec(spec, name, executor))
	}), func(err error) future.Future[int] {
		d.forget(spec.ContainerID)
		osEdge(func() { _ = d.client.Remove(context.Background(), name) })
		return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
	})
}

// hostSpec is what the host containerizer launches for spec: the command
// executor, told which container its task is, or the runner of the
// executor's container (which fetches the executor's URIs into the
// sandbox before it starts the container).
func (d *Docker) hostSpec(spec containerizer.LaunchSpec, name string, executor bool) containerizer.LaunchSpec {
	inner := spec
	inner.Task = nil
	inner.Volumes = nil
	ex := proto.Clone(spec.Executor).(*mesos.ExecutorInfo)
	ex.Container = nil
	if executor {
		inner.Command = &mesos.CommandInfo{
			Value: proto.String(filepath.Join(d.cfg.LauncherDir, "mesos-executor")), Shell: proto.Bool(false),
			Arguments: []string{"mesos-executor", RunArg},
			Uris:      spec.Command.GetUris(),
		}
		ex.Command = inner.Command
	}
	inner.Executor = ex
	inner.Env = append(append([]string(nil), spec.Env...),
		EnvContainer+"="+name, EnvSocket+"="+d.client.socket,
		EnvStopTimeout+"="+strconv.Itoa(int(d.cfg.StopTimeout/time.Second)))
	return inner
}

// mountPoints makes the sandbox's entry of each volume an empty
// directory for Docker to bind the volume over (inside the container
// only: the bind does not propagate to the host). It replaces the
// slave's symbolic link, which would dangle inside the container.
func mountPoints(sandbox string, volumes []containerizer.Volume) error {
	for _, v := range volumes {
		p := filepath.Join(sandbox, v.Path)
		if fi, err := os.Lstat(p); err == nil {
			if fi.IsDir() {
				continue
			}
			if fi.Mode()&os.ModeSymlink == 0 {
				return fmt.Errorf("persistent volume %s: %s is in the way of its mount point", v.ID, p)
			}
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("persistent volume %s: %w", v.ID, err)
			}
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("persistent volume %s: mount point: %w", v.ID, err)
		}
	}
	return nil
}

func (d *Docker) forget(id string) {
	d.mu.Lock()
	delete(d.containers, id)
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

// containerConfig is the Engine configuration of spec's container: the
// command task's, or the executor's.
func (d *Docker) containerConfig(spec containerizer.LaunchSpec) (ContainerConfig, error) {
	name := Name(envValue(spec.Env, "MESOS_SLAVE_ID"), spec.ContainerID)
	var (
		ci  *mesos.ContainerInfo
		cmd *mesos.CommandInfo
		res resources.Resources
		env []string
	)
	labels := map[string]string{labelWorkDir: d.cfg.WorkDir}
	if runsExecutor(spec) {
		// The executor's whole environment (the slave's MESOS_* and the
		// executor command's variables), with the sandbox where the
		// container sees it.
		ci, cmd, res = spec.Executor.GetContainer(), spec.Command, spec.Resources
		for _, kv := range spec.Env {
			k, _, _ := strings.Cut(kv, "=")
			if k != "MESOS_DIRECTORY" && k != "MESOS_SANDBOX" && !slices.Contains(hostOnlyEnv, k) {
				env = append(env, kv)
			}
		}
		env = append(env, "MESOS_DIRECTORY="+SandboxMount, "MESOS_SANDBOX="+SandboxMount, "MESOS_CONTAINER_NAME="+name)
		labels[labelExecutor] = "1"
	} else {
		t := spec.Task
		ci, cmd, res = t.GetContainer(), t.GetCommand(), resources.FromProto(t.GetResources())
		env = []string{"MESOS_SANDBOX=" + SandboxMount, "MESOS_CONTAINER_NAME=" + name}
		for _, v := range cmd.GetEnvironment().GetVariables() {
			env = append(env, v.GetName()+"="+v.GetValue())
		}
	}
	di := ci.GetDocker()
	cfg := ContainerConfig{
		Image:      di.GetImage(),
		WorkingDir: SandboxMount,
		Hostname:   ci.GetHostname(),
		Labels:     labels,
		Env:        env,
	}
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
	mem, shares := limits(res)
	hc := HostConfig{
		Binds:      append([]string{absPath(spec.Directory) + ":" + SandboxMount}, volumeBinds(spec.Volumes)...),
		Privileged: di.GetPrivileged(),
		Memory:     mem,
		CPUShares:  shares,
	}
	var ids []string
	for _, v := range spec.Volumes {
		ids = append(ids, v.ID)
	}
	if len(ids) > 0 {
		cfg.Labels[labelVolumes] = strings.Join(ids, ",")
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
			host = filepath.Join(absPath(spec.Directory), host)
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
		ports := offeredPorts(res.ToProto())
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

// volumeBinds are the binds of persistent volumes: each volume's
// directory at its path in the sandbox's mount, read-write or read-only
// as its mode says.
func volumeBinds(volumes []containerizer.Volume) []string {
	var out []string
	for _, v := range volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		out = append(out, absPath(v.HostPath)+":"+path.Join(SandboxMount, filepath.ToSlash(v.Path))+":"+mode)
	}
	return out
}

// absPath is p made absolute (the Engine binds only absolute host paths;
// --work_dir may be relative to the slave's directory).
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
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

// lookup returns a copy of what is kept of container id.
func (d *Docker) lookup(id string) (dockerContainer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ct, ok := d.containers[id]
	if !ok {
		return dockerContainer{}, fmt.Errorf("unknown container %s", id)
	}
	return *ct, nil
}

func (d *Docker) name(id string) (string, error) {
	ct, err := d.lookup(id)
	if err != nil || ct.ended {
		return "", err
	}
	return ct.name, nil
}

// Update changes the container's memory limit and cpu shares. Docker
// binds volumes only when it creates a container: a persistent volume
// that res uses and the container was created without fails the update
// (after the limits are applied), saying so.
func (d *Docker) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	ct, err := d.lookup(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("update: %w", err))
	}
	limited := res
	if !ct.executor {
		// The command executor's allowance stays on the host; the
		// container gets its task's resources.
		extra, _ := resources.Parse("cpus:0.1;mem:32", "*")
		limited = res.Minus(extra)
	}
	mem, shares := limits(limited)
	var unbound []string
	for _, v := range res.PersistentVolumes() {
		if !ct.volumes[v.DiskID] {
			unbound = append(unbound, v.DiskID)
		}
	}
	return future.Async(osEdge, func() (future.Nothing, error) {
		if err := d.client.Update(context.Background(), ct.name, mem, shares); err != nil && !IsNotFound(err) {
			return future.Nothing{}, fmt.Errorf("update %s: %w", id, err)
		}
		if len(unbound) > 0 {
			return future.Nothing{}, fmt.Errorf("update %s: persistent volumes %s are not in the docker container %s: docker binds volumes only when it creates a container, so a task that brings a new volume to a running executor's container finds a dangling link", id, strings.Join(unbound, ","), ct.name)
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

// Wait completes when the executor has ended (for an executor in a
// container: when its container has stopped); the container is removed
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
	ct := d.containers[id]
	if ct == nil || ct.ended {
		d.mu.Unlock()
		return // already handled
	}
	ct.ended = true
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
					ct := &dockerContainer{name: name, executor: c.Labels[labelExecutor] == "1", volumes: map[string]bool{}}
					for _, v := range strings.Split(c.Labels[labelVolumes], ",") {
						if v != "" {
							ct.volumes[v] = true
						}
					}
					d.mu.Lock()
					d.containers[cid] = ct
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
