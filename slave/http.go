package slave

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

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

func (s *slave) installRoutes() {
	st := func(r *http.Request) future.Future[*process.Response] {
		return cors(jsonp(r, process.JSON(s.stateJSON())))
	}
	s.Route("/flags", "The slave's flags.", func(*http.Request) future.Future[*process.Response] {
		return cors(process.JSON(jsonObj{"flags": s.flagsJSON()}))
	})
	s.Route("/state", "Information about the state of the slave.", st)
	s.Route("/state.json", "Information about the state of the slave.", st)
	s.Route("/api/v1/executor", "The v1 executor HTTP API: SUBSCRIBE (a RecordIO stream of Events), UPDATE, MESSAGE.", s.executorAPI)
	s.Route("/health", "Health check of the slave.", func(*http.Request) future.Future[*process.Response] {
		return process.Status(http.StatusOK, "")
	})
	s.Route("/api/v1", "The v1 operator API: POST a mesos.v1.agent.Call (JSON or protobuf).", s.operator)
	filesOf(s.Runtime()) // executors' sandboxes are attached as they launch
	attachMonitor(s.Runtime(), s)
}

func (s *slave) taskJSON(fid string, t *mesos.Task) jsonObj {
	statuses := []jsonObj{}
	for _, st := range t.GetStatuses() {
		statuses = append(statuses, jsonObj{"state": st.GetState().String(), "timestamp": st.GetTimestamp()})
	}
	obj := jsonObj{
		"id": t.GetTaskId().GetValue(), "name": t.GetName(), "state": t.GetState().String(),
		"framework_id": fid, "executor_id": t.GetExecutorId().GetValue(), "slave_id": s.info.GetId().GetValue(),
		"resources": resources.FromProto(t.GetResources()).JSONMap(), "statuses": statuses,
	}
	taskExtrasJSON(t, obj)
	return obj
}

func (s *slave) executorJSON(fid string, e *executor) jsonObj {
	tasks, queued, completed := []jsonObj{}, []jsonObj{}, []jsonObj{}
	for _, t := range inIDOrder(e.tasks) {
		tasks = append(tasks, s.taskJSON(fid, t))
	}
	for _, t := range e.queued {
		queued = append(queued, jsonObj{"id": t.GetTaskId().GetValue(), "name": t.GetName(),
			"resources": resources.FromProto(t.GetResources()).JSONMap()})
	}
	for _, t := range e.completed {
		completed = append(completed, s.taskJSON(fid, t))
	}
	return jsonObj{
		"id": e.id, "name": e.info.GetName(), "source": e.info.GetSource(), "container": e.containerID,
		"directory": e.dir, "resources": s.executorResources(e).JSONMap(),
		"tasks": tasks, "queued_tasks": queued, "completed_tasks": completed,
	}
}

func (s *slave) frameworkJSON(f *framework) jsonObj {
	executors, completed := []jsonObj{}, []jsonObj{}
	for _, e := range inIDOrder(f.executors) {
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

func (s *slave) stateJSON() jsonObj {
	frameworks, completed := []jsonObj{}, []jsonObj{}
	for _, f := range inIDOrder(s.frameworks) {
		frameworks = append(frameworks, s.frameworkJSON(f))
	}
	for _, f := range s.completed {
		completed = append(completed, s.frameworkJSON(f))
	}
	attrs := jsonObj{}
	for _, a := range s.info.GetAttributes() {
		attrs[a.GetName()] = attributeValue(a)
	}
	out := jsonObj{
		"id":                   s.info.GetId().GetValue(),
		"pid":                  s.Self().String(),
		"hostname":             s.info.GetHostname(),
		"resources":            s.total().JSONMap(),
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
	s.addReservationsJSON(out)
	return out
}

// monitor serves /monitor/statistics(.json) for the first slave of a
// runtime (one slave per OS process, as in Mesos).
type monitor struct {
	process.Process
	slave *slave
}

var (
	attachMu sync.Mutex
	monitors = map[*process.Runtime]bool{}
)

func attachMonitor(rt *process.Runtime, s *slave) {
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
		for _, f := range inIDOrder(s.frameworks) {
			for _, e := range inIDOrder(f.executors) {
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
