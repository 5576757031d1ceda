package master

import (
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	v1 "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/recordio"
)

// HeartbeatInterval is how often an HTTP framework's stream gets a
// HEARTBEAT event.
const HeartbeatInterval = 15 * time.Second

// httpScheduler stands in, inside the master's runtime, for a framework
// subscribed over HTTP: the master treats its pid as the framework's pid
// (sends, links, failover all work unchanged) and it turns what the master
// sends into v1 Events on the subscription's RecordIO stream. When the
// stream breaks it terminates, which the master sees as a broken link.
type httpScheduler struct {
	process.Process
	streamID  string
	json      bool
	frames    chan []byte
	closed    bool
	heartbeat *process.Timer
	forget    func() // removes it from the api's streams
}

// frameBuffer bounds the events waiting for a slow client; a client that
// falls this far behind is disconnected.
const frameBuffer = 4096

func (h *httpScheduler) Initialize() {
	subscribed := func(id *schedulerpb.Event_Subscribed) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_SUBSCRIBED.Enum(), Subscribed: id})
		h.beat()
	}
	process.Install(&h.Process, func(_ process.UPID, m *messages.FrameworkRegisteredMessage) {
		subscribed(&schedulerpb.Event_Subscribed{FrameworkId: m.FrameworkId, HeartbeatIntervalSeconds: proto.Float64(HeartbeatInterval.Seconds())})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.FrameworkReregisteredMessage) {
		subscribed(&schedulerpb.Event_Subscribed{FrameworkId: m.FrameworkId, HeartbeatIntervalSeconds: proto.Float64(HeartbeatInterval.Seconds())})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.ResourceOffersMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_OFFERS.Enum(), Offers: &schedulerpb.Event_Offers{Offers: m.Offers}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.RescindResourceOfferMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_RESCIND.Enum(), Rescind: &schedulerpb.Event_Rescind{OfferId: m.OfferId}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.InverseOffersMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_INVERSE_OFFERS.Enum(), InverseOffers: &schedulerpb.Event_InverseOffers{InverseOffers: m.InverseOffers}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.RescindInverseOfferMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_RESCIND_INVERSE_OFFER.Enum(), RescindInverseOffer: &schedulerpb.Event_RescindInverseOffer{InverseOfferId: m.InverseOfferId}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.StatusUpdateMessage) {
		st := m.GetUpdate().GetStatus()
		if len(m.GetUpdate().GetUuid()) > 0 {
			st.Uuid = m.GetUpdate().GetUuid()
		}
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_UPDATE.Enum(), Update: &schedulerpb.Event_Update{Status: st}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.ExecutorToFrameworkMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_MESSAGE.Enum(), Message: &schedulerpb.Event_Message{
			SlaveId: m.SlaveId, ExecutorId: m.ExecutorId, Data: m.Data,
		}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.LostSlaveMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_FAILURE.Enum(), Failure: &schedulerpb.Event_Failure{SlaveId: m.SlaveId}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.ExitedExecutorMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_FAILURE.Enum(), Failure: &schedulerpb.Event_Failure{
			SlaveId: m.SlaveId, ExecutorId: m.ExecutorId, Status: m.Status,
		}})
	})
	process.Install(&h.Process, func(_ process.UPID, m *messages.FrameworkErrorMessage) {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_ERROR.Enum(), Error: &schedulerpb.Event_Error{Message: m.Message}})
		h.Terminate()
	})
}

// beat sends HEARTBEAT events every HeartbeatInterval (master clock).
func (h *httpScheduler) beat() {
	h.Clock().Cancel(h.heartbeat)
	h.heartbeat = h.Delay(HeartbeatInterval, func() {
		h.emit(&schedulerpb.Event{Type: schedulerpb.Event_HEARTBEAT.Enum()})
		h.beat()
	})
}

// emit encodes ev with the subscription's codec and queues it as a
// RecordIO frame.
func (h *httpScheduler) emit(ev *schedulerpb.Event) {
	if h.closed {
		return
	}
	body, err := encodeEvent(ev, h.json)
	if err != nil {
		return
	}
	frame := recordio.Frame(body)
	select {
	case h.frames <- frame:
	default:
		h.closed = true
		close(h.frames)
		h.Terminate()
	}
}

// Finalize ends the stream.
func (h *httpScheduler) Finalize() {
	if !h.closed {
		h.closed = true
		close(h.frames)
	}
	if h.forget != nil {
		h.forget()
	}
}

// encodeEvent writes ev as protobuf, or as v1 JSON as Mesos writes it
// (the v1 field names, agent_id where v0 says slave_id).
func encodeEvent(ev *schedulerpb.Event, json bool) ([]byte, error) {
	return v1http.Encode(ev, json, &v1.Event{})
}

// decodeCall reads a Call in either codec (JSON with v1 field names, read
// as Mesos reads it: see mesos/jsonv1).
func decodeCall(mediaType string, body []byte) (*schedulerpb.Call, error) {
	call := &schedulerpb.Call{}
	if err := v1http.Decode(mediaType, body, call, &v1.Call{}); err != nil {
		return nil, err
	}
	return call, nil
}

// subscribeHTTP starts an HTTP subscription: a stand-in process, then
// SUBSCRIBE on the master as if from it; the response streams its events.
// With framework authentication on, principal is the caller's
// authenticated principal: framework_info.principal must be it (or unset,
// and then it is set to it).
func (a *apiProcess) subscribeHTTP(r *http.Request, call *schedulerpb.Call, principal string) future.Future[*process.Response] {
	codec, ok := v1http.ResponseCodec(r)
	if !ok {
		return process.Status(http.StatusNotAcceptable, "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'")
	}
	sub := call.GetSubscribe()
	if sub.GetFrameworkInfo() == nil {
		return process.Status(http.StatusBadRequest, "Expecting 'subscribe' to be present")
	}
	if id := sub.GetFrameworkInfo().GetId().GetValue(); id != call.GetFrameworkId().GetValue() {
		return process.Status(http.StatusBadRequest, "'framework_id' differs from 'subscribe.framework_info.id'")
	}
	m := a.m
	info := sub.GetFrameworkInfo()
	if m.v1Authenticating() {
		switch info.GetPrincipal() {
		case principal:
		case "":
			info = proto.Clone(info).(*mesos.FrameworkInfo)
			info.Principal = proto.String(principal)
		default:
			return process.Status(http.StatusForbidden, "Authenticated principal '"+principal+"' does not match principal '"+info.GetPrincipal()+"' set in 'framework_info'")
		}
	}
	h := &httpScheduler{streamID: newUUID(a.Runtime()), json: codec == v1http.MediaJSON, frames: make(chan []byte, frameBuffer)}
	id := a.Runtime().GenerateID("scheduler-http")
	pid := process.UPID{ID: id, Addr: a.Self().Addr}
	h.forget = func() { a.streams.Delete(pid) }
	a.streams.Store(pid, h)
	if _, err := a.Runtime().Spawn(h, id); err != nil {
		a.streams.Delete(pid)
		return process.Status(http.StatusInternalServerError, "cannot start the subscription: "+err.Error())
	}
	return process.DispatchF(a.Runtime(), m.Self(), func() future.Future[*process.Response] {
		if !m.leader {
			process.Run(a.Runtime(), pid, h.Terminate)
			return m.redirectToLeader(r.URL.Path)
		}
		m.httpSchedulers[pid] = true
		if m.v1Authenticating() {
			m.authenticated[pid] = principal
		}
		m.metrics.registerFramework.Inc()
		// As in Mesos 1.0 (MESOS-4712), a subscription over HTTP always
		// fails over the framework's previous connection, live or not:
		// one stream per framework id, the newest. The 0.2x `force`
		// field (the docs' "force=false rejects") is read and ignored;
		// the v1 schema no longer has it.
		m.subscribe(pid, info, true)
		if !m.servesFramework(pid) {
			// Refused (its stream carries the ERROR and ends): the
			// master holds no link to it, so forget it here.
			delete(m.httpSchedulers, pid)
			delete(m.authenticated, pid)
		}
		rt := a.Runtime()
		hdr := http.Header{}
		hdr.Set("Content-Type", codec)
		hdr.Set("Mesos-Stream-Id", h.streamID)
		// When the client goes away, the stand-in terminates.
		return future.Ready(&process.Response{Status: http.StatusOK, Header: hdr,
			Stream: v1http.Stream(r.Context(), h.frames, func() { process.Run(rt, pid, h.Terminate) })})
	})
}

// servesFramework says whether pid is the pid of a framework the master
// holds.
func (m *master) servesFramework(pid process.UPID) bool {
	for _, f := range m.frameworks {
		if f.pid == pid {
			return true
		}
	}
	return false
}
