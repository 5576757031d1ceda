package sim

import (
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/sim/traceview"
)

// recorder keeps what a recording run (Config.Record) shows in the trace
// viewer: every delivery with its text and task ids, the fates the
// message faults gave messages, and the events as applied.
type recorder struct {
	t     traceview.Trace
	lanes map[string]int // host:port → lane
	// held are messages a delay holds, and copied those a duplicate
	// fault copies: the next matching delivery is the delayed one, or
	// the one after the original is the copy.
	held, copied []pendingMessage
	// step is the number of deliveries before the violation (-1: none
	// yet).
	step int
}

type pendingMessage struct {
	from, to, name, body string
	sent                 time.Duration
	seen                 bool // copied: the original was delivered
}

// recordBodyLimit is how much of a message's text a recording keeps.
const recordBodyLimit = 4000

func newRecorder(c *Cluster) *recorder {
	r := &recorder{lanes: map[string]int{}, step: -1}
	add := func(name, kind string, addr string) {
		r.lanes[addr] = len(r.t.Lanes)
		r.t.Lanes = append(r.t.Lanes, traceview.Lane{Name: name, Kind: kind, Address: addr})
	}
	for i := range c.shape.Masters {
		add(fmt.Sprintf("master %d", i), "master", fmt.Sprintf("%s:5050", c.hostIP(i)))
	}
	for j := range c.shape.Slaves {
		add(fmt.Sprintf("slave %d", j), "slave", fmt.Sprintf("%s:5051", c.hostIP(c.shape.Masters+j)))
		add(fmt.Sprintf("executors of slave %d", j), "executor", fmt.Sprintf("%s:5052", c.hostIP(c.shape.Masters+j)))
	}
	for k := range c.shape.Frameworks {
		add(fmt.Sprintf("framework %d (%s)", k, FrameworkRole(k)), "framework", fmt.Sprintf("%s:8080", c.hostIP(c.shape.Masters+c.shape.Slaves+k)))
	}
	return r
}

// lane is the lane of a process id, or -1.
func (r *recorder) lane(pid string) int {
	if _, addr, ok := strings.Cut(pid, "@"); ok {
		if l, ok := r.lanes[addr]; ok {
			return l
		}
	}
	return -1
}

// hostLane is the lane of host index h (a slave's own process, not its
// executors'). Lanes are the masters, each slave followed by its
// executors, then the frameworks.
func (c *Cluster) hostLane(h int) int {
	switch {
	case h < c.shape.Masters:
		return h
	case h < c.shape.Masters+c.shape.Slaves:
		return c.shape.Masters + 2*(h-c.shape.Masters)
	}
	return h + c.shape.Slaves
}

// executorLane is the lane of slave j's executors.
func (c *Cluster) executorLane(j int) int { return c.shape.Masters + 2*j + 1 }

// delivery records one delivery (messages and broken links only).
func (r *recorder) delivery(at time.Duration, kind, from, to, name string, body []byte) {
	if kind != "message" && kind != "exited" {
		return
	}
	d := traceview.Delivery{At: at, Sent: at, Kind: kind, From: r.lane(from), To: r.lane(to), FromPID: from, ToPID: to, Type: name}
	if kind == "message" {
		d.Body, d.Tasks = describe(name, body, recordBodyLimit, true)
		if i := r.match(r.held, from, to, name, body); i >= 0 {
			d.Fate, d.Sent = traceview.Delayed, r.held[i].sent
			r.held = append(r.held[:i:i], r.held[i+1:]...)
		} else if i := r.match(r.copied, from, to, name, body); i >= 0 {
			if r.copied[i].seen {
				d.Fate = traceview.Duplicated
				r.copied = append(r.copied[:i:i], r.copied[i+1:]...)
			} else {
				r.copied[i].seen = true
			}
		}
	}
	r.t.Deliveries = append(r.t.Deliveries, d)
}

func (r *recorder) match(list []pendingMessage, from, to, name string, body []byte) int {
	for i, p := range list {
		if p.from == from && p.to == to && p.name == name && p.body == string(body) {
			return i
		}
	}
	return -1
}

// fault records what a message fault's filter did to a message.
func (r *recorder) fault(at time.Duration, k Kind, ev process.Intercepted) {
	if ev.Message == nil {
		return
	}
	from, to, name, body := ev.From.String(), ev.To.String(), ev.Message.Name, ev.Message.Body
	switch k {
	case DropMessages:
		d := traceview.Delivery{At: at, Sent: at, Kind: "message", From: r.lane(from), To: r.lane(to), FromPID: from, ToPID: to, Type: name, Fate: traceview.Dropped}
		d.Body, d.Tasks = describe(name, body, recordBodyLimit, true)
		r.t.Deliveries = append(r.t.Deliveries, d)
	case DelayMessages:
		r.held = append(r.held, pendingMessage{from: from, to: to, name: name, body: string(body), sent: at})
	case DuplicateMessages:
		r.copied = append(r.copied, pendingMessage{from: from, to: to, name: name, body: string(body), sent: at})
	}
}

// event records an applied schedule event acting on lanes, lasting d.
func (r *recorder) event(at time.Duration, e Event, d time.Duration, lanes ...int) {
	text := strings.TrimSpace(e.String())
	ev := traceview.Event{At: at, Kind: e.Kind.String(), Fault: e.Kind.IsFault(), Text: text, Lanes: lanes}
	if d > 0 {
		ev.Until = at + d
	}
	r.t.Events = append(r.t.Events, ev)
}

// finish completes the trace with the run's result.
func (r *recorder) finish(res Result) *traceview.Trace {
	t := r.t
	t.Title = fmt.Sprintf("seed %d", res.Seed)
	t.Replay = res.Replay()
	t.Schedule = strings.Split(strings.TrimRight(res.Schedule.String(), "\n"), "\n")
	if v := res.Violation; v != nil {
		step := r.step
		if step < 0 {
			step = len(t.Deliveries)
		}
		t.Violation = &traceview.Violation{Invariant: v.Invariant, Detail: v.Detail, At: v.At, Step: step}
	}
	return &t
}

// describe renders a message as compact text (cut at limit bytes) and,
// with tasks, lists the task ids it names.
func describe(name string, body []byte, limit int, tasks bool) (string, []string) {
	if len(body) == 0 {
		return "", nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		return fmt.Sprintf("(%d bytes)", len(body)), nil
	}
	m := mt.New().Interface()
	if proto.Unmarshal(body, m) != nil {
		return fmt.Sprintf("(%d bytes, malformed)", len(body)), nil
	}
	s := strings.Join(strings.Fields(prototext.MarshalOptions{}.Format(m)), " ")
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	if !tasks {
		return s, nil
	}
	var ids []string
	seen := map[string]bool{}
	collectTaskIDs(m.ProtoReflect(), seen, &ids, 0)
	return s, ids
}

// collectTaskIDs appends the values of the mesos.TaskID messages in m
// (any depth, each once).
func collectTaskIDs(m protoreflect.Message, seen map[string]bool, ids *[]string, depth int) {
	if depth > 12 {
		return
	}
	if m.Descriptor().FullName() == "mesos.TaskID" {
		if v := m.Get(m.Descriptor().Fields().ByName("value")).String(); v != "" && !seen[v] {
			seen[v] = true
			*ids = append(*ids, v)
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind:
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len(); i++ {
				collectTaskIDs(l.Get(i).Message(), seen, ids, depth+1)
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					collectTaskIDs(mv.Message(), seen, ids, depth+1)
					return true
				})
			}
		default:
			collectTaskIDs(v.Message(), seen, ids, depth+1)
		}
		return true
	})
}

// Rerun runs r's seed and schedule again with cfg, recording it for the
// trace viewer (Result.Recording).
func Rerun(cfg Config, r Result) (Result, error) {
	cfg.Seed, cfg.Record = r.Seed, true
	return Run(cfg, r.Schedule)
}

// WriteHTML writes the trace viewer's page of r to path: r's recording,
// or, when r was not recorded, that of a run of its seed and schedule
// again with cfg (the same run: a seed and a schedule fix it).
func WriteHTML(path string, cfg Config, r Result) error {
	if r.Recording == nil {
		again, err := Rerun(cfg, r)
		if err != nil {
			return fmt.Errorf("sim: record seed %d: %w", r.Seed, err)
		}
		r = again
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if err := traceview.Render(f, r.Recording); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}
