package master

import (
	"io"
	"mime"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// installAPI serves POST /api/v1/scheduler for the calls of frameworks
// that subscribed through the libprocess messages. mesos-go 0.0.6's
// AcceptOffers posts a Call there with neither Libprocess-From nor
// Mesos-Stream-Id; a 0.25 master accepts it, so we identify the framework
// by the call's framework_id and answer 202. SUBSCRIBE over HTTP (the
// streaming v1 API) is not served yet: it answers 501.
func (m *Master) installAPI() {
	// The route lives on a process named "api" so that the path is
	// /api/v1/scheduler; it hands the call to the master.
	api := &apiProcess{m: m}
	if _, err := m.Runtime().Spawn(api, "api"); err != nil {
		m.log.Error("cannot serve /api/v1/scheduler", "err", err)
	}
}

type apiProcess struct {
	process.Process
	m *Master
}

func (a *apiProcess) Initialize() {
	a.Route("/v1/scheduler", "The scheduler HTTP API (calls of subscribed frameworks).", a.scheduler)
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
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to read body: "+err.Error())
	}
	call := &schedulerpb.Call{}
	switch mediaType {
	case "application/x-protobuf":
		err = proto.Unmarshal(body, call)
	case "application/json":
		err = protojson.Unmarshal(body, call)
	default:
		return process.Status(http.StatusUnsupportedMediaType, "Unsupported content type '"+ct+"'")
	}
	if err != nil {
		return process.Status(http.StatusBadRequest, "Failed to parse body into Call: "+err.Error())
	}
	if call.GetType() == schedulerpb.Call_SUBSCRIBE {
		return process.Status(http.StatusNotImplemented, "Subscribing over HTTP is not supported yet")
	}
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
		m.call(f.pid, call)
		return future.Ready(&process.Response{Status: http.StatusAccepted})
	})
}
