//go:build ignore

// This program is an unmodified-style mesos-go 0.0.6 executor used by
// gomesos's interop tests. It reads the MESOS_* environment the slave
// sets, answers a task launch with TASK_RUNNING, replies to the framework
// message "hello" with "reply:hello" and then finishes the task, and kills
// tasks on request. It logs each callback to stderr (the sandbox's stderr).
package main

import (
	"fmt"
	"os"

	exec "github.com/mesos/mesos-go/api/v0/executor"
	mesos "github.com/mesos/mesos-go/api/v0/mesosproto"
)

type executor struct{ task *mesos.TaskInfo }

func status(d exec.ExecutorDriver, t *mesos.TaskInfo, s mesos.TaskState) {
	if _, err := d.SendStatusUpdate(&mesos.TaskStatus{TaskId: t.TaskId, State: s.Enum()}); err != nil {
		fmt.Fprintln(os.Stderr, "status update:", err)
	}
}

func (e *executor) Registered(_ exec.ExecutorDriver, ei *mesos.ExecutorInfo, _ *mesos.FrameworkInfo, si *mesos.SlaveInfo) {
	fmt.Fprintf(os.Stderr, "REGISTERED %s on %s\n", ei.GetExecutorId().GetValue(), si.GetHostname())
}
func (e *executor) Reregistered(exec.ExecutorDriver, *mesos.SlaveInfo) {
	fmt.Fprintln(os.Stderr, "REREGISTERED")
}
func (e *executor) Disconnected(exec.ExecutorDriver) { fmt.Fprintln(os.Stderr, "DISCONNECTED") }
func (e *executor) LaunchTask(d exec.ExecutorDriver, t *mesos.TaskInfo) {
	fmt.Fprintf(os.Stderr, "LAUNCH %s\n", t.GetTaskId().GetValue())
	e.task = t
	status(d, t, mesos.TaskState_TASK_RUNNING)
}
func (e *executor) KillTask(d exec.ExecutorDriver, id *mesos.TaskID) {
	fmt.Fprintf(os.Stderr, "KILL %s\n", id.GetValue())
	if e.task != nil {
		status(d, e.task, mesos.TaskState_TASK_KILLED)
	}
}
func (e *executor) FrameworkMessage(d exec.ExecutorDriver, msg string) {
	fmt.Fprintf(os.Stderr, "MESSAGE %s\n", msg)
	if _, err := d.SendFrameworkMessage("reply:" + msg); err != nil {
		fmt.Fprintln(os.Stderr, "framework message:", err)
	}
	if e.task != nil {
		status(d, e.task, mesos.TaskState_TASK_FINISHED)
	}
}
func (e *executor) Shutdown(d exec.ExecutorDriver) {
	fmt.Fprintln(os.Stderr, "SHUTDOWN")
	d.Stop()
}
func (e *executor) Error(_ exec.ExecutorDriver, msg string) { fmt.Fprintln(os.Stderr, "ERROR", msg) }

func main() {
	driver, err := exec.NewMesosExecutorDriver(exec.DriverConfig{Executor: &executor{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(2)
	}
	if _, err := driver.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(2)
	}
	st, _ := driver.Join()
	fmt.Fprintln(os.Stderr, "EXIT", st)
}
