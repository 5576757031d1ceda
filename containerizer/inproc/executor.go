package inproc

import (
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// TaskExecutor is the default in-process executor, a stand-in for the
// command executor that runs no command: a task it is given is
// TASK_RUNNING at once and ends TASK_FINISHED after RunFor on the
// runtime's Clock (never, when RunFor is 0), or TASK_KILLED when it is
// killed. Like the command executor, it stops its driver once its last
// task has ended and the slave acknowledged every update.
type TaskExecutor struct {
	// RunFor is how long (virtual time) a task runs before it finishes;
	// 0 runs it until it is killed.
	RunFor time.Duration

	// Tasks running, with their finish timers; touched only from the
	// driver's callbacks, which its process runs one at a time.
	running map[string]*process.Timer
}

var _ executor.Executor = (*TaskExecutor)(nil)

// Registered does nothing.
func (x *TaskExecutor) Registered(*executor.Driver, *mesos.ExecutorInfo, *mesos.FrameworkInfo, *mesos.SlaveInfo) {
}

// Reregistered does nothing.
func (x *TaskExecutor) Reregistered(*executor.Driver, *mesos.SlaveInfo) {}

// Disconnected does nothing.
func (x *TaskExecutor) Disconnected(*executor.Driver) {}

// LaunchTask starts the task: TASK_RUNNING, and TASK_FINISHED after
// RunFor.
func (x *TaskExecutor) LaunchTask(d *executor.Driver, t *mesos.TaskInfo) {
	if x.running == nil {
		x.running = make(map[string]*process.Timer)
	}
	id := t.GetTaskId()
	x.running[id.GetValue()] = nil
	update(d, id, mesos.TaskState_TASK_RUNNING, "")
	if x.RunFor > 0 {
		x.running[id.GetValue()] = d.Delay(x.RunFor, func() {
			x.end(d, id, mesos.TaskState_TASK_FINISHED, "Task finished")
		})
	}
}

// KillTask ends a running task with TASK_KILLED.
func (x *TaskExecutor) KillTask(d *executor.Driver, id *mesos.TaskID) {
	x.end(d, id, mesos.TaskState_TASK_KILLED, "Task killed")
}

func (x *TaskExecutor) end(d *executor.Driver, id *mesos.TaskID, state mesos.TaskState, msg string) {
	timer, ok := x.running[id.GetValue()]
	if !ok {
		return
	}
	d.Cancel(timer)
	delete(x.running, id.GetValue())
	update(d, id, state, msg)
	if len(x.running) == 0 {
		d.Drained().OnReady(func(future.Nothing) {
			if len(x.running) == 0 {
				_, _ = d.Stop()
			}
		})
	}
}

// FrameworkMessage does nothing.
func (x *TaskExecutor) FrameworkMessage(*executor.Driver, []byte) {}

// Shutdown stops the tasks' timers; the driver stops after it.
func (x *TaskExecutor) Shutdown(d *executor.Driver) {
	for id, timer := range x.running {
		d.Cancel(timer)
		delete(x.running, id)
	}
}

// Error does nothing.
func (x *TaskExecutor) Error(*executor.Driver, string) {}

func update(d *executor.Driver, id *mesos.TaskID, state mesos.TaskState, msg string) {
	st := &mesos.TaskStatus{TaskId: id, State: state.Enum()}
	if msg != "" {
		st.Message = proto.String(msg)
	}
	_, _ = d.SendStatusUpdate(st)
}
