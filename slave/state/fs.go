package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/internal/atomicfile"
)

// FS is where checkpoints are kept: the OS's file system (OS), or an
// in-memory twin (MemFS) for simulations that start and crash many slaves
// in one OS process. Paths are file-system paths in both.
type FS interface {
	// WriteFile replaces path with data so that a crash leaves the old
	// contents or the new, never a mix (parent directories are created).
	WriteFile(path string, data []byte) error
	// AppendFile appends data to path, created with its parents if
	// missing, durably before it returns.
	AppendFile(path string, data []byte) error
	// ReadFile returns path's contents (the caller's own copy).
	ReadFile(path string) ([]byte, error)
	// Truncate cuts path to size bytes, durably.
	Truncate(path string, size int64) error
	// Symlink points the symbolic link `link` at target, replacing it
	// atomically (parent directories are created).
	Symlink(target, link string) error
	// Readlink returns a symbolic link's target.
	Readlink(path string) (string, error)
	// Dirs returns the names of the directories in dir, sorted (symbolic
	// links are not directories); none when dir is missing.
	Dirs(dir string) ([]string, error)
	// MkdirAll makes dir and its missing parents.
	MkdirAll(dir string) error
	// Exists reports whether something (file, directory or link) is at path.
	Exists(path string) bool
	// Remove removes a file or link; a missing one matches fs.ErrNotExist.
	Remove(path string) error
	// RemoveAll removes path and everything under it; nothing there is no
	// error.
	RemoveAll(path string) error
}

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) WriteFile(path string, data []byte) error { return atomicfile.Write(path, data) }

func (osFS) AppendFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

func (osFS) Truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Symlink(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

func (osFS) Readlink(path string) (string, error) { return os.Readlink(path) }

func (osFS) Dirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func (osFS) Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func (osFS) Remove(path string) error { return os.Remove(path) }

func (osFS) RemoveAll(path string) error { return os.RemoveAll(path) }

// MemFS is an in-memory FS: a tree of files, directories and symbolic
// links behind one lock. It outlives the slaves that use it, so a
// simulated slave restarted on it recovers what it checkpointed, as from
// a work directory on disk. Every write that returned is kept whole, as
// when an OS process is killed (not the machine): a torn record exists
// only if written as such (AppendFile of part of one), and recovery
// repairs it as on disk. Its zero value is not usable; call NewMemFS.
type MemFS struct {
	mu    sync.Mutex
	files map[string][]byte
	links map[string]string
	dirs  map[string]bool
}

// NewMemFS returns an empty in-memory file system (only "/" exists).
func NewMemFS() *MemFS {
	return &MemFS{files: map[string][]byte{}, links: map[string]string{}, dirs: map[string]bool{"/": true, ".": true}}
}

func notExist(op, path string) error {
	return &fs.PathError{Op: op, Path: path, Err: fs.ErrNotExist}
}

// mkdirAllLocked makes dir and its parents directories.
func (m *MemFS) mkdirAllLocked(op, dir string) error {
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		if _, ok := m.files[d]; ok {
			return &fs.PathError{Op: op, Path: d, Err: errors.New("not a directory")}
		}
		if _, ok := m.links[d]; ok {
			return &fs.PathError{Op: op, Path: d, Err: errors.New("not a directory")}
		}
		m.dirs[d] = true
	}
	return nil
}

// placeLocked readies path for a new file or link: its parents exist and
// nothing but a file or link is there.
func (m *MemFS) placeLocked(op, path string) error {
	if m.dirs[path] {
		return &fs.PathError{Op: op, Path: path, Err: errors.New("is a directory")}
	}
	return m.mkdirAllLocked(op, filepath.Dir(path))
}

// WriteFile implements FS.
func (m *MemFS) WriteFile(path string, data []byte) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.placeLocked("write", path); err != nil {
		return err
	}
	delete(m.links, path)
	m.files[path] = slices.Clone(data)
	return nil
}

// AppendFile implements FS.
func (m *MemFS) AppendFile(path string, data []byte) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.placeLocked("append", path); err != nil {
		return err
	}
	if _, ok := m.links[path]; ok {
		return &fs.PathError{Op: "append", Path: path, Err: errors.New("is a symbolic link")}
	}
	m.files[path] = append(m.files[path], data...)
	return nil
}

// ReadFile implements FS.
func (m *MemFS) ReadFile(path string) ([]byte, error) {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[path]
	if !ok {
		if m.dirs[path] {
			return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
		}
		return nil, notExist("open", path)
	}
	return slices.Clone(b), nil
}

// Truncate implements FS.
func (m *MemFS) Truncate(path string, size int64) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[path]
	if !ok {
		return notExist("truncate", path)
	}
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: path, Err: fs.ErrInvalid}
	}
	if size <= int64(len(b)) {
		m.files[path] = slices.Clone(b[:size])
	} else {
		m.files[path] = append(slices.Clone(b), make([]byte, size-int64(len(b)))...)
	}
	return nil
}

// Symlink implements FS.
func (m *MemFS) Symlink(target, link string) error {
	link = filepath.Clean(link)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.placeLocked("symlink", link); err != nil {
		return err
	}
	delete(m.files, link)
	m.links[link] = target
	return nil
}

// Readlink implements FS.
func (m *MemFS) Readlink(path string) (string, error) {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.links[path]; ok {
		return t, nil
	}
	if _, ok := m.files[path]; ok || m.dirs[path] {
		return "", &fs.PathError{Op: "readlink", Path: path, Err: fs.ErrInvalid}
	}
	return "", notExist("readlink", path)
}

// Dirs implements FS.
func (m *MemFS) Dirs(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		if _, ok := m.files[dir]; ok {
			return nil, &fs.PathError{Op: "readdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil, nil
	}
	var out []string
	for d := range m.dirs {
		if d != dir && filepath.Dir(d) == dir {
			out = append(out, filepath.Base(d))
		}
	}
	slices.Sort(out)
	return out, nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mkdirAllLocked("mkdir", filepath.Clean(dir))
}

// Exists implements FS.
func (m *MemFS) Exists(path string) bool {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, file := m.files[path]
	_, link := m.links[path]
	return file || link || m.dirs[path]
}

// Remove implements FS.
func (m *MemFS) Remove(path string) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[path]; ok {
		delete(m.files, path)
		return nil
	}
	if _, ok := m.links[path]; ok {
		delete(m.links, path)
		return nil
	}
	if m.dirs[path] {
		prefix := path + string(filepath.Separator)
		for d := range m.dirs {
			if strings.HasPrefix(d, prefix) {
				return &fs.PathError{Op: "remove", Path: path, Err: errors.New("directory not empty")}
			}
		}
		for p := range m.files {
			if strings.HasPrefix(p, prefix) {
				return &fs.PathError{Op: "remove", Path: path, Err: errors.New("directory not empty")}
			}
		}
		for p := range m.links {
			if strings.HasPrefix(p, prefix) {
				return &fs.PathError{Op: "remove", Path: path, Err: errors.New("directory not empty")}
			}
		}
		delete(m.dirs, path)
		return nil
	}
	return notExist("remove", path)
}

// RemoveAll implements FS.
func (m *MemFS) RemoveAll(path string) error {
	path = filepath.Clean(path)
	if path == "/" || path == "." {
		return fmt.Errorf("removeall %s: refusing to remove the root", path)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := path + string(filepath.Separator)
	under := func(p string) bool { return p == path || strings.HasPrefix(p, prefix) }
	for p := range m.files {
		if under(p) {
			delete(m.files, p)
		}
	}
	for p := range m.links {
		if under(p) {
			delete(m.links, p)
		}
	}
	for p := range m.dirs {
		if under(p) {
			delete(m.dirs, p)
		}
	}
	return nil
}
