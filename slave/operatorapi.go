package slave

import (
	"errors"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/internal/operatorapi"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/v1/agentpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// validateAgentCall checks an agent operator call as Mesos does: a type,
// and the body its type needs. UNKNOWN and the calls we do not serve are
// valid (answered 501).
func validateAgentCall(call *agentpb.Call) string {
	if call.Type == nil {
		return operatorapi.Need(false, "type")
	}
	switch call.GetType() {
	case agentpb.Call_GET_METRICS:
		return operatorapi.Need(call.GetMetrics != nil, "get_metrics")
	case agentpb.Call_SET_LOGGING_LEVEL:
		return operatorapi.Need(call.SetLoggingLevel != nil, "set_logging_level")
	case agentpb.Call_LIST_FILES:
		return operatorapi.Need(call.ListFiles != nil, "list_files")
	case agentpb.Call_READ_FILE:
		return operatorapi.Need(call.ReadFile != nil, "read_file")
	}
	return ""
}

// operator serves POST /api/v1 (on the slave's process: /slave(1)/api/v1,
// and /api/v1 where the slave is the runtime's delegate), the agent's v1
// operator API. Every call is served without credentials, as the
// endpoints it mirrors are (/state, /flags, /files, /logging/toggle).
func (s *slave) operator(r *http.Request) future.Future[*process.Response] {
	media, bad := operatorapi.RequestMedia(r)
	if bad != nil {
		return cors(bad.Response())
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call := &agentpb.Call{}
	if err := operatorapi.Decode(media, body, call); err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	if reason := validateAgentCall(call); reason != "" {
		return process.Status(http.StatusBadRequest, "Failed to validate agent::Call: "+reason)
	}
	accept, ok := operatorapi.ResponseMedia(r)
	if !ok {
		return operatorapi.NotAcceptable().Response()
	}
	answer := func(resp *agentpb.Response) future.Future[*process.Response] {
		return operatorapi.Answer(accept, resp)
	}
	rt := s.Runtime()
	switch call.GetType() {
	case agentpb.Call_GET_HEALTH:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_HEALTH.Enum(),
			GetHealth: &agentpb.Response_GetHealth{Healthy: proto.Bool(true)}})
	case agentpb.Call_GET_FLAGS:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_FLAGS.Enum(),
			GetFlags: &agentpb.Response_GetFlags{Flags: operatorapi.Flags(s.flagsJSON())}})
	case agentpb.Call_GET_VERSION:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_VERSION.Enum(),
			GetVersion: &agentpb.Response_GetVersion{VersionInfo: operatorapi.VersionInfo(flags.Version)}})
	case agentpb.Call_GET_METRICS:
		return future.Then(operatorapi.Metrics(rt, call.GetGetMetrics().GetTimeout()), func(ms []*mesospb.Metric) (*process.Response, error) {
			return answer(&agentpb.Response{Type: agentpb.Response_GET_METRICS.Enum(),
				GetMetrics: &agentpb.Response_GetMetrics{Metrics: ms}}).Get()
		})
	case agentpb.Call_GET_LOGGING_LEVEL:
		return unavailable(future.Then(builtin.LoggingLevel(rt), func(level uint32) (*process.Response, error) {
			return answer(&agentpb.Response{Type: agentpb.Response_GET_LOGGING_LEVEL.Enum(),
				GetLoggingLevel: &agentpb.Response_GetLoggingLevel{Level: proto.Uint32(level)}}).Get()
		}))
	case agentpb.Call_SET_LOGGING_LEVEL:
		set := call.GetSetLoggingLevel()
		d := time.Duration(set.GetDuration().GetNanoseconds())
		if d <= 0 {
			return process.Status(http.StatusBadRequest, "Expecting a positive 'duration'")
		}
		return unavailable(future.ThenF(builtin.SetLoggingLevel(rt, set.GetLevel(), d), func(future.Nothing) future.Future[*process.Response] {
			return operatorapi.NoContent(http.StatusOK)
		}))
	case agentpb.Call_LIST_FILES:
		return s.listFilesV1(call.GetListFiles().GetPath(), answer)
	case agentpb.Call_READ_FILE:
		return s.readFileV1(call.GetReadFile(), answer)
	case agentpb.Call_GET_STATE:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_STATE.Enum(), GetState: &agentpb.Response_GetState{
			GetTasks: s.getTasksV1(), GetExecutors: s.getExecutorsV1(), GetFrameworks: s.getFrameworksV1(),
		}})
	case agentpb.Call_GET_FRAMEWORKS:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_FRAMEWORKS.Enum(), GetFrameworks: s.getFrameworksV1()})
	case agentpb.Call_GET_EXECUTORS:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_EXECUTORS.Enum(), GetExecutors: s.getExecutorsV1()})
	case agentpb.Call_GET_TASKS:
		return answer(&agentpb.Response{Type: agentpb.Response_GET_TASKS.Enum(), GetTasks: s.getTasksV1()})
	case agentpb.Call_GET_AGENT:
		info := proto.Clone(s.info).(*mesos.SlaveInfo)
		info.Resources = s.total().ToProto()
		return answer(&agentpb.Response{Type: agentpb.Response_GET_AGENT.Enum(),
			GetAgent: &agentpb.Response_GetAgent{AgentInfo: operatorapi.Convert(&mesospb.AgentInfo{}, info)}})
	}
	return process.Status(http.StatusNotImplemented, "")
}

// unavailable turns a daemon without a logging process into 503.
func unavailable(f future.Future[*process.Response]) future.Future[*process.Response] {
	return future.Repair(f, func(err error) (*process.Response, error) {
		return process.Status(http.StatusServiceUnavailable, err.Error()).Get()
	})
}

// listFilesV1 is LIST_FILES, through the runtime's file server (at the
// edge: it reads the disk).
func (s *slave) listFilesV1(path string, answer func(*agentpb.Response) future.Future[*process.Response]) future.Future[*process.Response] {
	fp := filesOf(s.Runtime())
	if fp == nil {
		return process.Status(http.StatusServiceUnavailable, "no file server")
	}
	return future.RepairF(future.ThenF(operatorapi.Blocking(func() ([]*mesospb.FileInfo, error) {
		entries, ferr := fp.list(path)
		if ferr != nil {
			return nil, ferr
		}
		out := make([]*mesospb.FileInfo, 0, len(entries))
		for _, e := range entries {
			out = append(out, fileInfoV1(e.path, e.info))
		}
		return out, nil
	}), func(infos []*mesospb.FileInfo) future.Future[*process.Response] {
		return answer(&agentpb.Response{Type: agentpb.Response_LIST_FILES.Enum(),
			ListFiles: &agentpb.Response_ListFiles{FileInfos: infos}})
	}), filesFailure)
}

// readFileV1 is READ_FILE.
func (s *slave) readFileV1(c *agentpb.Call_ReadFile, answer func(*agentpb.Response) future.Future[*process.Response]) future.Future[*process.Response] {
	fp := filesOf(s.Runtime())
	if fp == nil {
		return process.Status(http.StatusServiceUnavailable, "no file server")
	}
	length := int64(-1)
	if c.Length != nil {
		length = int64(min(c.GetLength(), 1<<62))
	}
	offset := int64(min(c.GetOffset(), 1<<62))
	type read struct {
		size int64
		data []byte
	}
	return future.RepairF(future.ThenF(operatorapi.Blocking(func() (read, error) {
		size, data, ferr := fp.readAt(c.GetPath(), offset, length)
		if ferr != nil {
			return read{}, ferr
		}
		return read{size, data}, nil
	}), func(r read) future.Future[*process.Response] {
		if r.data == nil {
			r.data = []byte{} // required: present even when empty
		}
		return answer(&agentpb.Response{Type: agentpb.Response_READ_FILE.Enum(),
			ReadFile: &agentpb.Response_ReadFile{Size: proto.Uint64(uint64(r.size)), Data: r.data}})
	}), filesFailure)
}

// filesFailure answers a file server's refusal with its status.
func filesFailure(err error) future.Future[*process.Response] {
	var ferr *filesError
	if errors.As(err, &ferr) {
		return process.Status(ferr.status, ferr.msg)
	}
	return process.Status(http.StatusInternalServerError, err.Error())
}

// fileInfoV1 describes a directory entry as LIST_FILES does.
func fileInfoV1(path string, fi os.FileInfo) *mesospb.FileInfo {
	out := &mesospb.FileInfo{
		Path:  proto.String(path),
		Size:  proto.Uint64(uint64(max(fi.Size(), 0))),
		Mtime: operatorapi.TimeInfo(fi.ModTime()),
		Mode:  proto.Uint32(uint32(fi.Mode().Perm()) | modeType(fi.Mode())),
		Nlink: proto.Int32(1),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.Nlink = proto.Int32(int32(st.Nlink))
		out.Uid = proto.String(userName(st.Uid))
		out.Gid = proto.String(groupName(st.Gid))
	}
	return out
}

// modeType is the file type bits of a stat(2) mode (S_IFDIR, ...), which
// Mesos's FileInfo.mode carries with the permissions.
func modeType(m os.FileMode) uint32 {
	switch {
	case m.IsDir():
		return syscall.S_IFDIR
	case m&os.ModeSymlink != 0:
		return syscall.S_IFLNK
	case m&os.ModeNamedPipe != 0:
		return syscall.S_IFIFO
	case m&os.ModeSocket != 0:
		return syscall.S_IFSOCK
	case m&os.ModeCharDevice != 0:
		return syscall.S_IFCHR
	case m&os.ModeDevice != 0:
		return syscall.S_IFBLK
	}
	return syscall.S_IFREG
}

// taskV1 is a task the slave holds, as the v1 API shows it (with its
// framework and agent ids, which the slave's records may leave out).
func (s *slave) taskV1(fid string, t *mesos.Task) *mesospb.Task {
	out := operatorapi.Convert(&mesospb.Task{}, t)
	out.FrameworkId = &mesospb.FrameworkID{Value: proto.String(fid)}
	out.AgentId = &mesospb.AgentID{Value: proto.String(s.info.GetId().GetValue())}
	return out
}

// getTasksV1 is GET_TASKS, from the records /state shows: queued tasks
// wait for their executor, launched ones are with it, terminated ones
// ended with their last update unacknowledged, completed ones are done.
func (s *slave) getTasksV1() *agentpb.Response_GetTasks {
	out := &agentpb.Response_GetTasks{}
	for _, f := range append(inIDOrder(s.frameworks), s.completed...) {
		for _, e := range append(inIDOrder(f.executors), f.completed...) {
			for _, ti := range e.queued {
				out.QueuedTasks = append(out.QueuedTasks, s.taskV1(f.id, &mesos.Task{
					Name: ti.Name, TaskId: ti.TaskId, ExecutorId: ti.GetExecutor().GetExecutorId(),
					State: mesos.TaskState_TASK_STAGING.Enum(), Resources: ti.Resources, Labels: ti.Labels,
				}))
			}
			for _, t := range inIDOrder(e.tasks) {
				if mesos.IsTerminal(t.GetState()) {
					out.TerminatedTasks = append(out.TerminatedTasks, s.taskV1(f.id, t))
				} else {
					out.LaunchedTasks = append(out.LaunchedTasks, s.taskV1(f.id, t))
				}
			}
			for _, t := range e.completed {
				out.CompletedTasks = append(out.CompletedTasks, s.taskV1(f.id, t))
			}
		}
	}
	return out
}

// getExecutorsV1 is GET_EXECUTORS: running executors, then ended ones.
func (s *slave) getExecutorsV1() *agentpb.Response_GetExecutors {
	out := &agentpb.Response_GetExecutors{}
	executor := func(e *executor) *agentpb.Response_GetExecutors_Executor {
		return &agentpb.Response_GetExecutors_Executor{ExecutorInfo: operatorapi.Convert(&mesospb.ExecutorInfo{}, e.info)}
	}
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			out.Executors = append(out.Executors, executor(e))
		}
		for _, e := range f.completed {
			out.CompletedExecutors = append(out.CompletedExecutors, executor(e))
		}
	}
	return out
}

// getFrameworksV1 is GET_FRAMEWORKS.
func (s *slave) getFrameworksV1() *agentpb.Response_GetFrameworks {
	out := &agentpb.Response_GetFrameworks{}
	framework := func(f *framework) *agentpb.Response_GetFrameworks_Framework {
		info := operatorapi.Convert(&mesospb.FrameworkInfo{}, f.info)
		info.Id = &mesospb.FrameworkID{Value: proto.String(f.id)}
		return &agentpb.Response_GetFrameworks_Framework{FrameworkInfo: info}
	}
	for _, f := range inIDOrder(s.frameworks) {
		out.Frameworks = append(out.Frameworks, framework(f))
	}
	for _, f := range s.completed {
		out.CompletedFrameworks = append(out.CompletedFrameworks, framework(f))
	}
	return out
}
