// Package crammd5 is Mesos's SASL CRAM-MD5 authentication (RFC 2195) over
// libprocess messages, both sides:
//
//   - the authenticator, which a master runs: an AuthenticateMessage{pid}
//     starts a session process (`crammd5_authenticator_session(N)`) that
//     offers the mechanism, sends a challenge, checks the answer against
//     the credentials and reports the principal;
//   - the authenticatee, which schedulers and slaves run before they
//     register (`crammd5_authenticatee(N)`).
//
// It also parses Mesos's credentials files.
package crammd5

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Mechanism is the only mechanism offered.
const Mechanism = "CRAM-MD5"

// Timeout bounds one authentication attempt on either side.
const Timeout = 5 * time.Second

// ParseCredentials reads a credentials file: lines `principal secret`, or
// JSON `{"credentials":[{"principal":"p","secret":"s"}]}`.
func ParseCredentials(data []byte) (map[string]string, error) {
	text := strings.TrimSpace(string(data))
	out := make(map[string]string)
	if strings.HasPrefix(text, "{") {
		var doc struct {
			Credentials []struct {
				Principal string `json:"principal"`
				Secret    string `json:"secret"`
			} `json:"credentials"`
		}
		if err := json.Unmarshal([]byte(text), &doc); err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		for i, c := range doc.Credentials {
			if c.Principal == "" {
				return nil, fmt.Errorf("credentials: entry %d has no principal", i)
			}
			out[c.Principal] = c.Secret
		}
		return out, nil
	}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("credentials: line %d: want `principal secret`", n+1)
		}
		out[fields[0]] = fields[1]
	}
	return out, nil
}

// ParseCredential reads a single credential (a slave's --credential):
// `principal secret` or JSON `{"principal":"p","secret":"s"}`.
func ParseCredential(data []byte) (principal, secret string, err error) {
	text := strings.TrimSpace(string(data))
	if strings.HasPrefix(text, "{") {
		var c struct {
			Principal string `json:"principal"`
			Secret    string `json:"secret"`
		}
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			return "", "", fmt.Errorf("credential: %w", err)
		}
		if c.Principal == "" {
			return "", "", errors.New("credential: no principal")
		}
		return c.Principal, c.Secret, nil
	}
	fields := strings.Fields(text)
	if len(fields) != 2 {
		return "", "", errors.New("credential: want `principal secret`")
	}
	return fields[0], fields[1], nil
}

// Response is the CRAM-MD5 answer to challenge: the principal, a space,
// and the lowercase hex HMAC-MD5 of the challenge keyed by the secret.
func Response(principal, secret string, challenge []byte) []byte {
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write(challenge)
	return []byte(principal + " " + hex.EncodeToString(mac.Sum(nil)))
}

// Result reports a finished server-side session (see auth.Result).
type Result = auth.Result

// Name is the mechanism's module name, of both kinds Authenticator and
// Authenticatee: the default of the master's --authenticators and the
// slave's --authenticatee.
const Name = "crammd5"

func init() {
	modules.Register(modules.KindAuthenticator, Name, func(modules.Parameters) (any, error) { return &Authenticator{}, nil })
	modules.Register(modules.KindAuthenticatee, Name, func(modules.Parameters) (any, error) { return Authenticatee{}, nil })
}

// Authenticator is the CRAM-MD5 auth.Authenticator: each Start runs a
// session (StartSession) against the credentials Initialize was given.
type Authenticator struct {
	creds map[string]string
}

// Initialize implements auth.Authenticator.
func (a *Authenticator) Initialize(credentials map[string]string) error {
	a.creds = credentials
	return nil
}

// Start implements auth.Authenticator.
func (a *Authenticator) Start(rt *process.Runtime, authenticatee, subject process.UPID, done func(Result)) (process.UPID, error) {
	return StartSession(rt, authenticatee, subject, a.creds, done)
}

// Authenticatee is the CRAM-MD5 auth.Authenticatee (see Authenticate).
type Authenticatee struct{}

// Authenticate implements auth.Authenticatee.
func (Authenticatee) Authenticate(rt *process.Runtime, master, subject process.UPID, c *mesos.Credential) future.Future[bool] {
	return Authenticate(rt, master, subject, c.GetPrincipal(), c.GetSecret())
}

// session is one server-side exchange.
type session struct {
	process.Process
	authenticatee process.UPID // who talks to us
	subject       process.UPID // the pid being authenticated
	creds         map[string]string
	challenge     []byte
	done          func(Result)
	finished      bool
}

// StartSession runs a server-side session for an AuthenticateMessage
// that authenticatee sent about subject; done gets the result (on the
// session's goroutine) once, also on timeout.
func StartSession(rt *process.Runtime, authenticatee, subject process.UPID, creds map[string]string, done func(Result)) (process.UPID, error) {
	s := &session{authenticatee: authenticatee, subject: subject, creds: creds, done: done}
	pid, err := rt.Spawn(s, rt.GenerateID("crammd5_authenticator_session"))
	if err != nil {
		return process.UPID{}, fmt.Errorf("crammd5 session: %w", err)
	}
	return pid, nil
}

func (s *session) finish(ok bool, principal string) {
	if s.finished {
		return
	}
	s.finished = true
	s.done(Result{PID: s.subject, Principal: principal, OK: ok})
	s.Terminate() // takes effect after the current handler
}

func (s *session) Initialize() {
	process.Install(&s.Process, func(from process.UPID, m *messages.AuthenticationStartMessage) {
		if from != s.authenticatee || s.challenge != nil {
			return
		}
		if m.GetMechanism() != Mechanism {
			_ = s.Send(from, &messages.AuthenticationErrorMessage{Error: proto.String("Unsupported authentication mechanism '" + m.GetMechanism() + "'")})
			s.finish(false, "")
			return
		}
		var r [16]byte
		s.Runtime().RandBytes(r[:])
		s.challenge = []byte("<" + hex.EncodeToString(r[:]) + "." + strconv.FormatInt(s.Clock().Now().Unix(), 10) + "@" + s.Self().Addr.Addr().String() + ">")
		_ = s.Send(from, &messages.AuthenticationStepMessage{Data: s.challenge})
	})
	process.Install(&s.Process, func(from process.UPID, m *messages.AuthenticationStepMessage) {
		if from != s.authenticatee || s.challenge == nil {
			return
		}
		principal, _, _ := strings.Cut(string(m.GetData()), " ")
		secret, known := s.creds[principal]
		// The result is reported before the authenticatee hears of it,
		// so that its registration cannot overtake it.
		if known && hmac.Equal(m.GetData(), Response(principal, secret, s.challenge)) {
			s.finish(true, principal)
			_ = s.Send(from, &messages.AuthenticationCompletedMessage{})
			return
		}
		s.finish(false, "")
		_ = s.Send(from, &messages.AuthenticationFailedMessage{})
	})
	_ = s.Send(s.authenticatee, &messages.AuthenticationMechanismsMessage{Mechanisms: []string{Mechanism}})
	s.Delay(Timeout, func() { s.finish(false, "") })
}

// ErrRefused means the master refused the credential.
var ErrRefused = errors.New("master refused authentication")

// authenticatee is the client side of one attempt.
type authenticatee struct {
	process.Process
	master            process.UPID
	subject           process.UPID
	principal, secret string
	result            *future.Promise[bool]
	server            process.UPID // pinned: the sender of the mechanisms
}

// Authenticate authenticates subject (a scheduler's or slave's pid) with
// the master as principal: the future is true on success, false when the
// master refused the credential, and fails on error or after Timeout.
func Authenticate(rt *process.Runtime, master, subject process.UPID, principal, secret string) future.Future[bool] {
	a := &authenticatee{master: master, subject: subject, principal: principal, secret: secret, result: future.NewPromise[bool]()}
	if _, err := rt.Spawn(a, rt.GenerateID("crammd5_authenticatee")); err != nil {
		a.result.Fail(fmt.Errorf("authenticate: %w", err))
	}
	return a.result.Future()
}

func (a *authenticatee) end(ok bool, err error) {
	if err != nil {
		a.result.Fail(err)
	} else {
		a.result.Set(ok)
	}
	a.Terminate()
}

func (a *authenticatee) Initialize() {
	process.Install(&a.Process, func(from process.UPID, m *messages.AuthenticationMechanismsMessage) {
		if a.server.IsValid() {
			return
		}
		a.server = from
		for _, mech := range m.GetMechanisms() {
			if mech == Mechanism {
				_ = a.Send(from, &messages.AuthenticationStartMessage{Mechanism: proto.String(Mechanism)})
				return
			}
		}
		a.end(false, fmt.Errorf("authenticate: the master offers %v, not %s", m.GetMechanisms(), Mechanism))
	})
	process.Install(&a.Process, func(from process.UPID, m *messages.AuthenticationStepMessage) {
		if from == a.server {
			_ = a.Send(from, &messages.AuthenticationStepMessage{Data: Response(a.principal, a.secret, m.GetData())})
		}
	})
	process.Install(&a.Process, func(from process.UPID, _ *messages.AuthenticationCompletedMessage) {
		if from == a.server {
			a.end(true, nil)
		}
	})
	process.Install(&a.Process, func(from process.UPID, _ *messages.AuthenticationFailedMessage) {
		if from == a.server {
			a.end(false, nil)
		}
	})
	process.Install(&a.Process, func(from process.UPID, m *messages.AuthenticationErrorMessage) {
		if from == a.server {
			a.end(false, fmt.Errorf("authenticate: %s", m.GetError()))
		}
	})
	if err := a.Send(a.master, &messages.AuthenticateMessage{Pid: proto.String(a.subject.String())}); err != nil {
		a.end(false, fmt.Errorf("authenticate: %w", err))
		return
	}
	a.Delay(Timeout, func() { a.end(false, errors.New("authenticate: timed out")) })
}
