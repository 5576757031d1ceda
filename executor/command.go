package executor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/docker"
	"github.com/gomesos/gomesos/mesos"
)

// DefaultKillGracePeriod is how long a killed task gets between SIGTERM
// and SIGKILL when its KillPolicy does not say.
const DefaultKillGracePeriod = 3 * time.Second

// CommandExecutor runs one task's command (a shell command, or argv when
// shell is false) in the sandbox, with stdout and stderr in files there,
// and reports TASK_RUNNING then TASK_FINISHED, TASK_FAILED or
// TASK_KILLED. Kill sends SIGTERM to the task's process group and SIGKILL
// after the grace period. Terminal is completed once the task ended.
type CommandExecutor struct {
	// Dir is the sandbox; empty means the working directory.
	Dir string

	mu       sync.Mutex
	cmd      *exec.Cmd
	taskID   *mesos.TaskID
	killed   bool
	grace    time.Duration
	finished chan struct{}

	// health checks (TaskInfo.health_check)
	health     *healthState
	ended      bool   // the task's command has ended
	healthKill string // why a failing health check killed the task
}

// NewCommandExecutor returns a command executor for sandbox dir.
func NewCommandExecutor(dir string) *CommandExecutor {
	return &CommandExecutor{Dir: dir, finished: make(chan struct{})}
}

// Finished is closed once the task has ended and its final update is sent.
func (c *CommandExecutor) Finished() <-chan struct{} { return c.finished }

func update(d *Driver, id *mesos.TaskID, state mesos.TaskState, msg string) {
	st := &mesos.TaskStatus{TaskId: id, State: state.Enum()}
	if msg != "" {
		st.Message = proto.String(msg)
	}
	if _, err := d.SendStatusUpdate(st); err != nil {
		d.d.log.Error("cannot send status update", "err", err)
	}
}

// Registered implements Executor.
func (c *CommandExecutor) Registered(*Driver, *mesos.ExecutorInfo, *mesos.FrameworkInfo, *mesos.SlaveInfo) {
}

// Reregistered implements Executor.
func (c *CommandExecutor) Reregistered(*Driver, *mesos.SlaveInfo) {}

// Disconnected implements Executor.
func (c *CommandExecutor) Disconnected(*Driver) {}

// LaunchTask starts the task's command.
func (c *CommandExecutor) LaunchTask(d *Driver, t *mesos.TaskInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		update(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, "The command executor runs one task only")
		return
	}
	cmdInfo := t.GetCommand()
	if cmdInfo == nil {
		update(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, "Task has no command")
		close(c.finished)
		return
	}
	var cmd *exec.Cmd
	if os.Getenv(docker.EnvContainer) != "" {
		// A docker task: the docker containerizer created its container;
		// the task process is this binary as the runner that starts it.
		self, err := os.Executable()
		if err != nil {
			update(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, "Cannot find the docker runner: "+err.Error())
			close(c.finished)
			return
		}
		cmd = &exec.Cmd{Path: self, Args: []string{"mesos-executor", docker.RunArg}}
	} else if cmdInfo.Shell == nil || cmdInfo.GetShell() {
		cmd = exec.Command("/bin/sh", "-c", cmdInfo.GetValue())
	} else {
		args := cmdInfo.GetArguments()
		if len(args) > 0 {
			args = args[1:] // argv[0]
		}
		cmd = exec.Command(cmdInfo.GetValue(), args...)
	}
	cmd.Dir = c.Dir
	cmd.Env = os.Environ()
	for _, v := range cmdInfo.GetEnvironment().GetVariables() {
		cmd.Env = append(cmd.Env, v.GetName()+"="+v.GetValue())
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dir := c.Dir
	if dir == "" {
		dir = "."
	}
	stdout, err1 := os.OpenFile(filepath.Join(dir, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	stderr, err2 := os.OpenFile(filepath.Join(dir, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err := errors.Join(err1, err2); err != nil {
		update(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, "Cannot open the sandbox's stdout/stderr: "+err.Error())
		close(c.finished)
		return
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	c.grace = DefaultKillGracePeriod
	if g := t.GetKillPolicy().GetGracePeriod(); g != nil {
		c.grace = time.Duration(g.GetNanoseconds())
	}
	if err := cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		update(d, t.GetTaskId(), mesos.TaskState_TASK_FAILED, "Failed to launch the command: "+err.Error())
		close(c.finished)
		return
	}
	c.cmd, c.taskID = cmd, t.GetTaskId()
	update(d, t.GetTaskId(), mesos.TaskState_TASK_RUNNING, "")
	if hc := t.GetHealthCheck(); hc != nil {
		c.health = &healthState{policy: newHealthPolicy(hc), started: d.Now()}
		d.Delay(c.health.policy.delay, func() { c.checkHealth(d, hc) })
	}
	go func() {
		err := cmd.Wait()
		stdout.Close()
		stderr.Close()
		c.mu.Lock()
		killed, healthKill := c.killed, c.healthKill
		c.ended = true
		c.mu.Unlock()
		state, msg := mesos.TaskState_TASK_FINISHED, "Command exited with status 0"
		var exit *exec.ExitError
		switch {
		case killed && healthKill != "":
			st := &mesos.TaskStatus{TaskId: c.taskID, State: mesos.TaskState_TASK_KILLED.Enum(), Message: proto.String(healthKill), Healthy: proto.Bool(false)}
			if _, err := d.SendStatusUpdate(st); err != nil {
				d.d.log.Error("cannot send status update", "err", err)
			}
			close(c.finished)
			return
		case killed:
			state, msg = mesos.TaskState_TASK_KILLED, "Command terminated after a kill"
		case errors.As(err, &exit):
			state = mesos.TaskState_TASK_FAILED
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				msg = fmt.Sprintf("Command terminated with signal %s", ws.Signal())
			} else {
				msg = fmt.Sprintf("Command exited with status %d", exit.ExitCode())
			}
		case err != nil:
			state, msg = mesos.TaskState_TASK_FAILED, "Command failed: "+err.Error()
		}
		update(d, c.taskID, state, msg)
		close(c.finished)
	}()
}

// KillTask sends SIGTERM to the task's process group, then SIGKILL after
// the grace period.
func (c *CommandExecutor) KillTask(d *Driver, id *mesos.TaskID) {
	c.mu.Lock()
	cmd := c.cmd
	if cmd == nil || c.taskID.GetValue() != id.GetValue() {
		c.mu.Unlock()
		return
	}
	c.killed = true
	grace := c.grace
	c.mu.Unlock()
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	d.Delay(grace, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
}

// FrameworkMessage implements Executor: the command executor ignores them.
func (c *CommandExecutor) FrameworkMessage(*Driver, []byte) {}

// Shutdown kills the task, if any.
func (c *CommandExecutor) Shutdown(d *Driver) {
	c.mu.Lock()
	id := c.taskID
	c.mu.Unlock()
	if id != nil {
		c.KillTask(d, id)
	}
}

// Error implements Executor.
func (c *CommandExecutor) Error(d *Driver, msg string) {
	d.d.log.Error("executor error", "message", msg)
}

// checkHealth runs one health check off the driver's process (a check
// blocks) and hands its result to healthResult.
func (c *CommandExecutor) checkHealth(d *Driver, hc *mesos.HealthCheck) {
	c.mu.Lock()
	ended, timeout := c.ended || c.killed, c.health.policy.timeout
	c.mu.Unlock()
	if ended {
		return
	}
	go func() { c.healthResult(d, hc, runHealthCheck(d, hc, c.Dir, timeout)) }()
}

// healthResult reports a check's result as Mesos does (TASK_RUNNING with
// healthy set), kills the task after too many failures, and schedules the
// next check after interval_seconds.
func (c *CommandExecutor) healthResult(d *Driver, hc *mesos.HealthCheck, err error) {
	c.mu.Lock()
	if c.ended || c.killed {
		c.mu.Unlock()
		return
	}
	dec := c.health.result(d.Now(), err)
	id, interval := c.taskID, c.health.policy.interval
	if dec.kill {
		c.healthKill = dec.message
	}
	c.mu.Unlock()
	if dec.report {
		st := &mesos.TaskStatus{TaskId: id, State: mesos.TaskState_TASK_RUNNING.Enum(), Healthy: proto.Bool(dec.healthy)}
		if dec.message != "" {
			st.Message = proto.String(dec.message)
		}
		if _, err := d.SendStatusUpdate(st); err != nil {
			d.d.log.Error("cannot send status update", "err", err)
		}
	}
	if dec.kill {
		d.d.log.Info("killing an unhealthy task", "task", id.GetValue(), "reason", dec.message)
		c.KillTask(d, id)
		return
	}
	d.Delay(interval, func() { c.checkHealth(d, hc) })
}
