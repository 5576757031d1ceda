package master

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// RegistryStore persists the registry: the slaves the master admitted, so
// that a new leading master (or a restarted one) knows which slaves to
// expect back. Load returns nil when nothing was stored yet.
type RegistryStore interface {
	Load() (*messages.Registry, error)
	Save(*messages.Registry) error
}

// FileRegistry stores the registry in one file, replaced atomically (a
// single master's --work_dir).
type FileRegistry struct{ Path string }

// Load reads the registry file.
func (f FileRegistry) Load() (*messages.Registry, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", f.Path, err)
	}
	r := &messages.Registry{}
	if err := proto.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("registry %s: %w", f.Path, err)
	}
	return r, nil
}

// Save replaces the registry file (write, fsync, rename).
func (f FileRegistry) Save(r *messages.Registry) error {
	b, err := proto.Marshal(r)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".registry.tmp*")
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.Path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("registry %s: %w", f.Path, err)
	}
	return nil
}

// registrar keeps the registry in memory and saves it in order through
// one writer; the latest state supersedes any not yet written, and each
// change's future completes once a save that includes it is done (the
// master answers a registering slave only then).
type registrar struct {
	store RegistryStore
	reg   *messages.Registry
	m     *Master

	mu      sync.Mutex
	latest  *messages.Registry
	waiters []*future.Promise[future.Nothing]
	kick    chan struct{}
	written chan struct{} // closed when the writer has finished
}

func newRegistrar(m *Master, store RegistryStore) *registrar {
	r := &registrar{store: store, reg: &messages.Registry{Slaves: &messages.Registry_Slaves{}}, m: m}
	if store == nil {
		return r
	}
	r.kick = make(chan struct{}, 1)
	r.written = make(chan struct{})
	log := m.log
	go func() {
		defer close(r.written)
		for range r.kick {
			r.mu.Lock()
			snap, waiters := r.latest, r.waiters
			r.latest, r.waiters = nil, nil
			r.mu.Unlock()
			var err error
			if snap != nil {
				if err = store.Save(snap); err != nil {
					log.Error("cannot save the registry", "err", err)
				}
			}
			for _, w := range waiters {
				if err != nil {
					w.Fail(err)
				} else {
					w.Set(future.Nothing{})
				}
			}
		}
	}()
	return r
}

// recover loads the stored registry (at election).
func (r *registrar) recover(info *mesos.MasterInfo) ([]*mesos.SlaveInfo, error) {
	if r.store == nil {
		return nil, nil
	}
	loaded, err := r.store.Load()
	if err != nil {
		return nil, err
	}
	if loaded != nil {
		r.reg = loaded
		if r.reg.Slaves == nil {
			r.reg.Slaves = &messages.Registry_Slaves{}
		}
	}
	r.reg.Master = &messages.Registry_Master{Info: info}
	var out []*mesos.SlaveInfo
	for _, s := range r.reg.GetSlaves().GetSlaves() {
		out = append(out, s.GetInfo())
	}
	r.save()
	return out, nil
}

// save queues the current registry for the writer; the future completes
// when it is stored (at once without a store).
func (r *registrar) save() future.Future[future.Nothing] {
	if r.kick == nil {
		return future.Ready(future.Nothing{})
	}
	pr := future.NewPromise[future.Nothing]()
	r.mu.Lock()
	r.latest = proto.Clone(r.reg).(*messages.Registry)
	r.waiters = append(r.waiters, pr)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default: // the writer will pick the latest up
	}
	return pr.Future()
}

func (r *registrar) has(id string) bool {
	for _, s := range r.reg.GetSlaves().GetSlaves() {
		if s.GetInfo().GetId().GetValue() == id {
			return true
		}
	}
	return false
}

// admit records a slave (registration or readmission).
func (r *registrar) admit(info *mesos.SlaveInfo) future.Future[future.Nothing] {
	if r.has(info.GetId().GetValue()) {
		return future.Ready(future.Nothing{})
	}
	r.reg.Slaves.Slaves = append(r.reg.Slaves.Slaves, &messages.Registry_Slave{Info: proto.Clone(info).(*mesos.SlaveInfo)})
	return r.save()
}

// remove forgets a slave.
func (r *registrar) remove(id string) {
	slaves := r.reg.GetSlaves().GetSlaves()
	for i, s := range slaves {
		if s.GetInfo().GetId().GetValue() == id {
			r.reg.Slaves.Slaves = append(slaves[:i:i], slaves[i+1:]...)
			r.save()
			return
		}
	}
}

// close stops the writer once the queued state is written, and waits for
// it (a master that stops leaves its registry complete).
func (r *registrar) close() {
	if r.kick != nil {
		close(r.kick)
		r.kick = nil
		<-r.written
	}
}

// after runs fn on the master once f completes: at once when it already
// has (no store), else from the master's mailbox.
func (m *Master) after(f future.Future[future.Nothing], fn func()) {
	if f.IsReady() {
		fn()
		return
	}
	rt, self := m.Runtime(), m.Self()
	go func() {
		if _, err := f.Get(); err != nil {
			return // logged by the writer; the slave retries
		}
		process.Run(rt, self, fn)
	}()
}

// recoverSlaves expects the registry's slaves back: those not
// re-registered within SlaveReregisterTimeout are removed (frameworks get
// slaveLost; the slave is shut down if it comes back), unless that would
// remove more than RecoverySlaveRemovalLimit of them.
func (m *Master) recoverSlaves() {
	slaves, err := m.registrar.recover(m.info)
	if err != nil {
		m.log.Error("cannot recover the registry; starting with an empty one", "err", err)
		return
	}
	if len(slaves) == 0 {
		return
	}
	for _, info := range slaves {
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
			m.log.Error("too many recovered slaves did not re-register; not removing them",
				"missing", len(m.recovered), "of", total, "limit", m.cfg.RecoverySlaveRemovalLimit)
			return
		}
		for id, info := range m.recovered {
			m.log.Info("recovered slave did not re-register; removing it", "slave", id, "hostname", info.GetHostname())
			delete(m.recovered, id)
			m.registrar.remove(id)
			m.removedSlaves[id] = true
			m.metrics.slaveRemovals.Inc()
			for _, f := range m.frameworks {
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
