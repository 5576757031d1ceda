package master

import (
	"io"
	"net/http"
	"sync"

	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// installAPI serves POST /api/v1/scheduler, the v1 scheduler HTTP API:
// SUBSCRIBE opens a RecordIO stream of Events (JSON or protobuf, as the
// Accept header asks) with a Mesos-Stream-Id that later calls must carry;
// other calls answer 202. Every other call must name a framework
// subscribed over HTTP and carry its live stream id: frameworks that
// subscribed through the libprocess messages cannot be driven through
// the v1 API (as in Mesos 1.0; mesos-go 0.0.6's AcceptOffers, which posts
// a Call here without a stream id, is refused). With framework
// authentication on, every call needs HTTP Basic credentials. A master
// that does not lead answers 307 to the leader (503 when it knows none).
func (m *master) installAPI() {
	// The route lives on a process named "api" so that the path is
	// /api/v1/scheduler; it hands the call to the master.
	api := &apiProcess{m: m}
	if _, err := m.Runtime().Spawn(api, "api"); err != nil {
		m.log.Error("cannot serve /api/v1/scheduler", "err", err)
	}
	m.installOperatorRoutes()
	// Every daemon serves /help, /version, /system/stats.json and system/*.
	if err := builtin.SpawnHelp(m.Runtime()); err != nil {
		m.log.Error("cannot serve /help", "err", err)
	}
	if err := builtin.SpawnVersion(m.Runtime(), m.cfg.Version); err != nil {
		m.log.Error("cannot serve /version", "err", err)
	}
	if err := builtin.SpawnSystem(m.Runtime()); err != nil {
		m.log.Error("cannot serve /system", "err", err)
	}
}

type apiProcess struct {
	process.Process
	m       *master
	streams sync.Map // stand-in pid → *httpScheduler
}

func (a *apiProcess) Initialize() {
	a.Route("/v1/scheduler", "The scheduler HTTP API.", a.scheduler)
	a.Route("/v1", "The v1 operator API: POST a mesos.v1.master.Call (JSON or protobuf).", a.operator)
}

// streamHeader is the header that binds a call to its subscription.
const streamHeader = "Mesos-Stream-Id"

func (a *apiProcess) scheduler(r *http.Request) future.Future[*process.Response] {
	if r.Method != http.MethodPost {
		return process.Status(http.StatusMethodNotAllowed, "Expecting a 'POST' request")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
	}
	mediaType := v1http.MediaType(ct)
	if mediaType != v1http.MediaJSON && mediaType != v1http.MediaProtobuf {
		return process.Status(http.StatusUnsupportedMediaType, "Unsupported content type '"+ct+"'")
	}
	principal, authed := a.m.v1Caller(r)
	if !authed {
		return unauthorized()
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call, err := decodeCall(mediaType, body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to parse body into Call: "+err.Error())
	}
	_, hasStream := r.Header[streamHeader]
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		if hasStream {
			return process.Status(http.StatusBadRequest, "Subscribe calls should not include the '"+streamHeader+"' header")
		}
		return a.subscribeHTTP(r, call, principal)
	}
	stream := r.Header.Get(streamHeader)
	m := a.m
	return process.DispatchF(a.Runtime(), m.Self(), func() future.Future[*process.Response] {
		if !m.leader {
			return m.redirectToLeader(r.URL.Path)
		}
		f := m.frameworks[call.GetFrameworkId().GetValue()]
		switch {
		case f == nil:
			return process.Status(http.StatusBadRequest, "Framework cannot be found")
		case m.v1Authenticating() && f.info.GetPrincipal() != principal:
			return process.Status(http.StatusForbidden, "Authenticated principal '"+principal+"' does not match principal '"+f.info.GetPrincipal()+"' of framework "+f.id)
		case !f.connected:
			return process.Status(http.StatusForbidden, "Framework is not subscribed")
		case !m.httpSchedulers[f.pid]:
			return process.Status(http.StatusForbidden, "Framework is not connected via HTTP")
		case !hasStream:
			return process.Status(http.StatusBadRequest, "All non-subscribe calls should include the '"+streamHeader+"' header")
		}
		h, ok := a.streams.Load(f.pid)
		if !ok || h.(*httpScheduler).streamID != stream {
			return process.Status(http.StatusBadRequest, "The stream ID '"+stream+"' included in this request didn't match the stream ID currently associated with framework ID "+f.id)
		}
		if !m.throttle(f.pid, callName(call), func() { m.call(f.pid, call) }) {
			return process.Status(http.StatusTooManyRequests, "Call "+callName(call)+" dropped: the rate limit's capacity is exceeded")
		}
		return future.Ready(&process.Response{Status: http.StatusAccepted})
	})
}

// callName names a v1 call in logs and rate-limit errors.
func callName(call *schedulerpb.Call) string {
	return "mesos.scheduler.Call." + call.GetType().String()
}

// unauthorized is the 401 answer asking for HTTP Basic credentials.
func unauthorized() future.Future[*process.Response] {
	return future.Ready(unauthorizedResponse())
}
