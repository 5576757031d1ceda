package traceview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sample is a small trace: two lanes, a delivery of each fate, a link
// break, a partition and a launch, and (when violated) a violation
// after the third delivery.
func sample(violated bool) *Trace {
	t := &Trace{
		Title: "seed 7", Replay: "go run ./cmd/sim -seed 7 -schedule AQ",
		Schedule: []string{"1 masters, 1 slaves, 1 frameworks; 2 events (1 faults)", "  1s framework 0 launches 1 tasks"},
		Lanes: []Lane{
			{Name: "master 0", Kind: "master", Address: "10.0.0.1:5050"},
			{Name: "framework 0 (web)", Kind: "framework", Address: "10.0.2.1:8080"},
		},
		Deliveries: []Delivery{
			{At: time.Second, Sent: time.Second, Kind: "message", From: 1, To: 0, Type: "mesos.scheduler.Call", Body: "type:ACCEPT", Tasks: []string{"task-1"}},
			{At: 2 * time.Second, Sent: 2 * time.Second, Kind: "message", From: 0, To: 1, Type: "mesos.internal.StatusUpdateMessage", Tasks: []string{"task-1"}, Fate: Dropped},
			{At: 3 * time.Second, Sent: 2500 * time.Millisecond, Kind: "message", From: 0, To: 1, Type: "mesos.internal.StatusUpdateMessage", Tasks: []string{"task-1"}, Fate: Delayed},
			{At: 3 * time.Second, Sent: 3 * time.Second, Kind: "message", From: 0, To: 1, Type: "mesos.internal.StatusUpdateMessage", Body: `</script><b>"x"</b>`, Tasks: []string{"task-2"}, Fate: Duplicated},
			{At: 4 * time.Second, Sent: 4 * time.Second, Kind: "exited", From: 0, To: 1},
		},
		Events: []Event{
			{At: time.Second, Kind: "launch", Text: "1s framework 0 launches 1 tasks", Lanes: []int{1}},
			{At: 2 * time.Second, Until: 5 * time.Second, Kind: "partition", Fault: true, Text: "partition hosts {0}", Lanes: []int{0}},
		},
	}
	if violated {
		t.Violation = &Violation{Invariant: "terminal-update-last", Detail: "task fw/task-1: <TASK_RUNNING> after a terminal update", At: 3 * time.Second, Step: 3}
	}
	return t
}

// data extracts and decodes the page's trace data.
func data(t *testing.T, page string) model {
	t.Helper()
	const open = `<script type="application/json" id="trace-data">`
	i := strings.Index(page, open)
	j := strings.Index(page[i+len(open):], "</script>")
	if i < 0 || j < 0 {
		t.Fatal("no trace data in the page")
	}
	var m model
	if err := json.Unmarshal([]byte(page[i+len(open):i+len(open)+j]), &m); err != nil {
		t.Fatalf("trace data: %v", err)
	}
	return m
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trace *Trace
		has   []string
		not   []string
		check func(*testing.T, model)
	}{{
		name:  "violation",
		trace: sample(true),
		has: []string{
			`<div id="violation" data-invariant="terminal-update-last" data-step="3">`,
			"&lt;TASK_RUNNING&gt; after a terminal update",
			`<option value="mesos.internal.StatusUpdateMessage">StatusUpdateMessage (3)</option>`,
			`<option value="exited">exited (1)</option>`,
			`<option value="task-1">`, `<option value="task-2">`,
			"go run ./cmd/sim -seed 7 -schedule AQ", "  1s framework 0 launches 1 tasks",
			`<body data-deliveries="5">`,
		},
		not: []string{`id="ok"`, `<b>"x"`, `src="http`, `href="http`, "<link", "@import"},
		check: func(t *testing.T, m model) {
			if m.Violation == nil || m.Violation.Step != 3 || m.Violation.At != 3e6 {
				t.Errorf("violation %+v", m.Violation)
			}
			if len(m.D) != 5 || m.D[1][8] != float64(1) || m.D[2][8] != float64(2) || m.D[3][8] != float64(3) {
				t.Errorf("fates not kept: %v", m.D)
			}
			if m.D[2][1] != float64(2.5e6) {
				t.Errorf("a delayed message's send time: %v", m.D[2][1])
			}
			if m.D[3][6] != `</script><b>"x"</b>` {
				t.Errorf("body %q", m.D[3][6])
			}
			if len(m.Events) != 2 || !m.Events[1].Fault || m.Events[1].Until != 5e6 {
				t.Errorf("events %+v", m.Events)
			}
		},
	}, {
		name:  "no violation",
		trace: sample(false),
		has:   []string{`<div id="ok">no invariant violated</div>`},
		not:   []string{`id="violation"`},
		check: func(t *testing.T, m model) {
			if m.Violation != nil {
				t.Errorf("violation %+v", m.Violation)
			}
		},
	}, {
		name:  "empty",
		trace: &Trace{},
		has:   []string{"<title>gomesos sim: simulator run</title>", `<body data-deliveries="0">`},
		check: func(t *testing.T, m model) {
			if m.Lanes == nil || m.D == nil || m.Events == nil || m.Types == nil {
				t.Errorf("empty lists must be [] for the script: %+v", m)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tc.trace); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			for _, s := range tc.has {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(page, s) {
					t.Errorf("page has %q", s)
				}
			}
			// The data cannot close its script element early.
			if n := strings.Count(page, "</script>"); n != 2 {
				t.Errorf("%d </script> in the page, want 2", n)
			}
			tc.check(t, data(t, page))
			var again bytes.Buffer
			if err := Render(&again, tc.trace); err != nil || again.String() != page {
				t.Error("rendering the same trace twice gave different pages")
			}
		})
	}
}

// A big trace stays a modest file: the page holds the data once and
// draws only what is in view.
func TestRenderBig(t *testing.T) {
	tr := sample(true)
	for i := range 50000 {
		tr.Deliveries = append(tr.Deliveries, Delivery{At: time.Duration(i) * time.Millisecond, Kind: "message", From: i % 2, To: (i + 1) % 2,
			Type: "mesos.internal.PingSlaveMessage", Body: "connected:true", FromPID: "master@10.0.0.1:5050", ToPID: fmt.Sprintf("slave(%d)@10.0.1.1:5051", i%3)})
	}
	var b bytes.Buffer
	if err := Render(&b, tr); err != nil {
		t.Fatal(err)
	}
	if per := b.Len() / len(tr.Deliveries); per > 200 {
		t.Errorf("%d bytes a delivery", per)
	}
	if strings.Count(b.String(), "<line") > 0 {
		t.Error("the page draws in the browser, not in the file")
	}
}
