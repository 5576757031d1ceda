// Command mesos-execute runs one shell command as a task of its own
// framework, prints each state change of the task as it happens, and exits
// with 0 if the task finished, 1 otherwise.
//
//	mesos-execute --master=127.0.0.1:5050 --name=hello --command='echo hello'
package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/user"
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
	var killAfter time.Duration
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
	taskRes, err := resources.Parse(res, role)
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
	ex := &execute{name: name, command: command, res: taskRes, done: make(chan int, 1), killAfter: killAfter, dockerImage: dockerImage}
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
	code := 1
	select {
	case code = <-ex.done:
	case sig := <-signals:
		fmt.Fprintf(os.Stderr, "mesos-execute: %s: killing the task\n", sig)
		_, _ = d.KillTask(&mesos.TaskID{Value: proto.String(name)})
		select {
		case code = <-ex.done:
		case <-time.After(10 * time.Second): // wall-clock: the user is waiting
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
	killAfter     time.Duration
	dockerImage   string
	launched      bool
	done          chan int
}

func (e *execute) Registered(_ *scheduler.Driver, id *mesos.FrameworkID, m *mesos.MasterInfo) {
	fmt.Printf("Framework registered with %s\n", id.GetValue())
}
func (e *execute) Reregistered(*scheduler.Driver, *mesos.MasterInfo) {}
func (e *execute) Disconnected(*scheduler.Driver)                    { fmt.Println("Disconnected from the master") }

func (e *execute) ResourceOffers(d *scheduler.Driver, offers []*mesos.Offer) {
	for _, o := range offers {
		if e.launched || !resources.FromProto(o.GetResources()).Contains(e.res) {
			_, _ = d.DeclineOffer(o.GetId(), nil)
			continue
		}
		e.launched = true
		fmt.Printf("Submitted task '%s' to slave '%s'\n", e.name, o.GetSlaveId().GetValue())
		task := &mesos.TaskInfo{
			Name: proto.String(e.name), TaskId: &mesos.TaskID{Value: proto.String(e.name)}, SlaveId: o.GetSlaveId(),
			Resources: e.res.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(e.command)},
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
