package loadgen

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
)

// startMaster runs a master on a runtime of its own (its own port), so
// the load reaches it over the wire.
func startMaster(t *testing.T) process.UPID {
	t.Helper()
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	m := master.New(master.Config{})
	pid, err := m.Start(rt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return pid
}

// TestFleetRunsTasksExactlyOnce is the CI-sized load: 2,000 emulated
// slaves (300 under -race or -short) register with a master over the
// wire, four frameworks launch tasks for 10 s (5 s) with each task
// running 2 s, then every launched task must have finished exactly once,
// with no slave shut down and nothing lost.
func TestFleetRunsTasksExactlyOnce(t *testing.T) {
	slaves, window := 2000, 10*time.Second
	if testing.Short() || raceEnabled {
		// The race detector slows every message several times over.
		slaves, window = 300, 5*time.Second
	}
	pid := startMaster(t)
	r, err := Run(Config{
		Master: pid, Slaves: slaves,
		Slave:      SlaveConfig{Resources: "cpus:4;mem:4096", TaskDuration: 2 * time.Second},
		Frameworks: 4, Framework: FrameworkConfig{TasksPerOffer: 2, TaskResources: "cpus:1;mem:256"},
		Duration: window, RegisterTimeout: time.Minute, DrainTimeout: time.Minute,
		Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slaves %s finished=%d resent=%d", r.Line(MasterFigures{-1, -1, -1}), r.Finished, r.Resent)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
}
