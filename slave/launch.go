package slave

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
)

// executorFor returns the executor that runs t, creating (and launching)
// it when needed.
func (s *Slave) executorFor(f *framework, t *mesos.TaskInfo) (*executor, error) {
	info := t.GetExecutor()
	command := false
	if info == nil {
		command = true
		path := filepath.Join(s.cfg.LauncherDir, "mesos-executor")
		info = &mesos.ExecutorInfo{
			ExecutorId:  &mesos.ExecutorID{Value: proto.String(t.GetTaskId().GetValue())},
			FrameworkId: &mesos.FrameworkID{Value: proto.String(f.id)},
			Name:        proto.String("Command Executor (Task: " + t.GetTaskId().GetValue() + ")"),
			Source:      proto.String(t.GetTaskId().GetValue()),
			Command:     &mesos.CommandInfo{Value: proto.String(path), Shell: proto.Bool(false), Arguments: []string{"mesos-executor"}},
		}
	}
	eid := info.GetExecutorId().GetValue()
	if e := f.executors[eid]; e != nil && !e.exited {
		return e, nil
	}
	e := &executor{id: eid, info: info, command: command, tasks: make(map[string]*mesos.Task)}
	if err := s.launch(f, e); err != nil {
		return nil, err
	}
	f.executors[eid] = e
	return e, nil
}

// launch creates the sandbox and starts the executor process.
func (s *Slave) launch(f *framework, e *executor) error {
	var run [16]byte
	s.Runtime().RandBytes(run[:])
	e.dir = filepath.Join(s.cfg.WorkDir, "slaves", s.info.GetId().GetValue(), "frameworks", f.id,
		"executors", e.id, "runs", fmt.Sprintf("%x", run))
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("create sandbox: %w", err)
	}
	cmdInfo := e.info.GetCommand()
	var cmd *exec.Cmd
	if cmdInfo.Shell == nil || cmdInfo.GetShell() {
		cmd = exec.Command("/bin/sh", "-c", cmdInfo.GetValue())
	} else {
		args := cmdInfo.GetArguments()
		if len(args) > 0 {
			args = args[1:]
		}
		cmd = exec.Command(cmdInfo.GetValue(), args...)
	}
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(),
		"MESOS_FRAMEWORK_ID="+f.id,
		"MESOS_EXECUTOR_ID="+e.id,
		"MESOS_DIRECTORY="+e.dir,
		"MESOS_SLAVE_ID="+s.info.GetId().GetValue(),
		"MESOS_SLAVE_PID="+s.Self().String(),
		"MESOS_AGENT_ENDPOINT="+s.Self().HostPort(),
		"MESOS_CHECKPOINT=0",
		"LIBPROCESS_PORT=0",
		"LIBPROCESS_IP="+s.Self().Addr.Addr().String(),
	)
	for _, v := range cmdInfo.GetEnvironment().GetVariables() {
		cmd.Env = append(cmd.Env, v.GetName()+"="+v.GetValue())
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err1 := os.Create(filepath.Join(e.dir, "stdout"))
	errf, err2 := os.Create(filepath.Join(e.dir, "stderr"))
	if err1 != nil || err2 != nil {
		return fmt.Errorf("create sandbox stdout/stderr: %v %v", err1, err2)
	}
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		out.Close()
		errf.Close()
		return fmt.Errorf("launch executor %s: %w", e.id, err)
	}
	e.proc = cmd.Process
	s.log.Info("launched executor", "executor", e.id, "framework", f.id, "pid", cmd.Process.Pid, "sandbox", e.dir)
	rt, self := s.Runtime(), s.Self()
	go func() {
		err := cmd.Wait() // reaps the executor; its end goes to the slave process
		out.Close()
		errf.Close()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		}
		process.Run(rt, self, func() { s.executorExited(f.id, e, int32(status)) })
	}()
	return nil
}

// executorExited ends the executor's unfinished tasks (TASK_FAILED for the
// command executor, TASK_LOST otherwise) and tells the master.
func (s *Slave) executorExited(fid string, e *executor, status int32) {
	e.exited = true
	s.metrics.executorsTerminated.Inc()
	s.log.Info("executor exited", "executor", e.id, "framework", fid, "status", status)
	f := s.frameworks[fid]
	for _, t := range e.queued {
		s.generateUpdate(fid, e, t.GetTaskId(), mesos.TaskState_TASK_LOST, mesos.TaskStatus_REASON_EXECUTOR_TERMINATED, "Executor terminated before the task started")
	}
	e.queued = nil
	for _, t := range e.tasks {
		if terminal(t.GetState()) {
			continue
		}
		state, reason := mesos.TaskState_TASK_LOST, mesos.TaskStatus_REASON_EXECUTOR_TERMINATED
		if e.command {
			state, reason = mesos.TaskState_TASK_FAILED, mesos.TaskStatus_REASON_COMMAND_EXECUTOR_FAILED
		}
		s.generateUpdate(fid, e, t.GetTaskId(), state, reason, "Executor terminated")
	}
	if !e.command && s.info.Id != nil {
		s.send(s.cfg.Master, &messages.ExitedExecutorMessage{
			SlaveId: s.info.Id, FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
			ExecutorId: e.info.GetExecutorId(), Status: proto.Int32(status),
		})
	}
	if f != nil && f.executors[e.id] == e {
		delete(f.executors, e.id)
	}
}

// shutdownFramework asks its executors to shut down and kills them after
// the grace period.
func (s *Slave) shutdownFramework(f *framework) {
	for _, e := range f.executors {
		if e.pid.IsValid() {
			s.send(e.pid, &messages.ShutdownExecutorMessage{ExecutorId: e.info.GetExecutorId(), FrameworkId: &mesos.FrameworkID{Value: proto.String(f.id)}})
		}
		if p := e.proc; p != nil {
			pgid := p.Pid
			s.Delay(s.cfg.ExecutorShutdownGracePeriod, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		}
	}
}
