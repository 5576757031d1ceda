package inproc_test

import (
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/inproc"
	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// bound guards waits on futures that the runtime completes once settled.
const bound = 10 * time.Second

// standIn plays the slave's side of the executor protocol: it registers
// executors, runs tasks on them and acknowledges and records updates.
type standIn struct {
	process.Process
	executors map[string]process.UPID // executor id → driver pid
	updates   []*mesos.TaskStatus
}

func (s *standIn) Initialize() {
	s.executors = make(map[string]process.UPID)
	process.Install(&s.Process, func(from process.UPID, m *messages.RegisterExecutorMessage) {
		s.executors[m.GetExecutorId().GetValue()] = from
		_ = s.Send(from, &messages.ExecutorRegisteredMessage{
			ExecutorInfo:  &mesos.ExecutorInfo{ExecutorId: m.GetExecutorId(), Command: &mesos.CommandInfo{Value: proto.String("x")}},
			FrameworkId:   m.GetFrameworkId(),
			FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("f"), Id: m.GetFrameworkId()},
			SlaveId:       &mesos.SlaveID{Value: proto.String("S0")},
			SlaveInfo:     &mesos.SlaveInfo{Hostname: proto.String("localhost"), Id: &mesos.SlaveID{Value: proto.String("S0")}},
		})
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateMessage) {
		u := m.GetUpdate()
		s.updates = append(s.updates, u.GetStatus())
		_ = s.Send(from, &messages.StatusUpdateAcknowledgementMessage{
			SlaveId: u.SlaveId, FrameworkId: u.FrameworkId, TaskId: u.GetStatus().TaskId, Uuid: u.Uuid,
		})
	})
}

type fixture struct {
	t     *testing.T
	rt    *process.Runtime
	slave *standIn
	cz    *inproc.Containerizer
}

func start(t *testing.T, cfg inproc.Config) *fixture {
	t.Helper()
	rt, err := process.New(process.Options{Deterministic: true, Seed: 7, NoNetwork: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	s := &standIn{}
	if _, err := rt.Spawn(s, "slave(1)"); err != nil {
		t.Fatal(err)
	}
	cz, err := inproc.New(rt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, rt: rt, slave: s, cz: cz}
}

// get settles the runtime and returns f's outcome.
func get[T any](f *fixture, fut future.Future[T]) (T, error) {
	f.t.Helper()
	if !process.Await(f.rt, fut, bound) {
		f.t.Fatal("future still pending after settling")
	}
	return fut.Get()
}

func (f *fixture) spec(id, executorID string) containerizer.LaunchSpec {
	res, _ := resources.Parse("cpus:1;mem:128", "*")
	return containerizer.LaunchSpec{
		ContainerID: id,
		Executor:    &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String(executorID)}},
		Resources:   res,
		Env: []string{
			"PATH=/bin", "MESOS_SLAVE_PID=" + f.slave.Self().String(), "MESOS_SLAVE_ID=S0",
			"MESOS_FRAMEWORK_ID=F0", "MESOS_EXECUTOR_ID=" + executorID, "MESOS_CHECKPOINT=0",
		},
	}
}

// runTask sends a task to a registered executor.
func (f *fixture) runTask(executorID, taskID string) {
	f.t.Helper()
	f.rt.Clock().Settle()
	pid, err := get(f, process.Dispatch(f.rt, f.slave.Self(), func() process.UPID { return f.slave.executors[executorID] }))
	if err != nil || !pid.IsValid() {
		f.t.Fatalf("executor %s did not register", executorID)
	}
	process.Run(f.rt, f.slave.Self(), func() {
		_ = f.slave.Send(pid, &messages.RunTaskMessage{
			FrameworkId: &mesos.FrameworkID{Value: proto.String("F0")},
			Framework:   &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("f")},
			Task: &mesos.TaskInfo{
				Name: proto.String(taskID), TaskId: &mesos.TaskID{Value: proto.String(taskID)},
				SlaveId: &mesos.SlaveID{Value: proto.String("S0")},
			},
		})
	})
	f.rt.Clock().Settle()
}

func (f *fixture) states() string {
	var out []string
	updates, _ := get(f, process.Dispatch(f.rt, f.slave.Self(), func() []*mesos.TaskStatus { return f.slave.updates }))
	for _, st := range updates {
		out = append(out, st.GetTaskId().GetValue()+":"+st.GetState().String())
	}
	return strings.Join(out, " ")
}

func TestTaskExecutorRunsThenFinishesOnTheClock(t *testing.T) {
	f := start(t, inproc.Config{Executor: func(*mesos.ExecutorInfo) executor.Executor {
		return &inproc.TaskExecutor{RunFor: 10 * time.Second}
	}})
	if pid, err := get(f, f.cz.Launch(f.spec("c1", "e1"))); err != nil || pid != 0 {
		t.Fatalf("launch: pid %d, %v", pid, err)
	}
	wait := f.cz.Wait("c1")
	f.runTask("e1", "t1")
	if got := f.states(); got != "t1:TASK_RUNNING" {
		t.Fatalf("updates %q, want t1 running", got)
	}
	f.rt.Clock().Advance(9 * time.Second)
	f.rt.Clock().Settle()
	if !wait.IsPending() {
		t.Fatal("container ended before the task's time")
	}
	f.rt.Clock().Advance(time.Second)
	term, err := get(f, wait)
	if err != nil || term.Status != 0 {
		t.Fatalf("termination %+v, %v; want exit status 0", term, err)
	}
	if got := f.states(); got != "t1:TASK_RUNNING t1:TASK_FINISHED" {
		t.Fatalf("updates %q", got)
	}
	if left, _ := get(f, f.cz.Containers()); len(left) != 0 {
		t.Fatalf("containers left: %v", left)
	}
	// A late Wait still gets the termination.
	if term, err := get(f, f.cz.Wait("c1")); err != nil || term.Status != 0 {
		t.Fatalf("late wait: %+v, %v", term, err)
	}
}

func TestKillEndsTheTaskAndTheExecutor(t *testing.T) {
	f := start(t, inproc.Config{})
	if _, err := get(f, f.cz.Launch(f.spec("c1", "e1"))); err != nil {
		t.Fatal(err)
	}
	f.runTask("e1", "t1")
	f.rt.Clock().Advance(time.Hour) // the default executor runs until killed
	f.rt.Clock().Settle()
	pid, _ := get(f, process.Dispatch(f.rt, f.slave.Self(), func() process.UPID { return f.slave.executors["e1"] }))
	process.Run(f.rt, f.slave.Self(), func() {
		_ = f.slave.Send(pid, &messages.KillTaskMessage{
			FrameworkId: &mesos.FrameworkID{Value: proto.String("F0")}, TaskId: &mesos.TaskID{Value: proto.String("t1")},
		})
	})
	if term, err := get(f, f.cz.Wait("c1")); err != nil || term.Status != 0 {
		t.Fatalf("termination %+v, %v", term, err)
	}
	if got := f.states(); got != "t1:TASK_RUNNING t1:TASK_KILLED" {
		t.Fatalf("updates %q", got)
	}
}

// idle is an executor that does nothing at all.
type idle struct{ launched []string }

func (*idle) Registered(*executor.Driver, *mesos.ExecutorInfo, *mesos.FrameworkInfo, *mesos.SlaveInfo) {
}
func (*idle) Reregistered(*executor.Driver, *mesos.SlaveInfo) {}
func (*idle) Disconnected(*executor.Driver)                   {}
func (x *idle) LaunchTask(_ *executor.Driver, t *mesos.TaskInfo) {
	x.launched = append(x.launched, t.GetTaskId().GetValue())
}
func (*idle) KillTask(*executor.Driver, *mesos.TaskID)  {}
func (*idle) FrameworkMessage(*executor.Driver, []byte) {}
func (*idle) Shutdown(*executor.Driver)                 {}
func (*idle) Error(*executor.Driver, string)            {}

func TestByIDPicksTheExecutorAndDestroyKillsIt(t *testing.T) {
	mine := &idle{}
	f := start(t, inproc.Config{Executor: inproc.ByID(map[string]executor.Executor{"mine": mine})})
	if _, err := get(f, f.cz.Launch(f.spec("c1", "mine"))); err != nil {
		t.Fatal(err)
	}
	if _, err := get(f, f.cz.Launch(f.spec("c1", "mine"))); err == nil {
		t.Fatal("a second container with the same id launched")
	}
	f.runTask("mine", "t1")
	if len(mine.launched) != 1 || f.states() != "" {
		t.Fatalf("the chosen executor got %v, updates %q", mine.launched, f.states())
	}
	wait := f.cz.Wait("c1")
	if _, err := get(f, f.cz.Destroy("c1")); err != nil {
		t.Fatal(err)
	}
	if term, err := get(f, wait); err != nil || term.Status != int(syscall.SIGKILL) {
		t.Fatalf("termination %+v, %v; want killed", term, err)
	}
	if _, err := get(f, f.cz.Destroy("c1")); err == nil {
		t.Fatal("destroyed an ended container")
	}
	if _, err := get(f, f.cz.Wait("nope")); err == nil {
		t.Fatal("waited for an unknown container")
	}
}

func TestUsageIsFixedAndStampedWithTheClock(t *testing.T) {
	f := start(t, inproc.Config{Statistics: &mesos.ResourceStatistics{CpusUserTimeSecs: proto.Float64(1.5), MemRssBytes: proto.Uint64(1 << 20)}})
	if _, err := get(f, f.cz.Launch(f.spec("c1", "e1"))); err != nil {
		t.Fatal(err)
	}
	f.rt.Clock().Advance(3 * time.Second)
	st, err := get(f, f.cz.Usage("c1"))
	if err != nil {
		t.Fatal(err)
	}
	now := mesos.Timestamp(f.rt.Clock().Now())
	if st.GetTimestamp() != now || st.GetCpusUserTimeSecs() != 1.5 || st.GetMemRssBytes() != 1<<20 ||
		st.GetCpusLimit() != 1 || st.GetMemLimitBytes() != 128<<20 {
		t.Fatalf("usage %v (now %v)", st, now)
	}
	res, _ := resources.Parse("cpus:2;mem:256", "*")
	if _, err := get(f, f.cz.Update("c1", res)); err != nil {
		t.Fatal(err)
	}
	if st, _ := get(f, f.cz.Usage("c1")); st.GetCpusLimit() != 2 || st.GetMemLimitBytes() != 256<<20 {
		t.Fatalf("usage after update %v", st)
	}
	if _, err := get(f, f.cz.Usage("nope")); err == nil {
		t.Fatal("usage of an unknown container")
	}
}

func TestRecoverKeepsKnownContainersAndDestroysOrphans(t *testing.T) {
	f := start(t, inproc.Config{})
	for _, id := range []string{"known", "orphan"} {
		if _, err := get(f, f.cz.Launch(f.spec(id, "e-"+id))); err != nil {
			t.Fatal(err)
		}
	}
	alive, err := get(f, f.cz.Recover([]containerizer.Recovered{{ContainerID: "known"}, {ContainerID: "gone"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !alive["known"] || alive["gone"] || alive["orphan"] {
		t.Fatalf("alive %v", alive)
	}
	if term, err := get(f, f.cz.Wait("orphan")); err != nil || term.Status != int(syscall.SIGKILL) {
		t.Fatalf("orphan: %+v, %v", term, err)
	}
	if left, _ := get(f, f.cz.Containers()); len(left) != 1 || left[0] != "known" {
		t.Fatalf("containers %v", left)
	}
}

func TestLaunchNeedsTheExecutorEnvironment(t *testing.T) {
	f := start(t, inproc.Config{})
	s := f.spec("c1", "e1")
	s.Env = []string{"PATH=/bin"}
	if _, err := get(f, f.cz.Launch(s)); err == nil || !strings.Contains(err.Error(), "MESOS_SLAVE_PID") {
		t.Fatalf("launch without MESOS_SLAVE_PID: %v", err)
	}
}
