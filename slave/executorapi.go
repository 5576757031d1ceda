package slave

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/mesos/messages"
	v1 "github.com/gomesos/gomesos/mesos/v1/executorpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/recordio"
	"github.com/gomesos/gomesos/slave/state"
)

// The v1 executor HTTP API (Mesos 1.0's /api/v1/executor). An executor
// is either PID-connected (it registered with RegisterExecutorMessage and
// the slave sends it messages) or HTTP-connected (it subscribed here and
// the slave writes Events on its subscription's stream); everything else
// about it (tasks, the status update streams, checkpoints, recovery) is
// one path. toExecutor is where the two part: a message to an HTTP
// executor becomes its Event (executorEvent).

// validateExecutorCall checks a decoded Call as Mesos 1.0 does
// (src/slave/validation.cpp); the answer to an invalid one is 400 with
// this message.
func validateExecutorCall(call *executorpb.Call) error {
	if call.Type == nil {
		return errors.New("Expecting 'type' to be present")
	}
	if call.ExecutorId == nil {
		return errors.New("Expecting 'executor_id' to be present")
	}
	if call.FrameworkId == nil {
		return errors.New("Expecting 'framework_id' to be present")
	}
	switch call.GetType() {
	case executorpb.Call_SUBSCRIBE:
		if call.Subscribe == nil {
			return errors.New("Expecting 'subscribe' to be present")
		}
	case executorpb.Call_UPDATE:
		if call.Update == nil {
			return errors.New("Expecting 'update' to be present")
		}
		st := call.GetUpdate().GetStatus()
		if st.Uuid == nil {
			return errors.New("Expecting 'uuid' to be present")
		}
		if n := len(st.GetUuid()); n != 16 {
			return fmt.Errorf("Invalid UUID: %d bytes, expecting 16", n)
		}
		eid, fid := call.GetExecutorId().GetValue(), call.GetFrameworkId().GetValue()
		if st.ExecutorId != nil && st.GetExecutorId().GetValue() != eid {
			return fmt.Errorf("ExecutorID in Call: %s does not match ExecutorID in TaskStatus: %s", eid, st.GetExecutorId().GetValue())
		}
		if st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR {
			return fmt.Errorf("Received Call from executor %s of framework %s with invalid source, expecting 'SOURCE_EXECUTOR'", eid, fid)
		}
		if st.GetState() == mesos.TaskState_TASK_STAGING {
			return fmt.Errorf("Received TASK_STAGING from executor %s of framework %s which is not allowed", eid, fid)
		}
	case executorpb.Call_MESSAGE:
		if call.Message == nil {
			return errors.New("Expecting 'message' to be present")
		}
	}
	return nil
}

// executorEvent is the Event an HTTP executor gets for a message the
// slave sends a PID executor.
func executorEvent(msg proto.Message) (*executorpb.Event, error) {
	switch m := msg.(type) {
	case *messages.ExecutorRegisteredMessage:
		return &executorpb.Event{Type: executorpb.Event_SUBSCRIBED.Enum(), Subscribed: &executorpb.Event_Subscribed{
			ExecutorInfo: m.ExecutorInfo, FrameworkInfo: m.FrameworkInfo, SlaveInfo: m.SlaveInfo,
		}}, nil
	case *messages.RunTaskMessage:
		return &executorpb.Event{Type: executorpb.Event_LAUNCH.Enum(), Launch: &executorpb.Event_Launch{Task: m.Task}}, nil
	case *messages.KillTaskMessage:
		return &executorpb.Event{Type: executorpb.Event_KILL.Enum(), Kill: &executorpb.Event_Kill{TaskId: m.TaskId, KillPolicy: m.KillPolicy}}, nil
	case *messages.StatusUpdateAcknowledgementMessage:
		return &executorpb.Event{Type: executorpb.Event_ACKNOWLEDGED.Enum(), Acknowledged: &executorpb.Event_Acknowledged{TaskId: m.TaskId, Uuid: m.Uuid}}, nil
	case *messages.FrameworkToExecutorMessage:
		return &executorpb.Event{Type: executorpb.Event_MESSAGE.Enum(), Message: &executorpb.Event_Message{Data: m.Data}}, nil
	case *messages.ShutdownExecutorMessage:
		return &executorpb.Event{Type: executorpb.Event_SHUTDOWN.Enum()}, nil
	}
	return nil, fmt.Errorf("no executor event for %s", msg.ProtoReflect().Descriptor().FullName())
}

// updateOfCall is the StatusUpdate of an executor's UPDATE call (as
// Mesos's createStatusUpdate makes it): the status's uuid and timestamp
// (now when it has none) become the update's.
func updateOfCall(fid *mesos.FrameworkID, eid *mesos.ExecutorID, st *mesos.TaskStatus, now float64) *messages.StatusUpdate {
	st = proto.Clone(st).(*mesos.TaskStatus)
	ts := st.GetTimestamp()
	if st.Timestamp == nil {
		ts = now
	}
	return &messages.StatusUpdate{FrameworkId: fid, ExecutorId: eid, Status: st, Timestamp: proto.Float64(ts), Uuid: st.Uuid}
}

// httpConn is an HTTP executor's subscription: the slave queues framed
// Events on frames and the response's Stream writes them out. Owned by
// the slave's process; the stream's goroutine only reads frames.
type httpConn struct {
	json   bool
	frames chan []byte
	closed bool
}

// connFrames bounds the events waiting for a slow executor; one that
// falls this far behind is disconnected (it subscribes again).
const connFrames = 1024

func newHTTPConn(json bool) *httpConn {
	return &httpConn{json: json, frames: make(chan []byte, connFrames)}
}

// send queues ev; false if the connection is closed or overflowed (and
// then closed).
func (c *httpConn) send(ev *executorpb.Event) bool {
	if c.closed {
		return false
	}
	body, err := v1http.Encode(ev, c.json, &v1.Event{})
	if err != nil {
		return false
	}
	select {
	case c.frames <- recordio.Frame(body):
		return true
	default:
		c.close()
		return false
	}
}

// close ends the stream once the queued events are written.
func (c *httpConn) close() {
	if !c.closed {
		c.closed = true
		close(c.frames)
	}
}

// connected says whether the slave can reach the executor now: its pid,
// or its live subscription.
func (e *executor) connected() bool { return e.pid.IsValid() || e.http != nil }

// toExecutor sends msg to the executor: as a message to a PID executor,
// as an Event on an HTTP executor's stream. An HTTP executor without a
// subscription now misses it, as in Mesos (it resubscribes with what it
// has not had acknowledged).
func (s *slave) toExecutor(e *executor, msg proto.Message) {
	switch {
	case e.http != nil:
		ev, err := executorEvent(msg)
		if err != nil {
			s.log.Error("cannot send to an HTTP executor", "executor", e.id, "err", err)
			return
		}
		if !e.http.send(ev) {
			s.log.Warn("the executor's subscription is closed; event dropped", "executor", e.id, "event", ev.GetType().String())
			e.http = nil
		}
	case e.pid.IsValid():
		s.send(e.pid, msg)
	default:
		s.log.Warn("executor not connected; message dropped", "executor", e.id, "message", string(msg.ProtoReflect().Descriptor().Name()))
	}
}

// closeHTTP ends an HTTP executor's subscription (its stream ends after
// what is queued).
func (e *executor) closeHTTP() {
	if e.http != nil {
		e.http.close()
		e.http = nil
	}
}

// executorAPI serves POST /api/v1/executor (inside the slave's process).
func (s *slave) executorAPI(r *http.Request) future.Future[*process.Response] {
	if r.Method != http.MethodPost {
		h := http.Header{}
		h.Set("Allow", http.MethodPost)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return future.Ready(&process.Response{Status: http.StatusMethodNotAllowed, Header: h,
			Body: []byte("Expecting one of { 'POST' }, but received '" + r.Method + "'\n")})
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
	}
	mediaType := v1http.MediaType(ct)
	if mediaType != v1http.MediaJSON && mediaType != v1http.MediaProtobuf {
		return process.Status(http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of "+v1http.MediaJSON+" or "+v1http.MediaProtobuf)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call := &executorpb.Call{}
	if err := v1http.Decode(mediaType, body, call, &v1.Call{}); err != nil {
		return process.Status(http.StatusBadRequest, "Failed to parse body into Call protobuf: "+err.Error())
	}
	if err := validateExecutorCall(call); err != nil {
		return process.Status(http.StatusBadRequest, "Failed to validate Executor::Call: "+err.Error())
	}
	codec := v1http.MediaJSON
	if call.GetType() == executorpb.Call_SUBSCRIBE {
		var ok bool
		if codec, ok = v1http.ResponseCodec(r); !ok {
			return process.Status(http.StatusNotAcceptable, "Expecting 'Accept' to allow '"+v1http.MediaProtobuf+"' or '"+v1http.MediaJSON+"'")
		}
		if s.recovering && !s.reconnecting {
			return process.Status(http.StatusServiceUnavailable, "Agent has not finished recovery")
		}
	}
	f, e := s.lookupExecutor(call.GetFrameworkId().GetValue(), call.GetExecutorId().GetValue())
	switch {
	case f == nil:
		return process.Status(http.StatusBadRequest, "Framework cannot be found")
	case e == nil:
		return process.Status(http.StatusBadRequest, "Executor cannot be found")
	case e.pid.IsValid():
		// Ours: an executor that registered through libprocess is not
		// taken over (nor spoken for) over HTTP.
		return process.Status(http.StatusForbidden, "Executor is connected through libprocess")
	}
	switch call.GetType() {
	case executorpb.Call_SUBSCRIBE:
		return s.subscribeExecutor(r, f, e, call.GetSubscribe(), codec)
	case executorpb.Call_UPDATE, executorpb.Call_MESSAGE:
		if !e.viaHTTP || e.state == executorLaunching || e.state == executorRegistering {
			return process.Status(http.StatusForbidden, "Executor is not subscribed")
		}
		if call.GetType() == executorpb.Call_UPDATE {
			s.httpUpdate(f, e, call.GetUpdate().GetStatus())
		} else {
			s.forwardExecutorMessage(f, &messages.ExecutorToFrameworkMessage{
				SlaveId: s.info.Id, FrameworkId: call.FrameworkId, ExecutorId: call.ExecutorId, Data: call.GetMessage().GetData(),
			})
		}
		return future.Ready(&process.Response{Status: http.StatusAccepted})
	}
	return process.Status(http.StatusNotImplemented, "")
}

// subscribeExecutor takes an executor's SUBSCRIBE (first, retried, or
// after a slave restart): it becomes the executor's connection (closing
// an older one), gets SUBSCRIBED, its unacknowledged updates are taken
// and acknowledged, queued tasks are launched, and checkpointed tasks it
// never received are lost. An executor being shut down gets SHUTDOWN.
func (s *slave) subscribeExecutor(r *http.Request, f *framework, e *executor, sub *executorpb.Call_Subscribe, codec string) future.Future[*process.Response] {
	conn := newHTTPConn(codec == v1http.MediaJSON)
	switch e.state {
	case executorTerminating, executorTerminated:
		s.log.Warn("shutting down an executor that subscribes while it terminates", "executor", e.id, "framework", f.id, "state", e.state.String())
		if ev, err := executorEvent(&messages.ShutdownExecutorMessage{}); err == nil {
			conn.send(ev)
		}
		conn.close()
		return s.streamResponse(r, e, conn, codec)
	}
	if e.http != nil {
		s.log.Info("closing the executor's older subscription", "executor", e.id, "framework", f.id)
		e.closeHTTP()
	}
	recovered := s.recovering && e.state == executorRegistering
	e.state = executorRunning
	e.http = conn
	s.Clock().Cancel(e.regTimer)
	if !e.viaHTTP {
		e.viaHTTP = true
		if e.checkpoint {
			sid := s.info.GetId().GetValue()
			if err := state.WriteString(s.cfg.Files, s.paths.HTTPMarker(sid, f.id, e.id, e.containerID), ""); err != nil {
				s.log.Error("cannot checkpoint the executor's HTTP marker", "executor", e.id, "err", err)
			}
		}
	}
	s.toExecutor(e, s.registeredMessage(f, e))
	updates := make([]*messages.StatusUpdate, 0, len(sub.GetUnacknowledgedUpdates()))
	now := mesos.Timestamp(s.Clock().Now())
	for _, u := range sub.GetUnacknowledgedUpdates() {
		updates = append(updates, updateOfCall(f.info.Id, e.info.ExecutorId, u.GetStatus(), now))
	}
	s.adoptReported(f, e, sub.GetUnacknowledgedTasks(), updates, func(u *messages.StatusUpdate) {
		s.toExecutor(e, ackOf(s.info.Id, u))
	})
	s.sendQueued(f, e)
	s.updateContainer(e)
	s.log.Info("executor subscribed", "executor", e.id, "framework", f.id, "codec", codec, "resubscribed", recovered,
		"tasks", len(sub.GetUnacknowledgedTasks()), "updates", len(updates))
	if recovered {
		s.checkReconnected()
	}
	return s.streamResponse(r, e, conn, codec)
}

// streamResponse is the 200 answer to SUBSCRIBE: the RecordIO stream of
// conn's events. When the executor goes away, the slave forgets the
// connection (the executor stays, as in Mesos, until its container ends
// or it subscribes again).
func (s *slave) streamResponse(r *http.Request, e *executor, conn *httpConn, codec string) future.Future[*process.Response] {
	rt, self := s.Runtime(), s.Self()
	hdr := http.Header{}
	hdr.Set("Content-Type", codec)
	ended := func() {
		process.Run(rt, self, func() {
			if e.http == conn {
				s.log.Info("executor's subscription closed", "executor", e.id)
				e.closeHTTP()
			}
		})
	}
	return future.Ready(&process.Response{Status: http.StatusOK, Header: hdr, Stream: v1http.Stream(r.Context(), conn.frames, ended)})
}

// httpUpdate takes an HTTP executor's UPDATE through the same path as a
// PID executor's, and acknowledges it with an ACKNOWLEDGED event once the
// status update manager holds it.
func (s *slave) httpUpdate(f *framework, e *executor, st *mesos.TaskStatus) {
	u := updateOfCall(f.info.Id, e.info.ExecutorId, st, mesos.Timestamp(s.Clock().Now()))
	if !s.reportedBy(f.id, st.GetTaskId().GetValue(), func(o *executor) bool { return o == e }) {
		s.log.Warn("dropping a status update not from the task's executor", "executor", e.id,
			"framework", f.id, "task", st.GetTaskId().GetValue())
		s.metrics.invalidUpdates.Inc()
		return
	}
	s.metrics.validUpdates.Inc()
	if s.recordUpdate(u) {
		s.toExecutor(e, ackOf(s.info.Id, u))
	}
}

// ackOf is the acknowledgement of u to its executor.
func ackOf(sid *mesos.SlaveID, u *messages.StatusUpdate) *messages.StatusUpdateAcknowledgementMessage {
	return &messages.StatusUpdateAcknowledgementMessage{SlaveId: sid, FrameworkId: u.FrameworkId, TaskId: u.GetStatus().TaskId, Uuid: u.Uuid}
}

// registeredMessage tells an executor it is registered (SUBSCRIBED over
// HTTP).
func (s *slave) registeredMessage(f *framework, e *executor) *messages.ExecutorRegisteredMessage {
	return &messages.ExecutorRegisteredMessage{
		ExecutorInfo: e.info, FrameworkId: f.info.Id, FrameworkInfo: f.info, SlaveId: s.info.Id, SlaveInfo: s.info,
	}
}
