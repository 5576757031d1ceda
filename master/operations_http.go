package master

import (
	"encoding/json"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// installOperationRoutes adds the operator endpoints for reservations and
// persistent volumes: POST slaveId=<id>&resources=<JSON array> (volumes=
// for the volume endpoints), with HTTP Basic credentials when the master
// has --credentials. 200 when applied; 400 for a bad request or an
// invalid operation; 401 for missing or wrong credentials; 403 when the
// ACLs refuse it (with the reason); 409 when the resources are not free.
func (m *master) installOperationRoutes() {
	m.Route("/reserve", "Reserves resources dynamically on an agent: POST slaveId=<id>&resources=<JSON>.",
		func(r *http.Request) future.Future[*process.Response] {
			return m.operationHTTP(r, resources.Reserve, "resources")
		})
	m.Route("/unreserve", "Unreserves dynamically reserved resources on an agent: POST slaveId=<id>&resources=<JSON>.",
		func(r *http.Request) future.Future[*process.Response] {
			return m.operationHTTP(r, resources.Unreserve, "resources")
		})
	m.Route("/create-volumes", "Creates persistent volumes on reserved disk of an agent: POST slaveId=<id>&volumes=<JSON>.",
		func(r *http.Request) future.Future[*process.Response] {
			return m.operationHTTP(r, resources.Create, "volumes")
		})
	m.Route("/destroy-volumes", "Destroys persistent volumes on an agent: POST slaveId=<id>&volumes=<JSON>.",
		func(r *http.Request) future.Future[*process.Response] {
			return m.operationHTTP(r, resources.Destroy, "volumes")
		})
}

// parseResourcesJSON reads a JSON array of Resource protobufs (Mesos's
// JSON form).
func parseResourcesJSON(text string) ([]*mesos.Resource, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, err
	}
	out := make([]*mesos.Resource, 0, len(raw))
	for _, item := range raw {
		r := &mesos.Resource{}
		if err := protojson.Unmarshal(item, r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (m *master) operationHTTP(r *http.Request, kind resources.OpKind, field string) future.Future[*process.Response] {
	if r.Method != http.MethodPost {
		return process.Status(http.StatusMethodNotAllowed, "Expecting POST")
	}
	caller, denied := m.authenticateHTTP(r, httpWrite)
	if denied != nil {
		return future.Ready(denied)
	}
	if !m.leader {
		return process.Status(http.StatusTemporaryRedirect, "Not the leading master")
	}
	if err := r.ParseForm(); err != nil {
		return process.Status(http.StatusBadRequest, "Unable to decode query string: "+err.Error())
	}
	id := r.PostForm.Get("slaveId")
	if id == "" {
		return process.Status(http.StatusBadRequest, "Missing 'slaveId' query parameter")
	}
	s := m.slaves[id]
	if s == nil {
		return process.Status(http.StatusBadRequest, "No agent found with specified ID")
	}
	text := r.PostForm.Get(field)
	if text == "" {
		return process.Status(http.StatusBadRequest, "Missing '"+field+"' query parameter")
	}
	pbs, err := parseResourcesJSON(text)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Error in parsing '"+field+"' query parameter: "+err.Error())
	}
	return m.applyOperatorOperation(s, kind, pbs, caller, http.StatusOK)
}

// applyOperatorOperation validates, authorizes and applies an operator's
// operation on slave s, for the endpoints and the v1 operator API alike:
// ok (200 for the endpoints, 202 for the v1 API) once applied, 400 when
// invalid, 403 when the ACLs refuse it, 409 when the resources are not
// free.
func (m *master) applyOperatorOperation(s *slave, kind resources.OpKind, pbs []*mesos.Resource, caller string, ok int) future.Future[*process.Response] {
	rop := resources.Operation{Kind: kind, Resources: resources.FromProto(pbs)}
	// Operators are checked as a framework of every role: the principal
	// (when there are credentials) must be the reservation's.
	if reason := m.validateOperation(s, rop, pbs, "", caller, true); reason != "" {
		return process.Status(http.StatusBadRequest, "Invalid "+kind.String()+" operation: "+reason)
	}
	if reason := m.authorizeOperation(caller, rop); reason != "" {
		m.log.Warn("operator operation refused", "type", kind.String(), "principal", caller, "reason", reason)
		return process.Status(http.StatusForbidden, reason)
	}
	return future.Repair(future.Then(m.operatorOperation(s, rop), func(future.Nothing) (*process.Response, error) {
		return &process.Response{Status: ok, Header: http.Header{}}, nil
	}), func(err error) (*process.Response, error) {
		return &process.Response{Status: http.StatusConflict, Body: []byte(err.Error())}, nil
	})
}
