package slave

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gomesos/gomesos/process"
)

// LogPath is the virtual path under which /files serves the slave's own
// log file (as Mesos attaches it).
const LogPath = "/slave/log"

// MasterLogPath is the virtual path under which a master's /files serves
// its log file (as Mesos's master attaches it).
const MasterLogPath = "/master/log"

// filesProcess serves /files/browse, /files/read and /files/download for
// the sandboxes of the runtime's slaves' executors, and for the slave's log
// file. As in Mesos, a slave attaches an executor's sandbox when it
// launches (or recovers) the executor and detaches it when the garbage
// collector removes the directory; nothing else under the work directory
// (checkpoints in meta/, other slaves' or stale directories of the same
// shape) is served. Every path is resolved inside its sandbox with
// os.Root, so neither `..` nor a symbolic link (even one swapped in while
// the request runs) leads out of it; only regular files are read, and
// they are opened without blocking so that a FIFO cannot hold a request
// (or a thread).
type filesProcess struct {
	process.Process
	mu sync.Mutex
	// sandboxes maps each attached sandbox (absolute, clean) to the work
	// directory it lies under.
	sandboxes map[string]string
	// logs maps virtual paths (LogPath, MasterLogPath) to log files.
	logs map[string]string
}

var fileServers = map[*process.Runtime]*filesProcess{}

// filesOf returns the runtime's file server, spawning it on first use.
func filesOf(rt *process.Runtime) *filesProcess {
	attachMu.Lock()
	defer attachMu.Unlock()
	fp := fileServers[rt]
	if fp == nil {
		fp = &filesProcess{}
		if _, err := rt.Spawn(fp, "files"); err != nil {
			return nil
		}
		fileServers[rt] = fp
	}
	return fp
}

// attachSandbox exposes an executor's sandbox dir, which lies under the
// slave's work directory workDir.
func attachSandbox(rt *process.Runtime, workDir, dir string) {
	fp := filesOf(rt)
	if fp == nil {
		return
	}
	wd, err1 := filepath.Abs(workDir)
	abs, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return
	}
	if rel, err := filepath.Rel(wd, abs); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return
	}
	fp.mu.Lock()
	if fp.sandboxes == nil {
		fp.sandboxes = make(map[string]string)
	}
	fp.sandboxes[abs] = wd
	fp.mu.Unlock()
}

// detachSandboxes stops exposing the sandboxes at or below dir (a removed
// sandbox, framework directory or work directory).
func detachSandboxes(rt *process.Runtime, dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	attachMu.Lock()
	fp := fileServers[rt]
	attachMu.Unlock()
	if fp == nil {
		return
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for sb := range fp.sandboxes {
		if within(abs, sb) {
			delete(fp.sandboxes, sb)
		}
	}
}

// within reports whether p is dir or lies below it (both absolute, clean).
func within(dir, p string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// AttachLog serves the slave's log file at /files/read?path=/slave/log
// (and download), as Mesos does when it logs to a file.
func AttachLog(rt *process.Runtime, path string) {
	AttachLogAt(rt, LogPath, path)
}

// AttachLogAt serves the log file path at the virtual path virtual (such
// as MasterLogPath) of the runtime's /files endpoints (read and
// download): a master's runtime gets /files this way too, for its web
// UI's log link.
func AttachLogAt(rt *process.Runtime, virtual, path string) {
	fp := filesOf(rt)
	if fp == nil {
		return
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	fp.mu.Lock()
	if fp.logs == nil {
		fp.logs = make(map[string]string)
	}
	fp.logs[virtual] = abs
	fp.mu.Unlock()
}

// Initialize installs the file routes.
func (fp *filesProcess) Initialize() {
	fp.Route("/browse", "Lists a sandbox directory: ?path=", process.Handler(http.HandlerFunc(fp.browse)))
	fp.Route("/browse.json", "Lists a sandbox directory: ?path=", process.Handler(http.HandlerFunc(fp.browse)))
	fp.Route("/read", "Reads part of a file: ?path=&offset=&length=", process.Handler(http.HandlerFunc(fp.read)))
	fp.Route("/read.json", "Reads part of a file: ?path=&offset=&length=", process.Handler(http.HandlerFunc(fp.read)))
	fp.Route("/download", "Downloads a file: ?path=", process.Handler(http.HandlerFunc(fp.download)))
	fp.Route("/download.json", "Downloads a file: ?path=", process.Handler(http.HandlerFunc(fp.download)))
}

// Finalize forgets the runtime's file server.
func (fp *filesProcess) Finalize() {
	attachMu.Lock()
	delete(fileServers, fp.Runtime())
	attachMu.Unlock()
}

// errNotFound answers 404 for paths outside what /files exposes, without
// telling whether they exist.
var errNotFound = errors.New("no such file or directory")

// splitSandbox finds the attached sandbox holding p (absolute, clean) and
// the path inside it (clean, relative, never leaving it). When sandboxes
// nest, the deepest wins.
func splitSandbox(sandboxes []string, p string) (sandbox, inside string, ok bool) {
	for _, sb := range sandboxes {
		if within(sb, p) && len(sb) > len(sandbox) {
			sandbox, ok = sb, true
		}
	}
	if !ok {
		return "", "", false
	}
	inside = "."
	if p != sandbox {
		inside = strings.TrimPrefix(p[len(sandbox):], "/")
	}
	return sandbox, inside, true
}

// target is what a /files path names: a path inside a sandbox opened as
// an os.Root, or the slave's log file (root nil).
type target struct {
	root   *os.Root
	inside string
	log    string
}

func (t *target) close() {
	if t.root != nil {
		_ = t.root.Close()
	}
}

// open opens the target for reading without following anything out of
// its sandbox, and without blocking on a FIFO or a device.
func (t *target) open(flag int) (*os.File, error) {
	if t.root == nil {
		return os.OpenFile(t.log, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|flag, 0)
	}
	return t.root.OpenFile(t.inside, os.O_RDONLY|syscall.O_NONBLOCK|flag, 0)
}

// lstat describes a name inside the target directory.
func (t *target) lstat(name string) (os.FileInfo, error) {
	if t.root == nil {
		return nil, errNotFound
	}
	return t.root.Lstat(filepath.Join(t.inside, name))
}

// filesError is why a files request fails, with its HTTP status.
type filesError struct {
	status int
	msg    string
}

func (e *filesError) Error() string { return e.msg }

// fail writes e as the response.
func (e *filesError) fail(w http.ResponseWriter) { http.Error(w, e.msg, e.status) }

// resolve maps the query's path to a target, answering 400 or 404 itself
// when it names nothing /files exposes.
func (fp *filesProcess) resolve(w http.ResponseWriter, r *http.Request) (*target, bool) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !validJSONP(w, r) {
		return nil, false
	}
	t, err := fp.resolvePath(r.URL.Query().Get("path"))
	if err != nil {
		err.fail(w)
		return nil, false
	}
	return t, true
}

// resolvePath maps a /files path to a target: 400 for a bad path, 404
// when it names nothing /files exposes.
func (fp *filesProcess) resolvePath(p string) (*target, *filesError) {
	clean, bad := cleanFilesPath(p)
	if bad != "" {
		return nil, &filesError{http.StatusBadRequest, bad}
	}
	fp.mu.Lock()
	logFile := fp.logs[clean]
	sandboxes := make([]string, 0, len(fp.sandboxes))
	for sb := range fp.sandboxes {
		sandboxes = append(sandboxes, sb)
	}
	sandbox, inside, ok := splitSandbox(sandboxes, clean)
	wd := fp.sandboxes[sandbox]
	fp.mu.Unlock()
	if logFile != "" {
		return &target{log: logFile}, nil
	}
	if ok {
		// The sandbox is opened from the work directory down, inside an
		// os.Root too: a symbolic link swapped in for one of its parents
		// does not lead elsewhere either.
		if rel, err := filepath.Rel(wd, sandbox); err == nil {
			if top, err := os.OpenRoot(wd); err == nil {
				root, err := top.OpenRoot(rel)
				_ = top.Close()
				if err == nil {
					return &target{root: root, inside: inside}, nil
				}
			}
		}
	}
	return nil, &filesError{http.StatusNotFound, "No such file or directory: " + p}
}

func fileJSON(path string, fi os.FileInfo) jsonObj {
	o := jsonObj{"path": path, "size": fi.Size(), "mode": fi.Mode().String(), "mtime": fi.ModTime().Unix(), "nlink": 1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		o["nlink"], o["uid"], o["gid"] = st.Nlink, userName(st.Uid), groupName(st.Gid)
	}
	return o
}

// userName and groupName name an owner as `ls -l` does (the number when
// the id has no name).
func userName(uid uint32) string {
	id := strconv.Itoa(int(uid))
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.Itoa(int(gid))
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// writeJSON answers v as JSON, or as JSONP when the request has a
// jsonp=<callback> parameter (checked by the handler before).
// validJSONP answers 400 and returns false when the request's jsonp=
// callback is not a valid name.
func validJSONP(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := jsonpOf(r); !ok {
		http.Error(w, "Invalid jsonp callback", http.StatusBadRequest)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode JSON: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if cb, _ := jsonpOf(r); cb != "" {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(wrapJSONP(cb, b))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func (fp *filesProcess) browse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !validJSONP(w, r) {
		return
	}
	entries, ferr := fp.list(r.URL.Query().Get("path"))
	if ferr != nil {
		ferr.fail(w)
		return
	}
	out := make([]jsonObj, 0, len(entries))
	for _, e := range entries {
		out = append(out, fileJSON(e.path, e.info))
	}
	writeJSON(w, r, out)
}

// fileEntry is one name a directory listing shows.
type fileEntry struct {
	path string
	info os.FileInfo
}

// list lists the directory at base (a /files path), sorted by path: for
// /files/browse and the operator API's LIST_FILES.
func (fp *filesProcess) list(base string) ([]fileEntry, *filesError) {
	t, ferr := fp.resolvePath(base)
	if ferr != nil {
		return nil, ferr
	}
	defer t.close()
	if t.root == nil {
		return nil, &filesError{http.StatusBadRequest, "Cannot browse a file: " + base}
	}
	dir, err := t.open(syscall.O_DIRECTORY)
	if err != nil {
		return nil, &filesError{http.StatusNotFound, "Cannot browse " + base + ": " + openError(err)}
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, &filesError{http.StatusNotFound, "Cannot browse " + base + ": " + err.Error()}
	}
	out := []fileEntry{}
	for _, name := range names {
		fi, err := t.lstat(name)
		if err != nil {
			continue
		}
		out = append(out, fileEntry{path: filepath.Join(base, name), info: fi})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// openError says why an open failed without echoing host paths.
func openError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, syscall.ENOTDIR):
		return "not a directory"
	}
	return "not accessible"
}

// cleanFilesPath turns the path parameter of a /files query into a clean
// absolute path, or says why it is a bad request.
func cleanFilesPath(p string) (clean, bad string) {
	switch {
	case p == "":
		return "", "Expecting 'path=value' in query."
	case strings.IndexByte(p, 0) >= 0:
		return "", "Invalid path"
	}
	return filepath.Clean("/" + p), ""
}

// parseOffset reads a non-negative offset or length, or -1 (Mesos's
// "unset"); absent gives -1.
func parseOffset(q string) (int64, bool) {
	if q == "" {
		return -1, true
	}
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil || n < -1 {
		return 0, false
	}
	return n, true
}

func (fp *filesProcess) read(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if !validJSONP(w, r) {
		return
	}
	q := r.URL.Query()
	offset, ok := parseOffset(q.Get("offset"))
	if !ok {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Error(w, "Failed to parse offset: "+q.Get("offset"), http.StatusBadRequest)
		return
	}
	length, ok := parseOffset(q.Get("length"))
	if !ok {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Error(w, "Failed to parse length: "+q.Get("length"), http.StatusBadRequest)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	size, data, ferr := fp.readAt(q.Get("path"), offset, length)
	if ferr != nil {
		ferr.fail(w)
		return
	}
	if offset == -1 {
		writeJSON(w, r, jsonObj{"offset": size, "data": ""})
		return
	}
	writeJSON(w, r, jsonObj{"offset": min(offset, size), "data": string(data)})
}

// readAt reads up to length bytes (a page of 64 KiB at most; -1: a page)
// of the file at p from offset (past the end: nothing; -1: nothing) and
// returns the file's size: for /files/read and the operator API's
// READ_FILE.
func (fp *filesProcess) readAt(p string, offset, length int64) (int64, []byte, *filesError) {
	t, ferr := fp.resolvePath(p)
	if ferr != nil {
		return 0, nil, ferr
	}
	defer t.close()
	f, fi, ferr := openRegular(t, "read")
	if ferr != nil {
		return 0, nil, ferr
	}
	defer f.Close()
	size := fi.Size()
	if offset == -1 {
		return size, nil, nil
	}
	if offset > size {
		offset = size
	}
	const pageSize = 16 * 4096
	if length == -1 || length > pageSize {
		length = pageSize
	}
	buf := make([]byte, length)
	n, err := f.ReadAt(buf, offset)
	if err != nil && err != io.EOF {
		return 0, nil, &filesError{http.StatusInternalServerError, fmt.Sprintf("Failed to read file: %v", err)}
	}
	return size, buf[:n], nil
}

// openFile opens a regular file for /files/download, answering 404
// (missing) or 400 (a directory, FIFO, device or socket) itself.
func openFile(w http.ResponseWriter, t *target, verb string) (*os.File, os.FileInfo, bool) {
	f, fi, ferr := openRegular(t, verb)
	if ferr != nil {
		ferr.fail(w)
		return nil, nil, false
	}
	return f, fi, true
}

// openRegular opens a regular file: 404 when missing, 400 for a
// directory, FIFO, device or socket.
func openRegular(t *target, verb string) (*os.File, os.FileInfo, *filesError) {
	f, err := t.open(0)
	if err != nil {
		return nil, nil, &filesError{http.StatusNotFound, "Failed to open file: " + openError(err)}
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, nil, &filesError{http.StatusNotFound, "Failed to open file: " + openError(err)}
	case fi.IsDir():
		f.Close()
		return nil, nil, &filesError{http.StatusBadRequest, "Cannot " + verb + " a directory"}
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, nil, &filesError{http.StatusBadRequest, "Cannot " + verb + " a file that is not a regular file"}
	}
	return f, fi, nil
}

func (fp *filesProcess) download(w http.ResponseWriter, r *http.Request) {
	t, ok := fp.resolve(w, r)
	if !ok {
		return
	}
	defer t.close()
	f, _, ok := openFile(w, t, "download")
	if !ok {
		return
	}
	defer f.Close()
	name := filepath.Base(t.inside)
	if t.root == nil {
		name = filepath.Base(t.log)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(name))
	_, _ = io.Copy(w, f)
}
