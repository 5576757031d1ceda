package sim

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"

	"github.com/gomesos/gomesos/internal/browser"
	"github.com/gomesos/gomesos/mesos"
)

var (
	flagSeed  = flag.Uint64("sim.seed", 0, "replay the schedule this seed generates (TestSim)")
	flagSeeds = flag.Int("sim.seeds", 0, "seeds TestSimSeeds checks (default 1000; 10 with -short or -race)")
)

// seedCount is how many seeds the seed sweep checks.
func seedCount() int {
	switch {
	case *flagSeeds > 0:
		return *flagSeeds
	case testing.Short() || raceEnabled:
		return 10
	}
	return 1000
}

func TestSmoke(t *testing.T) {
	s := Schedule{Shape: Shape{Masters: 1, Slaves: 2, Frameworks: 1}, Events: []Event{
		{At: time.Second, Kind: Launch, Count: 3},
		{At: 30 * time.Second, Kind: Kill, Pick: 1},
		{At: 60 * time.Second, Kind: EndTask, Pick: 0, State: mesos.TaskState_TASK_FAILED},
	}}
	res, err := Run(Config{Seed: 1}, s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violation != nil {
		t.Fatal(res.Report())
	}
	if res.Delivered < 100 {
		t.Fatalf("only %d deliveries: the cluster did not run", res.Delivered)
	}
}

// TestSim is the property: for generated clusters and schedules, no
// invariant breaks, and the same seed gives the same trace. A failure is
// shrunk by gopter and printed with its replay line;
// `go test ./sim -run TestSim -sim.seed=N` replays seed N's schedule.
func TestSim(t *testing.T) {
	if *flagSeed != 0 {
		res, err := CheckSeed(Config{}, *flagSeed, GenOptions{}, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Violation != nil {
			shrunk := ShrinkResult(Config{}, res)
			writeTraceHTML(t, shrunk)
			t.Fatal(shrunk.Report())
		}
		t.Log(res.Report())
		return
	}
	params := gopter.DefaultTestParametersWithSeed(20261205)
	params.MinSuccessfulTests = 20
	if testing.Short() || raceEnabled {
		params.MinSuccessfulTests = 3
	}
	props := gopter.NewProperties(params)
	var last Result
	props.Property("invariants hold and runs replay", prop.ForAll(func(c Case) bool {
		res, err := Run(Config{Seed: c.Seed}, c.Schedule)
		if err != nil {
			t.Log(err)
			return false
		}
		last = res
		if res.Violation != nil {
			return false
		}
		again, err := Run(Config{Seed: c.Seed}, c.Schedule)
		if err != nil || again.Trace != res.Trace {
			res.Violation = &Violation{Invariant: "deterministic", Detail: "two runs of one seed gave different traces"}
			last = res
			return false
		}
		return true
	}, Gen(GenOptions{})))
	if !props.Run(gopter.NewFormatedReporter(false, 160, os.Stderr)) {
		writeTraceHTML(t, last)
		t.Fatalf("shrunk failing run:\n%s", last.Report())
	}
}

// TestSimSeeds checks many seeds on every core (Soak) and fails with the
// first violation, shrunk, and its replay line.
func TestSimSeeds(t *testing.T) {
	open := openFindings(t)
	var seeds []uint64
	for seed := uint64(1); seed <= uint64(seedCount()); seed++ {
		if note, ok := open[seed]; ok {
			t.Logf("seed %d skipped: an open finding (testdata/open.txt): %s", seed, note)
			continue
		}
		seeds = append(seeds, seed)
	}
	var stats SoakStats
	start := time.Now()
	failure, err := SoakSeeds(Config{}, seeds, runtime.GOMAXPROCS(0), GenOptions{}, !raceEnabled, &stats)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start).Seconds()
	t.Logf("%d seeds, %d events, %d deliveries in %.1fs (%.1f seeds/s)", stats.Seeds.Load(), stats.Events.Load(), stats.Deliveries.Load(), el, float64(stats.Seeds.Load())/el)
	if failure != nil {
		shrunk := ShrinkResult(Config{}, *failure)
		writeTraceHTML(t, shrunk)
		t.Fatalf("\n%s", shrunk.Report())
	}
}

// TestReplayRegressions replays every schedule under testdata/: each once
// made the simulator find a bug that is fixed now. A line is
// "seed schedule  # what it found".
func TestReplayRegressions(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.sched")
	if len(files) == 0 {
		t.Fatal("no regression schedules under testdata/")
	}
	for _, name := range files {
		for _, c := range readSchedules(t, name) {
			res, err := Run(Config{Seed: c.Seed}, c.Schedule)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res.Violation != nil {
				t.Errorf("%s: %s", name, res.Report())
				writeTraceHTML(t, res)
			}
		}
	}
}

// readSchedules reads a schedule file: lines "seed schedule  # note",
// blank lines and comments.
func readSchedules(t *testing.T, name string) []Case {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		seed, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := Decode(fields[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, Case{Seed: seed, Schedule: s})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// writeTraceHTML writes the trace viewer's page of a failing run next to
// its replay line: in $GOMESOS_ARTIFACTS when set (CI keeps that
// directory), else in a new temporary directory that is kept (the
// test's own is removed when it ends), and logs its path.
func writeTraceHTML(t *testing.T, res Result) {
	t.Helper()
	dir, err := browser.ArtifactsDir("")
	if err == nil && dir == "" {
		dir, err = os.MkdirTemp("", "gomesos-sim-trace-")
	}
	if err != nil {
		t.Logf("trace viewer: %v", err)
		return
	}
	path := filepath.Join(dir, fmt.Sprintf("sim-seed-%d.html", res.Seed))
	if err := WriteHTML(path, Config{}, res); err != nil {
		t.Logf("trace viewer: %v", err)
		return
	}
	t.Logf("trace viewer: %s", path)
}

func TestScheduleEncoding(t *testing.T) {
	s := Generate(99, GenOptions{})
	back, err := Decode(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.Encode() != s.Encode() || len(back.Events) != len(s.Events) {
		t.Fatal("a schedule does not survive encoding")
	}
	for _, bad := range []string{"", "!!", "AQ", s.Encode()[:10]} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

// The simulator sees every launch the driver makes (it is what the
// launched-tasks-accounted invariant checks).
func TestLaunchesAreRecorded(t *testing.T) {
	c, err := New(Config{Seed: 3}, Shape{Masters: 1, Slaves: 1, Frameworks: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Apply(Event{Kind: Launch, Count: 2})
	if err := c.Advance(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(c.truth.launched); n != 2 {
		t.Fatalf("%d launches recorded, want 2", n)
	}
	if err := c.Quiesce(); err != nil {
		t.Fatal(err)
	}
}

// openFindings reads testdata/open.txt: seeds whose generated schedule
// breaks an invariant for a reason not fixed yet, one per line
// ("seed  # what it shows"). The seed sweep skips them and says so; each
// is a bug to fix (then its line moves to a regression schedule).
func openFindings(t *testing.T) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	b, err := os.ReadFile("testdata/open.txt")
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		head, note, _ := strings.Cut(line, "#")
		f := strings.Fields(head)
		if len(f) == 0 {
			continue
		}
		seed, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			t.Fatalf("testdata/open.txt: %v", err)
		}
		out[seed] = strings.TrimSpace(note)
	}
	return out
}
