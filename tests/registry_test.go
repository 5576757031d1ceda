package tests

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
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

// After failover, the registry's slaves that do not re-register within
// --slave_reregister_timeout are removed, unless they are more than
// --recovery_slave_removal_limit of them: then the new master exits
// instead, and the registry keeps them.
func TestRecoverySlaveRemovalLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit float64 // one of two slaves comes back: 50% are missing
		exits bool
	}{
		{"40%", 0.4, true},
		{"50%", 0.5, false},
		{"0%", -1, true},
		{"default 100%", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := registrar.File{Path: filepath.Join(t.TempDir(), "registry")}
			c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: store}})
			back, gone := c.StartFakeSlave(slaveResources), c.StartFakeSlave(slaveResources)
			backID := cluster.Await(c, back.Registered())
			goneID := cluster.Await(c, gone.Registered())
			c.RT.Terminate(c.MasterPID)
			c.RT.Wait(c.MasterPID)

			m2 := master.New(master.Config{Registry: store, RecoverySlaveRemovalLimit: tc.limit})
			if _, err := m2.Start(c.RT); err != nil {
				t.Fatal(err)
			}
			reregistered := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, back.Self())
			c.Settle()
			if err := c.RT.Send(back.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{
				Slave: &mesos.SlaveInfo{Hostname: pb.String("localhost"), Id: backID},
			}); err != nil {
				t.Fatal(err)
			}
			cluster.Await(c, reregistered)
			c.Advance(10 * time.Minute)
			done := m2.Done()
			if !tc.exits {
				cluster.AssertPending(c, done)
				c.RT.Terminate(c.MasterPID)
				c.RT.Wait(c.MasterPID)
				if reg, err := store.Load().Get(); err != nil || len(reg.GetSlaves().GetSlaves()) != 1 || registrar.Holds(reg, goneID.GetValue()) {
					t.Fatalf("registry after the removal: %v %v", reg, err)
				}
				return
			}
			if !process.Await(c.RT, done, cluster.Wait) || done.Err() == nil || !strings.Contains(done.Err().Error(), "removal limit exceeded") {
				t.Fatalf("the new master: %v", done)
			}
			if reg, err := store.Load().Get(); err != nil || len(reg.GetSlaves().GetSlaves()) != 2 {
				t.Fatalf("registry after the exit: %v %v", reg, err)
			}
		})
	}
}

// With --registry_strict, a master refuses a re-registering slave its
// registry does not hold, even with the in-memory registry; without it,
// such a slave (say, from a master that failed over) is readmitted.
func TestRegistryStrictRefusesUnknownSlaves(t *testing.T) {
	for _, strict := range []bool{true, false} {
		c := cluster.Start(t, cluster.Options{Master: master.Config{RegistryStrict: strict}})
		fs := c.StartFakeSlave(slaveResources)
		cluster.Await(c, fs.Registered())
		other := c.StartFakeSlave(slaveResources)
		shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, other.Self())
		readmitted := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, other.Self())
		cluster.Await(c, other.Registered()) // its own process writes Info until then
		info := pb.Clone(other.Info).(*mesos.SlaveInfo)
		info.Id = &mesos.SlaveID{Value: pb.String("0f0f0f0f-1111-4222-8333-444444444444-S7")}
		if err := c.RT.Send(other.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{Slave: info}); err != nil {
			t.Fatal(err)
		}
		if strict {
			if m := cluster.Await(c, shutdown); !strings.Contains(m.GetMessage(), "the registry does not hold the id") {
				t.Fatalf("strict: shutdown %q", m.GetMessage())
			}
			cluster.AssertPending(c, readmitted)
			continue
		}
		if m := cluster.Await(c, readmitted); m.GetSlaveId().GetValue() != info.GetId().GetValue() {
			t.Fatalf("readmitted as %v", m.GetSlaveId())
		}
		cluster.AssertPending(c, shutdown)
	}
}

// unreadableStorage fails every load.
type unreadableStorage struct{ registrar.Memory }

func (*unreadableStorage) Load() future.Future[*messages.Registry] {
	return future.Failed[*messages.Registry](errors.New("ZooKeeper unreachable"))
}

// An elected master that cannot read the registry retries for
// --registry_fetch_timeout, then exits; it admits no slave meanwhile.
// The registrar's metrics are the master's.
func TestRegistryFetchTimeoutEndsTheMaster(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: &unreadableStorage{}, RegistryFetchTimeout: 30 * time.Second}})
	if _, ok := c.RT.Metrics().Snapshot(t.Context())["registrar/queued_operations"]; !ok {
		t.Fatal("no registrar/queued_operations metric")
	}
	fs := c.StartFakeSlave(slaveResources)
	c.Advance(29 * time.Second)
	cluster.AssertPending(c, c.Master.Done())
	c.Advance(time.Second)
	done := c.Master.Done()
	if !process.Await(c.RT, done, cluster.Wait) || done.Err() == nil || !strings.Contains(done.Err().Error(), "--registry_fetch_timeout") {
		t.Fatalf("master after the fetch timeout: %v", done)
	}
	cluster.AssertPending(c, fs.Registered())
}

// heldLoadStorage is a registry whose Load completes when the test says.
type heldLoadStorage struct {
	registrar.Memory
	loaded *future.Promise[*messages.Registry]
}

func (h *heldLoadStorage) Load() future.Future[*messages.Registry] { return h.loaded.Future() }

// A slave that registers while the new leader is still reading its
// registry is admitted as soon as the registry is read, without waiting
// for its next retry.
func TestRegistrationWhileTheRegistryIsReadIsHandledAfter(t *testing.T) {
	storage := &heldLoadStorage{loaded: future.NewPromise[*messages.Registry]()}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: storage}})
	fs := c.StartFakeSlave(slaveResources)
	c.Settle()
	cluster.AssertPending(c, fs.Registered())
	storage.loaded.Set(nil) // an empty registry
	cluster.Await(c, fs.Registered())
}

// After a failover, a slave the registry holds can be claimed only with
// the registry's hostname and, when that is an IP address, from it: a
// peer elsewhere cannot take a recovered slave's id before it is back.
func TestRecoveredSlaveCannotBeClaimedFromElsewhere(t *testing.T) {
	store := registrar.File{Path: filepath.Join(t.TempDir(), "registry")}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: store}})
	fs := c.StartFakeSlave(slaveResources) // hostname localhost
	slaveID := cluster.Await(c, fs.Registered())
	c.RT.Terminate(c.MasterPID)
	c.RT.Wait(c.MasterPID)
	m2 := master.New(master.Config{Registry: store})
	if _, err := m2.Start(c.RT); err != nil {
		t.Fatal(err)
	}
	c.Settle()
	for _, host := range []string{"evil", "127.0.0.2"} { // the address rule: master.TestClaimRefused
		shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, fs.Self())
		if err := c.RT.Send(fs.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{
			Slave: &mesos.SlaveInfo{Hostname: pb.String(host), Id: slaveID},
		}); err != nil {
			t.Fatal(err)
		}
		if m := cluster.Await(c, shutdown); m.GetMessage() != "Agent attempted to re-register with different IP / hostname" {
			t.Fatalf("claim as %s: shutdown %q", host, m.GetMessage())
		}
	}
	if n := len(cluster.Await(c, m2.Snapshot()).Slaves); n != 0 {
		t.Fatalf("the new master admitted %d slaves from the impostor", n)
	}
}
