// Command example-framework is a small Mesos framework written with the
// gomesos scheduler driver, meant to be copied: it runs --tasks tasks of
// --command, as many at a time as the offers allow, retries failed ones up
// to --max_retries, reconciles after (re)registration, and exits when all
// have finished.
//
//	go run ./cmd/example-framework --master=127.0.0.1:5050 --tasks=5 --command='echo $MESOS_TASK_ID'
package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

func main() {
	fs := flags.New("example-framework", "Runs a batch of command tasks on a Mesos cluster.")
	var master, command, taskRes string
	var tasks, retries uint
	fs.OptString(&master, "master", "The master: host:port or zk://host:port/path.")
	fs.String(&command, "command", "echo hello from $MESOS_TASK_ID", "Command each task runs.")
	fs.String(&taskRes, "task_resources", "cpus:0.5;mem:64", "Resources of each task.")
	fs.Uint(&tasks, "tasks", 5, "Number of tasks.")
	fs.Uint(&retries, "max_retries", 2, "Times a failed task is relaunched.")
	if exit, code := flags.Main(fs, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); exit {
		os.Exit(code)
	}
	res, err := resources.Parse(taskRes, "*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-framework: --task_resources:", err)
		os.Exit(1)
	}
	where, err := daemon.ParseMaster(master) // host:port or zk://host:port/path
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-framework:", err)
		os.Exit(1)
	}
	// A framework is a process in a runtime of its own, reachable by the
	// master (it sends offers and updates to the scheduler's UPID).
	bind := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if where.ZK == nil {
		bind = netip.AddrPortFrom(where.PID.Addr.Addr(), 0)
	}
	rt, err := process.New(process.Options{Bind: bind})
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-framework:", err)
		os.Exit(1)
	}
	defer rt.Close()
	b := newBatch(int(tasks), int(retries), command, res)
	info := &mesos.FrameworkInfo{User: proto.String("root"), Name: proto.String("example-framework")}
	if u := os.Getenv("USER"); u != "" {
		info.User = proto.String(u)
	}
	d := scheduler.NewDriver(rt, b, info, where.PID, scheduler.Options{})
	if _, err := d.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "example-framework:", err)
		os.Exit(1)
	}
	// With ZooKeeper, the driver follows whichever master leads.
	if where.ZK != nil {
		stop, err := where.Follow(rt.Clock(), slog.Default(), d.MasterDetected)
		if err != nil {
			fmt.Fprintln(os.Stderr, "example-framework:", err)
			os.Exit(1)
		}
		defer stop()
	}
	ok := <-b.done
	_, _ = d.Stop(false) // not failing over: the master tears the framework down
	d.Join()
	if !ok {
		os.Exit(1)
	}
}

// batch is the Scheduler. The driver calls it from one goroutine (the
// scheduler process), so its fields need no lock.
type batch struct {
	command  string
	res      resources.Resources
	pending  []string       // task ids waiting for an offer
	running  map[string]int // launched task id → attempts so far
	attempts map[string]int
	finished int
	total    int
	retries  int
	done     chan bool
}

func newBatch(n, retries int, command string, res resources.Resources) *batch {
	b := &batch{command: command, res: res, running: map[string]int{}, attempts: map[string]int{}, total: n, retries: retries, done: make(chan bool, 1)}
	for i := 0; i < n; i++ {
		b.pending = append(b.pending, fmt.Sprintf("task-%d", i))
	}
	return b
}

func (b *batch) Registered(d *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	slog.Info("registered", "framework", id.GetValue(), "master", m.GetPid())
}

// Reregistered: after a master failover, ask for the state of our tasks.
func (b *batch) Reregistered(d *scheduler.Driver, _ *mesos.MasterInfo) {
	_, _ = d.ReconcileTasks(nil)
}

func (b *batch) Disconnected(*scheduler.Driver) { slog.Warn("disconnected from the master") }

// ResourceOffers packs pending tasks into each offer.
func (b *batch) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	for _, o := range offers {
		left := resources.FromProto(o.GetResources())
		var launch []*mesos.TaskInfo
		for len(b.pending) > 0 && left.Contains(b.res) {
			id := b.pending[0]
			b.pending = b.pending[1:]
			left = left.Minus(b.res)
			b.attempts[id]++
			b.running[id] = b.attempts[id]
			launch = append(launch, &mesos.TaskInfo{
				Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: o.GetSlaveId(),
				Resources: b.res.ToProto(),
				Command: &mesos.CommandInfo{
					Value:       proto.String(b.command),
					Environment: &mesos.Environment{Variables: []*mesos.Environment_Variable{{Name: proto.String("MESOS_TASK_ID"), Value: proto.String(id)}}},
				},
			})
		}
		if len(launch) == 0 {
			_, _ = d.DeclineOffer(o.GetId(), nil)
			continue
		}
		slog.Info("launching", "tasks", len(launch), "slave", o.GetHostname())
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, launch, nil)
	}
}

func (b *batch) OfferRescinded(*scheduler.Driver, *mesos.OfferID) {}

// StatusUpdate follows each task; the driver acknowledges the update when
// this returns.
func (b *batch) StatusUpdate(d *scheduler.Driver, st *mesos.TaskStatus) {
	id := st.GetTaskId().GetValue()
	fmt.Printf("%s %s %s\n", id, st.GetState(), st.GetMessage())
	switch st.GetState() {
	case mesos.TaskState_TASK_FINISHED:
		delete(b.running, id)
		b.finished++
	case mesos.TaskState_TASK_FAILED, mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_KILLED, mesos.TaskState_TASK_ERROR:
		delete(b.running, id)
		if b.attempts[id] > b.retries {
			fmt.Printf("%s gave up after %d attempts\n", id, b.attempts[id])
			b.done <- false
			return
		}
		b.pending = append(b.pending, id)
		_, _ = d.ReviveOffers()
	}
	if b.finished == b.total {
		b.done <- true
	}
}

func (b *batch) FrameworkMessage(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, []byte) {}
func (b *batch) SlaveLost(_ *scheduler.Driver, id *mesos.SlaveID) {
	slog.Warn("slave lost", "slave", id.GetValue())
}
func (b *batch) ExecutorLost(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, int) {}
func (b *batch) Error(_ *scheduler.Driver, msg string) {
	fmt.Fprintln(os.Stderr, "example-framework: error:", msg)
	b.done <- false
}
