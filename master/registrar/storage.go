package registrar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/atomicfile"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process/future"
)

// Storage keeps the registry. Load's value is nil when nothing was stored
// yet. Calls may block (disk, ZooKeeper) and return completed futures, or
// complete them later from elsewhere: the registrar calls them from its
// own process, one at a time, and continues when they complete.
// detector.Registry (a ZooKeeper znode) is a Storage too.
//
// A Storage shared by several masters fences: Store fails with an error
// wrapping ErrFenced when the storing master no longer leads or another
// master stored since this Storage's Load, and the registrar then aborts
// at once. Memory and File do not fence (one master, or tests).
type Storage interface {
	Load() future.Future[*messages.Registry]
	Store(*messages.Registry) future.Future[future.Nothing]
}

// Memory is a Storage in memory: the masters of one simulation can share
// it as they would share ZooKeeper. The zero value is empty.
type Memory struct {
	mu  sync.Mutex
	reg *messages.Registry
}

// Load returns a copy of the stored registry.
func (m *Memory) Load() future.Future[*messages.Registry] {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reg == nil {
		return future.Ready[*messages.Registry](nil)
	}
	return future.Ready(proto.Clone(m.reg).(*messages.Registry))
}

// Store keeps a copy of reg.
func (m *Memory) Store(reg *messages.Registry) future.Future[future.Nothing] {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reg = proto.Clone(reg).(*messages.Registry)
	return future.Ready(future.Nothing{})
}

// File stores the registry in one file, replaced atomically (a single
// master's --work_dir/registry).
type File struct{ Path string }

// Load reads the registry file.
func (f File) Load() future.Future[*messages.Registry] {
	r, err := f.load()
	if err != nil {
		return future.Failed[*messages.Registry](err)
	}
	return future.Ready(r)
}

func (f File) load() (*messages.Registry, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // no file there (a store will say why if it cannot write one)
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

// Store replaces the registry file (write, fsync, rename).
func (f File) Store(r *messages.Registry) future.Future[future.Nothing] {
	if err := f.store(r); err != nil {
		return future.Failed[future.Nothing](err)
	}
	return future.Ready(future.Nothing{})
}

func (f File) store(r *messages.Registry) error {
	b, err := proto.Marshal(r)
	if err != nil {
		return fmt.Errorf("registry %s: %w", f.Path, err)
	}
	if err := atomicfile.Write(f.Path, b); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}
