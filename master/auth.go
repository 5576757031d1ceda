package master

import (
	"crypto/subtle"
	"net/http"

	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
)

// authenticate starts a CRAM-MD5 session for the pid an authenticatee
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
	session, err = crammd5.StartSession(rt, from, subject, m.cfg.Credentials, func(r crammd5.Result) {
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
	role := info.GetRole()
	if role == "" {
		role = "*"
	}
	if m.cfg.Authorizer != nil && !m.cfg.Authorizer.RegisterFramework(info.GetPrincipal(), role) {
		return "Not authorized to use role '" + role + "'"
	}
	return ""
}

// httpCaller authenticates an operator's HTTP request with Basic auth
// against the credentials: the principal ("" without credentials), or
// ok false when the credentials are configured and do not match.
func (m *master) httpCaller(r *http.Request) (string, bool) {
	user, pass, given := r.BasicAuth()
	if len(m.cfg.Credentials) == 0 {
		return user, true
	}
	if !given {
		return "", false
	}
	secret, known := m.cfg.Credentials[user]
	return user, known && subtle.ConstantTimeCompare([]byte(secret), []byte(pass)) == 1
}

// v1Authenticating says whether v1 scheduler calls need HTTP credentials
// (--authenticate, also spelt --authenticate_frameworks).
func (m *master) v1Authenticating() bool { return m.cfg.Authenticate }

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
	if !given {
		return "", false
	}
	secret, known := m.cfg.Credentials[user]
	return user, known && subtle.ConstantTimeCompare([]byte(secret), []byte(pass)) == 1
}
