package tests

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

func getJSON(t *testing.T, c *cluster.Cluster, path string, v any) {
	t.Helper()
	code, body := get(t, c, path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// /version, /system/stats.json, /master/slaves, /master/frameworks and
// /master/state-summary answer with Mesos's field names.
func TestOperatorEndpoints(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	slave := c.StartFakeSlave(slaveResources)
	sid := cluster.Await(c, slave.Registered())
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")

	var version map[string]any
	getJSON(t, c, "/version", &version)
	for _, k := range []string{"version", "build_date", "build_time", "build_user", "git_sha", "git_branch", "git_tag"} {
		if _, ok := version[k]; !ok {
			t.Errorf("/version lacks %s: %v", k, version)
		}
	}
	if version["version"] != c.Master.Info().GetVersion() {
		t.Errorf("/version %v, master %q", version["version"], c.Master.Info().GetVersion())
	}

	var stats map[string]float64
	getJSON(t, c, "/system/stats.json", &stats)
	for _, k := range []string{"cpus_total", "avg_load_1min", "avg_load_5min", "avg_load_15min", "mem_total_bytes", "mem_free_bytes"} {
		if _, ok := stats[k]; !ok {
			t.Errorf("/system/stats.json lacks %s: %v", k, stats)
		}
	}
	if stats["cpus_total"] < 1 || stats["mem_total_bytes"] <= 0 || stats["mem_free_bytes"] > stats["mem_total_bytes"] {
		t.Errorf("/system/stats.json %v", stats)
	}
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["system/cpus_total"] != stats["cpus_total"] || snap["system/mem_total_bytes"] != stats["mem_total_bytes"] {
		t.Errorf("system/* metrics %v, stats %v", snap, stats)
	}

	var slaves struct {
		Slaves []struct {
			ID        string             `json:"id"`
			PID       string             `json:"pid"`
			Hostname  string             `json:"hostname"`
			Resources map[string]any     `json:"resources"`
			Used      map[string]float64 `json:"used_resources"`
			Active    bool               `json:"active"`
		} `json:"slaves"`
	}
	getJSON(t, c, "/master/slaves", &slaves)
	if len(slaves.Slaves) != 1 || slaves.Slaves[0].ID != sid.GetValue() || !slaves.Slaves[0].Active || slaves.Slaves[0].Used["cpus"] != 1 {
		t.Errorf("/master/slaves %+v", slaves)
	}

	var frameworks struct {
		Frameworks []struct {
			ID    string           `json:"id"`
			Name  string           `json:"name"`
			Tasks []map[string]any `json:"tasks"`
		} `json:"frameworks"`
		Completed    []any `json:"completed_frameworks"`
		Unregistered []any `json:"unregistered_frameworks"`
	}
	getJSON(t, c, "/master/frameworks", &frameworks)
	if len(frameworks.Frameworks) != 1 || frameworks.Frameworks[0].ID != fid.GetValue() || len(frameworks.Frameworks[0].Tasks) != 1 ||
		frameworks.Completed == nil || frameworks.Unregistered == nil {
		t.Errorf("/master/frameworks %+v", frameworks)
	}

	var summary struct {
		Hostname string           `json:"hostname"`
		Slaves   []map[string]any `json:"slaves"`
		Frames   []map[string]any `json:"frameworks"`
	}
	getJSON(t, c, "/master/state-summary", &summary)
	if summary.Hostname == "" || len(summary.Slaves) != 1 || len(summary.Frames) != 1 {
		t.Fatalf("/master/state-summary %+v", summary)
	}
	sl, fw := summary.Slaves[0], summary.Frames[0]
	if sl["id"] != sid.GetValue() || sl["TASK_RUNNING"] != 1.0 || sl["TASK_FINISHED"] != 0.0 ||
		len(sl["framework_ids"].([]any)) != 1 || sl["framework_ids"].([]any)[0] != fid.GetValue() {
		t.Errorf("state-summary slave %v", sl)
	}
	if fw["id"] != fid.GetValue() || fw["name"] != "f1" || fw["TASK_RUNNING"] != 1.0 || fw["TASK_LOST"] != 0.0 ||
		len(fw["slave_ids"].([]any)) != 1 || fw["slave_ids"].([]any)[0] != sid.GetValue() {
		t.Errorf("state-summary framework %v", fw)
	}
	if _, hasTasks := fw["tasks"]; hasTasks {
		t.Errorf("state-summary lists tasks: %v", fw)
	}
}

// /master/tasks sorts by the tasks' first status time (descending by
// default, ascending with order=asc) and pages with limit and offset.
func TestTasksEndpointOrderAndPages(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	slave := c.StartFakeSlave("cpus:8;mem:4096")
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	// Launched in this order, one second apart: not the task ids' order.
	started := []string{"c", "a", "d", "b"}
	for _, id := range started {
		offers := s.NextOffers()
		c.Advance(time.Second)
		o := cluster.Await(c, offers)[0]
		update := s.NextUpdate()
		// Refuse nothing, so that the rest is offered at the next allocation.
		if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task(id, o, "cpus:1;mem:128")}, &mesos.Filters{RefuseSeconds: proto.Float64(0)}); err != nil {
			t.Fatal(err)
		}
		if st := cluster.Await(c, update); st.GetState() != mesos.TaskState_TASK_RUNNING {
			t.Fatalf("task %s: %v", id, st)
		}
	}
	ids := func(query string) []string {
		t.Helper()
		var out struct {
			Tasks []struct {
				ID string `json:"id"`
			} `json:"tasks"`
		}
		getJSON(t, c, "/master/tasks"+query, &out)
		got := []string{}
		for _, task := range out.Tasks {
			got = append(got, task.ID)
		}
		return got
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"b", "d", "a", "c"}},
		{"?order=desc", []string{"b", "d", "a", "c"}},
		{"?order=asc", []string{"c", "a", "d", "b"}},
		{"?order=asc&limit=2", []string{"c", "a"}},
		{"?order=asc&limit=2&offset=2", []string{"d", "b"}},
		{"?offset=3", []string{"c"}},
		{"?offset=9", []string{}},
		{"?limit=0", []string{}},
	} {
		got := ids(tc.query)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
				break
			}
		}
	}
}

// /help lists every process's endpoints with their help text; /help/<id>
// one process's, /help/<id>/<route> one endpoint's; ?format=json as Mesos.
func TestHelpEndpoint(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	code, body := get(t, c, "/help")
	text := string(body)
	for _, want := range []string{"/master/state\n", "/master/redirect\n", "/api/v1/scheduler\n", "/metrics/snapshot\n", "/version\n", "/system/stats.json\n", "Redirects to the leading master."} {
		if code != 200 || !strings.Contains(text, want) {
			t.Errorf("/help lacks %q: %d\n%s", want, code, text)
		}
	}
	var doc struct {
		Processes []struct {
			ID        string `json:"id"`
			Endpoints []struct {
				Name string `json:"name"`
				Text string `json:"text"`
			} `json:"endpoints"`
		} `json:"processes"`
	}
	getJSON(t, c, "/help?format=json", &doc)
	found := false
	for _, p := range doc.Processes {
		for _, e := range p.Endpoints {
			if p.ID == "master" && e.Name == "/tasks" && e.Text != "" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("/help?format=json lacks master /tasks: %+v", doc)
	}
	if code, body := get(t, c, "/help/master/redirect"); code != 200 || !strings.Contains(string(body), "Redirects to the leading master.") {
		t.Errorf("/help/master/redirect: %d %s", code, body)
	}
	if code, body := get(t, c, "/help/master"); code != 200 || !strings.Contains(string(body), "/master/state-summary") || strings.Contains(string(body), "/api/v1") {
		t.Errorf("/help/master: %d %s", code, body)
	}
	for _, path := range []string{"/help/no-such-process", "/help/master/no-such-route"} {
		if code, _ := get(t, c, path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// Tasks a readmitted slave runs for a framework this master does not hold
// (after a master failover) are /state's orphan_tasks, and that framework
// is in unregistered_frameworks (of /state and /master/frameworks).
func TestOrphanTasksInState(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	other := c.StartFakeSlave(slaveResources)
	cluster.Await(c, other.Registered())
	readmitted := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, other.Self())
	info := proto.Clone(other.Info).(*mesos.SlaveInfo)
	info.Id = &mesos.SlaveID{Value: proto.String("0f0f0f0f-1111-4222-8333-444444444444-S7")}
	orphan := &mesos.Task{
		Name: proto.String("o1"), TaskId: &mesos.TaskID{Value: proto.String("o1")},
		FrameworkId: &mesos.FrameworkID{Value: proto.String("0f0f0f0f-1111-4222-8333-444444444444-0003")},
		SlaveId:     info.Id, State: mesos.TaskState_TASK_RUNNING.Enum(),
		Resources: mustResources("cpus:1;mem:64"),
	}
	if err := c.RT.Send(other.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{Slave: info, Tasks: []*mesos.Task{orphan}}); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, readmitted)
	var state struct {
		Orphans []struct {
			ID          string `json:"id"`
			FrameworkID string `json:"framework_id"`
			State       string `json:"state"`
		} `json:"orphan_tasks"`
		Unregistered []string `json:"unregistered_frameworks"`
	}
	getJSON(t, c, "/master/state", &state)
	if len(state.Orphans) != 1 || state.Orphans[0].ID != "o1" || state.Orphans[0].State != "TASK_RUNNING" ||
		len(state.Unregistered) != 1 || state.Unregistered[0] != orphan.GetFrameworkId().GetValue() {
		t.Fatalf("state: %+v", state)
	}
	var frameworks struct {
		Unregistered []string `json:"unregistered_frameworks"`
	}
	getJSON(t, c, "/master/frameworks", &frameworks)
	if len(frameworks.Unregistered) != 1 {
		t.Fatalf("/master/frameworks: %+v", frameworks)
	}
}

// /master/state shows a task's discovery info and labels, and its
// statuses' labels and container status (network addresses), in Mesos's
// JSON form.
func TestStateShowsDiscoveryAndContainerStatus(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	ti := task("web", o, "cpus:1;mem:128")
	ti.Labels = &mesos.Labels{Labels: []*mesos.Label{{Key: proto.String("tier"), Value: proto.String("front")}}}
	ti.Discovery = &mesos.DiscoveryInfo{
		Visibility: mesos.DiscoveryInfo_EXTERNAL.Enum(), Name: proto.String("web"),
		Ports: &mesos.Ports{Ports: []*mesos.Port{{Number: proto.Uint32(8080), Name: proto.String("http"), Protocol: proto.String("tcp")}}},
	}
	running := s.NextUpdate()
	if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{ti}, nil); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, running)

	// The slave reports the container's address (as a network isolator
	// would), with labels.
	again := s.NextUpdate()
	uuid := mesos.NewUUID(c.RT.RandBytes)
	status := &mesos.TaskStatus{
		TaskId: ti.TaskId, State: mesos.TaskState_TASK_RUNNING.Enum(), SlaveId: o.SlaveId,
		Source: mesos.TaskStatus_SOURCE_EXECUTOR.Enum(), Timestamp: proto.Float64(1), Uuid: uuid[:],
		Labels: &mesos.Labels{Labels: []*mesos.Label{{Key: proto.String("ready"), Value: proto.String("yes")}}},
		ContainerStatus: &mesos.ContainerStatus{NetworkInfos: []*mesos.NetworkInfo{{
			IpAddresses: []*mesos.NetworkInfo_IPAddress{{Protocol: mesos.NetworkInfo_IPv4.Enum(), IpAddress: proto.String("10.1.2.3")}},
		}}},
	}
	if err := c.RT.Send(slave.Self(), c.MasterPID, &messages.StatusUpdateMessage{
		Update: &messages.StatusUpdate{FrameworkId: fid, SlaveId: o.SlaveId, Status: status, Timestamp: proto.Float64(1), Uuid: uuid[:]},
		Pid:    proto.String(slave.Self().String()),
	}); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, again)

	var state struct {
		Frameworks []struct {
			Tasks []struct {
				Labels    []map[string]string `json:"labels"`
				Discovery map[string]any      `json:"discovery"`
				Statuses  []struct {
					Labels          []map[string]string `json:"labels"`
					ContainerStatus map[string]any      `json:"container_status"`
				} `json:"statuses"`
			} `json:"tasks"`
		} `json:"frameworks"`
	}
	getJSON(t, c, "/master/state", &state)
	if len(state.Frameworks) != 1 || len(state.Frameworks[0].Tasks) != 1 {
		t.Fatalf("state %+v", state)
	}
	task := state.Frameworks[0].Tasks[0]
	if len(task.Labels) != 1 || task.Labels[0]["key"] != "tier" {
		t.Errorf("labels %v", task.Labels)
	}
	if task.Discovery["visibility"] != "EXTERNAL" || task.Discovery["name"] != "web" ||
		dig(task.Discovery, "ports", "ports", "0", "number") != 8080.0 || dig(task.Discovery, "ports", "ports", "0", "protocol") != "tcp" {
		t.Errorf("discovery %v", task.Discovery)
	}
	if len(task.Statuses) != 2 {
		t.Fatalf("statuses %+v", task.Statuses)
	}
	last := task.Statuses[1]
	if len(last.Labels) != 1 || last.Labels[0]["key"] != "ready" ||
		dig(last.ContainerStatus, "network_infos", "0", "ip_addresses", "0", "ip_address") != "10.1.2.3" ||
		dig(last.ContainerStatus, "network_infos", "0", "ip_addresses", "0", "protocol") != "IPv4" {
		t.Errorf("last status %+v", last)
	}
}
