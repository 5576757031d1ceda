package acls

import "testing"

// The examples of Mesos's authorization documentation.
func TestDocumentedExamples(t *testing.T) {
	must := func(js string) *Authorizer {
		t.Helper()
		a, err := Parse([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name string
		acls string
		run  func(*Authorizer) bool
		want bool
	}{
		{"foo and bar run as alice", `{"run_tasks":[{"principals":{"values":["foo","bar"]},"users":{"values":["alice"]}}]}`,
			func(a *Authorizer) bool { return a.RunTask("bar", "alice") }, true},
		{"any principal runs as guest", `{"run_tasks":[{"principals":{"type":"ANY"},"users":{"values":["guest"]}}]}`,
			func(a *Authorizer) bool { return a.RunTask("whoever", "guest") }, true},
		{"nobody runs as root", `{"run_tasks":[{"principals":{"type":"NONE"},"users":{"values":["root"]}}]}`,
			func(a *Authorizer) bool { return a.RunTask("foo", "root") }, false},
		{"nobody runs as root, others unaffected", `{"run_tasks":[{"principals":{"type":"NONE"},"users":{"values":["root"]}}]}`,
			func(a *Authorizer) bool { return a.RunTask("foo", "alice") }, true},
		{"foo only as guest: guest", `{"run_tasks":[{"principals":{"values":["foo"]},"users":{"values":["guest"]}},{"principals":{"values":["foo"]},"users":{"type":"NONE"}}]}`,
			func(a *Authorizer) bool { return a.RunTask("foo", "guest") }, true},
		{"foo only as guest: root", `{"run_tasks":[{"principals":{"values":["foo"]},"users":{"values":["guest"]}},{"principals":{"values":["foo"]},"users":{"type":"NONE"}}]}`,
			func(a *Authorizer) bool { return a.RunTask("foo", "root") }, false},
		{"only foo may use analytics: bar", `{"register_frameworks":[{"principals":{"values":["foo"]},"roles":{"values":["analytics"]}},{"principals":{"type":"NONE"},"roles":{"values":["analytics"]}}]}`,
			func(a *Authorizer) bool { return a.RegisterFramework("bar", "analytics") }, false},
		{"only foo may use analytics: foo", `{"register_frameworks":[{"principals":{"values":["foo"]},"roles":{"values":["analytics"]}},{"principals":{"type":"NONE"},"roles":{"values":["analytics"]}}]}`,
			func(a *Authorizer) bool { return a.RegisterFramework("foo", "analytics") }, true},
		{"not permissive: foo only analytics", `{"permissive":false,"register_frameworks":[{"principals":{"values":["foo"]},"roles":{"values":["analytics"]}}]}`,
			func(a *Authorizer) bool { return a.RegisterFramework("foo", "ads") }, false},
		{"not permissive: only ops tear down", `{"permissive":false,"shutdown_frameworks":[{"principals":{"values":["ops"]},"framework_principals":{"type":"ANY"}}]}`,
			func(a *Authorizer) bool {
				return a.ShutdownFramework("ops", "foo") && !a.ShutdownFramework("dev", "foo")
			}, true},
		{"no principal matches only ANY subjects", `{"permissive":false,"register_frameworks":[{"principals":{"type":"ANY"},"roles":{"values":["*"]}}]}`,
			func(a *Authorizer) bool { return a.RegisterFramework("", "*") }, true},
	}
	for _, c := range cases {
		if got := c.run(must(c.acls)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := Parse([]byte(`{"run_tasks":[{"principals":{"type":"SOMETIMES"}}]}`)); err == nil {
		t.Error("a bad entity type parsed")
	}
}
