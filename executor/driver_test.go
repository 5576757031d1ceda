package executor_test

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// recorder is an Executor that reports its callbacks.
type recorder struct {
	registered   *future.Promise[future.Nothing]
	disconnected *future.Promise[future.Nothing]
	shutdown     *future.Promise[future.Nothing]
}

func (r *recorder) Registered(*executor.Driver, *mesos.ExecutorInfo, *mesos.FrameworkInfo, *mesos.SlaveInfo) {
	r.registered.Set(future.Nothing{})
}
func (r *recorder) Reregistered(*executor.Driver, *mesos.SlaveInfo) {}
func (r *recorder) Disconnected(*executor.Driver)                   { r.disconnected.Set(future.Nothing{}) }
func (r *recorder) LaunchTask(*executor.Driver, *mesos.TaskInfo)    {}
func (r *recorder) KillTask(*executor.Driver, *mesos.TaskID)        {}
func (r *recorder) FrameworkMessage(*executor.Driver, []byte)       {}
func (r *recorder) Shutdown(*executor.Driver)                       { r.shutdown.Set(future.Nothing{}) }
func (r *recorder) Error(*executor.Driver, string)                  {}

// registrar is a slave that only registers the executor.
type registrar struct{ process.Process }

func (s *registrar) Initialize() {
	process.Install(&s.Process, func(from process.UPID, m *messages.RegisterExecutorMessage) {
		_ = s.Send(from, &messages.ExecutorRegisteredMessage{
			ExecutorInfo:  &mesos.ExecutorInfo{ExecutorId: m.GetExecutorId(), Command: &mesos.CommandInfo{Value: proto.String("x")}},
			FrameworkId:   m.GetFrameworkId(),
			FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("f"), Id: m.GetFrameworkId()},
			SlaveId:       &mesos.SlaveID{Value: proto.String("S0")},
			SlaveInfo:     &mesos.SlaveInfo{Hostname: proto.String("localhost"), Id: &mesos.SlaveID{Value: proto.String("S0")}},
		})
	})
}

// With checkpointing, an executor whose slave went away waits the
// recovery timeout for it to come back, then shuts down.
func TestExecutorWaitsRecoveryTimeoutThenShutsDown(t *testing.T) {
	for _, checkpoint := range []bool{true, false} {
		slaveRT, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		slavePID, err := slaveRT.Spawn(&registrar{}, "slave(1)")
		if err != nil {
			t.Fatal(err)
		}
		rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Testing: true, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		rt.Clock().Pause()
		r := &recorder{registered: future.NewPromise[future.Nothing](), disconnected: future.NewPromise[future.Nothing](), shutdown: future.NewPromise[future.Nothing]()}
		d := executor.NewDriver(rt, r, executor.Env{
			SlavePID: slavePID, SlaveID: "S0", FrameworkID: "F0", ExecutorID: "E0",
			Checkpoint: checkpoint, RecoveryTimeout: time.Minute,
		})
		if _, err := d.Start(); err != nil {
			t.Fatal(err)
		}
		if !process.Await(rt, r.registered.Future(), bound) {
			t.Fatal("not registered")
		}
		slaveRT.Close() // the slave dies: the link breaks
		if !process.Await(rt, r.disconnected.Future(), bound) {
			t.Fatal("disconnection not noticed")
		}
		rt.Clock().Settle()
		if !checkpoint {
			if !r.shutdown.Future().IsReady() {
				t.Fatal("without checkpointing the executor must shut down at once")
			}
			continue
		}
		rt.Clock().Advance(59 * time.Second)
		rt.Clock().Settle()
		if r.shutdown.Future().IsReady() {
			t.Fatal("shut down before the recovery timeout")
		}
		rt.Clock().Advance(time.Second)
		rt.Clock().Settle()
		if !r.shutdown.Future().IsReady() || d.Join() != mesos.Status_DRIVER_ABORTED {
			t.Fatal("still running after the recovery timeout")
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
