package tests

import (
	"sync/atomic"
	"testing"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// paramsAuth is an out-of-tree style authentication module of both
// kinds: the authenticator accepts the one principal and secret of its
// --modules parameters (besides --credentials), over CRAM-MD5; the
// authenticatee counts its attempts.
const paramsAuth = "gomesos_test_ParamsAuthentication"

type paramsAuthenticator struct {
	crammd5.Authenticator
	principal, secret string
	sessions          atomic.Int32
}

func (a *paramsAuthenticator) Initialize(creds map[string]string) error {
	all := map[string]string{a.principal: a.secret}
	for p, s := range creds {
		all[p] = s
	}
	return a.Authenticator.Initialize(all)
}

func (a *paramsAuthenticator) Start(rt *process.Runtime, authenticatee, subject process.UPID, done func(auth.Result)) (process.UPID, error) {
	a.sessions.Add(1)
	return a.Authenticator.Start(rt, authenticatee, subject, done)
}

type countingAuthenticatee struct{ attempts atomic.Int32 }

func (c *countingAuthenticatee) Authenticate(rt *process.Runtime, master, subject process.UPID, cred *mesos.Credential) future.Future[bool] {
	c.attempts.Add(1)
	return crammd5.Authenticatee{}.Authenticate(rt, master, subject, cred)
}

func init() {
	modules.Register(modules.KindAuthenticator, paramsAuth, func(p modules.Parameters) (any, error) {
		return &paramsAuthenticator{principal: p["principal"], secret: p["secret"]}, nil
	})
	modules.Register(modules.KindAuthenticatee, paramsAuth, func(modules.Parameters) (any, error) {
		return &countingAuthenticatee{}, nil
	})
}

// The master authenticates frameworks and slaves with the Authenticator
// module --authenticators names, built with its --modules parameters;
// drivers and slaves authenticate with an Authenticatee module.
func TestAuthenticationModules(t *testing.T) {
	mods, err := modules.Parse(`{"libraries":[{"file":"/usr/lib/libparamsauth.so","modules":[{"name":"` + paramsAuth + `",
		"parameters":[{"key":"principal","value":"carol"},{"key":"secret","value":"from-modules"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := modules.New[auth.Authenticator](mods, modules.KindAuthenticator, paramsAuth, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, AuthenticateSlaves: true, Authenticator: authn,
		Credentials: map[string]string{"agent": "s3cret"},
	}})
	slaveSide, err := modules.New[auth.Authenticatee](mods, modules.KindAuthenticatee, paramsAuth, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.StartSlave(slaveResources, func(cfg *slave.Config) {
		cfg.Credential = credential("agent", "s3cret")
		cfg.Authenticatee = slaveSide
	})
	frameworkSide, err := modules.New[auth.Authenticatee](mods, modules.KindAuthenticatee, paramsAuth, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, fid := c.StartFramework(cluster.FrameworkInfo("carol's"), scheduler.Options{Credential: credential("carol", "from-modules"), Authenticatee: frameworkSide})
	if fid.GetValue() == "" {
		t.Fatal("no framework id")
	}
	if n := authn.(*paramsAuthenticator).sessions.Load(); n != 2 {
		t.Errorf("the authenticator module ran %d sessions, want 2 (the slave's and the framework's)", n)
	}
	for name, a := range map[string]auth.Authenticatee{"slave": slaveSide, "framework": frameworkSide} {
		if n := a.(*countingAuthenticatee).attempts.Load(); n != 1 {
			t.Errorf("the %s's authenticatee module made %d attempts, want 1", name, n)
		}
	}
}
