package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/sim/traceview"
)

// A recording run is the same run (same trace hash) and keeps what the
// viewer draws: lanes, deliveries with their task ids, the fates the
// message faults gave messages, and the faults as applied.
func TestRecording(t *testing.T) {
	s := Schedule{Shape: Shape{Masters: 1, Slaves: 2, Frameworks: 1}, Events: []Event{
		{At: time.Second, Kind: Launch, Count: 2},
		{At: 5 * time.Second, Kind: DuplicateMessages, Node: 1, Message: "mesos.internal.StatusUpdateMessage", Duration: time.Minute},
		{At: 5 * time.Second, Kind: DuplicateMessages, Node: 2, Message: "mesos.internal.StatusUpdateMessage", Duration: time.Minute},
		{At: 6 * time.Second, Kind: Kill, Pick: 0},
		{At: 20 * time.Second, Kind: DropMessages, Node: 1, Message: "mesos.internal.PongSlaveMessage", Duration: time.Minute},
		{At: 20 * time.Second, Kind: DropMessages, Node: 2, Message: "mesos.internal.PongSlaveMessage", Duration: time.Minute},
		{At: 90 * time.Second, Kind: DelayMessages, Node: 0, Delay: 2 * time.Second, Duration: 20 * time.Second},
		{At: 2 * time.Minute, Kind: Partition, Hosts: 1 << 1, Duration: 10 * time.Second},
	}}
	plain, err := Run(Config{Seed: 5}, s)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Run(Config{Seed: 5, Record: true}, s)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Violation != nil || rec.Violation != nil {
		t.Fatalf("%s\n%s", plain.Report(), rec.Report())
	}
	if plain.Trace != rec.Trace || plain.Recording != nil {
		t.Fatalf("recording changed the run: traces %016x and %016x", plain.Trace, rec.Trace)
	}
	tr := rec.Recording
	var lanes []string
	for _, l := range tr.Lanes {
		lanes = append(lanes, l.Name)
	}
	if want := []string{"master 0", "slave 0", "executors of slave 0", "slave 1", "executors of slave 1", "framework 0 (web)"}; !slices.Equal(lanes, want) {
		t.Errorf("lanes %q, want %q", lanes, want)
	}
	fates := map[traceview.Fate]int{}
	tasks := map[string]bool{}
	for i, d := range tr.Deliveries {
		fates[d.Fate]++
		for _, id := range d.Tasks {
			tasks[id] = true
		}
		if d.Kind == "message" && (d.From < 0 || d.To < 0) {
			t.Errorf("delivery %d %s -> %s has no lane", i, d.FromPID, d.ToPID)
		}
		if d.Fate == traceview.Delayed && !(d.Sent < d.At) {
			t.Errorf("delayed delivery %d sent at %s, delivered at %s", i, d.Sent, d.At)
		}
		if i > 0 && d.At < tr.Deliveries[i-1].At {
			t.Errorf("delivery %d out of time order", i)
		}
	}
	for _, f := range []traceview.Fate{traceview.Dropped, traceview.Delayed, traceview.Duplicated} {
		if fates[f] == 0 {
			t.Errorf("no %s delivery recorded (%v)", f, fates)
		}
	}
	if !tasks["task-1"] || !tasks["task-2"] {
		t.Errorf("task ids recorded: %v", tasks)
	}
	var kinds []string
	for _, e := range tr.Events {
		kinds = append(kinds, e.Kind)
		if e.Fault && e.Kind != "jump-clock" && e.Until <= e.At {
			t.Errorf("fault %q has no end", e.Text)
		}
	}
	if want := []string{"launch", "duplicate", "duplicate", "kill", "drop", "drop", "delay", "partition"}; !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
	if p := tr.Events[len(tr.Events)-1]; !slices.Equal(p.Lanes, []int{1, 2}) {
		t.Errorf("the partition of slave 0 covers lanes %v, want its slave's and its executors' (1, 2)", p.Lanes)
	}
	if tr.Title != "seed 5" || !strings.Contains(tr.Replay, "-seed 5 -schedule ") || len(tr.Schedule) != len(s.Events)+1 {
		t.Errorf("title %q, replay %q, %d schedule lines", tr.Title, tr.Replay, len(tr.Schedule))
	}
}
