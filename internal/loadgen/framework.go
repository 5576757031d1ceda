package loadgen

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

// FrameworkConfig shapes a load-generating framework.
type FrameworkConfig struct {
	// Name of the framework (and prefix of its task ids).
	Name string
	// TasksPerOffer is the most tasks launched on one offer (1).
	TasksPerOffer int
	// TaskResources is what each task takes (default "cpus:1;mem:128").
	TaskResources string
	// MaxTasks bounds the tasks this framework launches; 0: no bound.
	MaxTasks int
	// MaxPending bounds the launches in flight (sent, not yet seen
	// TASK_RUNNING or ended), as a framework that paces itself on its
	// own pipeline does: when full it declines offers for 30 s. 0: no
	// bound (the framework launches on every offer).
	MaxPending int
}

// Framework is a scheduler.Scheduler that launches tasks as fast as
// offers allow and records what happens to them. Its methods are safe to
// call from any goroutine.
type Framework struct {
	cfg      FrameworkConfig
	task     resources.Resources
	clock    *process.Clock
	launch   atomic.Bool
	offers   atomic.Int64
	launched atomic.Int64

	mu           sync.Mutex
	next         int
	pending      int                  // launches in flight (see MaxPending)
	sent         map[string]time.Time // task id → when the launch was sent
	running      map[string]bool
	terminal     map[string]map[mesos.TaskState]int
	latencies    []time.Duration
	toSlave      []time.Duration // launch sent → RunTaskMessage at the slave
	toFramework  []time.Duration // RunTaskMessage at the slave → TASK_RUNNING here
	registered   time.Time
	reregistered time.Time
	disconnected time.Time
	disconnects  int
	subscribed   int // Registered and Reregistered callbacks
	errors       []string
}

// NewFramework returns a framework that launches once Launch(true) is
// called.
func NewFramework(cfg FrameworkConfig, clock *process.Clock) (*Framework, error) {
	if cfg.TasksPerOffer <= 0 {
		cfg.TasksPerOffer = 1
	}
	if cfg.TaskResources == "" {
		cfg.TaskResources = "cpus:1;mem:128"
	}
	if cfg.Name == "" {
		cfg.Name = "loadgen"
	}
	r, err := resources.Parse(cfg.TaskResources, "*")
	if err != nil {
		return nil, fmt.Errorf("loadgen: task resources %q: %w", cfg.TaskResources, err)
	}
	return &Framework{
		cfg: cfg, task: r, clock: clock,
		sent: map[string]time.Time{}, running: map[string]bool{}, terminal: map[string]map[mesos.TaskState]int{},
	}, nil
}

// Info is the FrameworkInfo to register with.
func (f *Framework) Info() *mesos.FrameworkInfo {
	return &mesos.FrameworkInfo{
		User: proto.String("loadgen"), Name: proto.String(f.cfg.Name),
		FailoverTimeout: proto.Float64(3600), Checkpoint: proto.Bool(true),
	}
}

// Launch turns launching on or off; offers are declined while off.
func (f *Framework) Launch(on bool) { f.launch.Store(on) }

// Registered implements scheduler.Scheduler.
func (f *Framework) Registered(*scheduler.Driver, *mesos.FrameworkID, *mesos.MasterInfo) {
	f.mu.Lock()
	f.registered = f.clock.Now()
	f.subscribed++
	f.mu.Unlock()
}

// Reregistered implements scheduler.Scheduler.
func (f *Framework) Reregistered(*scheduler.Driver, *mesos.MasterInfo) {
	f.mu.Lock()
	f.reregistered = f.clock.Now()
	f.subscribed++
	f.mu.Unlock()
}

// Disconnected implements scheduler.Scheduler.
func (f *Framework) Disconnected(*scheduler.Driver) {
	f.mu.Lock()
	f.disconnected = f.clock.Now()
	f.disconnects++
	f.mu.Unlock()
}

// ResourceOffers launches up to TasksPerOffer tasks on each offer (within
// MaxTasks and MaxPending), and declines what it does not use.
func (f *Framework) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	f.offers.Add(int64(len(offers)))
	for _, o := range offers {
		tasks := f.tasksFor(o)
		if len(tasks) == 0 {
			refuse := 1.0
			if !f.launch.Load() {
				refuse = 5
			} else if f.full() {
				// Enough in flight: a long filter keeps the offer churn
				// (the master's largest cost at scale) down.
				refuse = 30
			}
			_, _ = d.DeclineOffer(o.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(refuse)})
			continue
		}
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, tasks, &mesos.Filters{RefuseSeconds: proto.Float64(0)})
	}
}

// full reports whether MaxPending launches are in flight.
func (f *Framework) full() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.MaxPending > 0 && f.pending >= f.cfg.MaxPending
}

func (f *Framework) tasksFor(o *mesos.Offer) []*mesos.TaskInfo {
	if !f.launch.Load() {
		return nil
	}
	avail := resources.FromProto(o.GetResources())
	var tasks []*mesos.TaskInfo
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for len(tasks) < f.cfg.TasksPerOffer && (f.cfg.MaxTasks == 0 || f.next < f.cfg.MaxTasks) &&
		(f.cfg.MaxPending == 0 || f.pending < f.cfg.MaxPending) {
		if !avail.Contains(f.task) {
			break
		}
		avail = avail.Minus(f.task)
		id := fmt.Sprintf("%s-%d", f.cfg.Name, f.next)
		f.next++
		f.pending++
		f.sent[id] = now
		tasks = append(tasks, &mesos.TaskInfo{
			Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
			Resources: f.task.ToProto(), Command: &mesos.CommandInfo{Value: proto.String("true")},
		})
	}
	f.launched.Add(int64(len(tasks)))
	return tasks
}

// OfferRescinded implements scheduler.Scheduler.
func (f *Framework) OfferRescinded(*scheduler.Driver, *mesos.OfferID) {}

// StatusUpdate records TASK_RUNNING latencies and terminal states.
func (f *Framework) StatusUpdate(_ *scheduler.Driver, st *mesos.TaskStatus) {
	id := st.GetTaskId().GetValue()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sent[id]; ok && !f.running[id] && f.terminal[id] == nil {
		f.pending-- // its first update: no longer in flight
	}
	switch state := st.GetState(); {
	case state == mesos.TaskState_TASK_RUNNING:
		if sent, ok := f.sent[id]; ok && !f.running[id] {
			now := f.clock.Now()
			f.latencies = append(f.latencies, now.Sub(sent))
			if at, ok := arrivalOf(st.GetData()); ok {
				f.toSlave = append(f.toSlave, at.Sub(sent))
				f.toFramework = append(f.toFramework, now.Sub(at))
			}
		}
		f.running[id] = true
	case mesos.IsTerminal(state):
		if f.terminal[id] == nil {
			f.terminal[id] = map[mesos.TaskState]int{}
		}
		f.terminal[id][state]++
	}
}

// FrameworkMessage implements scheduler.Scheduler.
func (f *Framework) FrameworkMessage(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, []byte) {}

// SlaveLost implements scheduler.Scheduler.
func (f *Framework) SlaveLost(*scheduler.Driver, *mesos.SlaveID) {}

// ExecutorLost implements scheduler.Scheduler.
func (f *Framework) ExecutorLost(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, int) {}

// Error implements scheduler.Scheduler.
func (f *Framework) Error(_ *scheduler.Driver, msg string) {
	f.mu.Lock()
	f.errors = append(f.errors, msg)
	f.mu.Unlock()
}

// FrameworkStats is what a framework saw.
type FrameworkStats struct {
	Offers       int64
	Launched     int                     // tasks sent to the master
	Running      int                     // tasks that reached TASK_RUNNING
	Finished     int                     // tasks with exactly one terminal update, TASK_FINISHED
	Terminal     map[mesos.TaskState]int // terminal updates by state, duplicates included
	Duplicates   int                     // terminal updates beyond the first of a task
	Unfinished   int                     // launched tasks without a terminal update
	Examples     []string                // some of them (sorted, at most 10)
	Latencies    []time.Duration         // launch sent → TASK_RUNNING received
	ToSlave      []time.Duration         // launch sent → RunTaskMessage at the slave
	ToFramework  []time.Duration         // RunTaskMessage at the slave → TASK_RUNNING received
	Registered   time.Time
	Reregistered time.Time
	Disconnected time.Time
	Disconnects  int // Disconnected callbacks
	Subscribed   int // Registered and Reregistered callbacks
	Errors       []string
}

// Stats returns what the framework saw so far.
func (f *Framework) Stats() FrameworkStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := FrameworkStats{
		Offers: f.offers.Load(), Launched: len(f.sent), Running: len(f.running), Terminal: map[mesos.TaskState]int{},
		Latencies: append([]time.Duration(nil), f.latencies...),
		ToSlave:   append([]time.Duration(nil), f.toSlave...), ToFramework: append([]time.Duration(nil), f.toFramework...),
		Registered:   f.registered,
		Reregistered: f.reregistered, Disconnected: f.disconnected, Errors: append([]string(nil), f.errors...),
		Disconnects: f.disconnects, Subscribed: f.subscribed,
	}
	for id := range f.sent {
		states := f.terminal[id]
		n := 0
		for st, c := range states {
			s.Terminal[st] += c
			n += c
		}
		switch {
		case n == 0:
			s.Unfinished++
			s.Examples = append(s.Examples, id)
		case n == 1 && states[mesos.TaskState_TASK_FINISHED] == 1:
			s.Finished++
		}
		if n > 1 {
			s.Duplicates += n - 1
		}
	}
	sort.Strings(s.Examples)
	if len(s.Examples) > 10 {
		s.Examples = s.Examples[:10]
	}
	return s
}

// TerminalCount is how many launched tasks got a terminal update.
func (f *Framework) TerminalCount() (launched, terminal int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.sent {
		if len(f.terminal[id]) > 0 {
			terminal++
		}
	}
	return len(f.sent), terminal
}

// RunningCount is how many launched tasks reached TASK_RUNNING.
func (f *Framework) RunningCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.running)
}
