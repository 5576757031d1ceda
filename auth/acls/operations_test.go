package acls

import "testing"

// decision is an ACL question's answer and the one expected.
type decision struct {
	name      string
	got, want bool
}

func checkDecisions(t *testing.T, ds []decision) {
	t.Helper()
	for _, d := range ds {
		if d.got != d.want {
			t.Errorf("%s: got %v, want %v", d.name, d.got, d.want)
		}
	}
}

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
	checkDecisions(t, []decision{
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
	})
	// Permissive ACLs without entries allow everything.
	p, _ := Parse([]byte(`{}`))
	if !p.ReserveResources("x", "r") || !p.UnreserveResources("x", "y") || !p.CreateVolume("x", "r") || !p.DestroyVolume("x", "y") {
		t.Error("empty permissive ACLs refused an operation")
	}
}

// The quota ACLs: set_quotas and remove_quotas (Mesos 1.0's deprecated
// names, which the issue asks for) before update_quotas, and get_quotas.
func TestQuotaACLs(t *testing.T) {
	a, err := Parse([]byte(`{
		"permissive": false,
		"set_quotas": [
			{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
			{"principals": {"values": ["foo"]}, "roles": {"values": ["prod"]}}
		],
		"remove_quotas": [
			{"principals": {"values": ["ops"]}, "quota_principals": {"type": "ANY"}},
			{"principals": {"values": ["foo"]}, "quota_principals": {"values": ["foo"]}}
		],
		"update_quotas": [
			{"principals": {"values": ["bar"]}, "roles": {"values": ["dev"]}}
		],
		"get_quotas": [
			{"principals": {"type": "ANY"}, "roles": {"values": ["prod"]}}
		]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	checkDecisions(t, []decision{
		{"ops sets any role's quota", a.SetQuota("ops", "dev"), true},
		{"foo sets prod's quota", a.SetQuota("foo", "prod"), true},
		{"foo may not set dev's quota", a.SetQuota("foo", "dev"), false},
		{"bar sets dev's quota (update_quotas)", a.SetQuota("bar", "dev"), true},
		{"nobody else (not permissive)", a.SetQuota("baz", "prod"), false},
		{"ops removes foo's quota", a.RemoveQuota("ops", "foo", "prod"), true},
		{"foo removes its own quota", a.RemoveQuota("foo", "foo", "prod"), true},
		{"foo may not remove ops's quota", a.RemoveQuota("foo", "ops", "prod"), false},
		{"bar removes dev's quota (update_quotas)", a.RemoveQuota("bar", "ops", "dev"), true},
		{"anyone sees prod's quota", a.GetQuota("x", "prod"), true},
		{"nobody sees dev's quota", a.GetQuota("x", "dev"), false},
	})
	p, _ := Parse([]byte(`{}`))
	if !p.SetQuota("x", "r") || !p.RemoveQuota("x", "y", "r") || !p.GetQuota("x", "r") {
		t.Error("empty permissive ACLs refused a quota request")
	}
}
