package loadgen

import (
	"encoding/json"
	"net/http"
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
// with no slave shut down and nothing lost. Meanwhile an operator reads
// the master's state endpoints, which are rendered off the master's
// process from a copy (under -race: nothing the copy reaches changes).
func TestFleetRunsTasksExactlyOnce(t *testing.T) {
	slaves, window := 2000, 10*time.Second
	if testing.Short() || raceEnabled {
		// The race detector slows every message several times over.
		slaves, window = 300, 5*time.Second
	}
	pid := startMaster(t)
	stop := scrape(t, pid)
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
	reads := stop()
	if reads == 0 {
		t.Error("no state endpoint was read during the load")
	}
	t.Logf("slaves %s finished=%d resent=%d state_reads=%d", r.Line(MasterFigures{-1, -1, -1}), r.Finished, r.Resent, reads)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
}

// scrape reads /master/state, /master/state-summary and /master/frameworks
// in turn every 100 ms until stop is called, failing t on a response that
// is not a JSON object with the expected member; stop returns how many
// were read.
func scrape(t *testing.T, pid process.UPID) (stop func() int) {
	t.Helper()
	done, finished := make(chan struct{}), make(chan int)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond) // load, not a wait
		defer tick.Stop()
		n := 0
		for i := 0; ; i++ {
			select {
			case <-done:
				finished <- n
				return
			case <-tick.C:
			}
			path, member := [...]string{"state", "state-summary", "frameworks"}[i%3], [...]string{"slaves", "frameworks", "frameworks"}[i%3]
			resp, err := http.Get("http://" + pid.Addr.String() + "/master/" + path)
			if err != nil {
				t.Errorf("GET /master/%s: %v", path, err)
				continue
			}
			var body map[string]json.RawMessage
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil || body[member] == nil {
				t.Errorf("/master/%s: %v, members %d", path, err, len(body))
				continue
			}
			n++
		}
	}()
	return func() int { close(done); return <-finished }
}
