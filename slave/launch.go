package slave

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/slave/state"
)

// Extra resources the command executor's container gets on top of its
// task's, as Mesos gives them (not offered, not accounted by the master).
const (
	commandExecutorCPUs = 0.1
	commandExecutorMem  = 32
)

// newContainerID returns a random UUID in its text form.
func (s *slave) newContainerID() string {
	return mesos.NewUUID(s.Runtime().RandBytes).String()
}

// commandExecutorInfo is the ExecutorInfo of the command executor for t.
func (s *slave) commandExecutorInfo(fid string, t *mesos.TaskInfo) *mesos.ExecutorInfo {
	path := filepath.Join(s.cfg.LauncherDir, "mesos-executor")
	// As in Mesos, a task's non-MESOS ContainerInfo goes into its command
	// executor's info, so that the checkpointed executor says which
	// containerizer recovers it.
	var container *mesos.ContainerInfo
	if c := t.GetContainer(); c != nil && c.GetType() != mesos.ContainerInfo_MESOS {
		container = c
	}
	return &mesos.ExecutorInfo{
		Container:   container,
		ExecutorId:  &mesos.ExecutorID{Value: proto.String(t.GetTaskId().GetValue())},
		FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
		Name:        proto.String("Command Executor (Task: " + t.GetTaskId().GetValue() + ")"),
		Source:      proto.String(t.GetTaskId().GetValue()),
		// The task's URIs are fetched into the executor's sandbox.
		Command: &mesos.CommandInfo{
			Value: proto.String(path), Shell: proto.Bool(false), Arguments: []string{"mesos-executor"},
			Uris: t.GetCommand().GetUris(),
		},
	}
}

// executorFor returns the executor that runs t, creating it (not yet
// launched; isNew says so) when needed.
func (s *slave) executorFor(f *framework, t *mesos.TaskInfo) (e *executor, isNew bool) {
	info := t.GetExecutor()
	command := info == nil
	if command {
		info = s.commandExecutorInfo(f.id, t)
	} else if info.FrameworkId == nil {
		info = proto.Clone(info).(*mesos.ExecutorInfo)
		info.FrameworkId = &mesos.FrameworkID{Value: proto.String(f.id)}
	}
	eid := info.GetExecutorId().GetValue()
	if e := f.executors[eid]; e != nil && e.state != executorTerminated && e.state != executorTerminating {
		return e, false
	}
	e = &executor{
		id: eid, info: info, command: command, containerID: s.newContainerID(),
		tasks: make(map[string]*mesos.Task), checkpoint: f.checkpoint,
	}
	e.dir = s.paths.Sandbox(s.info.GetId().GetValue(), f.id, eid, e.containerID)
	f.executors[eid] = e
	if e.checkpoint {
		if err := s.checkpointExecutor(f, e); err != nil {
			s.log.Error("cannot checkpoint the executor", "executor", eid, "err", err)
		}
	}
	return e, true
}

// launch creates the executor's sandbox and starts its container; the
// result comes back to launched through the slave's mailbox.
func (s *slave) launch(f *framework, e *executor) {
	sid := s.info.GetId().GetValue()
	e.state = executorLaunching
	if err := s.cfg.Files.MkdirAll(e.dir); err != nil {
		s.launchFailed(f, e, fmt.Errorf("create sandbox: %w", err))
		return
	}
	attachSandbox(s.Runtime(), s.cfg.WorkDir, e.dir)
	if err := state.Link(s.cfg.Files, e.containerID, filepath.Join(s.paths.ExecutorSandbox(sid, f.id, e.id), "runs", "latest")); err != nil {
		s.log.Warn("cannot link the latest run", "err", err)
	}
	s.linkVolumes(e)
	spec := containerizer.LaunchSpec{
		ContainerID: e.containerID,
		Executor:    e.info,
		Command:     e.info.GetCommand(),
		Resources:   s.executorResources(e),
		Directory:   e.dir,
		Env:         s.executorEnv(f, e),
		Volumes:     s.volumes(e),
	}
	if len(e.queued) > 0 {
		spec.Task = e.queued[0]
	}
	if s.cfg.SwitchUser && os.Geteuid() == 0 {
		spec.User = f.info.GetUser()
	}
	s.Clock().Cancel(e.regTimer)
	e.regTimer = s.Delay(s.cfg.ExecutorRegistrationTimeout, func() {
		if e.state == executorLaunching || e.state == executorRegistering {
			s.log.Info("executor did not register in time; destroying it", "executor", e.id, "timeout", s.cfg.ExecutorRegistrationTimeout)
			s.destroyExecutor(e, mesos.TaskStatus_REASON_EXECUTOR_REGISTRATION_TIMEOUT)
		}
	})
	// Counted: Settle waits for the launch (not for the executor's life).
	process.Count(s.Runtime(), s.cz.Launch(spec)).OnAny(process.Defer1(s.Runtime(), s.Self(), func(l future.Future[int]) {
		pid, err := l.Get()
		s.launched(f, e, pid, err)
	}))
}

// launched records a started container (or a failed launch) and waits
// for its end.
func (s *slave) launched(f *framework, e *executor, pid int, err error) {
	if err != nil {
		s.launchFailed(f, e, err)
		return
	}
	e.forked = pid
	e.launched = true
	if e.state == executorLaunching {
		e.state = executorRegistering
	}
	s.log.Info("launched executor", "executor", e.id, "framework", f.id, "container", e.containerID, "pid", pid, "sandbox", e.dir)
	if e.checkpoint && pid > 0 {
		sid := s.info.GetId().GetValue()
		if err := state.WriteString(s.cfg.Files, s.paths.ForkedPID(sid, f.id, e.id, e.containerID), strconv.Itoa(pid)); err != nil {
			s.log.Error("cannot checkpoint the executor pid", "executor", e.id, "err", err)
		}
	}
	if e.state == executorTerminating {
		s.destroyContainer(e.containerID) // killed while launching
	}
	s.waitContainer(f.id, e)
}

// waitContainer hands the container's termination to executorExited. The
// wait is not counted for Settle: a container may run for ever.
func (s *slave) waitContainer(fid string, e *executor) {
	s.cz.Wait(e.containerID).OnAny(process.Defer1(s.Runtime(), s.Self(), func(w future.Future[containerizer.Termination]) {
		term, err := w.Get()
		if err != nil {
			term = containerizer.Termination{Status: -1, Message: "Cannot wait for the container: " + err.Error()}
		}
		s.executorExited(fid, e, term)
	}))
}

// destroyContainer destroys a container; a failure is logged.
func (s *slave) destroyContainer(id string) {
	process.Count(s.Runtime(), s.cz.Destroy(id)).OnFailed(process.Defer1(s.Runtime(), s.Self(), func(err error) {
		s.log.Warn("cannot destroy the container", "container", id, "err", err)
	}))
}

func (s *slave) launchFailed(f *framework, e *executor, err error) {
	s.log.Error("cannot launch executor", "executor", e.id, "framework", f.id, "err", err)
	e.reason, e.reasonSet = mesos.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED, true
	s.executorExited(f.id, e, containerizer.Termination{Status: -1, Message: "Failed to launch container: " + err.Error()})
}

// executorResources are the container's resources: the executor's own
// plus those of its unfinished tasks.
func (s *slave) executorResources(e *executor) resources.Resources {
	res := resources.FromProto(e.info.GetResources())
	if e.command {
		extra, _ := resources.Parse(fmt.Sprintf("cpus:%g;mem:%d", commandExecutorCPUs, commandExecutorMem), "*")
		res = res.Plus(extra)
	}
	for _, t := range inIDOrder(e.tasks) {
		if !mesos.IsTerminal(t.GetState()) {
			res = res.Plus(resources.FromProto(t.GetResources()))
		}
	}
	for _, t := range e.queued {
		if e.tasks[t.GetTaskId().GetValue()] == nil {
			res = res.Plus(resources.FromProto(t.GetResources()))
		}
	}
	return res
}

// updateContainer tells the containerizer the executor's new resources.
func (s *slave) updateContainer(e *executor) {
	if e.state == executorLaunching || e.state == executorTerminated || !e.launched {
		return
	}
	// The containerizer applies a container's updates in the order the
	// slave makes them.
	id := e.containerID
	s.cz.Update(id, s.executorResources(e)).OnFailed(process.Defer1(s.Runtime(), s.Self(), func(err error) {
		s.log.Warn("cannot update the container's resources", "container", id, "err", err)
	}))
}

// executorEnv is the environment of an executor (see flows.md §7).
func (s *slave) executorEnv(f *framework, e *executor) []string {
	env := []string{
		"MESOS_FRAMEWORK_ID=" + f.id,
		"MESOS_EXECUTOR_ID=" + e.id,
		"MESOS_DIRECTORY=" + e.dir,
		"MESOS_SANDBOX=" + e.dir,
		"MESOS_SLAVE_ID=" + s.info.GetId().GetValue(),
		"MESOS_SLAVE_PID=" + s.Self().String(),
		"MESOS_AGENT_ENDPOINT=" + s.Self().HostPort(),
		"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=" + flags.FormatDuration(s.shutdownGracePeriod(e)),
		"MESOS_HTTP_COMMAND_EXECUTOR=" + boolEnv(s.cfg.HTTPCommandExecutor),
		"LIBPROCESS_PORT=0",
		"LIBPROCESS_IP=" + s.Self().Addr.Addr().String(),
	}
	// What comes from the slave's environment goes first: what follows
	// wins.
	env = append(s.inheritedEnv(), env...)
	// Executors speak to the slave over the same wire: they get its TLS
	// setup (SSL_*, LIBPROCESS_SSL_*).
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SSL_") || strings.HasPrefix(kv, "LIBPROCESS_SSL_") {
			env = append(env, kv)
		}
	}
	if e.checkpoint {
		// MESOS_SUBSCRIPTION_BACKOFF_MAX: an HTTP executor retries its
		// subscription at most this far apart, so that it is back within
		// the re-registration timeout of a restarted slave.
		env = append(env, "MESOS_CHECKPOINT=1", "MESOS_RECOVERY_TIMEOUT="+flags.FormatDuration(s.cfg.RecoveryTimeout),
			"MESOS_SUBSCRIPTION_BACKOFF_MAX="+flags.FormatDuration(s.cfg.ExecutorReregistrationTimeout))
	} else {
		env = append(env, "MESOS_CHECKPOINT=0")
	}
	for _, v := range e.info.GetCommand().GetEnvironment().GetVariables() {
		env = append(env, v.GetName()+"="+v.GetValue())
	}
	for _, h := range s.cfg.Hooks {
		if d, ok := h.(modules.ExecutorEnvironmentDecorator); ok {
			more, err := d.SlaveExecutorEnvironmentDecorator(e.info)
			if err != nil {
				s.log.Warn("executor environment hook failed", "executor", e.id, "err", err)
				continue
			}
			for _, v := range more.GetVariables() {
				env = append(env, v.GetName()+"="+v.GetValue())
			}
		}
	}
	return env
}

// shutdownGracePeriod is the executor's own shutdown grace period
// (ExecutorInfo.shutdown_grace_period) or the slave's.
func (s *slave) shutdownGracePeriod(e *executor) time.Duration {
	if d := e.info.GetShutdownGracePeriod(); d != nil {
		return time.Duration(d.GetNanoseconds())
	}
	return s.cfg.ExecutorShutdownGracePeriod
}

func boolEnv(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// decorateTask gives t the labels of the run-task hooks, in --hooks order
// (each sees the labels of the one before).
func (s *slave) decorateTask(f *framework, t *mesos.TaskInfo) *mesos.TaskInfo {
	for _, h := range s.cfg.Hooks {
		d, ok := h.(modules.RunTaskLabelDecorator)
		if !ok {
			continue
		}
		labels, err := d.SlaveRunTaskLabelDecorator(t, t.GetExecutor(), f.info, s.info)
		if err != nil {
			s.log.Warn("run-task hook failed", "task", t.GetTaskId().GetValue(), "err", err)
			continue
		}
		t = proto.Clone(t).(*mesos.TaskInfo)
		t.Labels = labels
	}
	return t
}

// removeExecutorHooks tells the hooks that e is gone.
func (s *slave) removeExecutorHooks(f *framework, e *executor) {
	for _, h := range s.cfg.Hooks {
		if r, ok := h.(modules.RemoveExecutorHook); ok {
			r.SlaveRemoveExecutorHook(f.info, e.info)
		}
	}
}

// inheritedEnv is the part of an executor's environment that comes from
// the slave's: --executor_environment_variables when given (sorted by
// name), else the slave's PATH (or a default), HOME, USER, TMPDIR, LANG
// and the variables naming native libraries.
func (s *slave) inheritedEnv() []string {
	if s.cfg.ExecutorEnvironment != nil {
		env := make([]string, 0, len(s.cfg.ExecutorEnvironment))
		for k, v := range s.cfg.ExecutorEnvironment {
			env = append(env, k+"="+v)
		}
		sort.Strings(env)
		return env
	}
	env := []string{"PATH=" + envOr("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")}
	for _, k := range []string{"HOME", "USER", "TMPDIR", "LANG", "GOCOVERDIR", "MESOS_NATIVE_JAVA_LIBRARY", "MESOS_NATIVE_LIBRARY"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// executorExited ends the executor's unfinished tasks and tells the
// master. Tasks of the command executor, or of a container that broke a
// limit, fail (TASK_FAILED); others are lost (TASK_LOST).
func (s *slave) executorExited(fid string, e *executor, term containerizer.Termination) {
	if e.state == executorTerminated {
		return
	}
	e.state = executorTerminated
	e.closeHTTP()
	s.Clock().Cancel(e.regTimer)
	s.metrics.executorsTerminated.Inc()
	s.log.Info("executor terminated", "executor", e.id, "framework", fid, "container", e.containerID, "status", term.Status, "message", term.Message)
	reason := mesos.TaskStatus_REASON_EXECUTOR_TERMINATED
	if e.reasonSet {
		reason = e.reason
	}
	msg := "Executor terminated"
	if term.Message != "" {
		msg = term.Message
	}
	if term.Limited {
		reason, msg = term.Reason, term.Message
	}
	taskState := mesos.TaskState_TASK_LOST
	// A container that could not be launched (no containerizer can run
	// its ContainerInfo, a broken external containerizer) fails its tasks;
	// a preempted one (QoS correction) loses them.
	launchFailed := e.reasonSet && e.reason == mesos.TaskStatus_REASON_CONTAINER_LAUNCH_FAILED
	preempted := e.reasonSet && e.reason == mesos.TaskStatus_REASON_CONTAINER_PREEMPTED
	if (e.command || term.Limited || launchFailed) && !preempted {
		taskState = mesos.TaskState_TASK_FAILED
		if e.command && !term.Limited && !e.reasonSet {
			reason = mesos.TaskStatus_REASON_COMMAND_EXECUTOR_FAILED
		}
	}
	for _, t := range inIDOrder(e.tasks) {
		if !mesos.IsTerminal(t.GetState()) {
			s.generateUpdate(fid, e, t.GetTaskId(), taskState, reason, msg)
		}
	}
	s.releaseHeld(e, &term)
	e.queued = nil
	if !e.command && s.info.Id != nil {
		s.send(s.cfg.Master, &messages.ExitedExecutorMessage{
			SlaveId: s.info.Id, FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)},
			ExecutorId: e.info.GetExecutorId(), Status: proto.Int32(int32(term.Status)),
		})
	}
	sid := s.info.GetId().GetValue()
	if e.checkpoint && sid != "" {
		if err := state.WriteString(s.cfg.Files, s.paths.Sentinel(sid, fid, e.id, e.containerID), ""); err != nil {
			s.log.Warn("cannot write the executor sentinel", "err", err)
		}
	}
	s.maybeCompleteExecutor(fid, e)
	for _, pr := range s.waiters[fid+"/"+e.id] {
		pr.Set(future.Nothing{})
	}
	delete(s.waiters, fid+"/"+e.id)
	if s.cleaningUp {
		s.cleanupThenExit()
	}
}

// maybeCompleteExecutor moves a terminated executor whose tasks are all
// done to the completed list and schedules its directories for GC.
func (s *slave) maybeCompleteExecutor(fid string, e *executor) {
	if e.state != executorTerminated || len(e.tasks) > 0 {
		return
	}
	f := s.frameworks[fid]
	if f == nil || f.executors[e.id] != e {
		return
	}
	delete(f.executors, e.id)
	s.removeExecutorHooks(f, e)
	f.completed = appendBounded(f.completed, e, 150)
	sid := s.info.GetId().GetValue()
	s.gc.schedule(e.dir)
	if e.checkpoint {
		s.gc.schedule(s.paths.Run(sid, fid, e.id, e.containerID))
	}
	if len(f.executors) == 0 {
		delete(s.frameworks, fid)
		s.completed = appendBounded(s.completed, f, 50)
		s.gc.schedule(s.paths.FrameworkSandbox(sid, fid))
		if f.checkpoint {
			s.gc.schedule(s.paths.Framework(sid, fid))
		}
	}
}

func appendBounded[T any](list []T, v T, max int) []T {
	list = append(list, v)
	if len(list) > max {
		list = list[len(list)-max:]
	}
	return list
}

// destroyExecutor destroys an executor's container; its tasks end when
// the container does (executorExited).
func (s *slave) destroyExecutor(e *executor, reason mesos.TaskStatus_Reason) {
	if e.state == executorTerminated {
		return
	}
	if !e.reasonSet {
		e.reason, e.reasonSet = reason, true
	}
	e.state = executorTerminating
	if !e.launched {
		return // not started yet: launched destroys it
	}
	s.destroyContainer(e.containerID)
}

// shutdownFramework asks its executors to shut down and destroys their
// containers after the grace period.
func (s *slave) shutdownFramework(f *framework, why string) {
	s.log.Info("shutting down framework", "framework", f.id, "why", why)
	for _, e := range inIDOrder(f.executors) {
		s.shutdownExecutor(f, e)
	}
}

func (s *slave) shutdownExecutor(f *framework, e *executor) {
	if e.state == executorTerminated {
		return
	}
	for _, t := range e.queued {
		s.generateUpdate(f.id, e, t.GetTaskId(), mesos.TaskState_TASK_KILLED, mesos.TaskStatus_REASON_FRAMEWORK_REMOVED, "Framework shut down before the task started")
	}
	e.queued = nil
	if e.connected() {
		s.toExecutor(e, &messages.ShutdownExecutorMessage{ExecutorId: e.info.GetExecutorId(), FrameworkId: &mesos.FrameworkID{Value: proto.String(f.id)}})
	}
	e.state = executorTerminating
	s.Delay(s.cfg.ExecutorShutdownGracePeriod, func() {
		s.destroyExecutor(e, mesos.TaskStatus_REASON_EXECUTOR_TERMINATED)
	})
}
