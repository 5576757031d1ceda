package acls

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzParse: any --acls input is refused with an error or parsed into
// ACLs that answer every request without panicking and survive a round
// trip through JSON unchanged.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"register_frameworks":[{"principals":{"values":["foo","bar"]},"roles":{"values":["analytics"]}}]}`,
		`{"run_tasks":[{"principals":{"values":["foo"]},"users":{"values":["alice"]}},{"principals":{"type":"NONE"},"users":{"values":["root"]}}],"permissive":false}`,
		`{"shutdown_frameworks":[{"principals":{"type":"ANY"},"framework_principals":{"type":"NONE"}}]}`,
		`{"teardown_frameworks":[{"principals":{"values":["ops"]},"framework_principals":{"type":"ANY"}}]}`,
		`{"permissive":"true"}`,
		`{"run_tasks":[{"principals":{"type":7}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			return
		}
		for _, p := range []string{"", "foo", "ops"} {
			a.RegisterFramework(p, "analytics")
			a.RunTask(p, "root")
			a.ShutdownFramework(p, "bar")
		}
		out, err := protojson.Marshal(a.acls)
		if err != nil {
			t.Fatalf("cannot write back %v: %v", a.acls, err)
		}
		again, err := Parse(out)
		if err != nil || !proto.Equal(again.acls, a.acls) {
			t.Fatalf("round trip of %s: %v, %v; want %v", out, again, err, a.acls)
		}
	})
}
