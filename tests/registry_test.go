package tests

import (
	"path/filepath"
	"testing"
	"time"

	pb "google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// A new master recovers the admitted slaves from the registry: one that
// does not re-register within --slave_reregister_timeout is removed, the
// framework is told the slave is lost, and the slave is shut down if it
// talks again; reconciliation stays silent about it meanwhile.
func TestRegistryRecoveredSlaveMustComeBack(t *testing.T) {
	store := registrar.File{Path: filepath.Join(t.TempDir(), "registry")}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: store}})
	fs := c.StartFakeSlave(slaveResources)
	slaveID := cluster.Await(c, fs.Registered())
	_, sched, _ := c.StartFramework(cluster.FrameworkInfo("f1"), scheduler.Options{})

	// The master fails over to a new one that reads the registry.
	c.RT.Terminate(c.MasterPID)
	c.RT.Wait(c.MasterPID)
	registered := sched.NextRegistered() // the new master did not know it
	m2 := master.New(master.Config{Registry: store})
	if _, err := m2.Start(c.RT); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Second) // the driver's backoff
	cluster.Await(c, registered)

	lost := sched.NextSlaveLost()
	c.Advance(9 * time.Minute)
	cluster.AssertPending(c, lost)
	c.Advance(time.Minute)
	if id := cluster.Await(c, lost); id.GetValue() != slaveID.GetValue() {
		t.Fatalf("slave lost %v, want %v", id, slaveID)
	}
	shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, fs.Self())
	if err := c.RT.Send(fs.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{
		Slave: &mesos.SlaveInfo{Hostname: pb.String("localhost"), Id: slaveID},
	}); err != nil {
		t.Fatal(err)
	}
	if m := cluster.Await(c, shutdown); m.GetMessage() != "Agent attempted to re-register after removal" {
		t.Fatalf("shutdown %q", m.GetMessage())
	}
	// The registry is written behind the master; a stopping master
	// finishes writing it.
	c.RT.Terminate(c.MasterPID)
	c.RT.Wait(c.MasterPID)
	reg, err := store.Load().Get()
	if err != nil || len(reg.GetSlaves().GetSlaves()) != 0 {
		t.Fatalf("registry after the removal: %v %v", reg, err)
	}
}
