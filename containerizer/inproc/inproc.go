// Package inproc is a containerizer whose executors run inside the
// slave's runtime: each container is an executor driver (package
// executor) with a Go Executor value, a process of the same runtime,
// started with the environment the slave gave the launch. No OS process
// is started, so a whole cluster runs on a deterministic runtime. It
// plays the part of Mesos's TestContainerizer with a MockExecutor.
//
// A container ends when its driver stops (the executor stopped or
// aborted it, or the slave told it to shut down) or when it is destroyed;
// Usage reports fixed statistics.
package inproc

import (
	"fmt"
	"sort"
	"strings"
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Config configures the in-process containerizer.
type Config struct {
	// Executor picks the executor a container runs, by its ExecutorInfo
	// (the slave's command executor info for command tasks). Nil, or a
	// nil result, means a new &TaskExecutor{}.
	Executor func(info *mesos.ExecutorInfo) executor.Executor
	// Statistics is the usage every container reports; Usage adds the
	// time stamp (the runtime's Clock) and the limits (the container's
	// resources). Nil means no usage at all.
	Statistics *mesos.ResourceStatistics
	// Ended, if set, is called on the containerizer's process with the
	// executor of each container that ends (it stopped, or it was
	// destroyed): a simulation's record of what runs where.
	Ended func(exec executor.Executor)
}

// ByID picks executors by executor id from m; ids not in m get nil (the
// default executor).
func ByID(m map[string]executor.Executor) func(*mesos.ExecutorInfo) executor.Executor {
	return func(info *mesos.ExecutorInfo) executor.Executor { return m[info.GetExecutorId().GetValue()] }
}

// Containerizer runs executors as processes of its runtime. It is a
// process itself, `inproc-containerizer(N)`: every method is served from
// its mailbox, and it learns that a driver stopped through a link.
type Containerizer struct {
	process.Process

	cfg        Config
	containers map[string]*container // live, by container id
	byPID      map[process.UPID]*container
	ended      map[string]*container // ended, for late Waits
}

type container struct {
	id        string
	exec      executor.Executor
	driver    *executor.Driver
	pid       process.UPID
	resources resources.Resources
	term      *future.Promise[containerizer.Termination]
	destroyed *future.Promise[future.Nothing] // set by Destroy
}

var _ containerizer.Containerizer = (*Containerizer)(nil)

// New spawns an in-process containerizer on rt; pass it to the slave
// (slave.Config.Containerizer) of the same runtime.
func New(rt *process.Runtime, cfg Config) (*Containerizer, error) {
	c := &Containerizer{
		cfg: cfg, containers: make(map[string]*container),
		byPID: make(map[process.UPID]*container), ended: make(map[string]*container),
	}
	if _, err := rt.Spawn(c, rt.GenerateID("inproc-containerizer")); err != nil {
		return nil, fmt.Errorf("inproc containerizer: %w", err)
	}
	return c, nil
}

// Stop terminates the containerizer process; the executors keep running.
func (c *Containerizer) Stop() { c.Runtime().Terminate(c.Self()) }

// Launch starts the executor of spec as a driver process with an
// executor.Env read from spec.Env. Its future holds 0: there is no OS
// process.
func (c *Containerizer) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	return process.DispatchF(c.Runtime(), c.Self(), func() future.Future[int] {
		if c.containers[spec.ContainerID] != nil {
			return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
		}
		env, err := executor.EnvFrom(lookup(spec.Env))
		if err != nil {
			return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
		}
		var exec executor.Executor
		if c.cfg.Executor != nil {
			exec = c.cfg.Executor(spec.Executor)
		}
		if exec == nil {
			exec = &TaskExecutor{}
		}
		d := executor.NewDriver(c.Runtime(), exec, env)
		if _, err := d.Start(); err != nil {
			return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID, err))
		}
		ct := &container{
			id: spec.ContainerID, exec: exec, driver: d, pid: d.PID(), resources: spec.Resources,
			term: future.NewPromise[containerizer.Termination](),
		}
		c.containers[ct.id] = ct
		c.byPID[ct.pid] = ct
		c.Link(ct.pid)
		return future.Ready(0)
	})
}

// lookup reads variables from an environment list (last one wins).
func lookup(env []string) func(string) string {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return func(k string) string { return vars[k] }
}

// Exited is a driver's end: its container terminates, with status 0, or
// killed (SIGKILL) when it was destroyed.
func (c *Containerizer) Exited(pid process.UPID) {
	ct := c.byPID[pid]
	if ct == nil {
		return
	}
	delete(c.byPID, pid)
	delete(c.containers, ct.id)
	c.ended[ct.id] = ct
	term := containerizer.Termination{}
	if ct.destroyed != nil {
		term.Status = int(syscall.SIGKILL)
		ct.destroyed.Set(future.Nothing{})
	}
	ct.term.Set(term)
	if c.cfg.Ended != nil {
		c.cfg.Ended(ct.exec)
	}
}

// Wait completes when the container ended.
func (c *Containerizer) Wait(id string) future.Future[containerizer.Termination] {
	return process.DispatchF(c.Runtime(), c.Self(), func() future.Future[containerizer.Termination] {
		ct := c.containers[id]
		if ct == nil {
			ct = c.ended[id]
		}
		if ct == nil {
			return future.Failed[containerizer.Termination](fmt.Errorf("wait: unknown container %s", id))
		}
		return ct.term.Future()
	})
}

// Destroy aborts the container's driver (as a kill would: the executor
// is not told); its future completes once the driver has ended.
func (c *Containerizer) Destroy(id string) future.Future[future.Nothing] {
	return process.DispatchF(c.Runtime(), c.Self(), func() future.Future[future.Nothing] { return c.destroy(id) })
}

func (c *Containerizer) destroy(id string) future.Future[future.Nothing] {
	ct := c.containers[id]
	if ct == nil {
		return future.Failed[future.Nothing](fmt.Errorf("destroy: unknown container %s", id))
	}
	if ct.destroyed == nil {
		ct.destroyed = future.NewPromise[future.Nothing]()
		if _, err := ct.driver.Abort(); err != nil {
			return future.Failed[future.Nothing](fmt.Errorf("destroy %s: %w", id, err))
		}
	}
	return ct.destroyed.Future()
}

// Update records the container's resources (for Usage's limits).
func (c *Containerizer) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	return process.DispatchF(c.Runtime(), c.Self(), func() future.Future[future.Nothing] {
		ct := c.containers[id]
		if ct == nil {
			return future.Failed[future.Nothing](fmt.Errorf("update: unknown container %s", id))
		}
		ct.resources = res
		return future.Ready(future.Nothing{})
	})
}

// Usage reports Config.Statistics, stamped with the runtime's Clock and
// with the container's resources as limits.
func (c *Containerizer) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	return process.DispatchF(c.Runtime(), c.Self(), func() future.Future[*mesos.ResourceStatistics] {
		ct := c.containers[id]
		if ct == nil {
			return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage: unknown container %s", id))
		}
		st := &mesos.ResourceStatistics{}
		if c.cfg.Statistics != nil {
			st = proto.Clone(c.cfg.Statistics).(*mesos.ResourceStatistics)
		}
		st.Timestamp = proto.Float64(mesos.Timestamp(c.Clock().Now()))
		if cpus := ct.resources.Scalar("cpus"); cpus > 0 {
			st.CpusLimit = proto.Float64(cpus)
		}
		if mem := ct.resources.Scalar("mem"); mem > 0 {
			st.MemLimitBytes = proto.Uint64(uint64(mem * 1024 * 1024))
		}
		return future.Ready(st)
	})
}

// Containers lists the live containers, sorted.
func (c *Containerizer) Containers() future.Future[[]string] {
	return process.Dispatch(c.Runtime(), c.Self(), func() []string {
		out := make([]string, 0, len(c.containers))
		for id := range c.containers {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	})
}

// Recover reports which of the known containers still run (their drivers
// outlive a slave that restarts on the same runtime) and destroys the
// live containers nobody knows of.
func (c *Containerizer) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	return process.Dispatch(c.Runtime(), c.Self(), func() map[string]bool {
		alive := make(map[string]bool)
		names := make(map[string]bool)
		for _, r := range known {
			names[r.ContainerID] = true
			if c.containers[r.ContainerID] != nil {
				alive[r.ContainerID] = true
			}
		}
		var orphans []string
		for id := range c.containers {
			if !names[id] {
				orphans = append(orphans, id)
			}
		}
		sort.Strings(orphans)
		for _, id := range orphans {
			c.Runtime().Logger().Info("destroying an orphan container", "container", id)
			c.destroy(id)
		}
		return alive
	})
}
