package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/tests/cluster"
)

// The v1 operator API (POST /api/v1) of the master and the slave, driven
// by mesos-go's unmodified operator clients (httpmaster, httpagent of the
// Debian package, through internal/mesosgo's v1operator program), with
// each codec: every GET call, the logging level, reservations, the
// slave's files, and the master's SUBSCRIBE stream seeing a task run
// (TASK_ADDED, TASK_UPDATED), the framework come, and the slave go
// (AGENT_REMOVED).
func TestMesosGoV1Operator(t *testing.T) {
	for _, codec := range []string{"json", "protobuf"} {
		t.Run(codec, func(t *testing.T) { mesosGoOperator(t, codec) })
	}
}

func mesosGoOperator(t *testing.T, codec string) {
	requireMesosGoV1(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	if err := builtin.SpawnLogging(c.RT, nil); err != nil {
		t.Fatal(err)
	}
	sl, slavePID, _ := c.StartSlave(slaveResources, nil)
	addr := c.RT.Addr().String()
	const bound = 45 * time.Second // wall-clock: other OS processes

	driver := func(args ...string) *mesosgo.Peer {
		t.Helper()
		p, err := mesosgo.StartProgram(mesosgo.V1OperatorProgram, append([]string{"-codec=" + codec}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		return p
	}
	find := func(p *mesosgo.Peer, prefix string) string {
		t.Helper()
		line, err := p.Find(prefix, bound)
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	call := func(p *mesosgo.Peer, cmd, want string) string {
		t.Helper()
		if err := p.Command(cmd); err != nil {
			t.Fatal(err)
		}
		line, err := p.Line("", bound)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(line, want) {
			t.Fatalf("%s: got %q, want %q...", cmd, line, want)
		}
		return line
	}

	// The master's stream: SUBSCRIBED with the state.
	sub := driver("-endpoint=http://" + addr + "/api/v1")
	if err := sub.Command("subscribe"); err != nil {
		t.Fatal(err)
	}
	find(sub, "OK SUBSCRIBE streaming")
	if got := find(sub, "EVENT SUBSCRIBED"); got != "EVENT SUBSCRIBED agents=1 tasks=0" {
		t.Fatal(got)
	}

	mc := driver("-endpoint=http://"+addr+"/api/v1", "-principal=ops", "-secret=x")
	call(mc, "health", "OK GET_HEALTH healthy=true")
	call(mc, "flags", "OK GET_FLAGS flags=")
	call(mc, "version", "OK GET_VERSION version=1.0.0")
	call(mc, "metrics", "OK GET_METRICS metrics=")
	call(mc, "loglevel", "OK GET_LOGGING_LEVEL level=0")
	call(mc, "setloglevel 2 60", "OK SET_LOGGING_LEVEL")
	call(mc, "loglevel", "OK GET_LOGGING_LEVEL level=2")
	call(mc, "agents", "OK GET_AGENTS agents="+slaveID(t, c))
	call(mc, "roles", "OK GET_ROLES roles=*:1")
	call(mc, "ls /master", "ERR LIST_FILES") // the master's file server exposes nothing
	call(mc, "reserve "+slaveID(t, c)+" ops ops 1", "OK RESERVE_RESOURCES")
	call(mc, "reserve "+slaveID(t, c)+" ops ops 100", "ERR RESERVE_RESOURCES") // 409: not there
	call(mc, "unreserve "+slaveID(t, c)+" ops ops 1", "OK UNRESERVE_RESOURCES")

	// A task runs: TASK_ADDED, then TASK_UPDATED as it runs and ends.
	fw, err := mesosgo.StartProgram(mesosgo.V1SchedulerProgram, "-master="+addr, "-codec="+codec, "-user=test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Stop)
	if _, err := fw.Find("SUBSCRIBED ", bound); err != nil {
		t.Fatal(err)
	}
	find(sub, "EVENT FRAMEWORK_ADDED mesos-go v1 "+codec)
	c.Advance(time.Second)
	if _, err := fw.Find("OFFER ", bound); err != nil {
		t.Fatal(err)
	}
	if err := fw.Command("launch t1 echo hello-operator"); err != nil {
		t.Fatal(err)
	}
	if got := find(sub, "EVENT TASK_ADDED"); got != "EVENT TASK_ADDED t1 TASK_STAGING" {
		t.Fatal(got)
	}
	if got := find(sub, "EVENT TASK_UPDATED"); got != "EVENT TASK_UPDATED t1 TASK_RUNNING" {
		t.Fatal(got)
	}
	if got := find(sub, "EVENT TASK_UPDATED"); got != "EVENT TASK_UPDATED t1 TASK_FINISHED" {
		t.Fatal(got)
	}
	call(mc, "frameworks", "OK GET_FRAMEWORKS frameworks=mesos-go v1 "+codec)
	call(mc, "tasks", "OK GET_TASKS tasks=t1:TASK_FINISHED")
	call(mc, "executors", "OK GET_EXECUTORS executors=")
	call(mc, "state", "OK GET_STATE agents=1 frameworks=1")

	// The slave's API, at /slave(1)/api/v1.
	ac := driver("-endpoint=http://"+addr+"/"+slavePID.ID+"/api/v1", "-kind=agent")
	call(ac, "health", "OK GET_HEALTH healthy=true")
	call(ac, "flags", "OK GET_FLAGS flags=")
	call(ac, "version", "OK GET_VERSION version=1.0.0")
	call(ac, "metrics", "OK GET_METRICS metrics=")
	call(ac, "loglevel", "OK GET_LOGGING_LEVEL level=2")
	call(ac, "setloglevel 0 1", "OK SET_LOGGING_LEVEL")
	call(ac, "agent", "OK GET_AGENT agent="+slaveID(t, c))
	call(ac, "frameworks", "OK GET_FRAMEWORKS frameworks=mesos-go v1 "+codec)
	call(ac, "executors", "OK GET_EXECUTORS executors=")
	call(ac, "state", "OK GET_STATE frameworks=") // live or completed by now
	call(ac, "tasks", "OK GET_TASKS tasks=t1:TASK_FINISHED")
	dir := operatorSandbox(t, c, slavePID.ID)
	if got := call(ac, "ls "+dir, "OK LIST_FILES files="); !strings.Contains(got, "stdout") {
		t.Fatalf("sandbox listing: %s", got)
	}
	call(ac, "read "+dir+"/stdout 0 1000", `OK READ_FILE size=`)
	if got := call(ac, "read "+dir+"/stdout 0 1000", "OK READ_FILE"); !strings.Contains(got, "hello-operator") {
		t.Fatalf("stdout: %s", got)
	}
	call(ac, "read "+dir+"/nothing-here 0 10", "ERR READ_FILE")
	call(ac, "ls /etc", "ERR LIST_FILES")

	// The slave goes: AGENT_REMOVED.
	sl.Stop()
	c.Advance(5 * time.Second)
	if got := find(sub, "EVENT AGENT_REMOVED"); got != "EVENT AGENT_REMOVED "+slaveID(t, c) && got != "EVENT AGENT_REMOVED "+lastSlaveID {
		t.Fatal(got)
	}
}

// lastSlaveID is the id slaveID last found (kept for after the slave is
// gone).
var lastSlaveID string

// slaveID is the id of the cluster's one slave, from /master/state.
func slaveID(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	var st struct {
		Slaves []struct {
			ID string `json:"id"`
		} `json:"slaves"`
	}
	getJSON(t, c, "/master/state", &st)
	if len(st.Slaves) != 1 {
		return lastSlaveID
	}
	lastSlaveID = st.Slaves[0].ID
	return lastSlaveID
}

// operatorSandbox is the directory of the slave's first executor, running or
// completed, from /slave(1)/state.
func operatorSandbox(t *testing.T, c *cluster.Cluster, slaveProc string) string {
	t.Helper()
	type exec struct {
		Directory string `json:"directory"`
	}
	type framework struct {
		Executors          []exec `json:"executors"`
		CompletedExecutors []exec `json:"completed_executors"`
	}
	// The task has ended by now, so its framework may have completed too.
	var st struct {
		Frameworks          []framework `json:"frameworks"`
		CompletedFrameworks []framework `json:"completed_frameworks"`
	}
	getJSON(t, c, "/"+slaveProc+"/state", &st)
	for _, f := range append(st.Frameworks, st.CompletedFrameworks...) {
		for _, e := range append(f.Executors, f.CompletedExecutors...) {
			if e.Directory != "" {
				return e.Directory
			}
		}
	}
	t.Fatalf("no executor sandbox in the slave's state: %+v", st)
	return ""
}
