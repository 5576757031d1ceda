package allocator

import (
	"time"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/metrics"
	"github.com/gomesos/gomesos/resources"
)

// Process runs an Allocator as its own process (`hierarchical-allocator(N)`):
// every change the master reports is a dispatch to it, and every
// allocation interval (on the runtime's Clock) it runs a cycle and hands
// the decisions to the master by dispatching offer on the master's
// process. As in Mesos, a new or reactivated framework or slave and a
// revive also trigger a cycle at once (coalesced: the events queued before
// it runs share one cycle). The master may see decisions for frameworks or
// slaves that changed meanwhile and gives those resources back.
type Process struct {
	process.Process
	alloc     Allocator
	interval  time.Duration
	master    process.UPID
	offer     func([]Decision)
	timer     *process.Timer
	pending   bool // a triggered cycle is queued
	ownsTimer bool
	// runTime times each cycle (allocator/mesos/allocation_run_ms, as
	// Mesos 1.0 names it), by the runtime's Clock: real time in a
	// daemon, zero while a test holds the clock.
	runTime *metrics.Timer
}

// runTimeMetric is the cycle timer's name (its key ends in _ms).
const runTimeMetric = "allocator/mesos/allocation_run"

// Handle is how the master talks to an allocator process; it implements
// Allocator, each call a dispatch. Its Allocate asks for a cycle now and
// returns nil: decisions arrive through the offer callback.
type Handle struct {
	rt  *process.Runtime
	pid process.UPID
	p   *Process // touched only by closures dispatched to it
}

// SpawnProcess starts alloc as a process on rt that allocates every
// interval and delivers decisions to offer, run on master's process.
func SpawnProcess(rt *process.Runtime, alloc Allocator, interval time.Duration, master process.UPID, offer func([]Decision)) (*Handle, error) {
	p := &Process{alloc: alloc, interval: interval, master: master, offer: offer}
	pid, err := rt.Spawn(p, rt.GenerateID("hierarchical-allocator"))
	if err != nil {
		return nil, err
	}
	return &Handle{rt: rt, pid: pid, p: p}, nil
}

// PID returns the allocator process's pid.
func (h *Handle) PID() process.UPID { return h.pid }

// Initialize registers the cycle timer and starts the batch timer.
func (p *Process) Initialize() {
	t, err := p.Runtime().Metrics().NewTimer(runTimeMetric, 1000)
	if err != nil {
		// Another allocator of this runtime owns the name: time this
		// one's cycles unseen.
		t, _ = metrics.NewRegistry().NewTimer(runTimeMetric, 1000)
	} else {
		p.ownsTimer = true
	}
	p.runTime = t
	p.schedule()
}

func (p *Process) schedule() {
	p.timer = p.Delay(p.interval, func() {
		p.allocate()
		p.schedule()
	})
}

func (p *Process) allocate() {
	start := p.Clock().Now()
	decisions := p.alloc.Allocate(start)
	p.runTime.Record(p.Clock().Now().Sub(start))
	if len(decisions) == 0 {
		return
	}
	offer := p.offer
	process.Run(p.Runtime(), p.master, func() { offer(decisions) })
}

// Finalize stops the timer and unregisters the cycle timer.
func (p *Process) Finalize() {
	p.Clock().Cancel(p.timer)
	if p.ownsTimer {
		p.Runtime().Metrics().Remove(runTimeMetric + "_ms")
	}
}

// run dispatches fn to the allocator process.
func (h *Handle) run(fn func(a Allocator)) {
	p := h.p
	process.Run(h.rt, h.pid, func() { fn(p.alloc) })
}

// runAndAllocate dispatches fn, then a cycle unless one is already queued.
func (h *Handle) runAndAllocate(fn func(a Allocator)) {
	p := h.p
	process.Run(h.rt, h.pid, func() {
		fn(p.alloc)
		if p.pending {
			return
		}
		p.pending = true
		process.Run(h.rt, h.pid, func() {
			p.pending = false
			p.allocate()
		})
	})
}

// AddFramework implements Allocator.
func (h *Handle) AddFramework(id, role string, used map[string]resources.Resources, now time.Time) {
	h.runAndAllocate(func(a Allocator) { a.AddFramework(id, role, used, now) })
}

// RemoveFramework implements Allocator.
func (h *Handle) RemoveFramework(id string) { h.run(func(a Allocator) { a.RemoveFramework(id) }) }

// ActivateFramework implements Allocator.
func (h *Handle) ActivateFramework(id string) {
	h.runAndAllocate(func(a Allocator) { a.ActivateFramework(id) })
}

// DeactivateFramework implements Allocator.
func (h *Handle) DeactivateFramework(id string) {
	h.run(func(a Allocator) { a.DeactivateFramework(id) })
}

// AddSlave implements Allocator.
func (h *Handle) AddSlave(id, hostname string, total resources.Resources, used map[string]resources.Resources) {
	h.runAndAllocate(func(a Allocator) { a.AddSlave(id, hostname, total, used) })
}

// RemoveSlave implements Allocator.
func (h *Handle) RemoveSlave(id string) { h.run(func(a Allocator) { a.RemoveSlave(id) }) }

// ActivateSlave implements Allocator.
func (h *Handle) ActivateSlave(id string) {
	h.runAndAllocate(func(a Allocator) { a.ActivateSlave(id) })
}

// DeactivateSlave implements Allocator.
func (h *Handle) DeactivateSlave(id string) { h.run(func(a Allocator) { a.DeactivateSlave(id) }) }

// RecoverResources implements Allocator.
func (h *Handle) RecoverResources(frameworkID, slaveID string, res resources.Resources, refuseSeconds float64, now time.Time) {
	h.run(func(a Allocator) { a.RecoverResources(frameworkID, slaveID, res, refuseSeconds, now) })
}

// UpdateAllocation implements Allocator.
func (h *Handle) UpdateAllocation(frameworkID, slaveID string, consumed, produced resources.Resources) {
	h.run(func(a Allocator) { a.UpdateAllocation(frameworkID, slaveID, consumed, produced) })
}

// UpdateAvailable implements Allocator: the future completes once the
// allocator process has applied (or refused) the change; a success
// triggers a cycle, as the slave may have something new to offer.
func (h *Handle) UpdateAvailable(slaveID string, consumed, produced resources.Resources) future.Future[future.Nothing] {
	p := h.p
	return process.DispatchF(h.rt, h.pid, func() future.Future[future.Nothing] {
		out := p.alloc.UpdateAvailable(slaveID, consumed, produced)
		if out.IsReady() && !p.pending {
			p.pending = true
			process.Run(h.rt, h.pid, func() {
				p.pending = false
				p.allocate()
			})
		}
		return out
	})
}

// UpdateFramework implements Allocator.
func (h *Handle) UpdateFramework(id string, revocable bool) {
	h.runAndAllocate(func(a Allocator) { a.UpdateFramework(id, revocable) })
}

// UpdateSlave implements Allocator.
func (h *Handle) UpdateSlave(id string, oversubscribed resources.Resources) {
	h.runAndAllocate(func(a Allocator) { a.UpdateSlave(id, oversubscribed) })
}

// ReviveOffers implements Allocator.
func (h *Handle) ReviveOffers(frameworkID string) {
	h.runAndAllocate(func(a Allocator) { a.ReviveOffers(frameworkID) })
}

// SuppressOffers implements Allocator.
func (h *Handle) SuppressOffers(frameworkID string) {
	h.run(func(a Allocator) { a.SuppressOffers(frameworkID) })
}

// SetQuota implements Allocator.
func (h *Handle) SetQuota(role string, guarantee resources.Resources) {
	h.runAndAllocate(func(a Allocator) { a.SetQuota(role, guarantee) })
}

// RemoveQuota implements Allocator.
func (h *Handle) RemoveQuota(role string) {
	h.runAndAllocate(func(a Allocator) { a.RemoveQuota(role) })
}

// Allocate asks for a cycle now; decisions arrive through the callback.
func (h *Handle) Allocate(time.Time) []Decision {
	p := h.p
	process.Run(h.rt, h.pid, p.allocate)
	return nil
}
