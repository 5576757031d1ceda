// Package state is the slave's checkpointed state in Mesos's `meta/`
// layout under --work_dir, and its recovery after a restart.
//
// The layout (ids are Mesos ids; `latest` entries are symbolic links):
//
//	meta/boot_id
//	meta/slaves/latest -> <slave>
//	meta/slaves/<slave>/slave.info                                   SlaveInfo
//	meta/slaves/<slave>/frameworks/<framework>/framework.info        FrameworkInfo
//	meta/slaves/<slave>/frameworks/<framework>/framework.pid         UPID text
//	.../frameworks/<framework>/executors/<executor>/executor.info     ExecutorInfo
//	.../executors/<executor>/runs/latest -> <container>
//	.../runs/<container>/pids/forked.pid                             pid of the executor process
//	.../runs/<container>/pids/libprocess.pid                         the executor's UPID
//	.../runs/<container>/executor.sentinel                           present once the run ended
//	.../runs/<container>/tasks/<task>/task.info                      Task
//	.../runs/<container>/tasks/<task>/task.updates                   StatusUpdateRecord stream
//
// Protobuf files hold length-prefixed records (a 4-byte little-endian
// size, then the message), as Mesos writes them. Single-message files are
// replaced atomically (write, fsync, rename); update files are appended
// to and fsynced per record, so a crash loses at most a torn last record,
// which recovery truncates away (also under --strict) and logs; any other
// damage is an error naming the file.
package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
)

// Paths computes the checkpoint and sandbox paths under a work directory.
type Paths struct{ WorkDir string }

// Meta is work_dir/meta.
func (p Paths) Meta() string { return filepath.Join(p.WorkDir, "meta") }

// BootID is the file holding the boot id of the last slave run.
func (p Paths) BootID() string { return filepath.Join(p.Meta(), "boot_id") }

// LatestSlave is the `latest` link to the last slave's meta directory.
func (p Paths) LatestSlave() string { return filepath.Join(p.Meta(), "slaves", "latest") }

// Slave is the slave's meta directory.
func (p Paths) Slave(sid string) string { return filepath.Join(p.Meta(), "slaves", sid) }

// SlaveInfo is the checkpointed SlaveInfo.
func (p Paths) SlaveInfo(sid string) string { return filepath.Join(p.Slave(sid), "slave.info") }

// Framework is a framework's meta directory.
func (p Paths) Framework(sid, fid string) string {
	return filepath.Join(p.Slave(sid), "frameworks", fid)
}

// FrameworkInfo is the checkpointed FrameworkInfo.
func (p Paths) FrameworkInfo(sid, fid string) string {
	return filepath.Join(p.Framework(sid, fid), "framework.info")
}

// FrameworkPID is the checkpointed scheduler pid.
func (p Paths) FrameworkPID(sid, fid string) string {
	return filepath.Join(p.Framework(sid, fid), "framework.pid")
}

// Executor is an executor's meta directory.
func (p Paths) Executor(sid, fid, eid string) string {
	return filepath.Join(p.Framework(sid, fid), "executors", eid)
}

// ExecutorInfo is the checkpointed ExecutorInfo.
func (p Paths) ExecutorInfo(sid, fid, eid string) string {
	return filepath.Join(p.Executor(sid, fid, eid), "executor.info")
}

// Run is the meta directory of one run (container) of an executor.
func (p Paths) Run(sid, fid, eid, cid string) string {
	return filepath.Join(p.Executor(sid, fid, eid), "runs", cid)
}

// ForkedPID is the pid of the executor's process.
func (p Paths) ForkedPID(sid, fid, eid, cid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "pids", "forked.pid")
}

// LibprocessPID is the executor's UPID, written when it registers.
func (p Paths) LibprocessPID(sid, fid, eid, cid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "pids", "libprocess.pid")
}

// HTTPMarker marks a run whose executor subscribed over the v1 executor
// HTTP API (it has no libprocess pid to reconnect to; Mesos 1.0's
// http.marker).
func (p Paths) HTTPMarker(sid, fid, eid, cid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "http.marker")
}

// Sentinel marks a run whose executor has terminated.
func (p Paths) Sentinel(sid, fid, eid, cid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "executor.sentinel")
}

// TaskInfo is a task's checkpointed Task.
func (p Paths) TaskInfo(sid, fid, eid, cid, tid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "tasks", tid, "task.info")
}

// TaskUpdates is a task's StatusUpdateRecord stream.
func (p Paths) TaskUpdates(sid, fid, eid, cid, tid string) string {
	return filepath.Join(p.Run(sid, fid, eid, cid), "tasks", tid, "task.updates")
}

// SandboxRoot is work_dir/slaves/<slave>.
func (p Paths) SandboxRoot(sid string) string { return filepath.Join(p.WorkDir, "slaves", sid) }

// FrameworkSandbox is work_dir/slaves/<slave>/frameworks/<framework>.
func (p Paths) FrameworkSandbox(sid, fid string) string {
	return filepath.Join(p.SandboxRoot(sid), "frameworks", fid)
}

// ExecutorSandbox is .../frameworks/<framework>/executors/<executor>.
func (p Paths) ExecutorSandbox(sid, fid, eid string) string {
	return filepath.Join(p.FrameworkSandbox(sid, fid), "executors", eid)
}

// Sandbox is the run directory an executor works in.
func (p Paths) Sandbox(sid, fid, eid, cid string) string {
	return filepath.Join(p.ExecutorSandbox(sid, fid, eid), "runs", cid)
}

// WriteFile replaces path on fsys atomically with data (parent
// directories are created; on the OS the data is fsynced before the
// rename).
func WriteFile(fsys FS, path string, data []byte) error {
	if err := fsys.WriteFile(path, data); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// record frames m as a length-prefixed record.
func record(m proto.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(b))
	binary.LittleEndian.PutUint32(out, uint32(len(b)))
	return append(out, b...), nil
}

// WriteMessage replaces path with the single record m.
func WriteMessage(fsys FS, path string, m proto.Message) error {
	b, err := record(m)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return WriteFile(fsys, path, b)
}

// AppendMessage appends the record m to path and fsyncs it.
func AppendMessage(fsys FS, path string, m proto.Message) error {
	b, err := record(m)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := fsys.AppendFile(path, b); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// ErrTruncated reports a torn last record (a crash in mid-append).
var ErrTruncated = errors.New("truncated record")

// ErrCorrupt reports a checkpoint that is not a torn append: a record
// that does not decode, or a file that should hold one record and holds
// another number.
var ErrCorrupt = errors.New("corrupt checkpoint")

// TornError is a partial trailing record in an append-only file: the
// first Whole bytes of the file hold whole records, the Size-Whole bytes
// after them are what a crash left of the next one. It matches
// ErrTruncated.
type TornError struct {
	Path        string
	Whole, Size int64
}

func (e *TornError) Error() string {
	return fmt.Sprintf("read checkpoint %s: %v: %d bytes after the last whole record (at %d)", e.Path, ErrTruncated, e.Size-e.Whole, e.Whole)
}

// Is makes a TornError match ErrTruncated.
func (e *TornError) Is(target error) bool { return target == ErrTruncated }

// corruptError names the file, what is wrong and what the operator can
// do about it.
func corruptError(path, what string, err error) error {
	return fmt.Errorf("read checkpoint %s: %s: %w: %w (remove the file, or the directory of the run it belongs to, to recover without it)", path, what, ErrCorrupt, err)
}

// SplitRecords splits data into length-prefixed records (a 4-byte
// little-endian size, then that many bytes). whole is the length of the
// prefix of data the records fill; whole < len(data) means a partial
// trailing record (a size, or a body, cut short), which is left out. The
// records alias data; nothing is allocated for a declared size.
func SplitRecords(data []byte) (records [][]byte, whole int) {
	for {
		rest := data[whole:]
		if len(rest) < 4 {
			return records, whole
		}
		size := binary.LittleEndian.Uint32(rest)
		if uint64(size) > uint64(len(rest)-4) {
			return records, whole
		}
		records = append(records, rest[4:4+int(size)])
		whole += 4 + int(size)
	}
}

// DecodeMessages decodes the records of data with newMsg. A partial
// trailing record gives the messages before it and a *TornError (whose
// Whole says where to truncate); a record that does not decode gives an
// error matching ErrCorrupt. path only names the file in errors.
func DecodeMessages[T proto.Message](path string, data []byte, newMsg func() T) ([]T, error) {
	records, whole := SplitRecords(data)
	out := make([]T, 0, len(records))
	for i, rec := range records {
		m := newMsg()
		if err := proto.Unmarshal(rec, m); err != nil {
			return out, corruptError(path, fmt.Sprintf("record %d (of %d bytes) does not decode", i, len(rec)), err)
		}
		out = append(out, m)
	}
	if whole < len(data) {
		return out, &TornError{Path: path, Whole: int64(whole), Size: int64(len(data))}
	}
	return out, nil
}

// ReadMessages reads every record of path, decoding each with newMsg. A
// torn last record is dropped and reported with a *TornError (matching
// ErrTruncated) alongside the records read before it.
func ReadMessages[T proto.Message](fsys FS, path string, newMsg func() T) ([]T, error) {
	data, err := fsys.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return DecodeMessages(path, data, newMsg)
}

// RepairTorn truncates the file of a torn append to its whole records.
func RepairTorn(fsys FS, torn *TornError) error {
	if err := fsys.Truncate(torn.Path, torn.Whole); err != nil {
		return fmt.Errorf("truncate torn checkpoint %s: %w", torn.Path, err)
	}
	return nil
}

// ReadMessage reads a single-record file.
func ReadMessage[T proto.Message](fsys FS, path string, newMsg func() T) (T, error) {
	var zero T
	ms, err := ReadMessages(fsys, path, newMsg)
	var torn *TornError
	if errors.As(err, &torn) {
		// Single-record files are replaced atomically: a partial record
		// is not a crash in mid-append.
		return zero, corruptError(path, "partial record", err)
	}
	if err != nil {
		return zero, err
	}
	if len(ms) != 1 {
		return zero, corruptError(path, fmt.Sprintf("%d records, want 1", len(ms)), errors.New("wrong record count"))
	}
	return ms[0], nil
}

// WriteString replaces path with s.
func WriteString(fsys FS, path, s string) error { return WriteFile(fsys, path, []byte(s)) }

// ReadString reads a text checkpoint, trimmed.
func ReadString(fsys FS, path string) (string, error) {
	b, err := fsys.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadPID reads a pid file.
func ReadPID(fsys FS, path string) (int, error) {
	s, err := ReadString(fsys, path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("read checkpoint %s: bad pid %q", path, s)
	}
	return pid, nil
}

// Link points the symbolic link `link` at target (a base name),
// replacing it atomically.
func Link(fsys FS, target, link string) error {
	if err := fsys.Symlink(target, link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

// CurrentBootID is the kernel's boot id (empty where the kernel has none).
func CurrentBootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
