package main

import (
	"strings"
	"testing"

	"github.com/gomesos/gomesos/resources"
)

func mustParse(t *testing.T, text, role string) resources.Resources {
	t.Helper()
	r, err := resources.Parse(text, role)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		name, offered, want, role string
		use                       string // "" when no match
		why                       []string
	}{
		{name: "unreserved fits", offered: "cpus:2;mem:1024", want: "cpus:1;mem:128", role: "*", use: "cpus:1;mem:128"},
		{name: "a role's framework on unreserved resources", offered: "cpus:2;mem:1024", want: "cpus:1;mem:128", role: "dev", use: "cpus:1;mem:128"},
		{name: "the role's reservation first", offered: "cpus(dev):2;mem(dev):1024;cpus:4;mem:4096", want: "cpus:1;mem:128", role: "dev", use: "cpus(dev):1;mem(dev):128"},
		{name: "explicit roles as given", offered: "cpus(dev):2;mem:1024", want: "cpus(dev):1;mem:128", role: "dev", use: "cpus(dev):1;mem:128"},
		{name: "too few cpus", offered: "cpus:0.5;mem:1024", want: "cpus:1;mem:128", role: "*", why: []string{"needs cpus:1, offered cpus:0.5"}},
		{name: "no gpus at all", offered: "cpus:4;mem:1024", want: "cpus:1;gpus:1", role: "*", why: []string{"needs gpus:1, offered none"}},
		{name: "ports outside the offer", offered: "cpus:4;mem:1024;ports:[31000-32000]", want: "cpus:1;ports:[80-80]", role: "*", why: []string{"needs ports:[80-80], offered ports:[31000-32000]"}},
		{name: "another role's reservation", offered: "cpus(prod):4", want: "cpus(prod):1", role: "dev", why: []string{"reserved for role 'prod', not the framework's role 'dev'"}},
		{name: "split across roles", offered: "cpus(dev):1;cpus:1;mem:128", want: "cpus:2;mem:128", role: "dev", why: []string{"only across the role 'dev' and unreserved ones together"}},
	} {
		use, why := match(mustParse(t, c.offered, "*"), mustParse(t, c.want, "*"), c.role)
		if c.use != "" {
			if why != "" || !use.Equal(mustParse(t, c.use, "*")) {
				t.Errorf("%s: %v %q, want %s", c.name, use, why, c.use)
			}
			continue
		}
		if use != nil || why == "" {
			t.Errorf("%s: matched %v", c.name, use)
		}
		for _, w := range c.why {
			if !strings.Contains(why, w) {
				t.Errorf("%s: %q, want it to say %q", c.name, why, w)
			}
		}
	}
}
