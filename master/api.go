package master

import (
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// installAPI serves POST /api/v1/scheduler, the v1 scheduler HTTP API:
// SUBSCRIBE opens a RecordIO stream of Events (JSON or protobuf, as the
// Accept header asks) with a Mesos-Stream-Id that later calls must carry;
// other calls answer 202. Frameworks that subscribed through the libprocess
// messages may post calls too: mesos-go 0.0.6's AcceptOffers posts a Call
// with neither Libprocess-From nor Mesos-Stream-Id, which a 0.25 master
// accepts, so those are matched by the call's framework_id.
func (m *master) installAPI() {
	// The route lives on a process named "api" so that the path is
	// /api/v1/scheduler; it hands the call to the master.
	api := &apiProcess{m: m}
	if _, err := m.Runtime().Spawn(api, "api"); err != nil {
		m.log.Error("cannot serve /api/v1/scheduler", "err", err)
	}
}

type apiProcess struct {
	process.Process
	m       *master
	streams sync.Map // stand-in pid → *httpScheduler
}

func (a *apiProcess) Initialize() {
	a.Route("/v1/scheduler", "The scheduler HTTP API.", a.scheduler)
}

func (a *apiProcess) scheduler(r *http.Request) future.Future[*process.Response] {
	if r.Method != http.MethodPost {
		return process.Status(http.StatusMethodNotAllowed, "Expecting a 'POST' request")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
	}
	mediaType, _, _ := mime.ParseMediaType(ct)
	if mediaType != mediaJSON && mediaType != mediaProtobuf {
		return process.Status(http.StatusUnsupportedMediaType, "Unsupported content type '"+ct+"'")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call, err := decodeCall(mediaType, body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to parse body into Call: "+err.Error())
	}
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		return a.subscribeHTTP(r, call)
	}
	stream := r.Header.Get("Mesos-Stream-Id")
	m := a.m
	return process.DispatchF(a.Runtime(), m.Self(), func() future.Future[*process.Response] {
		if !m.leader {
			return process.Status(http.StatusServiceUnavailable, "Not the leading master")
		}
		f := m.frameworks[call.GetFrameworkId().GetValue()]
		switch {
		case f == nil:
			return process.Status(http.StatusBadRequest, "Framework cannot be found")
		case !f.connected:
			return process.Status(http.StatusForbidden, "Framework is not subscribed")
		}
		if m.httpSchedulers[f.pid] {
			h, ok := a.streams.Load(f.pid)
			if !ok || h.(*httpScheduler).streamID != stream {
				return process.Status(http.StatusBadRequest, "The stream ID '"+stream+"' included in this request didn't match the stream ID currently associated with framework ID "+f.id)
			}
		}
		m.call(f.pid, call)
		return future.Ready(&process.Response{Status: http.StatusAccepted})
	})
}
