package master

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/jsonv1"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/quotapb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// installQuotaRoute adds /master/quota (Mesos 1.0): GET the quotas the
// caller may see, POST a QuotaRequest to set one, DELETE
// /master/quota/<role> to remove one.
func (m *master) installQuotaRoute() {
	m.Route("/quota", "Gets (GET), sets (POST a QuotaRequest) or removes (DELETE /quota/<role>) quota for roles.", m.quotaHTTP)
}

// operatorCaller authenticates an operator request (HTTP Basic against
// --credentials when there are any) and sends a standby's request to the
// leader. It returns the caller's principal, or (ok false) the response to give.
func (m *master) operatorCaller(r *http.Request) (string, future.Future[*process.Response], bool) {
	access := httpWrite
	if r.Method == http.MethodGet {
		access = httpRead
	}
	caller, denied := m.authenticateHTTP(r, access)
	if denied != nil {
		return "", future.Ready(denied), false
	}
	if !m.leader {
		return "", m.redirectToLeader(r.URL.Path), false
	}
	return caller, future.Future[*process.Response]{}, true
}

func (m *master) quotaHTTP(r *http.Request) future.Future[*process.Response] {
	caller, resp, ok := m.operatorCaller(r)
	if !ok {
		return resp
	}
	switch r.Method {
	case http.MethodGet:
		return m.quotaStatus(caller)
	case http.MethodPost:
		body, err := readBody(r)
		if err != nil {
			return process.Status(http.StatusBadRequest, err.Error())
		}
		return m.setQuota(caller, body)
	case http.MethodDelete:
		return m.removeQuota(caller, r.URL.Path)
	}
	return process.Status(http.StatusMethodNotAllowed, "Expecting one of { 'GET', 'POST', 'DELETE' }, but received '"+r.Method+"'")
}

// quotaStatus answers GET /quota: a QuotaStatus of the quotas the
// get_quotas ACL lets the caller see.
func (m *master) quotaStatus(caller string) future.Future[*process.Response] {
	status := &quotapb.QuotaStatus{}
	for _, role := range sortedKeys(m.quotas) {
		if a := m.cfg.Authorizer; a != nil && !a.GetQuota(caller, role) {
			continue
		}
		status.Infos = append(status.Infos, m.quotas[role])
	}
	body, err := jsonv1.Marshal(status)
	if err != nil {
		return process.Status(http.StatusInternalServerError, err.Error())
	}
	return process.OK("application/json", body)
}

// ParseQuotaRequest reads a /quota POST body (a QuotaRequest in JSON) and
// makes the QuotaInfo it asks for, checked as Mesos 1.0 checks it; the
// error is the 400 response's text.
func ParseQuotaRequest(body []byte) (*quotapb.QuotaRequest, *quotapb.QuotaInfo, error) {
	req := &quotapb.QuotaRequest{}
	if err := jsonv1.Unmarshal(body, req); err != nil {
		return nil, nil, fmt.Errorf("Failed to parse set quota request JSON '%s': %v", body, err)
	}
	info := &quotapb.QuotaInfo{Role: req.Role, Guarantee: req.Guarantee}
	if err := ValidateQuotaInfo(info); err != nil {
		return nil, nil, fmt.Errorf("Failed to validate set quota request: %v", err)
	}
	return req, info, nil
}

// ValidateQuotaInfo checks a quota as Mesos 1.0 does: a valid role other
// than "*", and a non-empty guarantee of unreserved, non-revocable
// scalars without disk info.
func ValidateQuotaInfo(info *quotapb.QuotaInfo) error {
	if info.Role == nil {
		return errors.New("QuotaInfo must specify a role")
	}
	role := info.GetRole()
	if role == "" {
		return errors.New("QuotaInfo must specify a non-empty role")
	}
	if why := validRole(role); why != "" {
		return errors.New("QuotaInfo with invalid role: " + why)
	}
	if role == "*" {
		return errors.New("QuotaInfo must not specify the default '*' role")
	}
	if len(info.GetGuarantee()) == 0 {
		return errors.New("QuotaInfo with empty 'guarantee'")
	}
	for _, r := range info.GetGuarantee() {
		if err := validateResourceProto(r); err != nil {
			return errors.New("QuotaInfo with invalid resource: " + err.Error())
		}
		switch {
		case r.Reservation != nil:
			return errors.New("QuotaInfo may not contain ReservationInfo")
		case r.Disk != nil:
			return errors.New("QuotaInfo may not contain DiskInfo")
		case r.Revocable != nil:
			return errors.New("QuotaInfo may not contain RevocableInfo")
		case r.GetType() != mesos.Value_SCALAR:
			return errors.New("QuotaInfo may not include non-scalar resources")
		case r.Role != nil && r.GetRole() != "*":
			return errors.New("QuotaInfo resources must not specify a role")
		}
	}
	return nil
}

// validateResourceProto checks one Resource as Mesos's
// Resources::validate does: a name, and a value of its type.
func validateResourceProto(r *mesos.Resource) error {
	if r.GetName() == "" {
		return errors.New("Empty resource name")
	}
	switch r.GetType() {
	case mesos.Value_SCALAR:
		if r.Scalar == nil || r.Ranges != nil || r.Set != nil {
			return errors.New("Invalid scalar resource")
		}
		if v := r.GetScalar().GetValue(); v < 0 || v != v {
			return errors.New("Invalid scalar resource")
		}
	case mesos.Value_RANGES:
		if r.Ranges == nil || r.Scalar != nil || r.Set != nil {
			return errors.New("Invalid ranges resource")
		}
	case mesos.Value_SET:
		if r.Set == nil || r.Scalar != nil || r.Ranges != nil {
			return errors.New("Invalid set resource")
		}
	default:
		return errors.New("Unsupported resource type")
	}
	return nil
}

// quotaCapacityError is Mesos 1.0's capacity heuristic: all quotas with
// the new one must fit in the unreserved resources the connected, active
// slaves registered with (dynamic reservations count as free: they can be
// undone). It returns the 409 text, or "".
func (m *master) quotaCapacityError(info *quotapb.QuotaInfo) string {
	total := resources.FromProto(info.GetGuarantee())
	for _, q := range m.quotas {
		total = total.Plus(resources.FromProto(q.GetGuarantee()))
	}
	var capacity resources.Resources
	for _, id := range sortedKeys(m.slaves) {
		s := m.slaves[id]
		if !s.connected || !s.active {
			continue
		}
		capacity = capacity.Plus(resources.FromProto(s.info.GetResources()).Unreserved().NonRevocable())
		if capacity.Contains(total) {
			return ""
		}
	}
	return "Heuristic capacity check for set quota request failed: Not enough available cluster capacity to reasonably satisfy quota request; the force flag can be used to override this check"
}

func (m *master) setQuota(caller string, body []byte) future.Future[*process.Response] {
	req, info, err := ParseQuotaRequest(body)
	if err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	role := info.GetRole()
	if len(m.cfg.Roles) > 0 && !slices.Contains(m.cfg.Roles, role) {
		return process.Status(http.StatusBadRequest, "Failed to validate set quota request: Unknown role '"+role+"'")
	}
	if m.quotas[role] != nil {
		return process.Status(http.StatusBadRequest, "Failed to validate set quota request: Can not set quota for role '"+role+"' which already has quota")
	}
	if caller != "" {
		info.Principal = proto.String(caller)
	}
	if a := m.cfg.Authorizer; a != nil && !a.SetQuota(caller, role) {
		m.log.Warn("set quota refused", "principal", caller, "role", role)
		return process.Status(http.StatusForbidden, "Not authorized to set quota for role '"+role+"'")
	}
	if !req.GetForce() {
		if why := m.quotaCapacityError(info); why != "" {
			return process.Status(http.StatusConflict, why)
		}
	}
	// Taken at once, so a second request for the role is refused while
	// the registry stores this one (a failed store ends the master).
	m.quotas[role] = info
	m.log.Info("setting quota", "role", role, "guarantee", resources.FromProto(info.GetGuarantee()).String(), "principal", caller)
	return m.afterStored(m.registrar.apply(registrar.UpdateQuota(info)), func() *process.Response {
		m.alloc.SetQuota(role, resources.FromProto(info.GetGuarantee()))
		m.rescindForQuota(info)
		return &process.Response{Status: http.StatusOK}
	})
}

// rescindForQuota rescinds outstanding offers to frameworks of other roles,
// slave by slave, until what they held covers the new guarantee, so the
// quota role can be offered those resources in the next cycle.
func (m *master) rescindForQuota(info *quotapb.QuotaInfo) {
	want := resources.FromProto(info.GetGuarantee())
	var got resources.Resources
	for _, id := range sortedKeys(m.slaves) {
		if got.Contains(want) {
			return
		}
		for _, o := range sortedOffers(m.slaves[id].offers) {
			if o.f.role() == info.GetRole() {
				continue
			}
			got = got.Plus(o.res.Unreserved().NonRevocable())
			m.rescindOffer(o, 0)
		}
	}
}

// removeQuota answers DELETE /quota/<role>.
func (m *master) removeQuota(caller, path string) future.Future[*process.Response] {
	var tokens []string
	for _, t := range strings.Split(path, "/") {
		if t != "" {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) != 3 {
		return process.Status(http.StatusBadRequest, fmt.Sprintf("Failed to parse request path '%s': 3 tokens ('master', 'quota', 'role') required, found %d token(s)", path, len(tokens)))
	}
	if tokens[1] != "quota" {
		return process.Status(http.StatusBadRequest, "Failed to parse request path '"+path+"': Missing 'quota' endpoint")
	}
	role := tokens[2]
	if len(m.cfg.Roles) > 0 && !slices.Contains(m.cfg.Roles, role) {
		return process.Status(http.StatusBadRequest, "Failed to validate remove quota request for path '"+path+"': Unknown role '"+role+"'")
	}
	info := m.quotas[role]
	if info == nil {
		return process.Status(http.StatusBadRequest, "Failed to remove quota for path '"+path+"': Role '"+role+"' has no quota set")
	}
	if a := m.cfg.Authorizer; a != nil && !a.RemoveQuota(caller, info.GetPrincipal(), role) {
		m.log.Warn("remove quota refused", "principal", caller, "role", role)
		return process.Status(http.StatusForbidden, "Not authorized to remove quota for role '"+role+"'")
	}
	delete(m.quotas, role)
	m.log.Info("removing quota", "role", role, "principal", caller)
	return m.afterStored(m.registrar.apply(registrar.RemoveQuota(role)), func() *process.Response {
		m.alloc.RemoveQuota(role)
		return &process.Response{Status: http.StatusOK}
	})
}

// quotaInfos lists the registry's quotas.
func quotaInfos(reg *messages.Registry) []*quotapb.QuotaInfo {
	out := make([]*quotapb.QuotaInfo, 0, len(reg.GetQuotas()))
	for _, q := range reg.GetQuotas() {
		out = append(out, q.GetInfo())
	}
	return out
}

// recoverQuotas takes the registry's quotas (a new leader).
func (m *master) recoverQuotas(infos []*quotapb.QuotaInfo) {
	for _, info := range infos {
		m.quotas[info.GetRole()] = info
		m.alloc.SetQuota(info.GetRole(), resources.FromProto(info.GetGuarantee()))
	}
	if len(infos) > 0 {
		m.log.Info("recovered quotas from the registry", "roles", len(infos))
	}
}

// afterStored answers an operator request once the registry holds its
// change: fn runs on the master and makes the response. A failed store
// ends the master (registryClient.watch); the request gets a 503.
func (m *master) afterStored(stored future.Future[bool], fn func() *process.Response) future.Future[*process.Response] {
	done := future.NewPromise[*process.Response]()
	stored.OnAny(process.Defer1(m.Runtime(), m.Self(), func(f future.Future[bool]) {
		if err := f.Err(); err != nil {
			done.Set(&process.Response{Status: http.StatusServiceUnavailable, Body: []byte("The registry could not store the change: " + err.Error() + "\n")})
			return
		}
		done.Set(fn())
	}))
	return done.Future()
}

// readBody reads a request's body (bounded by the runtime's limit).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("Failed to read the request body: %w", err)
	}
	return b, nil
}
