package traceview

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"
)

//go:embed viewer.js
var viewerJS string

//go:embed viewer.css
var viewerCSS string

// fateCodes number the fates in the page's data.
var fateCodes = map[Fate]int{Delivered: 0, Dropped: 1, Delayed: 2, Duplicated: 3}

// model is the page's data: the trace in a compact form (a delivery is
// an array, message types an index into Types).
type model struct {
	Title     string      `json:"title"`
	Lanes     []laneJSON  `json:"lanes"`
	Types     []string    `json:"types"`
	D         [][]any     `json:"d"` // at µs, sent µs, kind (0 message, 1 exited), from, to, type, body, tasks, fate, from pid, to pid
	Events    []eventJSON `json:"events"`
	Violation *violJSON   `json:"violation"`
}

type laneJSON struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Addr string `json:"addr"`
}

type eventJSON struct {
	At    int64  `json:"at"`
	Until int64  `json:"until"`
	Kind  string `json:"kind"`
	Fault bool   `json:"fault"`
	Text  string `json:"text"`
	Lanes []int  `json:"lanes"`
}

type violJSON struct {
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
	At        int64  `json:"at"`
	Step      int    `json:"step"`
}

// typeName is what the type filter calls a delivery's type: its message
// type, or "exited" for a broken link.
func typeName(d Delivery) string {
	if d.Kind == "exited" || d.Type == "" {
		return "exited"
	}
	return d.Type
}

func us(d time.Duration) int64 { return d.Microseconds() }

// build makes the page's data from t, and the sorted message types and
// task ids with their counts (for the filters).
func build(t *Trace) (model, []string, map[string]int, []string) {
	m := model{Title: t.Title, Lanes: []laneJSON{}, Types: []string{}, D: [][]any{}, Events: []eventJSON{}}
	for _, l := range t.Lanes {
		m.Lanes = append(m.Lanes, laneJSON{Name: l.Name, Kind: l.Kind, Addr: l.Address})
	}
	counts := map[string]int{}
	tasks := map[string]bool{}
	for _, d := range t.Deliveries {
		counts[typeName(d)]++
		for _, id := range d.Tasks {
			tasks[id] = true
		}
	}
	types := make([]string, 0, len(counts))
	for name := range counts {
		types = append(types, name)
	}
	slices.Sort(types)
	m.Types = types
	index := make(map[string]int, len(types))
	for i, name := range types {
		index[name] = i
	}
	for _, d := range t.Deliveries {
		kind := 0
		if d.Kind == "exited" {
			kind = 1
		}
		var ids any = 0
		if len(d.Tasks) > 0 {
			ids = d.Tasks
		}
		m.D = append(m.D, []any{us(d.At), us(d.Sent), kind, d.From, d.To, index[typeName(d)], d.Body, ids, fateCodes[d.Fate], d.FromPID, d.ToPID})
	}
	for _, e := range t.Events {
		lanes := e.Lanes
		if lanes == nil {
			lanes = []int{}
		}
		m.Events = append(m.Events, eventJSON{At: us(e.At), Until: us(e.Until), Kind: e.Kind, Fault: e.Fault, Text: e.Text, Lanes: lanes})
	}
	if v := t.Violation; v != nil {
		m.Violation = &violJSON{Invariant: v.Invariant, Detail: v.Detail, At: us(v.At), Step: v.Step}
	}
	return m, types, counts, slices.Sorted(func(yield func(string) bool) {
		for id := range tasks {
			if !yield(id) {
				return
			}
		}
	})
}

// Render writes t as one self-contained HTML page.
func Render(w io.Writer, t *Trace) error {
	m, types, counts, tasks := build(t)
	data, err := json.Marshal(m) // escapes <, > and &: safe inside <script>
	if err != nil {
		return fmt.Errorf("traceview: encode trace: %w", err)
	}
	var b strings.Builder
	esc := html.EscapeString
	title := t.Title
	if title == "" {
		title = "simulator run"
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gomesos sim: %s</title>\n<style>\n%s</style>\n</head>\n", esc(title), viewerCSS)
	fmt.Fprintf(&b, "<body data-deliveries=\"%d\">\n<header>\n<h1>gomesos simulator: %s</h1>\n", len(t.Deliveries), esc(title))
	if v := t.Violation; v != nil {
		fmt.Fprintf(&b, "<div id=\"violation\" data-invariant=\"%s\" data-step=\"%d\">invariant <b>%s</b> violated at %s (after delivery %d): %s <button id=\"goto-violation\" type=\"button\">show</button></div>\n",
			esc(v.Invariant), v.Step, esc(v.Invariant), esc(v.At.String()), v.Step, esc(v.Detail))
	} else {
		b.WriteString("<div id=\"ok\">no invariant violated</div>\n")
	}
	if t.Replay != "" {
		fmt.Fprintf(&b, "<details class=\"replay\"><summary>replay line</summary><code>%s</code></details>\n", esc(t.Replay))
	}
	if len(t.Schedule) > 0 {
		fmt.Fprintf(&b, "<details class=\"schedule\"><summary>schedule (%d lines)</summary><pre>", len(t.Schedule))
		for _, l := range t.Schedule {
			b.WriteString(esc(l))
			b.WriteByte('\n')
		}
		b.WriteString("</pre></details>\n")
	}
	b.WriteString("<form id=\"filters\" onsubmit=\"return false\">\n<label>message type <select id=\"type-filter\">\n")
	fmt.Fprintf(&b, "<option value=\"\">every type (%d)</option>\n", len(t.Deliveries))
	for _, name := range types {
		fmt.Fprintf(&b, "<option value=\"%s\">%s (%d)</option>\n", esc(name), esc(strings.TrimPrefix(name, "mesos.internal.")), counts[name])
	}
	b.WriteString("</select></label>\n<label>task id <input id=\"task-filter\" list=\"task-ids\" size=\"24\" placeholder=\"any task\"></label>\n<datalist id=\"task-ids\">\n")
	for _, id := range tasks {
		fmt.Fprintf(&b, "<option value=\"%s\">\n", esc(id))
	}
	b.WriteString("</datalist>\n<label><input id=\"hide-pings\" type=\"checkbox\"> hide pings</label>\n<span id=\"shown\"></span>\n</form>\n</header>\n")
	b.WriteString("<div id=\"lanes\"></div>\n<div id=\"scroll\"><div id=\"spacer\"></div></div>\n<div id=\"detail\">click an arrow for its message</div>\n")
	b.WriteString("<noscript>The chart needs JavaScript; the trace is in the script element below.</noscript>\n")
	fmt.Fprintf(&b, "<script type=\"application/json\" id=\"trace-data\">%s</script>\n<script>\n%s</script>\n</body>\n</html>\n", data, viewerJS)
	_, err = io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("traceview: write: %w", err)
	}
	return nil
}
