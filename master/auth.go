package master

import (
	"crypto/subtle"
	"net/http"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// authenticate starts an authentication session (the configured
// Authenticator's, CRAM-MD5 by default) for the pid an authenticatee
// names; a new attempt for a pid replaces the one in progress.
func (m *master) authenticate(from process.UPID, msg *messages.AuthenticateMessage) {
	subject, err := process.ParseUPID(msg.GetPid())
	if err != nil {
		m.log.Warn("authentication for a bad pid", "pid", msg.GetPid(), "from", from.String())
		return
	}
	// The principal is bound to the subject's pid; the authenticatee must
	// live at the subject's address (it is a process of the same runtime),
	// so that a peer elsewhere, whose messages come from its own address,
	// cannot take over or revoke another host's pid with its credentials.
	if subject.Addr.Addr().Unmap() != from.Addr.Addr().Unmap() {
		m.log.Warn("refusing authentication for a pid at another address than the authenticatee's",
			"pid", subject.String(), "from", from.String())
		return
	}
	delete(m.authenticated, subject)
	rt, self := m.Runtime(), m.Self()
	var session process.UPID
	session, err = m.authn.Start(rt, from, subject, func(r auth.Result) {
		process.Run(rt, self, func() {
			if m.authenticating[r.PID] != session {
				return // a newer attempt replaced it
			}
			delete(m.authenticating, r.PID)
			if r.OK {
				m.authenticated[r.PID] = r.Principal
				m.log.Info("authenticated", "pid", r.PID.String(), "principal", r.Principal)
			} else {
				m.log.Warn("authentication failed", "pid", r.PID.String())
			}
		})
	})
	if err != nil {
		m.log.Error("cannot start an authentication session", "err", err)
		return
	}
	m.authenticating[subject] = session
}

// frameworkAuthError says why a framework at from may not subscribe with
// principal, or "".
func (m *master) frameworkAuthError(from process.UPID, principal string) string {
	authed, ok := m.authenticated[from]
	if m.cfg.Authenticate && !ok {
		return "Framework at " + from.String() + " is not authenticated"
	}
	if ok && principal != "" && principal != authed {
		return "Framework principal '" + principal + "' does not match authenticated principal '" + authed + "'"
	}
	return ""
}

// frameworkAuthzError says why info may not register (register_frameworks
// ACL), or "".
func (m *master) frameworkAuthzError(info *mesos.FrameworkInfo) string {
	if m.cfg.NoRootSubmissions && info.GetUser() == "root" {
		return "User 'root' is not allowed to run frameworks without --root_submissions set"
	}
	role := info.GetRole()
	if role == "" {
		role = "*"
	}
	if m.cfg.Authorizer != nil && !m.cfg.Authorizer.RegisterFramework(info.GetPrincipal(), role) {
		return "Not authorized to use role '" + role + "'"
	}
	return ""
}

// httpAccess is what an operator endpoint asks of its caller.
type httpAccess int

const (
	// httpRead endpoints (/state, /flags, /tasks, /slaves ...) ask for
	// credentials only with --authenticate_http.
	httpRead httpAccess = iota
	// httpWrite endpoints (/teardown, /reserve, /unreserve,
	// /create-volumes, /destroy-volumes, /quota, /maintenance/* ...) ask
	// for them with --authenticate_http, and also whenever the master
	// has --credentials, as Mesos 0.25 authenticates /teardown and
	// /reserve.
	httpWrite
)

// httpAuth decides an operator's HTTP request: given its Basic
// credentials (user, pass; given false when the request has none), the
// configured credentials and whether --authenticate_http is on, it
// returns the caller's principal, or ok false when the request must be
// answered 401. When the endpoint does not ask for credentials the
// principal is the Basic user name as given, unchecked ("" without one).
func httpAuth(credentials map[string]string, authenticateHTTP bool, access httpAccess, user, pass string, given bool) (principal string, ok bool) {
	required := authenticateHTTP || (access == httpWrite && len(credentials) > 0)
	if !required {
		return user, true
	}
	return user, given && checkSecret(credentials, user, pass)
}

// checkSecret says whether pass is principal's secret in credentials.
func checkSecret(credentials map[string]string, principal, pass string) bool {
	secret, known := credentials[principal]
	return known && subtle.ConstantTimeCompare([]byte(secret), []byte(pass)) == 1
}

// AuthenticateHTTP is the one check of operator HTTP requests
// (--authenticate_http, HTTP Basic against --credentials): it returns the
// caller's principal, or a 401 answer with WWW-Authenticate to send back
// when credentials are required and missing or wrong. Endpoints call it
// first thing, with httpRead or httpWrite. It reads only the
// configuration, so it may run outside the master's process.
func (m *master) authenticateHTTP(r *http.Request, access httpAccess) (principal string, denied *process.Response) {
	user, pass, given := r.BasicAuth()
	principal, ok := httpAuth(m.cfg.Credentials, m.cfg.AuthenticateHTTP, access, user, pass, given)
	if !ok {
		return "", unauthorizedResponse()
	}
	return principal, nil
}

// guardRuntimeRoutes authenticates, under --authenticate_http, the
// runtime's own routes that Mesos 1.0 authenticates: /metrics/snapshot
// (and the Prometheus text) to read, /logging/toggle and /profiler/* to
// change. /version, /help, /health and /system stay open, as in Mesos. It
// reads only the configuration: it runs on the connection's goroutine.
func (m *master) guardRuntimeRoutes(r *http.Request, processID string) *process.Response {
	var access httpAccess
	switch processID {
	case "metrics":
		access = httpRead
	case "logging", "profiler":
		access = httpWrite
	default:
		return nil
	}
	_, denied := m.authenticateHTTP(r, access)
	return denied
}

// readable wraps a read-only endpoint's handler in the httpRead check.
func (m *master) readable(h func(*http.Request) future.Future[*process.Response]) func(*http.Request) future.Future[*process.Response] {
	return func(r *http.Request) future.Future[*process.Response] {
		if _, denied := m.authenticateHTTP(r, httpRead); denied != nil {
			return future.Ready(denied)
		}
		return h(r)
	}
}

// unauthorizedResponse is the 401 answer asking for HTTP Basic
// credentials.
func unauthorizedResponse() *process.Response {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("WWW-Authenticate", `Basic realm="mesos"`)
	return &process.Response{Status: http.StatusUnauthorized, Header: h, Body: []byte("Unauthorized\n")}
}

// v1Authenticating says whether v1 scheduler calls need HTTP credentials
// (--authenticate, also spelt --authenticate_frameworks, or
// --authenticate_http_frameworks).
func (m *master) v1Authenticating() bool {
	return m.cfg.Authenticate || m.cfg.AuthenticateHTTPFrameworks
}

// v1Caller authenticates a v1 scheduler call with HTTP Basic credentials
// against --credentials when framework authentication is on: the
// principal, or ok false when they are missing or wrong. With
// authentication off every caller is admitted anonymously. It reads only
// the configuration, so it may run outside the master's process.
func (m *master) v1Caller(r *http.Request) (principal string, ok bool) {
	if !m.v1Authenticating() {
		return "", true
	}
	user, pass, given := r.BasicAuth()
	return user, given && checkSecret(m.cfg.Credentials, user, pass)
}
