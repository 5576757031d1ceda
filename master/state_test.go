package master

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/jsonw"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current rendering")

// stateGoldenMaster is a small master holding one of everything the
// read-only endpoints render: reservations (static, dynamic with labels),
// a persistent volume, attributes of every type, strings that JSON
// escapes, offers, executors, labelled tasks with discovery, container and
// health, completed tasks and frameworks, orphan tasks, an inactive slave
// and a disconnected framework.
func stateGoldenMaster(tb testing.TB) *master {
	tb.Helper()
	m := newMaster(Config{Cluster: "golden", Version: "0.25.0", Flags: map[string]string{"quorum": "1", "work_dir": "/var/lib/<mesos>&"}})
	m.id = "master-id"
	m.start = time.Unix(1_800_000_000, 250_000_000)
	m.elected = m.start.Add(2 * time.Second)
	m.leader = true
	m.info = &mesos.MasterInfo{Hostname: proto.String("master.example")}
	at := func(i int) time.Time { return m.start.Add(time.Duration(i) * time.Second) }
	parse := func(text string) resources.Resources {
		rs, err := resources.Parse(text, "*")
		if err != nil {
			tb.Fatal(err)
		}
		return rs
	}
	labels := func(kv ...string) *mesos.Labels {
		l := &mesos.Labels{}
		for i := 0; i+1 < len(kv); i += 2 {
			l.Labels = append(l.Labels, &mesos.Label{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
		}
		return l
	}
	scalar := func(name string, v float64) *mesos.Resource {
		return &mesos.Resource{Name: proto.String(name), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(v)}, Role: proto.String("*")}
	}
	dynamic := scalar("cpus", 1.5)
	dynamic.Role = proto.String("web")
	dynamic.Reservation = &mesos.Resource_ReservationInfo{Principal: proto.String("ops"), Labels: labels("team", "a&b")}
	volume := scalar("disk", 64)
	volume.Role = proto.String("db")
	volume.Reservation = &mesos.Resource_ReservationInfo{Principal: proto.String("ops")}
	volume.Disk = &mesos.Resource_DiskInfo{Persistence: &mesos.Resource_DiskInfo_Persistence{Id: proto.String("vol-1"), Principal: proto.String("ops")},
		Volume: &mesos.Volume{ContainerPath: proto.String("data"), Mode: mesos.Volume_RW.Enum()}}
	reserved := parse("cpus(web):2;mem(web):512;cpus:4;mem:8192;disk:65536;ports:[31000-31999,32500-32600];gpus:1;bugs:{a,b}").
		Plus(resources.FromProto([]*mesos.Resource{dynamic, volume}))
	plain := parse("cpus:2;mem:1024;disk:4096;ports:[31000-32000]")
	addSlave := func(i int, host string, total resources.Resources, attrs []*mesos.Attribute) *slave {
		id := []string{"S0", "S1", "S2"}[i]
		info := &mesos.SlaveInfo{Id: &mesos.SlaveID{Value: proto.String(id)}, Hostname: proto.String(host), Attributes: attrs, Resources: total.ToProto()}
		s := &slave{id: id, info: info, pid: process.UPID{ID: "slave(1)", Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(5051+i))},
			version: "0.25.0", connected: true, active: true, registered: at(10 + i), total: total,
			tasks: map[string]map[string]*mesos.Task{}, executors: map[string]map[string]*mesos.ExecutorInfo{}, offers: map[string]*offer{}}
		m.slaves[id] = s
		s.enterBooks(&m.books)
		return s
	}
	s0 := addSlave(0, "rack<1>&\"quoted\"\u00e9\u2028", reserved, []*mesos.Attribute{
		{Name: proto.String("rack"), Type: mesos.Value_TEXT.Enum(), Text: &mesos.Value_Text{Value: proto.String("r1")}},
		{Name: proto.String("weight"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(0.5)}},
		{Name: proto.String("slots"), Type: mesos.Value_RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []*mesos.Value_Range{{Begin: proto.Uint64(1), End: proto.Uint64(4)}}}},
		{Name: proto.String("zones"), Type: mesos.Value_SET.Enum(), Set: &mesos.Value_Set{Item: []string{"a", "b"}}},
	})
	s1 := addSlave(1, "plain", plain, nil)
	s2 := addSlave(2, "idle", plain, nil)
	s2.active = false

	frameworkInfo := func(id, name string) *mesos.FrameworkInfo {
		return &mesos.FrameworkInfo{Id: &mesos.FrameworkID{Value: proto.String(id)}, Name: proto.String(name), User: proto.String("root"),
			Hostname: proto.String("sched.example"), Role: proto.String("web"), Principal: proto.String("ops"), FailoverTimeout: proto.Float64(3600),
			Checkpoint: proto.Bool(true), WebuiUrl: proto.String("http://sched.example:8080/?a=1&b=2")}
	}
	addFramework := func(info *mesos.FrameworkInfo, port uint16) *framework {
		f := &framework{id: info.GetId().GetValue(), info: info, pid: process.UPID{ID: "scheduler(1)", Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), port)},
			connected: true, active: true, registered: at(20), reregistered: at(30),
			tasks: map[string]*mesos.Task{}, offers: map[string]*offer{}, executors: map[string]map[string]*mesos.ExecutorInfo{}}
		m.frameworks[f.id] = f
		return f
	}
	task := func(fid string, s *slave, id string, state mesos.TaskState, res string) *mesos.Task {
		return &mesos.Task{Name: proto.String("task " + id), TaskId: &mesos.TaskID{Value: proto.String(id)},
			FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, SlaveId: s.info.Id, State: state.Enum(), Resources: parse(res).ToProto(),
			Statuses: []*mesos.TaskStatus{{State: mesos.TaskState_TASK_STAGING.Enum(), Timestamp: proto.Float64(1.8e9 + 0.125)}, {State: state.Enum(), Timestamp: proto.Float64(1.8e9 + 1)}}}
	}
	info := frameworkInfo("F1", "web<ui>")
	info.Capabilities = []*mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_REVOCABLE_RESOURCES.Enum()}}
	info.Labels = labels("owner", "team<1>")
	f1 := addFramework(info, 6001)
	running := task("F1", s0, "t-running", mesos.TaskState_TASK_RUNNING, "cpus:1;mem:128;ports:[31000-31001]")
	running.Labels = labels("canary", "yes")
	running.ExecutorId = &mesos.ExecutorID{Value: proto.String("exec-1")}
	running.Discovery = &mesos.DiscoveryInfo{Visibility: mesos.DiscoveryInfo_FRAMEWORK.Enum(), Name: proto.String("web")}
	running.Container = &mesos.ContainerInfo{Type: mesos.ContainerInfo_MESOS.Enum(), Hostname: proto.String("c1")}
	last := running.Statuses[1]
	last.Healthy = proto.Bool(true)
	last.Labels = labels("check", "ok")
	last.ContainerStatus = &mesos.ContainerStatus{NetworkInfos: []*mesos.NetworkInfo{{IpAddresses: []*mesos.NetworkInfo_IPAddress{{IpAddress: proto.String("10.1.0.7")}}}}}
	staging := task("F1", s1, "t-staging", mesos.TaskState_TASK_STAGING, "cpus:0.5;mem:64")
	staging.Statuses = nil
	for _, t := range []*mesos.Task{running, staging} {
		f1.tasks[t.GetTaskId().GetValue()] = t
		m.slaves[t.GetSlaveId().GetValue()].addTask(t)
	}
	f1.completed = []*mesos.Task{task("F1", s1, "t-done", mesos.TaskState_TASK_FINISHED, "cpus:0.25"), task("F1", s0, "t-failed", mesos.TaskState_TASK_FAILED, "mem:32")}
	exec := &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("exec-1")}, Name: proto.String("the executor"), Source: proto.String("src"),
		Command: &mesos.CommandInfo{Value: proto.String("./run --flag='<x>'")}, Resources: parse("cpus:0.1;mem:32").ToProto()}
	f1.executors["S0"] = map[string]*mesos.ExecutorInfo{"exec-1": exec}
	s0.executors["F1"] = map[string]*mesos.ExecutorInfo{"exec-1": exec}
	for i, s := range []*slave{s1, s0} {
		id := []string{"O-2", "O-1"}[i]
		res := []resources.Resources{parse("cpus:1;mem:512"), parse("cpus(web):2;ports:[31500-31600]")}[i]
		o := &offer{o: &mesos.Offer{Id: &mesos.OfferID{Value: proto.String(id)}}, f: f1, s: s, res: res}
		f1.offers[id], s.offers[id], m.offers[id] = o, o, o
		s.offered = s.offered.Plus(res)
	}

	f2 := addFramework(frameworkInfo("F2", "idle"), 6002)
	f2.connected, f2.active, f2.unregistered = false, false, at(40)

	gone := addFramework(frameworkInfo("F0", "gone"), 6000)
	gone.completed = []*mesos.Task{task("F0", s1, "t-old", mesos.TaskState_TASK_KILLED, "cpus:1")}
	delete(m.frameworks, "F0")
	m.completed = append(m.completed, gone)

	orphan := task("F9", s2, "t-orphan", mesos.TaskState_TASK_RUNNING, "cpus:0.5;mem:16")
	s2.addTask(orphan)
	return m
}

// goldenRender is what the read-only endpoints answer for m, by name.
func goldenRender(tb testing.TB, m *master) map[string]json.RawMessage {
	tb.Helper()
	out := map[string]json.RawMessage{}
	for name, write := range map[string]func(*stateCopy, *jsonw.Writer){
		"state":         (*stateCopy).writeState,
		"slaves":        (*stateCopy).writeSlavesOnly,
		"frameworks":    (*stateCopy).writeFrameworksOnly,
		"state-summary": (*stateCopy).writeSummary,
	} {
		b := m.copyState().render(write)
		if !json.Valid(b) {
			tb.Fatalf("%s: invalid JSON %s", name, b)
		}
		out[name] = b
	}
	return out
}

// The read-only endpoints render the golden fixture as they always have
// (testdata/state.golden.json; go test -run Golden -update rewrites it).
func TestStateEndpointsMatchGolden(t *testing.T) {
	got := goldenRender(t, stateGoldenMaster(t))
	path := filepath.Join("testdata", "state.golden.json")
	if *updateGolden {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for name := range want {
		var g, w any
		if err := json.Unmarshal(got[name], &g); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal(want[name], &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, got[name], "", "  ")
			t.Errorf("%s differs from %s; got:\n%s", name, path, pretty.String())
		}
	}
}
