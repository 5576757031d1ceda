package executor_test

import (
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// The command executor as a real OS process, driven by a stand-in slave
// in this test: registration, launch, status updates with uuids that the
// slave acknowledges, finish, failure and kill.

const bound = 30 * time.Second

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

func executorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gomesos-executor")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "mesos-executor")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/gomesos/gomesos/cmd/mesos-executor").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build mesos-executor: %v", buildErr)
	}
	return binary
}

// standIn is a minimal slave for one executor.
type standIn struct {
	process.Process
	task       *mesos.TaskInfo
	registered *future.Promise[process.UPID]
	mu         sync.Mutex
	updates    chan *mesos.TaskStatus
	executor   process.UPID
}

func (s *standIn) Initialize() {
	process.Install(&s.Process, func(from process.UPID, m *messages.RegisterExecutorMessage) {
		s.executor = from
		_ = s.Send(from, &messages.ExecutorRegisteredMessage{
			ExecutorInfo:  &mesos.ExecutorInfo{ExecutorId: m.GetExecutorId(), Command: &mesos.CommandInfo{Value: proto.String("mesos-executor")}},
			FrameworkId:   m.GetFrameworkId(),
			FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("f"), Id: m.GetFrameworkId()},
			SlaveId:       &mesos.SlaveID{Value: proto.String("S0")},
			SlaveInfo:     &mesos.SlaveInfo{Hostname: proto.String("localhost"), Id: &mesos.SlaveID{Value: proto.String("S0")}},
		})
		_ = s.Send(from, &messages.RunTaskMessage{
			FrameworkId: m.GetFrameworkId(),
			Framework:   &mesos.FrameworkInfo{User: proto.String("test"), Name: proto.String("f")},
			Task:        s.task,
		})
		s.registered.Set(from)
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.StatusUpdateMessage) {
		u := m.GetUpdate()
		_ = s.Send(from, &messages.StatusUpdateAcknowledgementMessage{
			SlaveId: u.GetSlaveId(), FrameworkId: u.GetFrameworkId(), TaskId: u.GetStatus().GetTaskId(), Uuid: u.GetUuid(),
		})
		s.updates <- u.GetStatus()
	})
}

type run struct {
	rt      *process.Runtime
	slave   *standIn
	sandbox string
	cmd     *exec.Cmd
}

func startExecutor(t *testing.T, command string) *run {
	t.Helper()
	return startExecutorWith(t, command, nil)
}

// startExecutorWith is startExecutor with the task adjusted by mod.
func startExecutorWith(t *testing.T, command string, mod func(*mesos.TaskInfo)) *run {
	t.Helper()
	bin := executorBinary(t)
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	s := &standIn{
		task: &mesos.TaskInfo{
			Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String("t1")},
			SlaveId: &mesos.SlaveID{Value: proto.String("S0")}, Command: &mesos.CommandInfo{Value: proto.String(command)},
			KillPolicy: &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: proto.Int64(int64(time.Second))}},
		},
		registered: future.NewPromise[process.UPID](),
		updates:    make(chan *mesos.TaskStatus, 16),
	}
	if mod != nil {
		mod(s.task)
	}
	pid, err := rt.Spawn(s, "slave(1)")
	if err != nil {
		t.Fatal(err)
	}
	sandbox := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"MESOS_SLAVE_PID="+pid.String(), "MESOS_SLAVE_ID=S0", "MESOS_FRAMEWORK_ID=F0",
		"MESOS_EXECUTOR_ID=t1", "MESOS_DIRECTORY="+sandbox, "MESOS_CHECKPOINT=0",
		"LIBPROCESS_IP=127.0.0.1", "LIBPROCESS_PORT=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if !process.Await(rt, s.registered.Future(), bound) {
		t.Fatal("executor did not register")
	}
	return &run{rt: rt, slave: s, sandbox: sandbox, cmd: cmd}
}

func (r *run) next(t *testing.T) *mesos.TaskStatus {
	t.Helper()
	select {
	case st := <-r.slave.updates:
		if len(st.GetUuid()) != 16 || st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR || st.GetExecutorId().GetValue() != "t1" {
			t.Fatalf("update lacks uuid/source/executor: %v", st)
		}
		return st
	case <-time.After(bound): // wall-clock: bound on another OS process
		t.Fatal("no status update")
		return nil
	}
}

// exits waits for the executor process to exit by itself.
func (r *run) exits(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(bound): // wall-clock: bound on another OS process
		t.Fatal("executor did not exit after its task ended")
	}
}

func TestCommandFinishes(t *testing.T) {
	r := startExecutor(t, "echo hello from the task")
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v", st.GetState())
	}
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("second update %v (%s)", st.GetState(), st.GetMessage())
	}
	r.exits(t)
	out, err := os.ReadFile(filepath.Join(r.sandbox, "stdout"))
	if err != nil || string(out) != "hello from the task\n" {
		t.Fatalf("sandbox stdout %q, %v", out, err)
	}
}

func TestCommandFails(t *testing.T) {
	r := startExecutor(t, "echo oops >&2; exit 3")
	r.next(t)
	st := r.next(t)
	if st.GetState() != mesos.TaskState_TASK_FAILED || st.GetMessage() != "Command exited with status 3" {
		t.Fatalf("failing command: %v %q", st.GetState(), st.GetMessage())
	}
	r.exits(t)
	if errOut, _ := os.ReadFile(filepath.Join(r.sandbox, "stderr")); string(errOut) != "oops\n" {
		t.Fatalf("sandbox stderr %q", errOut)
	}
}

func TestCommandKilled(t *testing.T) {
	// SIGTERM goes to the whole process group, so the shell's child dies
	// too, and the update says killed (not failed by a signal).
	r := startExecutor(t, "sleep 100")
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v", st.GetState())
	}
	_ = r.rt.Send(r.slave.Self(), r.slave.executor, &messages.KillTaskMessage{
		FrameworkId: &mesos.FrameworkID{Value: proto.String("F0")}, TaskId: &mesos.TaskID{Value: proto.String("t1")},
	})
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("after kill: %v %q", st.GetState(), st.GetMessage())
	}
	r.exits(t)
}
