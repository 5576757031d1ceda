package master

import (
	"io"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/operatorapi"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/recordio"
)

// operatorSubscriber is one SUBSCRIBE stream of the operator API: the
// master queues its events as RecordIO frames; the HTTP response writes
// them out. A subscriber that falls frameBuffer events behind is dropped
// (its stream ends) rather than hold up the master.
type operatorSubscriber struct {
	json   bool
	frames chan []byte
}

// operatorSubscribe serves SUBSCRIBE: SUBSCRIBED with the state at that
// moment, then TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
// FRAMEWORK_ADDED and FRAMEWORK_REMOVED as they happen.
func (a *apiProcess) operatorSubscribe(r *http.Request, accept string) future.Future[*process.Response] {
	m, rt := a.m, a.Runtime()
	return process.DispatchF(rt, m.Self(), func() future.Future[*process.Response] {
		if !m.leader {
			return m.redirectToLeader(r.URL.Path)
		}
		sub := &operatorSubscriber{json: accept == operatorapi.MediaJSON, frames: make(chan []byte, frameBuffer)}
		first, err := operatorapi.Encode(accept, &masterpb.Event{
			Type:       masterpb.Event_SUBSCRIBED.Enum(),
			Subscribed: &masterpb.Event_Subscribed{GetState: m.getStateV1()},
		})
		if err != nil {
			return process.Status(http.StatusInternalServerError, "Failed to encode SUBSCRIBED: "+err.Error())
		}
		sub.frames <- recordio.Frame(first)
		m.nextOperatorSub++
		id := m.nextOperatorSub
		m.operatorSubs[id] = sub
		m.log.Info("operator subscribed", "subscriber", id, "from", r.RemoteAddr)
		hdr := http.Header{}
		hdr.Set("Content-Type", accept)
		return future.Ready(&process.Response{Status: http.StatusOK, Header: hdr, Stream: func(w io.Writer, flush func()) error {
			defer process.Run(rt, m.Self(), func() { m.dropOperatorSub(id) }) // the client went away
			for {
				select {
				case frame, ok := <-sub.frames:
					if !ok {
						return nil
					}
					if _, err := w.Write(frame); err != nil {
						return err
					}
					flush()
				case <-r.Context().Done():
					return r.Context().Err()
				}
			}
		}})
	})
}

// dropOperatorSub ends subscriber id's stream.
func (m *master) dropOperatorSub(id int) {
	if sub := m.operatorSubs[id]; sub != nil {
		delete(m.operatorSubs, id)
		close(sub.frames)
	}
}

// publish sends ev to every operator subscriber, encoded once per media
// type, without waiting for any.
func (m *master) publish(ev *masterpb.Event) {
	if len(m.operatorSubs) == 0 {
		return
	}
	encoded := map[bool][]byte{}
	for _, id := range sortedKeys(m.operatorSubs) {
		sub := m.operatorSubs[id]
		frame, ok := encoded[sub.json]
		if !ok {
			media := operatorapi.MediaProtobuf
			if sub.json {
				media = operatorapi.MediaJSON
			}
			body, err := operatorapi.Encode(media, ev)
			if err != nil {
				m.log.Error("cannot encode an operator event", "type", ev.GetType().String(), "err", err)
				return
			}
			frame = recordio.Frame(body)
			encoded[sub.json] = frame
		}
		select {
		case sub.frames <- frame:
		default:
			m.log.Warn("dropping a slow operator subscriber", "subscriber", id)
			m.dropOperatorSub(id)
		}
	}
}

// taskAdded publishes TASK_ADDED.
func (m *master) taskAdded(t *mesos.Task) {
	if len(m.operatorSubs) == 0 {
		return
	}
	m.publish(&masterpb.Event{Type: masterpb.Event_TASK_ADDED.Enum(), TaskAdded: &masterpb.Event_TaskAdded{Task: taskV1(t)}})
}

// taskUpdated publishes TASK_UPDATED: the status t just got and the state
// the master holds for it.
func (m *master) taskUpdated(t *mesos.Task, status *mesos.TaskStatus) {
	if len(m.operatorSubs) == 0 {
		return
	}
	m.publish(&masterpb.Event{Type: masterpb.Event_TASK_UPDATED.Enum(), TaskUpdated: &masterpb.Event_TaskUpdated{
		FrameworkId: operatorapi.Convert(&mesospb.FrameworkID{}, t.GetFrameworkId()),
		Status:      operatorapi.Convert(&mesospb.TaskStatus{}, status),
		State:       mesospb.TaskState(t.GetState()).Enum(),
	}})
}

// agentAdded publishes AGENT_ADDED.
func (m *master) agentAdded(s *slave) {
	if len(m.operatorSubs) == 0 {
		return
	}
	m.publish(&masterpb.Event{Type: masterpb.Event_AGENT_ADDED.Enum(), AgentAdded: &masterpb.Event_AgentAdded{Agent: agentV1(s)}})
}

// agentRemoved publishes AGENT_REMOVED.
func (m *master) agentRemoved(id string) {
	m.publish(&masterpb.Event{Type: masterpb.Event_AGENT_REMOVED.Enum(), AgentRemoved: &masterpb.Event_AgentRemoved{
		AgentId: &mesospb.AgentID{Value: proto.String(id)},
	}})
}

// frameworkAdded publishes FRAMEWORK_ADDED.
func (m *master) frameworkAdded(f *framework) {
	if len(m.operatorSubs) == 0 {
		return
	}
	m.publish(&masterpb.Event{Type: masterpb.Event_FRAMEWORK_ADDED.Enum(), FrameworkAdded: &masterpb.Event_FrameworkAdded{Framework: frameworkV1(f)}})
}

// frameworkRemoved publishes FRAMEWORK_REMOVED.
func (m *master) frameworkRemoved(f *framework) {
	m.publish(&masterpb.Event{Type: masterpb.Event_FRAMEWORK_REMOVED.Enum(), FrameworkRemoved: &masterpb.Event_FrameworkRemoved{
		FrameworkInfo: operatorapi.Convert(&mesospb.FrameworkInfo{}, f.info),
	}})
}
