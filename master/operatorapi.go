package master

import (
	"io"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/internal/operatorapi"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// validateOperatorCall checks a master operator call as Mesos does before
// serving it: a type, and the body its type needs. An UNKNOWN type is
// valid (it is answered 501).
func validateOperatorCall(call *masterpb.Call) string {
	if call.Type == nil {
		return operatorapi.Need(false, "type")
	}
	switch call.GetType() {
	case masterpb.Call_GET_METRICS:
		return operatorapi.Need(call.GetMetrics != nil, "get_metrics")
	case masterpb.Call_SET_LOGGING_LEVEL:
		return operatorapi.Need(call.SetLoggingLevel != nil, "set_logging_level")
	case masterpb.Call_LIST_FILES:
		return operatorapi.Need(call.ListFiles != nil, "list_files")
	case masterpb.Call_READ_FILE:
		return operatorapi.Need(call.ReadFile != nil, "read_file")
	case masterpb.Call_RESERVE_RESOURCES:
		if call.ReserveResources == nil {
			return operatorapi.Need(false, "reserve_resources")
		}
		return validResources(call.ReserveResources.GetResources())
	case masterpb.Call_UNRESERVE_RESOURCES:
		if call.UnreserveResources == nil {
			return operatorapi.Need(false, "unreserve_resources")
		}
		return validResources(call.UnreserveResources.GetResources())
	case masterpb.Call_CREATE_VOLUMES:
		return operatorapi.Need(call.CreateVolumes != nil, "create_volumes")
	case masterpb.Call_DESTROY_VOLUMES:
		return operatorapi.Need(call.DestroyVolumes != nil, "destroy_volumes")
	case masterpb.Call_UPDATE_WEIGHTS, masterpb.Call_UPDATE_MAINTENANCE_SCHEDULE,
		masterpb.Call_START_MAINTENANCE, masterpb.Call_STOP_MAINTENANCE,
		masterpb.Call_SET_QUOTA, masterpb.Call_REMOVE_QUOTA:
		// Their bodies are not in our schema: answered 501.
	}
	return ""
}

// validResources says why a call's resources are not valid, or "".
func validResources(rs []*mesospb.Resource) string {
	if len(rs) == 0 {
		return "Expecting at least one resource"
	}
	for _, r := range rs {
		if r.GetName() == "" {
			return "Invalid resource: empty name"
		}
	}
	return ""
}

// operatorMutates says whether a call changes the cluster: those are
// authenticated as /master/reserve and its siblings are; the others as
// the read-only endpoints they mirror (/state, /flags, /logging/toggle).
func operatorMutates(t masterpb.Call_Type) bool {
	switch t {
	case masterpb.Call_RESERVE_RESOURCES, masterpb.Call_UNRESERVE_RESOURCES,
		masterpb.Call_CREATE_VOLUMES, masterpb.Call_DESTROY_VOLUMES:
		return true
	}
	return false
}

// operator serves POST /api/v1, the master's v1 operator API.
func (a *apiProcess) operator(r *http.Request) future.Future[*process.Response] {
	if !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/api/v1") {
		return process.Status(http.StatusNotFound, "no route "+r.URL.Path)
	}
	media, bad := operatorapi.RequestMedia(r)
	if bad != nil {
		return bad.Response()
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call := &masterpb.Call{}
	if err := operatorapi.Decode(media, body, call); err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	if reason := validateOperatorCall(call); reason != "" {
		return process.Status(http.StatusBadRequest, "Failed to validate master::Call: "+reason)
	}
	accept, ok := operatorapi.ResponseMedia(r)
	if !ok {
		return operatorapi.NotAcceptable().Response()
	}
	m := a.m
	access := httpRead
	if operatorMutates(call.GetType()) {
		access = httpWrite
	}
	caller, denied := m.authenticateHTTP(r, access)
	if denied != nil {
		return future.Ready(denied)
	}
	rt := a.Runtime()
	switch call.GetType() {
	case masterpb.Call_GET_METRICS:
		return future.Then(operatorapi.Metrics(rt, call.GetGetMetrics().GetTimeout()), func(ms []*mesospb.Metric) (*process.Response, error) {
			return operatorapi.Answer(accept, &masterpb.Response{
				Type:       masterpb.Response_GET_METRICS.Enum(),
				GetMetrics: &masterpb.Response_GetMetrics{Metrics: ms},
			}).Get()
		})
	case masterpb.Call_GET_LOGGING_LEVEL:
		return loggingAnswer(future.Then(builtin.LoggingLevel(rt), func(level uint32) (*process.Response, error) {
			return operatorapi.Answer(accept, &masterpb.Response{
				Type:            masterpb.Response_GET_LOGGING_LEVEL.Enum(),
				GetLoggingLevel: &masterpb.Response_GetLoggingLevel{Level: proto.Uint32(level)},
			}).Get()
		}))
	case masterpb.Call_SET_LOGGING_LEVEL:
		set := call.GetSetLoggingLevel()
		d := time.Duration(set.GetDuration().GetNanoseconds())
		if d <= 0 {
			return process.Status(http.StatusBadRequest, "Expecting a positive 'duration'")
		}
		return loggingAnswer(future.ThenF(builtin.SetLoggingLevel(rt, set.GetLevel(), d), func(future.Nothing) future.Future[*process.Response] {
			return operatorapi.NoContent(http.StatusOK)
		}))
	case masterpb.Call_LIST_FILES, masterpb.Call_READ_FILE:
		// The master's file server exposes nothing (Mesos serves the
		// master's log there when it logs to a file; ours logs to
		// stderr or --log_dir, read it there).
		path := call.GetListFiles().GetPath() + call.GetReadFile().GetPath()
		return process.Status(http.StatusNotFound, "No such file or directory: "+path)
	case masterpb.Call_SUBSCRIBE:
		return a.operatorSubscribe(r, accept)
	case masterpb.Call_UNKNOWN, masterpb.Call_UPDATE_WEIGHTS, masterpb.Call_GET_MAINTENANCE_STATUS,
		masterpb.Call_GET_MAINTENANCE_SCHEDULE, masterpb.Call_UPDATE_MAINTENANCE_SCHEDULE,
		masterpb.Call_START_MAINTENANCE, masterpb.Call_STOP_MAINTENANCE,
		masterpb.Call_GET_QUOTA, masterpb.Call_SET_QUOTA, masterpb.Call_REMOVE_QUOTA:
		return process.Status(http.StatusNotImplemented, "")
	}
	return process.DispatchF(rt, m.Self(), func() future.Future[*process.Response] {
		if !m.leader {
			return m.redirectToLeader(r.URL.Path)
		}
		return m.operatorCall(call, accept, caller)
	})
}

// loggingAnswer turns a daemon without a logging process into 503.
func loggingAnswer(f future.Future[*process.Response]) future.Future[*process.Response] {
	return future.Repair(f, func(err error) (*process.Response, error) {
		return process.Status(http.StatusServiceUnavailable, err.Error()).Get()
	})
}

// operatorCall answers a call from the master's state, on its process.
func (m *master) operatorCall(call *masterpb.Call, accept, caller string) future.Future[*process.Response] {
	answer := func(resp *masterpb.Response) future.Future[*process.Response] {
		return operatorapi.Answer(accept, resp)
	}
	switch call.GetType() {
	case masterpb.Call_GET_HEALTH:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_HEALTH.Enum(),
			GetHealth: &masterpb.Response_GetHealth{Healthy: proto.Bool(true)}})
	case masterpb.Call_GET_FLAGS:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_FLAGS.Enum(),
			GetFlags: &masterpb.Response_GetFlags{Flags: operatorapi.Flags(m.cfg.Flags)}})
	case masterpb.Call_GET_VERSION:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_VERSION.Enum(),
			GetVersion: &masterpb.Response_GetVersion{VersionInfo: operatorapi.VersionInfo(m.cfg.Version)}})
	case masterpb.Call_GET_STATE:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_STATE.Enum(), GetState: m.getStateV1()})
	case masterpb.Call_GET_AGENTS:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_AGENTS.Enum(), GetAgents: m.getAgentsV1()})
	case masterpb.Call_GET_FRAMEWORKS:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_FRAMEWORKS.Enum(), GetFrameworks: m.getFrameworksV1()})
	case masterpb.Call_GET_EXECUTORS:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_EXECUTORS.Enum(), GetExecutors: m.getExecutorsV1()})
	case masterpb.Call_GET_TASKS:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_TASKS.Enum(), GetTasks: m.getTasksV1()})
	case masterpb.Call_GET_ROLES:
		roles := &masterpb.Response_GetRoles{}
		for _, rv := range m.roleViews() {
			role := &mesospb.Role{Name: proto.String(rv.name), Weight: proto.Float64(rv.weight), Resources: resourcesV1(rv.used)}
			for _, fid := range rv.frameworks {
				role.Frameworks = append(role.Frameworks, &mesospb.FrameworkID{Value: proto.String(fid)})
			}
			roles.Roles = append(roles.Roles, role)
		}
		return answer(&masterpb.Response{Type: masterpb.Response_GET_ROLES.Enum(), GetRoles: roles})
	case masterpb.Call_GET_WEIGHTS:
		weights := &masterpb.Response_GetWeights{}
		for _, role := range sortedKeys(m.cfg.Weights) {
			weights.WeightInfos = append(weights.WeightInfos, &mesospb.WeightInfo{Role: proto.String(role), Weight: proto.Float64(m.cfg.Weights[role])})
		}
		return answer(&masterpb.Response{Type: masterpb.Response_GET_WEIGHTS.Enum(), GetWeights: weights})
	case masterpb.Call_GET_MASTER:
		return answer(&masterpb.Response{Type: masterpb.Response_GET_MASTER.Enum(),
			GetMaster: &masterpb.Response_GetMaster{MasterInfo: operatorapi.Convert(&mesospb.MasterInfo{}, m.info)}})
	case masterpb.Call_RESERVE_RESOURCES:
		c := call.GetReserveResources()
		return m.operatorOperationV1(c.GetAgentId().GetValue(), resources.Reserve, c.GetResources(), caller)
	case masterpb.Call_UNRESERVE_RESOURCES:
		c := call.GetUnreserveResources()
		return m.operatorOperationV1(c.GetAgentId().GetValue(), resources.Unreserve, c.GetResources(), caller)
	case masterpb.Call_CREATE_VOLUMES:
		c := call.GetCreateVolumes()
		return m.operatorOperationV1(c.GetAgentId().GetValue(), resources.Create, c.GetVolumes(), caller)
	case masterpb.Call_DESTROY_VOLUMES:
		c := call.GetDestroyVolumes()
		return m.operatorOperationV1(c.GetAgentId().GetValue(), resources.Destroy, c.GetVolumes(), caller)
	}
	return process.Status(http.StatusNotImplemented, "")
}

// operatorOperationV1 applies a reservation or volume call as
// /master/reserve and its siblings do; 202 once applied, as Mesos 1.x.
func (m *master) operatorOperationV1(agentID string, kind resources.OpKind, rs []*mesospb.Resource, caller string) future.Future[*process.Response] {
	s := m.slaves[agentID]
	if s == nil {
		return process.Status(http.StatusBadRequest, "No agent found with specified ID")
	}
	pbs := operatorapi.ConvertAll(rs, func() *mesos.Resource { return &mesos.Resource{} })
	return m.applyOperatorOperation(s, kind, pbs, caller, http.StatusAccepted)
}

// resourcesV1 is rs as v1 Resource protobufs.
func resourcesV1(rs resources.Resources) []*mesospb.Resource {
	return operatorapi.ConvertAll(rs.ToProto(), func() *mesospb.Resource { return &mesospb.Resource{} })
}

func taskV1(t *mesos.Task) *mesospb.Task { return operatorapi.Convert(&mesospb.Task{}, t) }

func tasksV1(ts []*mesos.Task) []*mesospb.Task {
	return operatorapi.ConvertAll(ts, func() *mesospb.Task { return &mesospb.Task{} })
}

// getStateV1 is GET_STATE: the four views at one moment.
func (m *master) getStateV1() *masterpb.Response_GetState {
	return &masterpb.Response_GetState{
		GetTasks:      m.getTasksV1(),
		GetExecutors:  m.getExecutorsV1(),
		GetFrameworks: m.getFrameworksV1(),
		GetAgents:     m.getAgentsV1(),
	}
}

// agentV1 is one slave as GET_AGENTS and AGENT_ADDED show it, from the
// records /master/slaves shows.
func agentV1(s *slave) *masterpb.Response_GetAgents_Agent {
	return &masterpb.Response_GetAgents_Agent{
		AgentInfo:          operatorapi.Convert(&mesospb.AgentInfo{}, s.info),
		Active:             proto.Bool(s.active),
		Version:            proto.String(s.version),
		Pid:                proto.String(s.pid.String()),
		RegisteredTime:     operatorapi.TimeInfo(s.registered),
		ReregisteredTime:   operatorapi.TimeInfo(s.reregistered),
		TotalResources:     resourcesV1(s.total),
		AllocatedResources: resourcesV1(s.used),
		OfferedResources:   resourcesV1(s.offered),
	}
}

func (m *master) getAgentsV1() *masterpb.Response_GetAgents {
	out := &masterpb.Response_GetAgents{}
	for _, id := range sortedKeys(m.slaves) {
		out.Agents = append(out.Agents, agentV1(m.slaves[id]))
	}
	for _, id := range sortedKeys(m.recovered) {
		out.RecoveredAgents = append(out.RecoveredAgents, operatorapi.Convert(&mesospb.AgentInfo{}, m.recovered[id]))
	}
	return out
}

// frameworkV1 is one framework as GET_FRAMEWORKS shows it.
func frameworkV1(f *framework) *masterpb.Response_GetFrameworks_Framework {
	out := &masterpb.Response_GetFrameworks_Framework{
		FrameworkInfo:      operatorapi.Convert(&mesospb.FrameworkInfo{}, f.info),
		Active:             proto.Bool(f.active),
		Connected:          proto.Bool(f.connected),
		Recovered:          proto.Bool(false),
		RegisteredTime:     operatorapi.TimeInfo(f.registered),
		ReregisteredTime:   operatorapi.TimeInfo(f.reregistered),
		UnregisteredTime:   operatorapi.TimeInfo(f.unregistered),
		AllocatedResources: resourcesV1(f.used()),
	}
	var offered resources.Resources
	for _, o := range sortedOffers(f.offers) {
		offered = offered.Plus(o.res)
		out.Offers = append(out.Offers, operatorapi.Convert(&mesospb.Offer{}, o.o))
	}
	out.OfferedResources = resourcesV1(offered)
	return out
}

func (m *master) getFrameworksV1() *masterpb.Response_GetFrameworks {
	out := &masterpb.Response_GetFrameworks{}
	for _, id := range sortedKeys(m.frameworks) {
		out.Frameworks = append(out.Frameworks, frameworkV1(m.frameworks[id]))
	}
	for _, f := range m.completed {
		out.CompletedFrameworks = append(out.CompletedFrameworks, frameworkV1(f))
	}
	return out
}

func (m *master) getExecutorsV1() *masterpb.Response_GetExecutors {
	out := &masterpb.Response_GetExecutors{}
	executor := func(sid string, e *mesos.ExecutorInfo) *masterpb.Response_GetExecutors_Executor {
		return &masterpb.Response_GetExecutors_Executor{
			ExecutorInfo: operatorapi.Convert(&mesospb.ExecutorInfo{}, e),
			AgentId:      &mesospb.AgentID{Value: proto.String(sid)},
		}
	}
	for _, sid := range sortedKeys(m.slaves) {
		s := m.slaves[sid]
		for _, fid := range sortedKeys(s.executors) {
			for _, eid := range sortedKeys(s.executors[fid]) {
				e := executor(sid, s.executors[fid][eid])
				if m.frameworks[fid] == nil {
					out.OrphanExecutors = append(out.OrphanExecutors, e)
				} else {
					out.Executors = append(out.Executors, e)
				}
			}
		}
	}
	return out
}

func (m *master) getTasksV1() *masterpb.Response_GetTasks {
	out := &masterpb.Response_GetTasks{}
	add := func(f *framework) {
		for _, tid := range sortedTaskIDs(f.tasks) {
			out.Tasks = append(out.Tasks, taskV1(f.tasks[tid]))
		}
		out.CompletedTasks = append(out.CompletedTasks, tasksV1(f.completed)...)
	}
	for _, fid := range sortedKeys(m.frameworks) {
		add(m.frameworks[fid])
	}
	for _, f := range m.completed {
		add(f)
	}
	orphans, _ := m.orphanTasks()
	out.OrphanTasks = tasksV1(orphans)
	return out
}
