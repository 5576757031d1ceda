package modules

import (
	"strings"
	"testing"
)

type greeter interface{ Greet() string }

type hello struct{ p Parameters }

func (h hello) Greet() string { return "hello " + h.p["who"] }

func init() {
	// One name in two kinds, as Mesos's crammd5 is both an authenticator
	// and an authenticatee.
	Register(KindAuthenticator, "test_both", func(p Parameters) (any, error) { return hello{p}, nil })
	Register(KindAuthenticatee, "test_both", func(p Parameters) (any, error) { return 42, nil })
}

func TestRegistryResolvesByKindAndName(t *testing.T) {
	c, err := Parse(`{"libraries":[{"file":"/usr/lib/libtest.so","modules":[{"name":"test_both","parameters":[{"key":"who","value":"mesos"},{"key":"x","value":"1"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ { // the map of kinds is iterated in random order
		g, err := New[greeter](c, KindAuthenticator, "test_both", nil)
		if err != nil || g.Greet() != "hello mesos" {
			t.Fatalf("authenticator: %v %v", g, err)
		}
		if n, err := New[int](c, KindAuthenticatee, "test_both", nil); err != nil || n != 42 {
			t.Fatalf("authenticatee: %v %v", n, err)
		}
	}
	m, err := c.CreateWith(KindAuthenticator, "test_both", Parameters{"who": "go"})
	if err != nil || m.(hello).Greet() != "hello go" || m.(hello).p["x"] != "1" {
		t.Fatalf("extra parameters: %v %v", m, err)
	}
	if !c.Listed("test_both") || c.Listed("other") || (*Config)(nil).Params("test_both") != nil {
		t.Fatal("Listed/Params")
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := New[greeter](c, KindAuthenticatee, "test_both", nil); return err }(), `Authenticatee module "test_both" is a int, not a *modules.greeter`},
		{func() error { _, err := c.Create(KindHook, "test_both"); return err }(), `unknown Hook module "test_both" (known: )`},
		{func() error { _, err := Parse(`{"libraries":[{"modules":[{"name":"nope"}]}]}`); return err }(), `--modules: unknown module "nope" (known: Authenticatee/test_both, Authenticator/test_both)`},
		{func() error { _, err := Parse(`{"libraries":[{"modules":[{}]}]}`); return err }(), `a module without a name`},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("err %v, want %q", tc.err, tc.want)
		}
	}
}
