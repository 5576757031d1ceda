package tests

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

func TestOffersFromSeveralSlavesAreInvalid(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	for i := 0; i < 2; i++ {
		cluster.Await(c, c.StartFakeSlave(slaveResources).Registered())
	}
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	got := cluster.Await(c, offers)
	if len(got) != 2 {
		t.Fatalf("%d offers, want one per slave", len(got))
	}
	u := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{got[0].GetId(), got[1].GetId()}, []*mesos.TaskInfo{task("t", got[0], "cpus:1")}, nil)
	st := cluster.Await(c, u)
	if st.GetState() != mesos.TaskState_TASK_LOST || st.GetReason() != mesos.TaskStatus_REASON_INVALID_OFFERS {
		t.Fatalf("launch over two slaves: %v %v", st.GetState(), st.GetReason())
	}
}

func TestTerminalTaskKeptUntilAcknowledged(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{ExplicitAcknowledgements: true})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task("t1", o, "cpus:1")}, nil)
	st := cluster.Await(c, running)
	if _, err := d.AcknowledgeStatusUpdate(st); err != nil {
		t.Fatal(err)
	}
	finished := s.NextUpdate()
	slave.Update(&mesos.TaskID{Value: proto.String("t1")}, mesos.TaskState_TASK_FINISHED)
	fin := cluster.Await(c, finished)
	if fin.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("update %v", fin.GetState())
	}
	c.Settle()
	if n := c.Master.TaskCount(); n != 1 {
		t.Fatalf("master holds %d tasks before the terminal ack, want 1", n)
	}
	ack := processtest.FutureProtobuf[*messages.StatusUpdateAcknowledgementMessage](c.Expect, c.MasterPID, slave.Self())
	if _, err := d.AcknowledgeStatusUpdate(fin); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, ack)
	if n := c.Master.TaskCount(); n != 0 {
		t.Fatalf("master holds %d tasks after the terminal ack, want 0", n)
	}
}

func TestTeardownEndpoint(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	slave := c.StartFakeSlave(slaveResources)
	cluster.Await(c, slave.Registered())
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")
	shutdown := processtest.FutureProtobuf[*messages.ShutdownFrameworkMessage](c.Expect, c.MasterPID, slave.Self())
	pr := future.NewPromise[int]()
	go func() {
		resp, err := http.Post("http://"+c.RT.Addr().String()+"/master/teardown", "application/x-www-form-urlencoded",
			strings.NewReader(url.Values{"frameworkId": {fid.GetValue()}}.Encode()))
		if err != nil {
			pr.Fail(err)
			return
		}
		resp.Body.Close()
		pr.Set(resp.StatusCode)
	}()
	if code := cluster.Await(c, pr.Future()); code != 200 {
		t.Fatalf("teardown answered %d", code)
	}
	if m := cluster.Await(c, shutdown); m.GetFrameworkId().GetValue() != fid.GetValue() {
		t.Fatalf("shutdown of %v", m.GetFrameworkId())
	}
}
