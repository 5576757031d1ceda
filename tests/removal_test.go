package tests

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// Removals of unhealthy slaves wait for permits of
// --slave_removal_rate_limit; a removed slave that talks again is told to
// shut down.
func TestRateLimitedRemovalAndShutdownOfRemovedSlave(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Master: master.Config{SlaveRemovalRateLimit: "1/10mins"}})
	a := c.StartFakeSlave(slaveResources)
	b := c.StartFakeSlave(slaveResources)
	cluster.Await(c, a.Registered())
	cluster.Await(c, b.Registered())
	processtest.DropProtobufs[*messages.PongSlaveMessage](c.Expect, process.Any, process.Any)
	first := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, process.Any)
	second := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, process.Any, processtest.Nth(2))
	for i := 0; i < 6; i++ {
		c.Advance(15 * time.Second)
	}
	cluster.Await(c, first)
	cluster.AssertPending(c, second)
	c.Advance(9 * time.Minute)
	cluster.AssertPending(c, second)
	c.Advance(time.Minute)
	cluster.Await(c, second)
	snap := c.RT.Metrics().Snapshot(t.Context())
	if snap["master/slave_shutdowns_scheduled"] != 2 || snap["master/slave_shutdowns_completed"] != 2 || snap["master/slave_removals"] != 2 {
		t.Fatalf("removal metrics: %v", snap)
	}

	// The removed slave reports an update: it is told to shut down.
	shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, a.Self())
	_ = a.Send(c.MasterPID, &messages.StatusUpdateMessage{Update: &messages.StatusUpdate{
		FrameworkId: &mesos.FrameworkID{Value: proto.String("f")},
		SlaveId:     a.ID,
		Status:      &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t")}, State: mesos.TaskState_TASK_RUNNING.Enum()},
		Timestamp:   proto.Float64(1),
	}})
	if m := cluster.Await(c, shutdown); m.GetMessage() != "Status update from unknown agent" {
		t.Fatalf("shutdown message %q", m.GetMessage())
	}
}

// Reconciling a task on a slave that is disconnected (in transition)
// gets no answer; on an unknown slave it is TASK_LOST.
func TestReconcileDuringTransition(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	slave := c.StartFakeSlave(slaveResources)
	sid := cluster.Await(c, slave.Registered())
	d, s, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	c.Settle()
	// Break the master's link to the slave: it becomes disconnected.
	c.RT.Terminate(slave.Self())
	c.Settle()
	u := s.NextUpdate()
	_, _ = d.ReconcileTasks([]*mesos.TaskStatus{{TaskId: &mesos.TaskID{Value: proto.String("x")}, SlaveId: sid, State: mesos.TaskState_TASK_STAGING.Enum()}})
	cluster.AssertPending(c, u)
	_, _ = d.ReconcileTasks([]*mesos.TaskStatus{{TaskId: &mesos.TaskID{Value: proto.String("y")}, SlaveId: &mesos.SlaveID{Value: proto.String("nope")}, State: mesos.TaskState_TASK_STAGING.Enum()}})
	if st := cluster.Await(c, u); st.GetTaskId().GetValue() != "y" || st.GetState() != mesos.TaskState_TASK_LOST {
		t.Fatalf("reconcile on an unknown slave: %v", st)
	}
}
