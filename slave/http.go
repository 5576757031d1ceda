package slave

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

type jsonObj = map[string]any

// cors lets the master's web UI (another origin) read slave endpoints.
func cors(f future.Future[*process.Response]) future.Future[*process.Response] {
	return future.Then(f, func(r *process.Response) (*process.Response, error) {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set("Access-Control-Allow-Origin", "*")
		return r, nil
	})
}

func (s *Slave) installRoutes() {
	st := func(*http.Request) future.Future[*process.Response] {
		return cors(process.JSON(s.stateJSON()))
	}
	s.Route("/state", "Information about the state of the slave.", st)
	s.Route("/state.json", "Information about the state of the slave.", st)
	s.Route("/health", "Health check of the slave.", func(*http.Request) future.Future[*process.Response] {
		return process.Status(http.StatusOK, "")
	})
	attachFiles(s.Runtime(), s.cfg.WorkDir)
	attachMonitor(s.Runtime(), s)
}

func (s *Slave) taskJSON(fid string, t *mesos.Task) jsonObj {
	statuses := []jsonObj{}
	for _, st := range t.GetStatuses() {
		statuses = append(statuses, jsonObj{"state": st.GetState().String(), "timestamp": st.GetTimestamp()})
	}
	return jsonObj{
		"id": t.GetTaskId().GetValue(), "name": t.GetName(), "state": t.GetState().String(),
		"framework_id": fid, "executor_id": t.GetExecutorId().GetValue(), "slave_id": s.info.GetId().GetValue(),
		"resources": resources.FromProto(t.GetResources()).ToJSONMap(), "statuses": statuses,
	}
}

func (s *Slave) executorJSON(fid string, e *executor) jsonObj {
	tasks, queued, completed := []jsonObj{}, []jsonObj{}, []jsonObj{}
	for _, t := range e.tasks {
		tasks = append(tasks, s.taskJSON(fid, t))
	}
	for _, t := range e.queued {
		queued = append(queued, jsonObj{"id": t.GetTaskId().GetValue(), "name": t.GetName(),
			"resources": resources.FromProto(t.GetResources()).ToJSONMap()})
	}
	for _, t := range e.completed {
		completed = append(completed, s.taskJSON(fid, t))
	}
	return jsonObj{
		"id": e.id, "name": e.info.GetName(), "source": e.info.GetSource(), "container": e.containerID,
		"directory": e.dir, "resources": s.executorResources(e).ToJSONMap(),
		"tasks": tasks, "queued_tasks": queued, "completed_tasks": completed,
	}
}

func (s *Slave) frameworkJSON(f *framework) jsonObj {
	executors, completed := []jsonObj{}, []jsonObj{}
	for _, e := range f.executors {
		executors = append(executors, s.executorJSON(f.id, e))
	}
	for _, e := range f.completed {
		completed = append(completed, s.executorJSON(f.id, e))
	}
	return jsonObj{
		"id": f.id, "name": f.info.GetName(), "user": f.info.GetUser(), "role": f.info.GetRole(),
		"checkpoint": f.checkpoint, "pid": f.pid.String(), "hostname": f.info.GetHostname(),
		"executors": executors, "completed_executors": completed,
	}
}

func (s *Slave) stateJSON() jsonObj {
	frameworks, completed := []jsonObj{}, []jsonObj{}
	for _, f := range s.frameworks {
		frameworks = append(frameworks, s.frameworkJSON(f))
	}
	for _, f := range s.completed {
		completed = append(completed, s.frameworkJSON(f))
	}
	attrs := jsonObj{}
	for _, a := range s.info.GetAttributes() {
		attrs[a.GetName()] = attributeValue(a)
	}
	return jsonObj{
		"id":                   s.info.GetId().GetValue(),
		"pid":                  s.Self().String(),
		"hostname":             s.info.GetHostname(),
		"resources":            s.total().ToJSONMap(),
		"attributes":           attrs,
		"master_hostname":      s.cfg.Master.Addr.Addr().String(),
		"start_time":           mesos.Timestamp(s.start),
		"version":              "1.0.0",
		"isolation":            s.isolation(),
		"recovering":           s.recovering,
		"frameworks":           frameworks,
		"completed_frameworks": completed,
		"flags": jsonObj{
			"work_dir": s.cfg.WorkDir, "launcher_dir": s.cfg.LauncherDir, "recover": s.cfg.Recover,
			"strict": strconv.FormatBool(s.cfg.Strict), "isolation": s.cfg.Isolation,
		},
	}
}

// monitor serves /monitor/statistics(.json) for the first slave of a
// runtime (one slave per OS process, as in Mesos).
type monitor struct {
	process.Process
	slave *Slave
}

var (
	attachMu  sync.Mutex
	monitors  = map[*process.Runtime]bool{}
	fileRoots = map[*process.Runtime]*filesProcess{}
)

func attachMonitor(rt *process.Runtime, s *Slave) {
	attachMu.Lock()
	defer attachMu.Unlock()
	if monitors[rt] {
		return
	}
	m := &monitor{slave: s}
	if _, err := rt.Spawn(m, "monitor"); err == nil {
		monitors[rt] = true
	}
}

// Initialize installs the statistics routes.
func (m *monitor) Initialize() {
	h := func(*http.Request) future.Future[*process.Response] { return m.statistics() }
	m.Route("/statistics", "Resource usage of the slave's executors.", h)
	m.Route("/statistics.json", "Resource usage of the slave's executors.", h)
}

// Finalize forgets the runtime's monitor.
func (m *monitor) Finalize() {
	attachMu.Lock()
	delete(monitors, m.Runtime())
	attachMu.Unlock()
}

type usageEntry struct {
	ExecutorID   string          `json:"executor_id"`
	ExecutorName string          `json:"executor_name"`
	FrameworkID  string          `json:"framework_id"`
	Source       string          `json:"source"`
	Statistics   json.RawMessage `json:"statistics"`
	container    string
}

// statistics lists the running executors on the slave, then samples
// their usage through the containerizer.
func (m *monitor) statistics() future.Future[*process.Response] {
	s := m.slave
	list := process.DispatchF(m.Runtime(), s.Self(), func() future.Future[[]usageEntry] {
		var entries []usageEntry
		var samples []future.Future[*mesos.ResourceStatistics]
		for _, f := range s.frameworks {
			for _, e := range f.executors {
				if e.state == executorRunning || e.state == executorRegistering {
					entries = append(entries, usageEntry{ExecutorID: e.id, ExecutorName: e.info.GetName(), FrameworkID: f.id, Source: e.info.GetSource(), container: e.containerID})
					samples = append(samples, process.Count(s.Runtime(), s.cz.Usage(e.containerID)))
				}
			}
		}
		return future.Then(future.AwaitAll(samples...), func(done []future.Future[*mesos.ResourceStatistics]) ([]usageEntry, error) {
			out := []usageEntry{}
			for i, f := range done {
				st, err := f.Get()
				if err != nil {
					continue // ended meanwhile
				}
				e := entries[i]
				e.Statistics, _ = json.Marshal(protoJSON(st.ProtoReflect()))
				out = append(out, e)
			}
			return out, nil
		})
	})
	return cors(future.Then(list, func(entries []usageEntry) (*process.Response, error) {
		b, err := json.Marshal(entries)
		if err != nil {
			return &process.Response{Status: http.StatusInternalServerError, Body: []byte(err.Error())}, nil
		}
		return &process.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
	}))
}

// protoJSON renders a message as Mesos's JSON does: proto field names and
// plain JSON numbers (also for 64-bit integers).
func protoJSON(m protoreflect.Message) jsonObj {
	out := jsonObj{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		conv := func(v protoreflect.Value) any {
			switch fd.Kind() {
			case protoreflect.MessageKind, protoreflect.GroupKind:
				return protoJSON(v.Message())
			case protoreflect.EnumKind:
				if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
					return string(ev.Name())
				}
				return int32(v.Enum())
			case protoreflect.BytesKind:
				return string(v.Bytes())
			}
			return v.Interface()
		}
		if fd.IsList() {
			list := []any{}
			for i := 0; i < v.List().Len(); i++ {
				list = append(list, conv(v.List().Get(i)))
			}
			out[string(fd.Name())] = list
			return true
		}
		out[string(fd.Name())] = conv(v)
		return true
	})
	return out
}

// filesProcess serves /files/browse, /files/read and /files/download
// for paths under the work directories of the runtime's slaves.
type filesProcess struct {
	process.Process
	mu    sync.Mutex
	roots []string
}

func attachFiles(rt *process.Runtime, workDir string) {
	attachMu.Lock()
	defer attachMu.Unlock()
	fp := fileRoots[rt]
	if fp == nil {
		fp = &filesProcess{}
		if _, err := rt.Spawn(fp, "files"); err != nil {
			return
		}
		fileRoots[rt] = fp
	}
	abs, err := filepath.Abs(workDir)
	if err != nil {
		return
	}
	fp.mu.Lock()
	fp.roots = append(fp.roots, abs)
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
	delete(fileRoots, fp.Runtime())
	attachMu.Unlock()
}

// resolve checks that path is under an attached work directory.
func (fp *filesProcess) resolve(w http.ResponseWriter, r *http.Request) (string, bool) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	p := r.URL.Query().Get("path")
	if p == "" {
		http.Error(w, "Expecting 'path=value' in query.", http.StatusBadRequest)
		return "", false
	}
	clean := filepath.Clean(p)
	real, err := filepath.EvalSymlinks(clean)
	if err != nil {
		http.Error(w, "No such file or directory: "+p, http.StatusNotFound)
		return "", false
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for _, root := range fp.roots {
		rroot, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		if real == rroot || strings.HasPrefix(real, rroot+string(filepath.Separator)) {
			return real, true
		}
	}
	http.Error(w, "No such file or directory: "+p, http.StatusNotFound)
	return "", false
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

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (fp *filesProcess) browse(w http.ResponseWriter, r *http.Request) {
	dir, ok := fp.resolve(w, r)
	if !ok {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		http.Error(w, "Cannot browse "+r.URL.Query().Get("path")+": "+err.Error(), http.StatusNotFound)
		return
	}
	base := r.URL.Query().Get("path")
	out := []jsonObj{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, fileJSON(filepath.Join(base, e.Name()), fi))
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["path"].(string) < out[j]["path"].(string) })
	writeJSON(w, out)
}

func (fp *filesProcess) read(w http.ResponseWriter, r *http.Request) {
	path, ok := fp.resolve(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	offset, length := int64(-1), int64(-1)
	var err error
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil {
			http.Error(w, "Failed to parse offset: "+v, http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("length"); v != "" {
		if length, err = strconv.ParseInt(v, 10, 64); err != nil || length < -1 {
			http.Error(w, "Failed to parse length: "+v, http.StatusBadRequest)
			return
		}
	}
	f, fi, ok := openFile(w, path, "read")
	if !ok {
		return
	}
	defer f.Close()
	size := fi.Size()
	if offset == -1 {
		writeJSON(w, jsonObj{"offset": size, "data": ""})
		return
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
		http.Error(w, fmt.Sprintf("Failed to read file: %v", err), http.StatusInternalServerError)
		return
	}
	writeJSON(w, jsonObj{"offset": offset, "data": string(buf[:n])})
}

// openFile opens a regular file for /files/read or /files/download,
// answering 404 (missing) or 400 (a directory) itself.
func openFile(w http.ResponseWriter, path, verb string) (*os.File, os.FileInfo, bool) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "Failed to open file: "+err.Error(), http.StatusNotFound)
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		http.Error(w, "Cannot "+verb+" a directory", http.StatusBadRequest)
		return nil, nil, false
	}
	return f, fi, true
}

func (fp *filesProcess) download(w http.ResponseWriter, r *http.Request) {
	path, ok := fp.resolve(w, r)
	if !ok {
		return
	}
	f, _, ok := openFile(w, path, "download")
	if !ok {
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(filepath.Base(path)))
	_, _ = io.Copy(w, f)
}
