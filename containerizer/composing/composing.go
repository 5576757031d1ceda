// Package composing implements the composing containerizer of
// --containerizers=mesos,external,docker: a launch is offered to each
// containerizer in order, and the first that can run the container's
// ContainerInfo owns it from then on. A containerizer that cannot run it
// says so with an error wrapping containerizer.ErrUnsupported; when none
// can, the launch fails with every one's reason, so the task fails with
// a message that names why (never a silent plain-command fallback).
package composing

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Named is a containerizer with its --containerizers name.
type Named struct {
	Name          string
	Containerizer containerizer.Containerizer
}

// Owner is implemented by containerizers that can tell, from the
// checkpointed executor, whether a recovered container may be theirs;
// the composing containerizer offers each only the containers it may own.
// A containerizer without it is offered all of them.
type Owner interface {
	MayOwn(r containerizer.Recovered) bool
}

// Composing tries its containerizers in order. It is safe for concurrent
// use: its futures complete on the goroutines of the containerizers it
// composes.
type Composing struct {
	list []Named

	mu    sync.Mutex
	owner map[string]int // container id -> index in list
	ended []string       // containers whose Wait completed, oldest first
}

// keepEnded bounds how many ended containers keep their owner, so that a
// late Wait still reaches the containerizer that ran them.
const keepEnded = 1000

// New composes list (in --containerizers order). It needs at least one.
func New(list []Named) (*Composing, error) {
	if len(list) == 0 {
		return nil, errors.New("composing: no containerizers")
	}
	return &Composing{list: list, owner: make(map[string]int)}, nil
}

// Names returns the composed containerizers' names, in order.
func (c *Composing) Names() []string {
	out := make([]string, len(c.list))
	for i, n := range c.list {
		out[i] = n.Name
	}
	return out
}

// Isolators names the isolators of the composed containerizers that have
// any (for the slave's /state).
func (c *Composing) Isolators() []string {
	var out []string
	for _, n := range c.list {
		if iso, ok := n.Containerizer.(interface{ Isolators() []string }); ok {
			out = append(out, iso.Isolators()...)
		}
	}
	return out
}

// Launch offers spec to each containerizer in order; the first that does
// not refuse it as unsupported owns the container (its launch's result
// is the result). When all refuse, the future fails naming each reason.
func (c *Composing) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	c.mu.Lock()
	if _, dup := c.owner[spec.ContainerID]; dup {
		c.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	c.mu.Unlock()
	return c.launchFrom(0, spec, nil)
}

func (c *Composing) launchFrom(i int, spec containerizer.LaunchSpec, refused []string) future.Future[int] {
	if i == len(c.list) {
		c.forget(spec.ContainerID)
		return future.Failed[int](fmt.Errorf("none of the enabled containerizers (%s) can run container %s: %s",
			strings.Join(c.Names(), ","), spec.ContainerID, strings.Join(refused, "; ")))
	}
	c.mu.Lock()
	c.owner[spec.ContainerID] = i
	c.mu.Unlock()
	n := c.list[i]
	return future.RepairF(n.Containerizer.Launch(spec), func(err error) future.Future[int] {
		if !errors.Is(err, containerizer.ErrUnsupported) {
			c.forget(spec.ContainerID)
			return future.Failed[int](fmt.Errorf("%s containerizer: %w", n.Name, err))
		}
		return c.launchFrom(i+1, spec, append(refused, n.Name+": "+strings.TrimPrefix(err.Error(), "launch "+spec.ContainerID+": ")))
	})
}

func (c *Composing) forget(id string) {
	c.mu.Lock()
	delete(c.owner, id)
	c.mu.Unlock()
}

func (c *Composing) get(id string) (containerizer.Containerizer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.owner[id]
	if !ok {
		return nil, fmt.Errorf("unknown container %s", id)
	}
	return c.list[i].Containerizer, nil
}

// Update goes to the container's owner.
func (c *Composing) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	cz, err := c.get(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("update: %w", err))
	}
	return cz.Update(id, res)
}

// Usage goes to the container's owner.
func (c *Composing) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	cz, err := c.get(id)
	if err != nil {
		return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage: %w", err))
	}
	return cz.Usage(id)
}

// Wait goes to the container's owner.
func (c *Composing) Wait(id string) future.Future[containerizer.Termination] {
	cz, err := c.get(id)
	if err != nil {
		return future.Failed[containerizer.Termination](fmt.Errorf("wait: %w", err))
	}
	w := cz.Wait(id)
	w.OnReady(func(containerizer.Termination) { c.ended1(id) })
	return w
}

// ended1 remembers that id ended, forgetting the owners of the oldest
// ended containers beyond keepEnded.
func (c *Composing) ended1(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.ended {
		if e == id {
			return
		}
	}
	c.ended = append(c.ended, id)
	if len(c.ended) > keepEnded {
		delete(c.owner, c.ended[0])
		c.ended = c.ended[1:]
	}
}

// Destroy goes to the container's owner.
func (c *Composing) Destroy(id string) future.Future[future.Nothing] {
	cz, err := c.get(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("destroy: %w", err))
	}
	return cz.Destroy(id)
}

// Containers is the union of the composed containerizers' containers.
func (c *Composing) Containers() future.Future[[]string] {
	fs := make([]future.Future[[]string], len(c.list))
	for i, n := range c.list {
		fs[i] = n.Containerizer.Containers()
	}
	return future.Then(future.Collect(fs...), func(lists [][]string) ([]string, error) {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		sort.Strings(out)
		return out, nil
	})
}

// Recover offers each containerizer the checkpointed containers it may
// own and merges what they report alive; the first to report a
// container alive owns it. It fails if any containerizer's recovery
// fails.
func (c *Composing) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	fs := make([]future.Future[map[string]bool], len(c.list))
	for i, n := range c.list {
		mine := known
		if o, ok := n.Containerizer.(Owner); ok {
			mine = nil
			for _, r := range known {
				if o.MayOwn(r) {
					mine = append(mine, r)
				}
			}
		}
		fs[i] = future.Repair(n.Containerizer.Recover(mine), func(err error) (map[string]bool, error) {
			return nil, fmt.Errorf("%s containerizer: %w", n.Name, err)
		})
	}
	return future.Then(future.Collect(fs...), func(alive []map[string]bool) (map[string]bool, error) {
		out := make(map[string]bool)
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, m := range alive {
			for id, ok := range m {
				if !ok || out[id] {
					continue
				}
				out[id] = true
				c.owner[id] = i
			}
		}
		return out, nil
	})
}
