// Command mesos-execute runs one shell command as a task of its own
// framework, prints each state change of the task as it happens, and exits
// with 0 if the task finished, 1 otherwise. When no offer can run the
// task within --match_timeout (30 s), it prints the offers it saw and why
// none fit, and exits 1. Resources given without a role come from the
// framework's role's reservation when it holds them all, else from
// unreserved resources.
//
//	mesos-execute --master=127.0.0.1:5050 --name=hello --command='echo hello'
package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func run(args, environ []string) int {
	fs := flags.New("mesos-execute", "Runs one command as a Mesos task and reports its states.")
	var master, name, command, res, role string
	var principal, secret string
	var checkpoint bool
	var killAfter, matchTimeout time.Duration
	var dockerImage string
	var logging daemon.Logging
	fs.OptString(&master, "master", "The master: host:port, master@host:port or zk://host:port[,...]/path.")
	fs.String(&name, "name", "mesos-execute", "Name of the framework and of the task.")
	fs.OptString(&command, "command", "Shell command to run.")
	fs.String(&res, "resources", "cpus:1;mem:128", "Resources of the task.")
	fs.String(&role, "role", "*", "Role of the framework.")
	fs.OptString(&principal, "principal", "Principal to authenticate (CRAM-MD5) and register as.")
	fs.OptString(&secret, "secret", "Secret of --principal.")
	fs.Bool(&checkpoint, "checkpoint", false, "Ask slaves to checkpoint the task, so it survives slave restarts.")
	fs.Duration(&killAfter, "kill_after", 0, "Kill the task after this long (0: never).")
	fs.Duration(&matchTimeout, "match_timeout", 30*time.Second, "Give up when no offer could run the task within this time from the start: print the offers seen and why none fit, and exit 1 (0: wait for ever).")
	fs.OptString(&dockerImage, "docker_image", "Run the command in a container of this Docker image (the slave needs --containerizers with docker).")
	logging.Register(fs)
	_ = fs.Set("logging_level", "WARNING")
	if exit, code := flags.Main(fs, args, environ, os.Stdout, os.Stderr); exit {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "mesos-execute:", err)
		return 1
	}
	if command == "" {
		return fail(fmt.Errorf("--command is required"))
	}
	taskRes, err := resources.Parse(res, "*")
	if err != nil {
		return fail(fmt.Errorf("--resources: %w", err))
	}
	where, err := daemon.ParseMaster(master)
	if err != nil {
		return fail(err)
	}
	log, closeLog, err := logging.Logger("mesos-execute")
	if err != nil {
		return fail(err)
	}
	defer closeLog()
	// Listen on the address the master is reached from.
	bind := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if where.ZK == nil && where.PID.Addr.Addr().IsLoopback() {
		bind = netip.AddrPortFrom(where.PID.Addr.Addr(), 0)
	}
	rt, err := process.New(process.Options{Bind: bind, Logger: log})
	if err != nil {
		return fail(err)
	}
	defer rt.Close()
	u := "root"
	if cur, err := user.Current(); err == nil {
		u = cur.Username
	}
	info := &mesos.FrameworkInfo{User: proto.String(u), Name: proto.String(name), Role: proto.String(role), Checkpoint: proto.Bool(checkpoint)}
	ex := &execute{name: name, command: command, res: taskRes, role: role, done: make(chan int, 1), killAfter: killAfter, dockerImage: dockerImage}
	opts := scheduler.Options{}
	if principal != "" {
		opts.Credential = &mesos.Credential{Principal: proto.String(principal), Secret: proto.String(secret)}
	}
	d := scheduler.NewDriver(rt, ex, info, where.PID, opts)
	if _, err := d.Start(); err != nil {
		return fail(err)
	}
	if where.ZK != nil {
		stop, err := where.Follow(rt.Clock(), log, d.MasterDetected)
		if err != nil {
			return fail(err)
		}
		defer stop()
	}
	signals := daemon.Signals()
	var giveUp <-chan time.Time
	if matchTimeout > 0 {
		giveUp = time.After(matchTimeout) // wall-clock: the user is waiting
	}
	code := 1
	for waiting := true; waiting; {
		waiting = false
		select {
		case code = <-ex.done:
		case <-giveUp:
			report, launched := ex.noMatchReport(matchTimeout)
			if launched { // the task is on its way: wait for it
				giveUp, waiting = nil, true
				continue
			}
			fmt.Fprint(os.Stderr, report)
		case sig := <-signals:
			fmt.Fprintf(os.Stderr, "mesos-execute: %s: killing the task\n", sig)
			_, _ = d.KillTask(&mesos.TaskID{Value: proto.String(name)})
			select {
			case code = <-ex.done:
			case <-time.After(10 * time.Second): // wall-clock: the user is waiting
			}
		}
	}
	_, _ = d.Stop(false)
	d.Join()
	return code
}

// execute is the framework: it launches its one task on the first offer
// that fits and follows it to a terminal state.
type execute struct {
	name, command string
	res           resources.Resources
	role          string
	killAfter     time.Duration
	dockerImage   string
	done          chan int

	mu       sync.Mutex // launched and seen are read by main on a timeout
	launched bool
	offers   int           // offers received
	seen     []offerReport // the latest offers that did not fit, at most maxSeen
}

// offerReport is an offer that could not run the task, and why.
type offerReport struct {
	slave, host, resources, why string
}

// maxSeen is how many unfit offers the report keeps (the latest).
const maxSeen = 10

// noMatchReport says why the task has not been launched, or launched
// true when it has been.
func (e *execute) noMatchReport(waited time.Duration) (report string, launched bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.launched {
		return "", true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mesos-execute: no offer could run task '%s' (%s, role '%s') within %s; giving up.\n", e.name, e.res, e.role, flags.FormatDuration(waited))
	if e.offers == 0 {
		fmt.Fprintf(&b, "No offer was received: are slaves registered with free resources for role '%s'? (see the master's /master/slaves and /master/state)\n", e.role)
		return b.String(), false
	}
	fmt.Fprintf(&b, "%d offer(s) received; the latest %d:\n", e.offers, len(e.seen))
	for _, o := range e.seen {
		fmt.Fprintf(&b, "  slave %s (%s): %s\n    does not fit: %s\n", o.slave, o.host, o.resources, o.why)
	}
	return b.String(), false
}

func (e *execute) Registered(_ *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	fmt.Printf("Framework registered with %s\n", id.GetValue())
}
func (e *execute) Reregistered(*scheduler.Driver, *mesos.MasterInfo) {}
func (e *execute) Disconnected(*scheduler.Driver)                    { fmt.Println("Disconnected from the master") }

func (e *execute) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range offers {
		e.offers++
		if e.launched {
			_, _ = d.DeclineOffer(o.GetId(), nil)
			continue
		}
		offered := resources.FromProto(o.GetResources())
		use, why := match(offered, e.res, e.role)
		if why != "" {
			e.seen = append(e.seen, offerReport{slave: o.GetSlaveId().GetValue(), host: o.GetHostname(), resources: offered.String(), why: why})
			if len(e.seen) > maxSeen {
				e.seen = e.seen[1:]
			}
			_, _ = d.DeclineOffer(o.GetId(), nil)
			continue
		}
		e.launched = true
		fmt.Printf("Submitted task '%s' to slave '%s'\n", e.name, o.GetSlaveId().GetValue())
		task := &mesos.TaskInfo{
			Name: proto.String(e.name), TaskId: &mesos.TaskID{Value: proto.String(e.name)}, SlaveId: o.GetSlaveId(),
			Resources: use.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(e.command)},
		}
		if e.dockerImage != "" {
			task.Container = &mesos.ContainerInfo{
				Type:   mesos.ContainerInfo_DOCKER.Enum(),
				Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(e.dockerImage)},
			}
		}
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
		if e.killAfter > 0 {
			time.AfterFunc(e.killAfter, func() { // wall-clock: a user-facing timer
				_, _ = d.KillTask(task.TaskId)
			})
		}
	}
}

func (e *execute) OfferRescinded(*scheduler.Driver, *mesos.OfferID) {}

func (e *execute) StatusUpdate(_ *scheduler.Driver, st *mesos.TaskStatus) {
	line := fmt.Sprintf("Received status update %s for task %s", st.GetState(), st.GetTaskId().GetValue())
	if st.GetMessage() != "" {
		line += " (" + st.GetMessage() + ")"
	}
	fmt.Println(line)
	switch st.GetState() {
	case mesos.TaskState_TASK_FINISHED:
		e.done <- 0
	case mesos.TaskState_TASK_FAILED, mesos.TaskState_TASK_KILLED, mesos.TaskState_TASK_LOST, mesos.TaskState_TASK_ERROR:
		e.done <- 1
	}
}

func (e *execute) FrameworkMessage(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, []byte) {}
func (e *execute) SlaveLost(*scheduler.Driver, *mesos.SlaveID)                                   {}
func (e *execute) ExecutorLost(*scheduler.Driver, *mesos.ExecutorID, *mesos.SlaveID, int)        {}
func (e *execute) Error(_ *scheduler.Driver, msg string) {
	fmt.Fprintln(os.Stderr, "mesos-execute: error:", msg)
	select {
	case e.done <- 1:
	default:
	}
}
