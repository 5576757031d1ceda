package master

import (
	"errors"
	"fmt"
	"time"

	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// registryClient is the master's side of its registrar process: it sends
// the operations and remembers which slave ids the registry holds (as
// applied by this master), so handlers can ask without waiting.
type registryClient struct {
	m    *master
	proc *registrar.Registrar
	ids  map[string]bool
}

// startRegistrar spawns the registrar over the configured storage (in
// memory without one).
func (m *master) startRegistrar() error {
	var storage registrar.Storage = &registrar.Memory{}
	if m.cfg.Registry != nil {
		storage = m.cfg.Registry
	}
	proc := registrar.NewWithOptions(storage, registrar.Options{
		StoreTimeout: m.cfg.RegistryStoreTimeout,
		FetchTimeout: m.cfg.RegistryFetchTimeout,
		Strict:       m.cfg.RegistryStrict,
	})
	if _, err := registrar.Spawn(m.Runtime(), proc); err != nil {
		return err
	}
	m.registrar = &registryClient{m: m, proc: proc, ids: make(map[string]bool)}
	return nil
}

// has reports whether the registry holds slave id.
func (r *registryClient) has(id string) bool { return r.ids[id] }

// admit records a newly registered slave; the future is ready once the
// registry holds it.
func (r *registryClient) admit(info *mesos.SlaveInfo) future.Future[bool] {
	r.ids[info.GetId().GetValue()] = true
	return r.watch(r.proc.Apply(registrar.AdmitSlave(info)))
}

// readmit records a re-registered slave; the future is ready once the
// registry holds it.
func (r *registryClient) readmit(info *mesos.SlaveInfo) future.Future[bool] {
	r.ids[info.GetId().GetValue()] = true
	return r.watch(r.proc.Apply(registrar.ReadmitSlave(info)))
}

// apply stores an operation of the quota or maintenance registry (or any
// other); the future is ready once the registry holds it.
func (r *registryClient) apply(op registrar.Operation) future.Future[bool] {
	return r.watch(r.proc.Apply(op))
}

// remove forgets a slave (written behind the master).
func (r *registryClient) remove(id string) {
	delete(r.ids, id)
	r.watch(r.proc.Apply(registrar.RemoveSlave(id)))
}

// recover loads the registry at election.
func (r *registryClient) recover(info *mesos.MasterInfo) future.Future[*messages.Registry] {
	f := r.proc.Recover(info)
	f.OnFailed(process.Defer1(r.m.Runtime(), r.m.Self(), r.m.registryFailed))
	return f
}

// watch makes a failed registry operation end the master, but for one
// that a strict registry rejected (the registry is as it was).
func (r *registryClient) watch(f future.Future[bool]) future.Future[bool] {
	return f.OnFailed(process.Defer1(r.m.Runtime(), r.m.Self(), func(err error) {
		if errors.Is(err, registrar.ErrRejected) {
			r.m.log.Warn("the strict registry rejected an operation", "err", err)
			return
		}
		r.m.registryFailed(err)
	}))
}

// close stops the registrar once the operations queued are stored.
func (r *registryClient) close() {
	r.m.Runtime().TerminateAfterQueued(r.proc.Self())
}

// registryFailed ends the master: it cannot persist what it admits, and
// must not answer slaves as if it had (Mesos's master exits the same way
// for its supervisor to restart it).
func (m *master) registryFailed(err error) {
	if errors.Is(err, registrar.ErrFenced) {
		m.exit(fmt.Errorf("another master leads or wrote the registry; this one no longer leads: %w", err))
		return
	}
	m.exit(fmt.Errorf("the registry cannot be stored: %w", err))
}

// afterAdmitted runs fn on the master once the registry holds a slave
// (admitted is ready); a failure ends the master instead.
func (m *master) afterAdmitted(admitted future.Future[bool], fn func()) {
	admitted.OnReady(process.Defer1(m.Runtime(), m.Self(), func(bool) { fn() }))
}

// recoverSlaves expects the registry's slaves back: those not
// re-registered within SlaveReregisterTimeout are removed (frameworks get
// slaveLost; the slave is shut down if it comes back), unless that would
// remove more than RecoverySlaveRemovalLimit of them: then the master
// exits instead (Mesos fails over, for an operator to look), removing
// none.
func (m *master) recoverSlaves() {
	m.registrar.recover(m.info).OnReady(process.Defer1(m.Runtime(), m.Self(), m.registryRecovered))
}

// registryRecovered takes the recovered registry's slaves as expected
// back; slave (re-)registrations are handled from now on.
func (m *master) registryRecovered(reg *messages.Registry) {
	m.registryReady = true
	defer m.runParked()
	m.recoverQuotas(quotaInfos(reg))
	m.recoverMachines(reg)
	slaves := reg.GetSlaves().GetSlaves()
	for _, s := range slaves {
		m.registrar.ids[s.GetInfo().GetId().GetValue()] = true
	}
	if len(slaves) == 0 {
		return
	}
	for _, s := range slaves {
		info := s.GetInfo()
		if m.slaves[info.GetId().GetValue()] == nil {
			m.recovered[info.GetId().GetValue()] = info
		}
	}
	m.log.Info("recovered slaves from the registry; waiting for them to re-register", "slaves", len(m.recovered), "timeout", m.cfg.SlaveReregisterTimeout)
	total := len(slaves)
	m.Delay(m.cfg.SlaveReregisterTimeout, func() {
		if len(m.recovered) == 0 {
			return
		}
		if frac := float64(len(m.recovered)) / float64(total); frac > m.cfg.RecoverySlaveRemovalLimit {
			m.exit(fmt.Errorf("post-recovery slave removal limit exceeded: %d of the registry's %d slaves did not re-register within %v (%.0f%%, above --recovery_slave_removal_limit=%.0f%%)",
				len(m.recovered), total, m.cfg.SlaveReregisterTimeout, 100*frac, 100*max(m.cfg.RecoverySlaveRemovalLimit, 0)))
			return
		}
		for _, id := range sortedKeys(m.recovered) {
			info := m.recovered[id]
			m.log.Info("recovered slave did not re-register; removing it", "slave", id, "hostname", info.GetHostname())
			delete(m.recovered, id)
			m.registrar.remove(id)
			m.removedSlaves[id] = true
			m.metrics.slaveRemovals.Inc()
			for _, f := range m.sortedFrameworks() {
				if f.connected {
					m.send(f.pid, &messages.LostSlaveMessage{SlaveId: info.GetId()})
				}
			}
		}
	})
}

// DefaultSlaveReregisterTimeout is --slave_reregister_timeout (its minimum
// too).
const DefaultSlaveReregisterTimeout = 10 * time.Minute
