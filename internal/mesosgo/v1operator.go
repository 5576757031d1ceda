//go:build ignore

// This program drives the v1 operator API of a master or an agent with
// mesos-go's v1 operator clients (api/v1/lib: httpcli, httpmaster,
// httpagent, master/calls, agent/calls), unmodified, for gomesos's interop
// tests. It runs one call per command line read from stdin, with the
// codec given by -codec (json or protobuf), and prints one line per
// answer ("OK <CALL> <summary>" or "ERR <CALL> <error>"):
//
//	health | flags | version | metrics | loglevel | setloglevel <n> <secs>
//	state | agents | frameworks | executors | tasks | roles | agent
//	ls <path> | read <path> <offset> <length>
//	reserve|unreserve <agent> <role> <principal> <cpus>
//	subscribe                  (master) prints "EVENT <TYPE> <detail>" lines
//
// With -principal and -secret it sends HTTP Basic credentials.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/agent"
	agentcalls "github.com/mesos/mesos-go/api/v1/lib/agent/calls"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpagent"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpmaster"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	mastercalls "github.com/mesos/mesos-go/api/v1/lib/master/calls"
)

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriter(os.Stdout)}

func say(format string, args ...interface{}) {
	out.Lock()
	defer out.Unlock()
	fmt.Fprintf(out.w, format+"\n", args...)
	out.w.Flush()
}

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:5050/api/v1", "the /api/v1 URL")
	kind := flag.String("kind", "master", "master or agent")
	codec := flag.String("codec", "json", "json or protobuf")
	principal := flag.String("principal", "", "HTTP Basic principal")
	secret := flag.String("secret", "", "HTTP Basic secret")
	flag.Parse()
	mt := codecs.MediaTypeJSON
	if *codec == "protobuf" {
		mt = codecs.MediaTypeProtobuf
	}
	opts := []httpcli.ConfigOpt{httpcli.Timeout(30 * time.Second)}
	if *principal != "" {
		opts = append(opts, httpcli.BasicAuth(*principal, *secret))
	}
	cli := httpcli.New(
		httpcli.Endpoint(*endpoint),
		httpcli.Codec(codecs.ByMediaType[encoding.MediaType(mt)]),
		httpcli.Do(httpcli.With(opts...)),
	)
	ctx := context.Background()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if *kind == "agent" {
			agentCall(ctx, httpagent.NewSender(cli.Send), f)
		} else {
			masterCall(ctx, httpmaster.NewSender(cli.Send), f)
		}
	}
}

func arg(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func num(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }

func resource(role, principal string, cpus float64) mesos.Resource {
	return mesos.Resource{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: cpus},
		Role: &role, Reservation: &mesos.Resource_ReservationInfo{Principal: &principal}}
}

func masterCall(ctx context.Context, s mastercalls.Sender, f []string) {
	var call *master.Call
	switch f[0] {
	case "health":
		call = mastercalls.GetHealth()
	case "flags":
		call = mastercalls.GetFlags()
	case "version":
		call = mastercalls.GetVersion()
	case "metrics":
		call = mastercalls.GetMetrics(nil)
	case "loglevel":
		call = mastercalls.GetLoggingLevel()
	case "setloglevel":
		call = mastercalls.SetLoggingLevel(uint32(num(arg(f, 1))), time.Duration(num(arg(f, 2)))*time.Second)
	case "ls":
		call = mastercalls.ListFiles(arg(f, 1))
	case "read":
		call = mastercalls.ReadFileWithLength(arg(f, 1), num(arg(f, 2)), num(arg(f, 3)))
	case "state":
		call = mastercalls.GetState()
	case "agents":
		call = mastercalls.GetAgents()
	case "frameworks":
		call = mastercalls.GetFrameworks()
	case "executors":
		call = mastercalls.GetExecutors()
	case "tasks":
		call = mastercalls.GetTasks()
	case "roles":
		call = mastercalls.GetRoles()
	case "reserve", "unreserve":
		cpus, _ := strconv.ParseFloat(arg(f, 4), 64)
		r := resource(arg(f, 2), arg(f, 3), cpus)
		call = mastercalls.ReserveResources(mesos.AgentID{Value: arg(f, 1)}, r)
		if f[0] == "unreserve" {
			call = mastercalls.UnreserveResources(mesos.AgentID{Value: arg(f, 1)}, r)
		}
	case "subscribe":
		call = mastercalls.Subscribe()
	default:
		say("ERR %s unknown command", f[0])
		return
	}
	name := call.GetType().String()
	resp, err := s.Send(ctx, mastercalls.NonStreaming(call))
	if err != nil {
		say("ERR %s %s", name, strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	if resp == nil { // an answer without a body (202, or 200 to a no-data call)
		say("OK %s", name)
		return
	}
	defer resp.Close()
	if call.GetType() == master.Call_SUBSCRIBE {
		say("OK %s streaming", name)
		for {
			var e master.Event
			if err := resp.Decode(&e); err != nil {
				say("STREAM ended %v", err)
				return
			}
			say("EVENT %s %s", e.GetType(), eventDetail(&e))
		}
	}
	var r master.Response
	switch call.GetType() {
	case master.Call_SET_LOGGING_LEVEL, master.Call_RESERVE_RESOURCES, master.Call_UNRESERVE_RESOURCES:
		say("OK %s", name)
		return
	}
	if err := resp.Decode(&r); err != nil {
		say("ERR %s decode: %v", name, err)
		return
	}
	say("OK %s %s", name, masterDetail(&r))
}

func masterDetail(r *master.Response) string {
	switch r.GetType() {
	case master.Response_GET_HEALTH:
		return fmt.Sprintf("healthy=%v", r.GetGetHealth().GetHealthy())
	case master.Response_GET_FLAGS:
		return fmt.Sprintf("flags=%d", len(r.GetGetFlags().GetFlags()))
	case master.Response_GET_VERSION:
		return "version=" + r.GetGetVersion().VersionInfo.Version
	case master.Response_GET_METRICS:
		for _, m := range r.GetGetMetrics().GetMetrics() {
			if m.GetName() == "master/slaves_active" {
				return fmt.Sprintf("metrics=%d slaves_active=%v", len(r.GetGetMetrics().GetMetrics()), m.GetValue())
			}
		}
		return fmt.Sprintf("metrics=%d", len(r.GetGetMetrics().GetMetrics()))
	case master.Response_GET_LOGGING_LEVEL:
		return fmt.Sprintf("level=%d", r.GetGetLoggingLevel().GetLevel())
	case master.Response_GET_STATE:
		st := r.GetGetState()
		return fmt.Sprintf("agents=%d frameworks=%d executors=%d tasks=%d completed=%d",
			len(st.GetGetAgents().GetAgents()), len(st.GetGetFrameworks().GetFrameworks()),
			len(st.GetGetExecutors().GetExecutors()), len(st.GetGetTasks().GetTasks()), len(st.GetGetTasks().GetCompletedTasks()))
	case master.Response_GET_AGENTS:
		var ids []string
		for _, a := range r.GetGetAgents().GetAgents() {
			ids = append(ids, a.AgentInfo.ID.GetValue()+"@"+a.AgentInfo.Hostname)
		}
		return "agents=" + strings.Join(ids, ",")
	case master.Response_GET_FRAMEWORKS:
		var names []string
		for _, fw := range r.GetGetFrameworks().GetFrameworks() {
			names = append(names, fw.FrameworkInfo.Name)
		}
		return "frameworks=" + strings.Join(names, ",")
	case master.Response_GET_EXECUTORS:
		return fmt.Sprintf("executors=%d", len(r.GetGetExecutors().GetExecutors()))
	case master.Response_GET_TASKS:
		return tasksDetail(r.GetGetTasks().GetTasks(), r.GetGetTasks().GetCompletedTasks())
	case master.Response_GET_ROLES:
		var roles []string
		for _, role := range r.GetGetRoles().GetRoles() {
			roles = append(roles, fmt.Sprintf("%s:%v", role.GetName(), role.GetWeight()))
		}
		return "roles=" + strings.Join(roles, ",")
	case master.Response_LIST_FILES:
		return fmt.Sprintf("files=%d", len(r.GetListFiles().GetFileInfos()))
	case master.Response_READ_FILE:
		return fmt.Sprintf("size=%d data=%q", r.GetReadFile().GetSize(), r.GetReadFile().GetData())
	}
	return r.GetType().String()
}

func tasksDetail(live, completed []mesos.Task) string {
	var parts []string
	for _, t := range live {
		parts = append(parts, t.GetTaskID().Value+":"+t.GetState().String())
	}
	for _, t := range completed {
		parts = append(parts, t.GetTaskID().Value+":"+t.GetState().String())
	}
	return "tasks=" + strings.Join(parts, ",")
}

func eventDetail(e *master.Event) string {
	switch e.GetType() {
	case master.Event_SUBSCRIBED:
		st := e.GetSubscribed().GetGetState()
		return fmt.Sprintf("agents=%d tasks=%d", len(st.GetGetAgents().GetAgents()), len(st.GetGetTasks().GetTasks()))
	case master.Event_TASK_ADDED:
		t := e.GetTaskAdded().GetTask()
		return t.GetTaskID().Value + " " + t.GetState().String()
	case master.Event_TASK_UPDATED:
		u := e.GetTaskUpdated()
		return u.Status.TaskID.Value + " " + u.GetState().String()
	case master.Event_AGENT_ADDED:
		return e.GetAgentAdded().Agent.AgentInfo.ID.GetValue()
	case master.Event_AGENT_REMOVED:
		return e.GetAgentRemoved().AgentID.Value
	case master.Event_FRAMEWORK_ADDED:
		return e.GetFrameworkAdded().Framework.FrameworkInfo.Name
	case master.Event_FRAMEWORK_REMOVED:
		return e.GetFrameworkRemoved().FrameworkInfo.Name
	}
	return ""
}

func agentCall(ctx context.Context, s agentcalls.Sender, f []string) {
	var call *agent.Call
	switch f[0] {
	case "health":
		call = agentcalls.GetHealth()
	case "flags":
		call = agentcalls.GetFlags()
	case "version":
		call = agentcalls.GetVersion()
	case "metrics":
		call = agentcalls.GetMetrics(nil)
	case "loglevel":
		call = agentcalls.GetLoggingLevel()
	case "setloglevel":
		call = agentcalls.SetLoggingLevel(uint32(num(arg(f, 1))), time.Duration(num(arg(f, 2)))*time.Second)
	case "ls":
		call = agentcalls.ListFiles(arg(f, 1))
	case "read":
		call = agentcalls.ReadFileWithLength(arg(f, 1), num(arg(f, 2)), num(arg(f, 3)))
	case "state":
		call = agentcalls.GetState()
	case "frameworks":
		call = agentcalls.GetFrameworks()
	case "executors":
		call = agentcalls.GetExecutors()
	case "tasks":
		call = agentcalls.GetTasks()
	case "agent":
		call = agentcalls.GetAgent()
	default:
		say("ERR %s unknown command", f[0])
		return
	}
	name := call.GetType().String()
	resp, err := s.Send(ctx, agentcalls.NonStreaming(call))
	if err != nil {
		say("ERR %s %s", name, strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	if resp == nil { // an answer without a body (202, or 200 to a no-data call)
		say("OK %s", name)
		return
	}
	defer resp.Close()
	if call.GetType() == agent.Call_SET_LOGGING_LEVEL {
		say("OK %s", name)
		return
	}
	var r agent.Response
	if err := resp.Decode(&r); err != nil {
		say("ERR %s decode: %v", name, err)
		return
	}
	say("OK %s %s", name, agentDetail(&r))
}

func agentDetail(r *agent.Response) string {
	switch r.GetType() {
	case agent.Response_GET_HEALTH:
		return fmt.Sprintf("healthy=%v", r.GetGetHealth().GetHealthy())
	case agent.Response_GET_FLAGS:
		return fmt.Sprintf("flags=%d", len(r.GetGetFlags().GetFlags()))
	case agent.Response_GET_VERSION:
		return "version=" + r.GetGetVersion().VersionInfo.Version
	case agent.Response_GET_METRICS:
		return fmt.Sprintf("metrics=%d", len(r.GetGetMetrics().GetMetrics()))
	case agent.Response_GET_LOGGING_LEVEL:
		return fmt.Sprintf("level=%d", r.GetGetLoggingLevel().GetLevel())
	case agent.Response_GET_STATE:
		st := r.GetGetState()
		return fmt.Sprintf("frameworks=%d executors=%d launched=%d completed=%d",
			len(st.GetGetFrameworks().GetFrameworks()), len(st.GetGetExecutors().GetExecutors()),
			len(st.GetGetTasks().GetLaunchedTasks()), len(st.GetGetTasks().GetCompletedTasks()))
	case agent.Response_GET_FRAMEWORKS:
		var names []string
		for _, fw := range r.GetGetFrameworks().GetFrameworks() {
			names = append(names, fw.FrameworkInfo.Name)
		}
		for _, fw := range r.GetGetFrameworks().GetCompletedFrameworks() {
			names = append(names, fw.FrameworkInfo.Name)
		}
		return "frameworks=" + strings.Join(names, ",")
	case agent.Response_GET_EXECUTORS:
		return fmt.Sprintf("executors=%d completed=%d", len(r.GetGetExecutors().GetExecutors()), len(r.GetGetExecutors().GetCompletedExecutors()))
	case agent.Response_GET_TASKS:
		t := r.GetGetTasks()
		return tasksDetail(append(t.GetLaunchedTasks(), t.GetTerminatedTasks()...), t.GetCompletedTasks())
	case agent.Response_GET_AGENT:
		return "agent=" + r.GetGetAgent().GetAgentInfo().GetID().GetValue()
	case agent.Response_LIST_FILES:
		var names []string
		for _, fi := range r.GetListFiles().GetFileInfos() {
			p := fi.GetPath()
			names = append(names, p[strings.LastIndex(p, "/")+1:])
		}
		return "files=" + strings.Join(names, ",")
	case agent.Response_READ_FILE:
		return fmt.Sprintf("size=%d data=%q", r.GetReadFile().GetSize(), r.GetReadFile().GetData())
	}
	return r.GetType().String()
}
