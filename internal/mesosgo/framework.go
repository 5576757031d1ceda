//go:build ignore

// This program is an unmodified-style mesos-go 0.0.6 framework (scheduler
// driver) used by gomesos's interop tests: it registers with the master,
// launches one task on the first offer, sends the executor a framework
// message, and prints what it sees, one event per line.
package main

import (
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/mesos/mesos-go/api/v0/auth"
	"github.com/mesos/mesos-go/api/v0/auth/sasl"
	mesos "github.com/mesos/mesos-go/api/v0/mesosproto"
	sched "github.com/mesos/mesos-go/api/v0/scheduler"
	"golang.org/x/net/context"
)

type scheduler struct {
	accept   bool   // launch with AcceptOffers (a Call posted to /api/v1/scheduler)
	command  string // the task's command (the command executor runs it)
	executor string // if set, the task runs under this executor binary instead
	image    string // if set, the task's command runs in this Docker image
	launched bool
	done     chan struct{}
}

func (s *scheduler) Registered(d sched.SchedulerDriver, id *mesos.FrameworkID, mi *mesos.MasterInfo) {
	fmt.Printf("REGISTERED %s master=%s\n", id.GetValue(), mi.GetPid())
}
func (s *scheduler) Reregistered(sched.SchedulerDriver, *mesos.MasterInfo) {
	fmt.Println("REREGISTERED")
}
func (s *scheduler) Disconnected(sched.SchedulerDriver) { fmt.Println("DISCONNECTED") }
func (s *scheduler) ResourceOffers(d sched.SchedulerDriver, offers []*mesos.Offer) {
	for _, o := range offers {
		fmt.Printf("OFFER %s slave=%s\n", o.GetId().GetValue(), o.GetSlaveId().GetValue())
		if s.launched {
			d.DeclineOffer(o.Id, &mesos.Filters{})
			continue
		}
		s.launched = true
		task := &mesos.TaskInfo{
			Name:    proto.String("t1"),
			TaskId:  &mesos.TaskID{Value: proto.String("t1")},
			SlaveId: o.SlaveId,
			Resources: []*mesos.Resource{
				{Name: proto.String("cpus"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(1)}},
				{Name: proto.String("mem"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(128)}},
			},
			Command: &mesos.CommandInfo{Value: proto.String(s.command)},
		}
		if s.image != "" {
			task.Container = &mesos.ContainerInfo{
				Type:   mesos.ContainerInfo_DOCKER.Enum(),
				Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(s.image)},
			}
		}
		if s.executor != "" {
			task.Command = nil
			task.Executor = &mesos.ExecutorInfo{
				ExecutorId: &mesos.ExecutorID{Value: proto.String("default")},
				Command:    &mesos.CommandInfo{Value: proto.String(s.executor)},
				Resources: []*mesos.Resource{
					{Name: proto.String("cpus"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(0.1)}},
					{Name: proto.String("mem"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(32)}},
				},
			}
		}
		filters := &mesos.Filters{RefuseSeconds: proto.Float64(1)}
		if s.accept {
			op := &mesos.Offer_Operation{
				Type:   mesos.Offer_Operation_LAUNCH.Enum(),
				Launch: &mesos.Offer_Operation_Launch{TaskInfos: []*mesos.TaskInfo{task}},
			}
			if _, err := d.AcceptOffers([]*mesos.OfferID{o.Id}, []*mesos.Offer_Operation{op}, filters); err != nil {
				fmt.Printf("ERROR accept: %v\n", err)
			}
			continue
		}
		d.LaunchTasks([]*mesos.OfferID{o.Id}, []*mesos.TaskInfo{task}, filters)
	}
}
func (s *scheduler) OfferRescinded(sched.SchedulerDriver, *mesos.OfferID) {}
func (s *scheduler) StatusUpdate(d sched.SchedulerDriver, st *mesos.TaskStatus) {
	fmt.Printf("STATUS %s %s\n", st.GetTaskId().GetValue(), st.GetState())
	if st.GetState() == mesos.TaskState_TASK_RUNNING {
		d.SendFrameworkMessage(&mesos.ExecutorID{Value: proto.String("default")}, st.SlaveId, "hello")
	}
}
func (s *scheduler) FrameworkMessage(_ sched.SchedulerDriver, _ *mesos.ExecutorID, _ *mesos.SlaveID, data string) {
	fmt.Printf("MESSAGE %s\n", data)
}
func (s *scheduler) SlaveLost(sched.SchedulerDriver, *mesos.SlaveID) { fmt.Println("SLAVE_LOST") }
func (s *scheduler) ExecutorLost(sched.SchedulerDriver, *mesos.ExecutorID, *mesos.SlaveID, int) {
	fmt.Println("EXECUTOR_LOST")
}
func (s *scheduler) Error(_ sched.SchedulerDriver, msg string) { fmt.Printf("ERROR %s\n", msg) }

func main() {
	master := flag.String("master", "127.0.0.1:5050", "master address")
	accept := flag.Bool("accept", false, "launch with AcceptOffers instead of LaunchTasks")
	command := flag.String("command", "sleep 1000", "the task's shell command")
	executor := flag.String("executor", "", "run the task under this executor binary")
	image := flag.String("docker_image", "", "run the task's command in this Docker image")
	principal := flag.String("principal", "", "authenticate (CRAM-MD5) as this principal")
	secret := flag.String("secret", "", "the principal's secret")
	flag.Parse()
	if dir, err := ioutil.TempDir("", "mesosgo-framework"); err == nil {
		flag.Set("log_dir", dir)
	}
	flag.Set("stderrthreshold", "FATAL")
	cfg := sched.DriverConfig{
		Scheduler:      &scheduler{accept: *accept, command: *command, executor: *executor, image: *image},
		Framework:      &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("mesos-go interop")},
		Master:         *master,
		BindingAddress: net.ParseIP("127.0.0.1"),
	}
	if *principal != "" {
		cfg.Framework.Principal = proto.String(*principal)
		cfg.Credential = &mesos.Credential{Principal: proto.String(*principal), Secret: proto.String(*secret)}
		cfg.WithAuthContext = func(ctx context.Context) context.Context {
			ctx = auth.WithLoginProvider(ctx, sasl.ProviderName)
			return sasl.WithBindingAddress(ctx, net.ParseIP("127.0.0.1"))
		}
	}
	driver, err := sched.NewMesosSchedulerDriver(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(2)
	}
	if _, err := driver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(2)
	}
	// Run until stdin closes, then stop without failover (teardown).
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	driver.Stop(false)
	time.Sleep(500 * time.Millisecond) // let the unregister message leave
	fmt.Println("STOPPED")
}
