package tests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomesos/gomesos/detector"
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

// Removing a slave with several tasks sends their TASK_LOST updates in
// task id order, the same in every run (no map order leaks).
func TestSlaveRemovalLosesTasksInTaskIDOrder(t *testing.T) {
	ids := []string{"t5", "t1", "t4", "t2", "t3"}
	want := "t1 t2 t3 t4 t5"
	for run := 0; run < 3; run++ {
		c := cluster.Start(t, cluster.Options{})
		fs := c.StartFakeSlave(slaveResources)
		cluster.Await(c, fs.Registered())
		d, sched, _ := c.StartFramework(cluster.FrameworkInfo("f1"), scheduler.Options{})
		offers := sched.NextOffers()
		c.Advance(time.Second)
		o := cluster.Await(c, offers)[0]
		var tasks []*mesos.TaskInfo
		for _, id := range ids {
			tasks = append(tasks, task(id, o, "cpus:0.1;mem:16"))
		}
		if _, err := d.LaunchTasks([]*mesos.OfferID{o.GetId()}, tasks, nil); err != nil {
			t.Fatal(err)
		}
		for range ids {
			if st := cluster.Await(c, sched.NextUpdate()); st.GetState() != mesos.TaskState_TASK_RUNNING {
				t.Fatalf("update %v, want TASK_RUNNING", st)
			}
		}
		if err := fs.Send(c.MasterPID, &messages.UnregisterSlaveMessage{SlaveId: fs.ID}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for range ids {
			st := cluster.Await(c, sched.NextUpdate())
			if st.GetState() != mesos.TaskState_TASK_LOST {
				t.Fatalf("update %v, want TASK_LOST", st)
			}
			got = append(got, st.GetTaskId().GetValue())
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("run %d: TASK_LOST order %v, want %s", run, got, want)
		}
	}
}

// failingStorage is a registry Storage whose stores fail once broken.
type failingStorage struct {
	registrar.Memory
	broken atomic.Bool
}

func (s *failingStorage) Store(reg *messages.Registry) future.Future[future.Nothing] {
	if s.broken.Load() {
		return future.Failed[future.Nothing](errors.New("disk on fire"))
	}
	return s.Memory.Store(reg)
}

// A slave is told it is registered only once the registry holds it; a
// registry that cannot be written is retried for --registry_store_timeout,
// then the master exits rather than admit the slave.
func TestRegistryStoreFailureEndsTheMaster(t *testing.T) {
	storage := &failingStorage{}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: storage, RegistryStoreTimeout: 20 * time.Second}})
	storage.broken.Store(true)
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	fs := c.StartFakeSlave(slaveResources)
	c.Advance(19 * time.Second)
	cluster.AssertPending(c, registered)
	cluster.AssertPending(c, c.Master.Done())
	c.Advance(time.Second)
	done := c.Master.Done()
	if !process.Await(c.RT, done, cluster.Wait) || done.Err() == nil || !strings.Contains(done.Err().Error(), "disk on fire") {
		t.Fatalf("master after the store timeout: %v", done)
	}
	cluster.AssertPending(c, registered)
	cluster.AssertPending(c, fs.Registered())
}

// With an unwritable --work_dir the elected master cannot record itself
// in the registry: it exits after --registry_store_timeout (20 s), and
// never admits a slave.
func TestUnwritableRegistryFileEndsTheMaster(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: registrar.File{Path: filepath.Join(blocker, "registry")}}})
	fs := c.StartFakeSlave(slaveResources)
	c.Advance(10 * time.Second)
	cluster.AssertPending(c, c.Master.Done())
	c.Advance(10 * time.Second)
	done := c.Master.Done()
	if !process.Await(c.RT, done, cluster.Wait) || done.Err() == nil {
		t.Fatalf("master with an unwritable registry: %v", done)
	}
	cluster.AssertPending(c, fs.Registered())
}

// Masters elect a leader in an in-memory group: a standby drops messages
// until the leader loses its session; then the leader exits and the
// standby leads. Each master has its own runtime.
func TestInMemoryElectionFailsOver(t *testing.T) {
	g := detector.NewGroup()
	c1, c2 := g.Contender(), g.Contender()
	m1 := cluster.Start(t, cluster.Options{Master: master.Config{Contender: c1, Detector: g.Detector()}})
	m2 := cluster.Start(t, cluster.Options{Master: master.Config{Contender: c2, Detector: g.Detector()}})
	elected := func(c *cluster.Cluster) float64 {
		c.Settle()
		return c.RT.Metrics().Snapshot(t.Context())["master/elected"]
	}
	if elected(m1) != 1 || elected(m2) != 0 {
		t.Fatalf("elected: m1 %v, m2 %v", elected(m1), elected(m2))
	}
	if l := g.Leader(); l.GetId() != m1.Master.Info().GetId() {
		t.Fatalf("group leader %v", l)
	}
	c1.Expire()
	done := m1.Master.Done()
	if !process.Await(m1.RT, done, cluster.Wait) || !errors.Is(done.Err(), detector.ErrLost) {
		t.Fatalf("the old leader: %v", done)
	}
	if elected(m2) != 1 {
		t.Fatal("the standby was not elected")
	}
	// A framework following the group finds the new leader.
	d := scheduler.NewDriver(m2.RT, cluster.NewScheduler(), cluster.FrameworkInfo("f1"), process.UPID{},
		scheduler.Options{Detector: g.Detector()})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = d.Abort() })
	reg := processtest.FutureProtobuf[*messages.FrameworkRegisteredMessage](m2.Expect, m2.MasterPID, d.PID())
	if m := cluster.Await(m2, reg); m.GetMasterInfo().GetId() != m2.Master.Info().GetId() {
		t.Fatalf("registered with %v", m.GetMasterInfo())
	}
}

// A driver with a standalone detector and no master pid subscribes with
// the appointed master.
func TestDriverFollowsADetector(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	sched := cluster.NewScheduler()
	registered := sched.NextRegistered()
	d := scheduler.NewDriver(c.RT, sched, cluster.FrameworkInfo("f1"), process.UPID{},
		scheduler.Options{Detector: detector.NewStandalone(c.Master.Info())})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = d.Abort() })
	if id := cluster.Await(c, registered); id.GetValue() == "" {
		t.Fatal("no framework id")
	}
}
