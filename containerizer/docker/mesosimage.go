package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/fetcher"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// labelMesosImage marks the containers ImageExecutors runs for the slave
// of one work directory (its value).
const labelMesosImage = "org.gomesos.mesos_image_work_dir"

// executorSuffix ends the name of the container that runs a Docker
// container's host side, after the Docker container's own name.
const executorSuffix = ".executor"

// ImageExecutorsConfig holds the settings of ImageExecutors.
type ImageExecutorsConfig struct {
	// Image is --docker_mesos_image: the image the slave runs in, which
	// holds mesos-executor at the same path (--launcher_dir).
	Image string
	// Socket is the Engine's socket (--docker_socket), bound at the same
	// path into the containers (the runners talk to the Engine).
	Socket string
	// WorkDir is the slave's work directory.
	WorkDir string
	// Fetcher fetches a launch's URIs into its sandbox before the
	// container starts. Required.
	Fetcher *fetcher.Fetcher
	// KillOrphans removes, at recovery, this slave's containers no
	// checkpointed executor names.
	KillOrphans bool
	Logger      *slog.Logger
}

// ImageExecutors is the Docker containerizer's host containerizer when
// the slave itself runs in a container (--docker_mesos_image): the
// command executors of docker tasks, and the runners of executors in
// images, run in containers of the slave's image (host network, the
// sandbox and the Engine's socket at their host paths) instead of as the
// slave's children, so that they outlive the slave's container and a new
// slave recovers them through the Engine. Their output goes to the
// sandbox's stdout and stderr. It implements containerizer.Containerizer
// for Config.Executors; limits and usage are the Docker containers' own,
// so Update and Usage do nothing here.
type ImageExecutors struct {
	cfg    ImageExecutorsConfig
	log    *slog.Logger
	client *Client

	mu         sync.Mutex
	containers map[string]*imageExecutor // live, by container id
	ended      map[string]*imageExecutor // ended lately, for late Waits
	endedList  []string
}

type imageExecutor struct {
	name string
	term *future.Promise[containerizer.Termination]
}

// NewImageExecutors returns the ImageExecutors of cfg.
func NewImageExecutors(cfg ImageExecutorsConfig) (*ImageExecutors, error) {
	if cfg.Image == "" || cfg.Fetcher == nil {
		return nil, errors.New("docker image executors: Config.Image and Fetcher are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &ImageExecutors{
		cfg: cfg, log: cfg.Logger.With("component", "docker-mesos-image"), client: NewClient(cfg.Socket),
		containers: map[string]*imageExecutor{}, ended: map[string]*imageExecutor{},
	}, nil
}

// executorConfig is the Engine configuration of the container that runs
// spec's command.
func (x *ImageExecutors) executorConfig(spec containerizer.LaunchSpec) ContainerConfig {
	argv := containerizer.Argv(spec.Command)
	return ContainerConfig{
		Image: x.cfg.Image,
		// The command's output goes where the Mesos containerizer would
		// put it: the sandbox's stdout and stderr.
		Entrypoint: []string{"/bin/sh", "-c", `exec "$@" >>stdout 2>>stderr`, "mesos-executor-container"},
		Cmd:        argv,
		Env:        spec.Env,
		WorkingDir: absPath(spec.Directory),
		Labels:     map[string]string{labelMesosImage: x.cfg.WorkDir},
		HostConfig: HostConfig{
			Binds:       []string{absPath(spec.Directory) + ":" + absPath(spec.Directory), absPath(x.client.socket) + ":" + absPath(x.client.socket)},
			NetworkMode: "host",
		},
	}
}

// Launch fetches spec's URIs into the sandbox, then creates and starts
// the container; the future holds its first process's pid.
func (x *ImageExecutors) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	name := Name(envValue(spec.Env, "MESOS_SLAVE_ID"), spec.ContainerID) + executorSuffix
	ct := &imageExecutor{name: name, term: future.NewPromise[containerizer.Termination]()}
	x.mu.Lock()
	if _, dup := x.containers[spec.ContainerID]; dup {
		x.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	x.containers[spec.ContainerID] = ct
	x.mu.Unlock()
	cfg := x.executorConfig(spec)
	return future.Async(osEdge, func() (int, error) {
		ctx := context.Background()
		pid, err := func() (int, error) {
			if err := x.cfg.Fetcher.Fetch(ctx, spec.Command.GetUris(), spec.Directory, spec.User); err != nil {
				return 0, fmt.Errorf("fetch: %w", err)
			}
			if err := x.client.Create(ctx, name, cfg); err != nil {
				return 0, fmt.Errorf("create container %s of %s: %w", name, x.cfg.Image, err)
			}
			if err := x.client.Start(ctx, name); err != nil {
				return 0, fmt.Errorf("start container %s: %w", name, err)
			}
			st, err := x.client.Inspect(ctx, name)
			if err != nil {
				return 0, fmt.Errorf("inspect container %s: %w", name, err)
			}
			return st.Pid, nil
		}()
		if err != nil {
			_ = x.client.Remove(ctx, name)
			x.end(spec.ContainerID, ct, containerizer.Termination{Status: -1, Message: err.Error()})
			return 0, fmt.Errorf("launch %s: %w", spec.ContainerID, err)
		}
		x.log.Info("launched a container of the slave's image", "container", spec.ContainerID, "name", name, "pid", pid)
		x.wait(spec.ContainerID, ct)
		return pid, nil
	})
}

// wait waits, on a goroutine of its own, for the container to stop,
// removes it and completes its termination.
func (x *ImageExecutors) wait(id string, ct *imageExecutor) {
	osEdge(func() {
		ctx := context.Background()
		code, err := x.client.Wait(ctx, ct.name)
		term := containerizer.Termination{Status: code << 8}
		if err != nil {
			term = containerizer.Termination{Status: -1, Message: fmt.Sprintf("cannot wait for container %s: %v", ct.name, err)}
		}
		if err := x.client.Remove(ctx, ct.name); err != nil {
			x.log.Warn("cannot remove the container", "name", ct.name, "err", err)
		}
		x.end(id, ct, term)
	})
}

func (x *ImageExecutors) end(id string, ct *imageExecutor, term containerizer.Termination) {
	x.mu.Lock()
	if x.containers[id] == ct {
		delete(x.containers, id)
	}
	x.ended[id] = ct
	x.endedList = append(x.endedList, id)
	if len(x.endedList) > 1000 {
		delete(x.ended, x.endedList[0])
		x.endedList = x.endedList[1:]
	}
	x.mu.Unlock()
	ct.term.Set(term)
}

// Wait completes when the container has stopped (also for one that
// stopped lately).
func (x *ImageExecutors) Wait(id string) future.Future[containerizer.Termination] {
	x.mu.Lock()
	ct := x.containers[id]
	if ct == nil {
		ct = x.ended[id]
	}
	x.mu.Unlock()
	if ct == nil {
		return future.Failed[containerizer.Termination](fmt.Errorf("wait: unknown container %s", id))
	}
	return ct.term.Future()
}

// Destroy kills the container; Wait then completes.
func (x *ImageExecutors) Destroy(id string) future.Future[future.Nothing] {
	x.mu.Lock()
	ct := x.containers[id]
	x.mu.Unlock()
	if ct == nil {
		return future.Failed[future.Nothing](fmt.Errorf("destroy: unknown container %s", id))
	}
	return future.Async(osEdge, func() (future.Nothing, error) {
		if err := x.client.Stop(context.Background(), ct.name, 0); err != nil && !IsNotFound(err) {
			return future.Nothing{}, fmt.Errorf("destroy %s: stop %s: %w", id, ct.name, err)
		}
		return future.Nothing{}, nil
	})
}

// Update does nothing: the limits are the Docker containers'.
func (x *ImageExecutors) Update(string, resources.Resources) future.Future[future.Nothing] {
	return future.Ready(future.Nothing{})
}

// Usage is not measured here: the Docker containerizer samples the Docker
// containers.
func (x *ImageExecutors) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage %s: the executor's container of the slave's image is not measured", id))
}

// Containers lists the live containers.
func (x *ImageExecutors) Containers() future.Future[[]string] {
	x.mu.Lock()
	defer x.mu.Unlock()
	return future.Ready(slices.Sorted(maps.Keys(x.containers)))
}

// Recover adopts the running containers of the known executors (alive),
// removes those that stopped while no slave watched, and, with
// KillOrphans, removes this slave's containers no executor names.
func (x *ImageExecutors) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	ids := map[string]bool{}
	for _, r := range known {
		ids[r.ContainerID] = true
	}
	return future.Async(osEdge, func() (map[string]bool, error) {
		ctx := context.Background()
		list, err := x.client.List(ctx, labelMesosImage+"="+x.cfg.WorkDir)
		if err != nil {
			return nil, fmt.Errorf("recover: list docker containers: %w", err)
		}
		alive := map[string]bool{}
		for _, c := range list {
			if len(c.Names) == 0 {
				continue
			}
			name := strings.TrimPrefix(c.Names[0], "/")
			base := strings.TrimSuffix(name, executorSuffix)
			id := base[strings.LastIndexByte(base, '.')+1:]
			switch {
			case ids[id] && c.State == "running":
				ct := &imageExecutor{name: name, term: future.NewPromise[containerizer.Termination]()}
				x.mu.Lock()
				x.containers[id] = ct
				x.mu.Unlock()
				alive[id] = true
				x.wait(id, ct)
			case ids[id] || x.cfg.KillOrphans:
				x.log.Info("removing a container of the slave's image", "name", name, "state", c.State, "known", ids[id])
				if err := x.client.Remove(ctx, name); err != nil {
					x.log.Warn("cannot remove the container", "name", name, "err", err)
				}
			default:
				x.log.Info("leaving an orphan container of the slave's image (--docker_kill_orphans=false)", "name", name)
			}
		}
		return alive, nil
	})
}
