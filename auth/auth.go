// Package auth holds the authentication extension points, Mesos's
// Authenticator and Authenticatee module kinds: the master runs an
// Authenticator for every AuthenticateMessage (chosen by its
// --authenticators), and slaves and scheduler drivers run an
// Authenticatee before they register (the slave's --authenticatee,
// scheduler.Options.Authenticatee). Both exchange libprocess messages
// with each other; the built-in mechanism is CRAM-MD5 (package
// auth/crammd5, registered with package modules as "crammd5" of both
// kinds). Subpackage acls is the local authorizer.
package auth

import (
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Result reports a finished server-side exchange. An Authenticator's done
// function must hand it to its owner (for example with process.Run)
// before it returns: the authenticatee is told only afterwards, so that
// its registration cannot overtake the result.
type Result struct {
	PID       process.UPID // the pid that was authenticated
	Principal string       // set on success
	OK        bool
}

// Authenticator is the master's side of an authentication mechanism (a
// module of kind modules.KindAuthenticator).
type Authenticator interface {
	// Initialize gives the authenticator the master's --credentials
	// (principal to secret; nil without the flag). The master calls it
	// once, before any Start.
	Initialize(credentials map[string]string) error
	// Start runs one exchange with authenticatee, which sent an
	// AuthenticateMessage about subject (a scheduler's or slave's pid),
	// usually as a process of its own on rt whose pid it returns. done
	// gets the result exactly once, also when the exchange times out.
	Start(rt *process.Runtime, authenticatee, subject process.UPID, done func(Result)) (process.UPID, error)
}

// Authenticatee is the client side of an authentication mechanism (a
// module of kind modules.KindAuthenticatee), run by slaves and scheduler
// drivers before they register.
type Authenticatee interface {
	// Authenticate authenticates subject with master as credential's
	// principal: true on success, false when the master refused the
	// credential; the future fails on any other error and after a bound.
	Authenticate(rt *process.Runtime, master, subject process.UPID, credential *mesos.Credential) future.Future[bool]
}
