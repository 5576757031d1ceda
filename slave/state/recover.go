package state

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

// Slave is the recovered state of the last slave run.
type Slave struct {
	ID     string
	Info   *mesos.SlaveInfo
	Reboot bool // the machine rebooted since: no executor survived
	// Frameworks by id.
	Frameworks map[string]*Framework
	// Errors counts the problems skipped (non-strict recovery).
	Errors []error
	// Truncated lists the append-only files whose partial trailing
	// record (a crash in mid-write) recovery cut off.
	Truncated []string
}

// Framework is a recovered framework.
type Framework struct {
	ID        string
	Info      *mesos.FrameworkInfo
	PID       string
	Executors map[string]*Executor
}

// Executor is a recovered executor; only its latest run can be alive.
type Executor struct {
	ID     string
	Info   *mesos.ExecutorInfo
	Latest string // container id of the latest run
	Runs   map[string]*Run
}

// Run is one recovered run (container) of an executor.
type Run struct {
	ContainerID   string
	ForkedPID     int
	LibprocessPID string
	// HTTP: the executor subscribed over HTTP (http.marker).
	HTTP      bool
	Completed bool
	Tasks     map[string]*Task
}

// Task is a recovered task and its update stream.
type Task struct {
	ID      string
	Info    *mesos.Task
	Updates []*messages.StatusUpdate // in order
	Acked   map[string]bool          // uuids acknowledged
	// Records are the task's update file as written (updates and
	// acknowledgements in order), for statusupdate.Replay.
	Records []*messages.StatusUpdateRecord
}

// Pending returns the updates not yet acknowledged, in order.
func (t *Task) Pending() []*messages.StatusUpdate {
	var out []*messages.StatusUpdate
	for _, u := range t.Updates {
		if !t.Acked[string(u.GetUuid())] {
			out = append(out, u)
		}
	}
	return out
}

// Recover reads the state the last slave checkpointed under paths. It
// returns nil (and no error) when there is none. A partial trailing
// record of an append-only file (a crash in mid-append) is truncated
// away and logged, in either mode. With strict, any other unreadable or
// corrupt checkpoint is an error naming the file; otherwise it is skipped
// and listed in Slave.Errors.
func Recover(fsys FS, paths Paths, strict bool) (*Slave, error) {
	target, err := fsys.Readlink(paths.LatestSlave())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	sid := filepath.Base(target)
	s := &Slave{ID: sid, Frameworks: make(map[string]*Framework)}
	fail := func(err error) error {
		if strict {
			return fmt.Errorf("recover (strict; use --strict=false to skip): %w", err)
		}
		s.Errors = append(s.Errors, err)
		return nil
	}
	if s.Info, err = ReadMessage(fsys, paths.SlaveInfo(sid), func() *mesos.SlaveInfo { return new(mesos.SlaveInfo) }); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // the slave never registered
		}
		return nil, fmt.Errorf("recover: %w", err)
	}
	if old, err := ReadString(fsys, paths.BootID()); err == nil && old != CurrentBootID() {
		s.Reboot = true
	}
	fids, err := subdirs(fsys, filepath.Join(paths.Slave(sid), "frameworks"))
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	for _, fid := range fids {
		f := &Framework{ID: fid, Executors: make(map[string]*Executor)}
		if f.Info, err = ReadMessage(fsys, paths.FrameworkInfo(sid, fid), func() *mesos.FrameworkInfo { return new(mesos.FrameworkInfo) }); err != nil {
			if e := fail(err); e != nil {
				return nil, e
			}
			continue
		}
		f.PID, _ = ReadString(fsys, paths.FrameworkPID(sid, fid))
		eids, err := subdirs(fsys, filepath.Join(paths.Framework(sid, fid), "executors"))
		if err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		for _, eid := range eids {
			e, err := recoverExecutor(fsys, s, paths, sid, fid, eid, fail)
			if err != nil {
				return nil, err
			}
			if e != nil {
				f.Executors[eid] = e
			}
		}
		s.Frameworks[fid] = f
	}
	return s, nil
}

func recoverExecutor(fsys FS, s *Slave, paths Paths, sid, fid, eid string, fail func(error) error) (*Executor, error) {
	e := &Executor{ID: eid, Runs: make(map[string]*Run)}
	var err error
	if e.Info, err = ReadMessage(fsys, paths.ExecutorInfo(sid, fid, eid), func() *mesos.ExecutorInfo { return new(mesos.ExecutorInfo) }); err != nil {
		return nil, fail(err)
	}
	if target, err := fsys.Readlink(filepath.Join(paths.Executor(sid, fid, eid), "runs", "latest")); err == nil {
		e.Latest = filepath.Base(target)
	}
	cids, err := subdirs(fsys, filepath.Join(paths.Executor(sid, fid, eid), "runs"))
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	for _, cid := range cids {
		r := &Run{ContainerID: cid, Tasks: make(map[string]*Task)}
		if fsys.Exists(paths.Sentinel(sid, fid, eid, cid)) {
			r.Completed = true
		}
		if pid, err := ReadPID(fsys, paths.ForkedPID(sid, fid, eid, cid)); err == nil {
			r.ForkedPID = pid
		} else if !errors.Is(err, fs.ErrNotExist) {
			if e := fail(err); e != nil {
				return nil, e
			}
		}
		r.LibprocessPID, _ = ReadString(fsys, paths.LibprocessPID(sid, fid, eid, cid))
		r.HTTP = fsys.Exists(paths.HTTPMarker(sid, fid, eid, cid))
		tids, err := subdirs(fsys, filepath.Join(paths.Run(sid, fid, eid, cid), "tasks"))
		if err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		for _, tid := range tids {
			t := &Task{ID: tid, Acked: make(map[string]bool)}
			if t.Info, err = ReadMessage(fsys, paths.TaskInfo(sid, fid, eid, cid, tid), func() *mesos.Task { return new(mesos.Task) }); err != nil {
				if e := fail(err); e != nil {
					return nil, e
				}
				continue
			}
			records, err := ReadMessages(fsys, paths.TaskUpdates(sid, fid, eid, cid, tid), func() *messages.StatusUpdateRecord { return new(messages.StatusUpdateRecord) })
			var torn *TornError
			if errors.As(err, &torn) {
				// A crash in mid-append: drop the partial record, as
				// Mesos does, even in strict mode.
				err = RepairTorn(fsys, torn)
				if err == nil {
					slog.Warn("truncated a partial trailing record of a checkpoint (a crash in mid-write)",
						"file", torn.Path, "kept_bytes", torn.Whole, "dropped_bytes", torn.Size-torn.Whole)
					s.Truncated = append(s.Truncated, torn.Path)
				}
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				if e := fail(err); e != nil {
					return nil, e
				}
			}
			t.Records = records
			for _, rec := range records {
				switch rec.GetType() {
				case messages.StatusUpdateRecord_UPDATE:
					t.Updates = append(t.Updates, rec.GetUpdate())
				case messages.StatusUpdateRecord_ACK:
					t.Acked[string(rec.GetUuid())] = true
				}
			}
			r.Tasks[tid] = t
		}
		e.Runs[cid] = r
	}
	return e, nil
}

// subdirs lists the directories under dir (none if dir is missing),
// skipping `latest` links.
func subdirs(fsys FS, dir string) ([]string, error) {
	names, err := fsys.Dirs(dir)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == "latest" }), nil
}
