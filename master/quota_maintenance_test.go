package master

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/resources"
)

func TestParseQuotaRequest(t *testing.T) {
	for _, tc := range []struct{ body, err string }{
		{`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, ""},
		{`{"force":true,"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"}]}`, ""},
		{`not json`, "Failed to parse set quota request JSON"},
		{`{"guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, "QuotaInfo must specify a role"},
		{`{"role":"","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, "non-empty role"},
		{`{"role":"a/b","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, "QuotaInfo with invalid role"},
		{`{"role":"*","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`, "default '*' role"},
		{`{"role":"q"}`, "empty 'guarantee'"},
		{`{"role":"q","guarantee":[{"name":"","type":"SCALAR","scalar":{"value":1}}]}`, "Empty resource name"},
		{`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}`, "Invalid scalar resource"},
		{`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservation":{"principal":"p"}}]}`, "ReservationInfo"},
		{`{"role":"q","guarantee":[{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{}}]}`, "DiskInfo"},
		{`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}]}`, "RevocableInfo"},
		{`{"role":"q","guarantee":[{"name":"s","type":"SET","set":{"item":["a"]}}]}`, "non-scalar"},
		{`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"q"}]}`, "must not specify a role"},
	} {
		_, info, err := ParseQuotaRequest([]byte(tc.body))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want %q", tc.body, err, tc.err)
		case err == nil && info.GetRole() != "q":
			t.Errorf("%s: info %v", tc.body, info)
		}
	}
}

// expectErr checks err against want: "" no error, else a part of it.
func expectErr(t *testing.T, input string, err error, want string) {
	t.Helper()
	if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
		t.Errorf("%s: got %v, want %q", input, err, want)
	}
}

func TestParseScheduleAndMachines(t *testing.T) {
	down := map[string]*mesos.MachineInfo{}
	id := &mesos.MachineID{Hostname: proto.String("Down"), Ip: proto.String("10.0.0.9")}
	down[registrar.MachineKey(id)] = &mesos.MachineInfo{Id: id, Mode: mesos.MachineInfo_DOWN.Enum()}
	const window = `{"machine_ids":[%s],"unavailability":{"start":{"nanoseconds":1}%s}}`
	w := func(ids, extra string) string {
		return strings.Replace(strings.Replace(window, "%s", ids, 1), "%s", extra, 1)
	}
	for _, tc := range []struct{ body, err string }{
		{`{}`, "is deactivated"},
		{`{"windows":[` + w(`{"hostname":"down","ip":"10.0.0.9"}`, "") + `]}`, ""}, // hostnames ignore case
		{`{"windows":[` + w(`{"hostname":"a"},{"ip":"10.0.0.1"}`, `,"duration":{"nanoseconds":5}`) + `,` + w(`{"hostname":"down","ip":"10.0.0.9"}`, "") + `]}`, ""},
		{`{"windows":[`, "unexpected"},
		{`{"windows":[` + w(``, "") + `]}`, "List of machines in the maintenance window is empty"},
		{`{"windows":[` + w(`{}`, "") + `]}`, "Both 'hostname' and 'ip' for a machine are empty"},
		{`{"windows":[` + w(`{"ip":"nope"}`, "") + `]}`, "Failed to parse IP"},
		{`{"windows":[` + w(`{"ip":"::1"}`, "") + `]}`, "Failed to parse IP"},
		{`{"windows":[` + w(`{"hostname":"a"}`, `,"duration":{"nanoseconds":-1}`) + `]}`, "'duration' is negative"},
		{`{"windows":[` + w(`{"hostname":"a"},{"hostname":"A"}`, "") + `]}`, "appears more than once"},
		{`{"windows":[` + w(`{"hostname":"a"}`, "") + `]}`, "is deactivated and cannot be removed from the schedule"},
		{`{"windows":[{"machine_ids":[{"hostname":"a"}]}]}`, "unavailability"},
	} {
		_, err := ParseSchedule([]byte(tc.body), down)
		expectErr(t, tc.body, err, tc.err)
	}
	for _, tc := range []struct{ body, err string }{
		{`[{"hostname":"a"},{"hostname":"b","ip":"10.0.0.2"}]`, ""},
		{`[]`, "List of machines is empty"},
		{`{}`, "Failed to parse JSON array"},
		{`[{"hostname":"a"},{"hostname":"a"}]`, "appears more than once"},
		{`[{}]`, "Both 'hostname' and 'ip'"},
	} {
		_, err := ParseMachineIDs([]byte(tc.body))
		expectErr(t, tc.body, err, tc.err)
	}
}

// FuzzMaintenanceAndQuotaBodies feeds the bodies of /quota, the
// maintenance schedule and /machine/{down,up} to their parsers: nothing
// panics, and what parses also validates again after a round trip
// through the registry's encoding.
func FuzzMaintenanceAndQuotaBodies(f *testing.F) {
	f.Add(`{"role":"q","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}`)
	f.Add(`{"windows":[{"machine_ids":[{"hostname":"a","ip":"10.0.0.1"}],"unavailability":{"start":{"nanoseconds":1},"duration":{"nanoseconds":3600000000000}}}]}`)
	f.Add(`[{"hostname":"a"},{"ip":"10.0.0.2"}]`)
	f.Fuzz(func(t *testing.T, body string) {
		if _, info, err := ParseQuotaRequest([]byte(body)); err == nil {
			raw, _ := proto.Marshal(info)
			back := info.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(raw, back); err != nil || !proto.Equal(back, info) {
				t.Fatalf("quota %s does not round-trip", body)
			}
			if g := resources.FromProto(info.GetGuarantee()); g.Validate() != nil {
				t.Fatalf("validated quota %s has invalid resources %v", body, g)
			}
		}
		if s, err := ParseSchedule([]byte(body), nil); err == nil {
			// Stored, every machine of the schedule is DRAINING.
			reg := &messages.Registry{}
			if _, err := registrar.UpdateSchedule(s)(reg, true); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, w := range s.GetWindows() {
				n += len(w.GetMachineIds())
			}
			if got := len(reg.GetMachines().GetMachines()); got != n {
				t.Fatalf("%s: %d machines stored, want %d", body, got, n)
			}
			for _, m := range reg.GetMachines().GetMachines() {
				if m.GetInfo().GetMode() != mesos.MachineInfo_DRAINING {
					t.Fatalf("%s: %v", body, m)
				}
			}
		}
		if ids, err := ParseMachineIDs([]byte(body)); err == nil && len(ids) == 0 {
			t.Fatalf("%s: no machines and no error", body)
		}
	})
}
