// Command dockerexecutor is the custom executor of the Docker tests: it
// registers with the slave, runs each task's data as a shell command
// (/bin/sh -c, in the sandbox, its output in the executor's stdout and
// stderr), reports TASK_RUNNING and then TASK_FINISHED or TASK_FAILED by
// the command's exit, and exits when the slave shuts it down. The tests
// build it statically (CGO_ENABLED=0) and have it fetched into the
// sandbox, so that it runs in the busybox test image.
package main

import (
	"fmt"
	"os"
	"os/exec"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
)

type shell struct{ dir string }

func (s *shell) Registered(_ *executor.Driver, e *mesos.ExecutorInfo, _ *mesos.FrameworkInfo, si *mesos.SlaveInfo) {
	fmt.Fprintf(os.Stderr, "REGISTERED %s with %s\n", e.GetExecutorId().GetValue(), si.GetId().GetValue())
}
func (s *shell) Reregistered(*executor.Driver, *mesos.SlaveInfo) {
	fmt.Fprintln(os.Stderr, "REREGISTERED")
}
func (s *shell) Disconnected(*executor.Driver) { fmt.Fprintln(os.Stderr, "DISCONNECTED") }

func send(d *executor.Driver, id *mesos.TaskID, state mesos.TaskState, msg string) {
	st := &mesos.TaskStatus{TaskId: id, State: state.Enum()}
	if msg != "" {
		st.Message = proto.String(msg)
	}
	if _, err := d.SendStatusUpdate(st); err != nil {
		fmt.Fprintln(os.Stderr, "status update:", err)
	}
}

// LaunchTask runs the task's command on a goroutine of its own: the
// driver's callbacks must not block.
func (s *shell) LaunchTask(d *executor.Driver, t *mesos.TaskInfo) {
	fmt.Fprintf(os.Stderr, "LAUNCH %s\n", t.GetTaskId().GetValue())
	send(d, t.GetTaskId(), mesos.TaskState_TASK_RUNNING, "")
	go func() {
		cmd := exec.Command("/bin/sh", "-c", string(t.GetData()))
		cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			send(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, err.Error())
			return
		}
		send(d, t.GetTaskId(), mesos.TaskState_TASK_FINISHED, "")
	}()
}

func (s *shell) KillTask(d *executor.Driver, id *mesos.TaskID) {
	send(d, id, mesos.TaskState_TASK_KILLED, "")
}
func (s *shell) FrameworkMessage(*executor.Driver, []byte) {}
func (s *shell) Shutdown(d *executor.Driver) {
	fmt.Fprintln(os.Stderr, "SHUTDOWN")
	_, _ = d.Stop()
}
func (s *shell) Error(_ *executor.Driver, msg string) { fmt.Fprintln(os.Stderr, "ERROR", msg) }

func main() {
	env, err := executor.EnvFromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerexecutor:", err)
		os.Exit(1)
	}
	rt, err := process.New(process.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerexecutor:", err)
		os.Exit(1)
	}
	defer rt.Close()
	d := executor.NewDriver(rt, &shell{dir: env.Directory}, env)
	if _, err := d.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "dockerexecutor:", err)
		os.Exit(1)
	}
	st := d.Join()
	fmt.Fprintln(os.Stderr, "EXIT", st)
}
