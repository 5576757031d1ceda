package acls

import "testing"

// The reservation and volume ACLs, with the examples of Mesos's
// authorization documentation (reserve/unreserve/create/destroy).
func TestOperationACLs(t *testing.T) {
	a, err := Parse([]byte(`{
		"permissive": false,
		"reserve_resources": [
			{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
			{"principals": {"values": ["foo"]}, "roles": {"values": ["prod"]}}
		],
		"unreserve_resources": [
			{"principals": {"values": ["ops"]}, "reserver_principals": {"type": "ANY"}},
			{"principals": {"type": "ANY"}, "reserver_principals": {"type": "NONE"}}
		],
		"create_volumes": [
			{"principals": {"values": ["foo"]}, "roles": {"values": ["prod"]}}
		],
		"destroy_volumes": [
			{"principals": {"values": ["ops"]}, "creator_principals": {"type": "ANY"}},
			{"principals": {"values": ["foo"]}, "creator_principals": {"values": ["foo"]}}
		]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  bool
		want bool
	}{
		{"ops reserves for any role", a.ReserveResources("ops", "dev"), true},
		{"foo reserves for prod", a.ReserveResources("foo", "prod"), true},
		{"foo may not reserve for dev", a.ReserveResources("foo", "dev"), false},
		{"no principal may not reserve (not permissive)", a.ReserveResources("", "prod"), false},
		{"ops unreserves what foo reserved", a.UnreserveResources("ops", "foo"), true},
		{"foo may not unreserve (NONE reserver)", a.UnreserveResources("foo", "foo"), false},
		{"foo creates on prod", a.CreateVolume("foo", "prod"), true},
		{"bar may not create on prod", a.CreateVolume("bar", "prod"), false},
		{"ops destroys anyone's volume", a.DestroyVolume("ops", "foo"), true},
		{"foo destroys its own volume", a.DestroyVolume("foo", "foo"), true},
		{"foo may not destroy bar's volume", a.DestroyVolume("foo", "bar"), false},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Permissive ACLs without entries allow everything.
	p, _ := Parse([]byte(`{}`))
	if !p.ReserveResources("x", "r") || !p.UnreserveResources("x", "y") || !p.CreateVolume("x", "r") || !p.DestroyVolume("x", "y") {
		t.Error("empty permissive ACLs refused an operation")
	}
}
