package resources

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, s string) Resources {
	t.Helper()
	r, err := ParseJSON([]byte(s), "*")
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", s, err)
	}
	return r
}

func TestReservationArithmetic(t *testing.T) {
	total := mustParse(t, "cpus:4;mem:1024;disk:100")
	reserved := mustJSON(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}},
		{"name":"disk","type":"SCALAR","scalar":{"value":50},"role":"r","reservation":{"principal":"p"}}]`)
	after, err := total.Apply(Operation{Kind: Reserve, Resources: reserved})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.String(), "cpus:3;cpus(r, p):1;disk:50;disk(r, p):50;mem:1024"; got != want {
		t.Fatalf("after RESERVE: %s, want %s", got, want)
	}
	if !after.Checkpointed().Equal(reserved) || after.Scalar("cpus") != 4 {
		t.Fatalf("checkpointed %v", after.Checkpointed())
	}
	if got := after.ByRole()["r"]; !got.Equal(reserved) {
		t.Fatalf("by role: %v", got)
	}
	// A second reservation of more than is left fails and changes nothing.
	big := mustJSON(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":5},"role":"r","reservation":{"principal":"p"}}]`)
	if same, err := after.Apply(Operation{Kind: Reserve, Resources: big}); err == nil || !same.Equal(after) || !strings.Contains(err.Error(), "does not contain cpus:5") {
		t.Fatalf("over-reserve: %v %v", same, err)
	}
	// A persistent volume on the reserved disk.
	vol := mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":20},"role":"r","reservation":{"principal":"p"},
		"disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}}]`)
	withVol, err := after.Apply(Operation{Kind: Create, Resources: vol})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := withVol.String(), "cpus:3;cpus(r, p):1;disk:50;disk(r, p):30;disk(r, p)[v1:data]:20;mem:1024"; got != want {
		t.Fatalf("after CREATE: %s, want %s", got, want)
	}
	if _, err := withVol.Apply(Operation{Kind: Unreserve, Resources: reserved}); err == nil {
		t.Fatal("unreserving the disk under a volume succeeded")
	}
	// The volume survives a proto round trip.
	if back := FromProto(withVol.ToProto()); !back.Equal(withVol) {
		t.Fatalf("proto round trip %v, want %v", back, withVol)
	}
	// ApplyCheckpointed rebuilds the total from the static resources.
	rebuilt, err := ApplyCheckpointed(total, withVol.Checkpointed())
	if err != nil || !rebuilt.Equal(withVol) {
		t.Fatalf("ApplyCheckpointed = %v, %v; want %v", rebuilt, err, withVol)
	}
	if _, err := ApplyCheckpointed(mustParse(t, "cpus:0.5"), withVol.Checkpointed()); err == nil {
		t.Fatal("checkpointed resources beyond the static ones were applied")
	}
	destroyed, err := withVol.Apply(Operation{Kind: Destroy, Resources: vol})
	if err != nil || !destroyed.Equal(after) {
		t.Fatalf("DESTROY: %v %v", destroyed, err)
	}
	back, err := destroyed.Apply(Operation{Kind: Unreserve, Resources: reserved})
	if err != nil || !back.Equal(total) {
		t.Fatalf("UNRESERVE: %v %v", back, err)
	}
	j, _ := json.Marshal(withVol.Checkpointed().ToJSONArray())
	if again := mustJSON(t, string(j)); !again.Equal(withVol.Checkpointed()) {
		t.Fatalf("JSON round trip %s: %v", j, again)
	}
}

func TestOperationErrors(t *testing.T) {
	total := mustParse(t, "cpus:4;disk:100;disk(r):10")
	for _, c := range []struct {
		op   Operation
		want string
	}{
		{Operation{Reserve, mustParse(t, "cpus:1")}, "Invalid RESERVE Operation: Resource must be reserved"},
		{Operation{Reserve, mustParse(t, "cpus(r):1")}, "Invalid RESERVE Operation: Missing 'reservation'"},
		{Operation{Unreserve, mustParse(t, "cpus:1")}, "Invalid UNRESERVE Operation: Resource is not reserved"},
		{Operation{Unreserve, mustParse(t, "disk(r):1")}, "Invalid UNRESERVE Operation: Resource is not dynamically reserved"},
		{Operation{Unreserve, mustJSON(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}}]`)}, "does not contain"},
		{Operation{Create, mustParse(t, "disk(r):1")}, "Invalid CREATE Operation: Missing 'persistence'"},
		{Operation{Create, mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":20},"role":"r","disk":{"persistence":{"id":"x"}}}]`)}, "Invalid CREATE Operation: Insufficient disk resources"},
		{Operation{Destroy, mustParse(t, "disk(r):1")}, "Invalid DESTROY Operation: Missing 'persistence'"},
		{Operation{Destroy, mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"}}}]`)}, "Invalid DESTROY Operation: Persistent volume does not exist"},
	} {
		got, err := total.Apply(c.op)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: err %v, want %q", c.op.Kind, c.op.Resources, err, c.want)
		}
		if !got.Equal(total) {
			t.Errorf("%v changed the resources on failure: %v", c.op.Kind, got)
		}
	}
	// A static volume on statically reserved disk may be created.
	if _, err := total.Apply(Operation{Create, mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":5},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"d"}}}]`)}); err != nil {
		t.Errorf("CREATE on statically reserved disk: %v", err)
	}
}

func TestReservationLabelsKept(t *testing.T) {
	rs := mustJSON(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p","labels":{"labels":[{"key":"team","value":"a"},{"key":"x","value":""}]}}}]`)
	if got := DecodeLabels(rs[0].ReservationLabels); len(got) != 2 || got[0] != [2]string{"team", "a"} {
		t.Fatalf("labels %v", got)
	}
	if back := FromProto(rs.ToProto()); !back.Equal(rs) {
		t.Fatalf("proto round trip lost the labels: %v", back)
	}
	j, _ := json.Marshal(rs.ToJSONArray())
	if again := mustJSON(t, string(j)); !again.Equal(rs) {
		t.Fatalf("JSON round trip %s", j)
	}
	// Unreserving drops them; other labels make another resource.
	if u := rs[0].Unreserved(); u.ReservationLabels != "" {
		t.Fatal("unreserved resource kept the labels")
	}
	other := mustJSON(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}}]`)
	if rs.Contains(other) || len(rs.Plus(other)) != 2 {
		t.Fatal("reservations with different labels merged")
	}
}

// A persistent volume is contained only whole (Mesos 1.0: a task cannot
// use part of one); plain disk may be used in part.
func TestVolumeUsedWhole(t *testing.T) {
	vol := func(mb int) Resources {
		return mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":`+itoa(mb)+`},"role":"r","reservation":{"principal":"p"},"disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}}]`)
	}
	offer := vol(50).Plus(mustParse(t, "disk:100;cpus:1"))
	if !offer.Contains(vol(50)) || offer.Contains(vol(10)) || !offer.Contains(mustParse(t, "disk:10")) {
		t.Fatalf("containment of a volume: whole %v, part %v", offer.Contains(vol(50)), offer.Contains(vol(10)))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// DiskInfo.source (PATH and MOUNT disks) is kept through the JSON form,
// the protobufs and reservations; a MOUNT disk is used whole.
func TestDiskSourceKept(t *testing.T) {
	rs := mustJSON(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":100},"disk":{"source":{"type":"MOUNT","mount":{"root":"/mnt/d1"}}}},
		{"name":"disk","type":"SCALAR","scalar":{"value":50},"disk":{"source":{"type":"PATH","path":{"root":"/mnt/d2"}}}},
		{"name":"disk","type":"SCALAR","scalar":{"value":10}}]`)
	if len(rs) != 3 || rs.Scalar("disk") != 160 {
		t.Fatalf("three disks expected: %v", rs)
	}
	back := FromProto(rs.ToProto())
	if !back.Equal(rs) {
		t.Fatalf("protobuf round trip: %v -> %v", rs, back)
	}
	js, err := json.Marshal(rs.ToJSONArray())
	if err != nil {
		t.Fatal(err)
	}
	if again := mustJSON(t, string(js)); !again.Equal(rs) || !strings.Contains(string(js), `"mount":{"root":"/mnt/d1"}`) {
		t.Fatalf("JSON round trip: %s", js)
	}
	var mount Resource
	for _, r := range rs {
		if r.IsMountDisk() {
			mount = r
		}
	}
	if u := mount.Unreserved(); u.DiskSource != "MOUNT:/mnt/d1" {
		t.Fatalf("source lost by Unreserved: %+v", u)
	}
	part := mount
	part.Milli = 10000
	if rs.Contains(Resources{part}) || !rs.Contains(Resources{mount}) {
		t.Fatal("a MOUNT disk must be used whole")
	}
	pathPart := rs[0]
	for _, r := range rs {
		if strings.HasPrefix(r.DiskSource, "PATH:") {
			pathPart = r
		}
	}
	pathPart.Milli = 10000
	if !rs.Contains(Resources{pathPart}) {
		t.Fatal("part of a PATH disk refused")
	}
}
