package loadgen

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
)

// electedMaster is a master of an in-memory election group, on a runtime
// of its own.
type electedMaster struct {
	rt        *process.Runtime
	m         *master.Master
	contender *detector.GroupContender
}

func startElected(t *testing.T, g *detector.Group) *electedMaster {
	t.Helper()
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	c := g.Contender()
	m := master.New(master.Config{Contender: c, Detector: g.Detector()})
	if _, err := m.Start(rt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return &electedMaster{rt: rt, m: m, contender: c}
}

// TestFleetFollowsFailover runs slaves and frameworks with running tasks
// against two masters of an in-memory election group, fails the leader
// (its candidacy expires and its runtime closes, breaking every
// connection), and checks that every slave re-registers with the new
// leader, every framework resubscribes, and no task is lost.
func TestFleetFollowsFailover(t *testing.T) {
	slaves, tasks := 500, 200
	if testing.Short() || raceEnabled {
		slaves, tasks = 200, 100
	}
	g := detector.NewGroup()
	m1 := startElected(t, g)
	startElected(t, g)
	c, err := Start(Config{
		Detector: g.Detector(), Slaves: slaves,
		Slave:      SlaveConfig{Resources: "cpus:4;mem:4096", BackoffFactor: 200 * time.Millisecond},
		Frameworks: 2, Framework: FrameworkConfig{TasksPerOffer: 2, TaskResources: "cpus:1;mem:128", MaxTasks: tasks / 2},
		RegisterTimeout: time.Minute, Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.WaitRegistered(); !ok {
		t.Fatalf("%d of %d slaves registered", c.Fleet.Counters().Registered.Load(), slaves)
	}
	if err := c.StartFrameworks(); err != nil {
		t.Fatal(err)
	}
	c.Launch(true)
	if !c.WaitFor(time.Minute, func() (bool, string) {
		r := c.Frameworks[0].RunningCount() + c.Frameworks[1].RunningCount()
		return r == tasks, fmt.Sprintf("running %d/%d", r, tasks)
	}) {
		t.Fatal("the tasks did not all start")
	}
	c.Launch(false)

	t0 := c.Now()
	m1.contender.Expire()
	process.Await(m1.rt, m1.m.Done(), time.Minute)
	m1.rt.Close()
	if !c.WaitFor(time.Minute, func() (bool, string) {
		k := c.Fleet.Counters().Reregistered.Load()
		return k >= int64(slaves), fmt.Sprintf("re-registered %d/%d", k, slaves)
	}) {
		t.Fatalf("%d of %d slaves re-registered", c.Fleet.Counters().Reregistered.Load(), slaves)
	}
	if !c.WaitFor(time.Minute, func() (bool, string) {
		for _, f := range c.Frameworks {
			if !f.Stats().Reregistered.After(t0) && !f.Stats().Registered.After(t0) {
				return false, "frameworks resubscribing"
			}
		}
		return true, ""
	}) {
		t.Fatal("the frameworks did not resubscribe")
	}
	var rereg []time.Duration
	for _, st := range c.Fleet.Times(time.Minute) {
		rereg = append(rereg, st.Reregistered.Sub(t0))
	}
	for _, f := range c.Frameworks {
		s := f.Stats()
		t.Logf("framework: %d disconnects, %d subscriptions", s.Disconnects, s.Subscribed)
		if n := s.Terminal[mesos.TaskState_TASK_LOST]; n > 0 || len(s.Errors) > 0 {
			t.Errorf("framework: %d tasks lost, errors %v", n, s.Errors)
		}
	}
	t.Logf("failover slaves=%d rereg_p50_s=%.2f rereg_p99_s=%.2f", slaves, Percentile(rereg, 0.5).Seconds(), Percentile(rereg, 0.99).Seconds())
}
