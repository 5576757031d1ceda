package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// startSlave starts a real slave and waits for its registration.
func startSlave(t *testing.T, c *cluster.Cluster) (*slave.Slave, process.UPID, string) {
	t.Helper()
	return c.StartSlave(slaveResources, nil)
}

func commandTask(id string, o *mesos.Offer, command string) *mesos.TaskInfo {
	return cluster.CommandTask(id, o, "cpus:1;mem:64", command)
}

func TestSlaveRunsCommandTaskToFinish(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := startSlave(t, c)
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running, finished := s.NextUpdate(), s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "echo hello from a real task")}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING || st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR {
		t.Fatalf("first update: %v", st)
	}
	if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("second update: %v %q", st.GetState(), st.GetMessage())
	}
	matches := globNoLatest(filepath.Join(work, "slaves", "*", "frameworks", "*", "executors", "t1", "runs", "*", "stdout"))
	if len(matches) != 1 {
		t.Fatalf("sandbox stdout files: %v", matches)
	}
	if out, _ := os.ReadFile(matches[0]); string(out) != "hello from a real task\n" {
		t.Fatalf("task stdout %q", out)
	}
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["slave/tasks_finished"] != 1 || snap["slave/valid_status_updates"] != 2 || snap["slave/registered"] != 1 {
		t.Fatalf("slave metrics: finished %v valid updates %v registered %v",
			snap["slave/tasks_finished"], snap["slave/valid_status_updates"], snap["slave/registered"])
	}
}

func TestSlaveStateEndpoint(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, pid, _ := startSlave(t, c)
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "sleep 100")}, nil)
	cluster.Await(c, running)
	code, body := get(t, c, "/"+pid.ID+"/state")
	var state struct {
		ID         string `json:"id"`
		PID        string `json:"pid"`
		Frameworks []struct {
			ID        string `json:"id"`
			Executors []struct {
				Directory string `json:"directory"`
				Tasks     []struct {
					ID    string `json:"id"`
					State string `json:"state"`
				} `json:"tasks"`
			} `json:"executors"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal(body, &state); code != 200 || err != nil {
		t.Fatalf("GET slave state: %d %v\n%s", code, err, body)
	}
	if state.PID != pid.String() || len(state.Frameworks) != 1 || state.Frameworks[0].ID != fid.GetValue() ||
		len(state.Frameworks[0].Executors) != 1 || state.Frameworks[0].Executors[0].Tasks[0].State != "TASK_RUNNING" ||
		state.Frameworks[0].Executors[0].Directory == "" {
		t.Fatalf("slave state: %s", body)
	}
	if code, _ := get(t, c, "/"+pid.ID+"/health"); code != 200 {
		t.Fatalf("slave health: %d", code)
	}
	killed := s.NextUpdate()
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("t1")})
	cluster.Await(c, killed)
}

func TestSlaveKillsAndFailsCommandTasks(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	startSlave(t, c)
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	upd := []func() *mesos.TaskStatus{}
	for i := 0; i < 4; i++ {
		f := s.NextUpdate()
		upd = append(upd, func() *mesos.TaskStatus { return cluster.Await(c, f) })
	}
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{
		commandTask("sleeper", o, "sleep 100"),
		commandTask("failer", o, "exit 7"),
	}, nil)
	states := map[string][]mesos.TaskState{}
	record := func(st *mesos.TaskStatus) {
		states[st.GetTaskId().GetValue()] = append(states[st.GetTaskId().GetValue()], st.GetState())
	}
	record(upd[0]())
	record(upd[1]())
	record(upd[2]())
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("sleeper")})
	record(upd[3]())
	want := map[string][]mesos.TaskState{
		"sleeper": {mesos.TaskState_TASK_RUNNING, mesos.TaskState_TASK_KILLED},
		"failer":  {mesos.TaskState_TASK_RUNNING, mesos.TaskState_TASK_FAILED},
	}
	for id, w := range want {
		if len(states[id]) != 2 || states[id][0] != w[0] || states[id][1] != w[1] {
			t.Fatalf("task %s went %v, want %v", id, states[id], w)
		}
	}
}
