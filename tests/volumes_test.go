package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/slave/state"
	"github.com/gomesos/gomesos/tests/cluster"
)

func jsonResources(t *testing.T, js string) resources.Resources {
	t.Helper()
	r, err := resources.ParseJSON([]byte(js), "*")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reserveOp(rs resources.Resources) *mesos.Offer_Operation {
	return &mesos.Offer_Operation{Type: mesos.Offer_Operation_RESERVE.Enum(), Reserve: &mesos.Offer_Operation_Reserve{Resources: rs.ToProto()}}
}

func unreserveOp(rs resources.Resources) *mesos.Offer_Operation {
	return &mesos.Offer_Operation{Type: mesos.Offer_Operation_UNRESERVE.Enum(), Unreserve: &mesos.Offer_Operation_Unreserve{Resources: rs.ToProto()}}
}

func createOp(rs resources.Resources) *mesos.Offer_Operation {
	return &mesos.Offer_Operation{Type: mesos.Offer_Operation_CREATE.Enum(), Create: &mesos.Offer_Operation_Create{Volumes: rs.ToProto()}}
}

func destroyOp(rs resources.Resources) *mesos.Offer_Operation {
	return &mesos.Offer_Operation{Type: mesos.Offer_Operation_DESTROY.Enum(), Destroy: &mesos.Offer_Operation_Destroy{Volumes: rs.ToProto()}}
}

func launchOp(tasks ...*mesos.TaskInfo) *mesos.Offer_Operation {
	return &mesos.Offer_Operation{Type: mesos.Offer_Operation_LAUNCH.Enum(), Launch: &mesos.Offer_Operation_Launch{TaskInfos: tasks}}
}

func volumeTask(id string, o *mesos.Offer, res resources.Resources, command string) *mesos.TaskInfo {
	return &mesos.TaskInfo{
		Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
		Resources: res.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(command)},
	}
}

// nextOffer waits for the next offer, advancing the clock past refusal
// filters.
func nextOffer(t *testing.T, c *cluster.Cluster, sched *cluster.Scheduler) *mesos.Offer {
	t.Helper()
	offers := sched.NextOffers()
	c.Advance(6 * time.Second)
	return cluster.Await(c, offers)[0]
}

const (
	reservedJSON = `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}},
		{"name":"mem","type":"SCALAR","scalar":{"value":128},"role":"r","reservation":{"principal":"p"}},
		{"name":"disk","type":"SCALAR","scalar":{"value":100},"role":"r","reservation":{"principal":"p"}}]`
	volumeJSON = `[{"name":"disk","type":"SCALAR","scalar":{"value":50},"role":"r","reservation":{"principal":"p"},
		"disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}}]`
	taskOnReservedJSON = `[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5},"role":"r","reservation":{"principal":"p"}},
		{"name":"mem","type":"SCALAR","scalar":{"value":64},"role":"r","reservation":{"principal":"p"}}]`
)

// A framework reserves, creates a persistent volume and launches a task
// that writes to it, in one ACCEPT that also holds invalid operations
// (dropped, the others applied in order); the slave is restarted; the
// volume is offered back and a second task reads the file; then the
// framework destroys the volume and unreserves.
func TestFrameworkReservesAndKeepsVolumeAcrossSlaveRestart(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	const res = "cpus:2;mem:1024;disk:1024"
	s1, _, work := c.StartSlave(res, nil)
	info := checkpointingFramework("volumes")
	info.Role, info.Principal = proto.String("r"), proto.String("p")
	d, sched, _ := startFramework(t, c, info, scheduler.Options{})
	o := nextOffer(t, c, sched)

	reserved := jsonResources(t, reservedJSON)
	volume := jsonResources(t, volumeJSON)
	taskRes := jsonResources(t, taskOnReservedJSON).Plus(volume)
	otherRole := jsonResources(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"q","reservation":{"principal":"p"}}]`)
	checkpoints := processtest.FutureProtobuf[*messages.CheckpointResourcesMessage](c.Expect, c.MasterPID, process.Any)
	running, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.AcceptOffers([]*mesos.OfferID{o.GetId()}, []*mesos.Offer_Operation{
		reserveOp(otherRole), // another role's: dropped
		reserveOp(reserved),
		destroyOp(volume), // not there yet: dropped
		createOp(volume),
		createOp(volume), // the id is taken now: dropped
		launchOp(volumeTask("writer", o, taskRes, "echo hello > data/file")),
	}, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	if got := resources.FromProto(cluster.Await(c, checkpoints).GetResources()); !got.Equal(reserved) {
		t.Fatalf("first checkpoint %v, want %v", got, reserved)
	}
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("writer: %v %s", st.GetState(), st.GetMessage())
	}
	if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("writer: %v %s", st.GetState(), st.GetMessage())
	}
	volDir := filepath.Join(work, "volumes", "roles", "r", "v1")
	if b, err := os.ReadFile(filepath.Join(volDir, "file")); err != nil || string(b) != "hello\n" {
		t.Fatalf("volume content %q, %v", b, err)
	}
	pbs, err := os.ReadFile(filepath.Join(work, "meta", "resources", "resources.info"))
	if err != nil || len(pbs) == 0 {
		t.Fatalf("resources.info: %v", err)
	}

	// The volume and the reservation are offered back after the task.
	back := resources.FromProto(nextOffer(t, c, sched).GetResources())
	if !back.Contains(volume) || !back.Contains(reserved.Minus(jsonResources(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":50},"role":"r","reservation":{"principal":"p"}}]`))) {
		t.Fatalf("offer after the task: %v", back)
	}

	// The slave restarts on the same work directory: it re-registers with
	// its checkpointed resources, and the volume is offered again.
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)
	reregistered := processtest.FutureProtobuf[*messages.ReregisterSlaveMessage](c.Expect, process.Any, c.MasterPID)
	c.SpawnSlave(work, res, nil)
	c.Advance(time.Second)
	want, err := reserved.Apply(resources.Operation{Kind: resources.Create, Resources: volume})
	if err != nil {
		t.Fatal(err)
	}
	if got := resources.FromProto(cluster.Await(c, reregistered).GetCheckpointedResources()); !got.Equal(want) {
		t.Fatalf("re-registered with checkpointed %v", got)
	}
	var o2 *mesos.Offer
	for i := 0; i < 5 && o2 == nil; i++ {
		if o := nextOffer(t, c, sched); resources.FromProto(o.GetResources()).Contains(volume) {
			o2 = o
		} else {
			_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(1)})
		}
	}
	if o2 == nil {
		t.Fatal("the volume was not offered after the slave restart")
	}
	running, finished = sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.AcceptOffers([]*mesos.OfferID{o2.GetId()}, []*mesos.Offer_Operation{
		launchOp(volumeTask("reader", o2, taskRes, "grep -q hello data/file")),
	}, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	cluster.Await(c, running)
	if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("reader: %v %s", st.GetState(), st.GetMessage())
	}

	// Destroy, then unreserve everything, in one call.
	o3 := nextOffer(t, c, sched)
	for !resources.FromProto(o3.GetResources()).Contains(volume) {
		_, _ = d.DeclineOffer(o3.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(1)})
		o3 = nextOffer(t, c, sched)
	}
	last := processtest.FutureProtobuf[*messages.CheckpointResourcesMessage](c.Expect, c.MasterPID, process.Any)
	_, _ = d.AcceptOffers([]*mesos.OfferID{o3.GetId()}, []*mesos.Offer_Operation{destroyOp(volume)}, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	if got := resources.FromProto(cluster.Await(c, last).GetResources()); !got.Equal(reserved) {
		t.Fatalf("after DESTROY the checkpoint is %v", got)
	}
	c.Settle()
	if _, err := os.Stat(volDir); !os.IsNotExist(err) {
		t.Fatalf("destroyed volume's directory: %v", err)
	}
	o4 := nextOffer(t, c, sched)
	last = processtest.FutureProtobuf[*messages.CheckpointResourcesMessage](c.Expect, c.MasterPID, process.Any)
	_, _ = d.AcceptOffers([]*mesos.OfferID{o4.GetId()}, []*mesos.Offer_Operation{unreserveOp(reserved)}, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	if got := cluster.Await(c, last).GetResources(); len(got) != 0 {
		t.Fatalf("after UNRESERVE the checkpoint is %v", got)
	}
	if o5 := resources.FromProto(nextOffer(t, c, sched).GetResources()); !o5.Checkpointed().IsEmpty() || o5.Scalar("cpus") != 2 {
		t.Fatalf("offer after UNRESERVE: %v", o5)
	}
}

// reserveAndCreate reserves and creates the volume on the framework's
// first offer, launching tasks in the same call.
func reserveAndCreate(t *testing.T, c *cluster.Cluster, d *scheduler.Driver, sched *cluster.Scheduler, tasks func(o *mesos.Offer) []*mesos.TaskInfo) *mesos.Offer {
	t.Helper()
	o := nextOffer(t, c, sched)
	ops := []*mesos.Offer_Operation{reserveOp(jsonResources(t, reservedJSON)), createOp(jsonResources(t, volumeJSON))}
	if tasks != nil {
		ops = append(ops, launchOp(tasks(o)...))
	}
	_, _ = d.AcceptOffers([]*mesos.OfferID{o.GetId()}, ops, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	c.Settle()
	return o
}

// A volume a running task uses is not destroyed: the DESTROY is dropped
// and the directory stays.
func TestDestroyRefusedWhileVolumeInUse(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := c.StartSlave("cpus:2;mem:1024;disk:1024", nil)
	info := cluster.FrameworkInfo("volumes")
	info.Role, info.Principal = proto.String("r"), proto.String("p")
	d, sched, _ := startFramework(t, c, info, scheduler.Options{})
	volume := jsonResources(t, volumeJSON)
	running := sched.NextUpdate()
	reserveAndCreate(t, c, d, sched, func(o *mesos.Offer) []*mesos.TaskInfo {
		return []*mesos.TaskInfo{volumeTask("user", o, jsonResources(t, taskOnReservedJSON).Plus(volume), waitForGo)}
	})
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("user: %v %s", st.GetState(), st.GetMessage())
	}
	o := nextOffer(t, c, sched)
	_, _ = d.AcceptOffers([]*mesos.OfferID{o.GetId()}, []*mesos.Offer_Operation{destroyOp(volume)}, nil)
	c.Advance(time.Second)
	volDir := filepath.Join(work, "volumes", "roles", "r", "v1")
	if _, err := os.Stat(volDir); err != nil {
		t.Fatalf("the volume in use was destroyed: %v", err)
	}
	// The task sees the volume at its container path.
	if target, err := os.Readlink(filepath.Join(sandboxOf(t, work, "user"), "data")); err != nil || target != volDir {
		t.Fatalf("volume link %q, %v", target, err)
	}
	finished := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "user"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, finished)
}

// A slave that lost its checkpointed resources re-registers without them:
// the master's view wins and is sent again; the slave checkpoints it.
func TestMasterViewWinsOnCheckpointMismatch(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	const res = "cpus:2;mem:1024;disk:1024"
	s1, _, work := c.StartSlave(res, nil)
	info := cluster.FrameworkInfo("volumes")
	info.Role, info.Principal = proto.String("r"), proto.String("p")
	d, sched, _ := startFramework(t, c, info, scheduler.Options{})
	reserveAndCreate(t, c, d, sched, nil)
	want, _ := jsonResources(t, reservedJSON).Apply(resources.Operation{Kind: resources.Create, Resources: jsonResources(t, volumeJSON)})

	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)
	ckpt := filepath.Join(work, "meta", "resources", "resources.info")
	if err := os.Remove(ckpt); err != nil {
		t.Fatal(err)
	}
	resent := processtest.FutureProtobuf[*messages.CheckpointResourcesMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, res, nil)
	c.Advance(time.Second)
	if got := resources.FromProto(cluster.Await(c, resent).GetResources()); !got.Equal(want) {
		t.Fatalf("re-sent %v, want %v", got, want)
	}
	c.Settle()
	pbs, ok, err := readCheckpointed(ckpt)
	if err != nil || !ok || !resources.FromProto(pbs).Equal(want) {
		t.Fatalf("slave checkpoint after re-sending: %v %v %v", pbs, ok, err)
	}
}

func readCheckpointed(path string) ([]*mesos.Resource, bool, error) {
	return state.ReadResources(state.OS, path)
}

// A slave whose checkpointed reservations do not fit its new --resources
// does not start, and names the file to remove.
func TestSlaveRefusesCheckpointBeyondItsResources(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	s1, _, work := c.StartSlave("cpus:2;mem:1024;disk:1024", nil)
	info := cluster.FrameworkInfo("volumes")
	info.Role, info.Principal = proto.String("r"), proto.String("p")
	d, sched, _ := startFramework(t, c, info, scheduler.Options{})
	reserveAndCreate(t, c, d, sched, nil)
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)
	// Start afresh (a new slave id) with less disk than the reservation.
	if err := os.Remove(filepath.Join(work, "meta", "slaves", "latest")); err != nil {
		t.Fatal(err)
	}
	launcher, err := cluster.LauncherDir()
	if err != nil {
		t.Fatal(err)
	}
	s := slave.New(slave.Config{Master: c.MasterPID, Resources: "cpus:2;mem:1024;disk:10", WorkDir: work, LauncherDir: launcher, Strict: true})
	_, err = s.Start(c.RT)
	if err == nil || !strings.Contains(err.Error(), "incompatible") || !strings.Contains(err.Error(), "resources.info") {
		t.Fatalf("start with a checkpoint beyond the resources: %v", err)
	}
}
