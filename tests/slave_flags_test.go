package tests

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// The slave's /flags shows its flags, and its /state shows a task's
// labels and discovery info as Mesos does.
func TestSlaveFlagsAndTaskLabels(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, pid, work := c.StartSlave(slaveResources, func(cfg *slave.Config) {
		cfg.Flags = map[string]string{"work_dir": cfg.WorkDir, "resources": slaveResources, "port": "5051"}
	})
	var flags struct {
		Flags map[string]string `json:"flags"`
	}
	getJSON(t, c, "/"+pid.ID+"/flags", &flags)
	if flags.Flags["work_dir"] != work || flags.Flags["resources"] != slaveResources || flags.Flags["port"] != "5051" {
		t.Fatalf("/%s/flags: %v (work_dir %s)", pid.ID, flags.Flags, work)
	}

	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	ti := commandTask("t1", o, "exec sleep 1000")
	ti.Labels = &mesos.Labels{Labels: []*mesos.Label{{Key: proto.String("tier"), Value: proto.String("back")}}}
	ti.Discovery = &mesos.DiscoveryInfo{Visibility: mesos.DiscoveryInfo_CLUSTER.Enum(), Name: proto.String("db")}
	running := s.NextUpdate()
	if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{ti}, nil); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, running)
	var state struct {
		Frameworks []struct {
			Executors []struct {
				Tasks []struct {
					ID        string              `json:"id"`
					Labels    []map[string]string `json:"labels"`
					Discovery map[string]any      `json:"discovery"`
				} `json:"tasks"`
			} `json:"executors"`
		} `json:"frameworks"`
	}
	getJSON(t, c, "/"+pid.ID+"/state", &state)
	if len(state.Frameworks) != 1 || len(state.Frameworks[0].Executors) != 1 || len(state.Frameworks[0].Executors[0].Tasks) != 1 {
		t.Fatalf("slave state %+v", state)
	}
	task := state.Frameworks[0].Executors[0].Tasks[0]
	if len(task.Labels) != 1 || task.Labels[0]["key"] != "tier" || task.Labels[0]["value"] != "back" ||
		task.Discovery["visibility"] != "CLUSTER" || task.Discovery["name"] != "db" {
		t.Fatalf("task in the slave's state %+v", task)
	}
}
