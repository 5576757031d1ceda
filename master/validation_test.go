package master

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// pbs reads a JSON array of Resource protobufs.
func pbs(t *testing.T, js string) []*mesos.Resource {
	t.Helper()
	var l mesos.Offer_Operation_Reserve
	if err := protojson.Unmarshal([]byte(`{"resources":`+js+`}`), &l); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return l.GetResources()
}

const (
	cpuRP     = `{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}}`
	diskRP    = `{"name":"disk","type":"SCALAR","scalar":{"value":10},"role":"r","reservation":{"principal":"p"}}`
	volumeRP  = `{"name":"disk","type":"SCALAR","scalar":{"value":10},"role":"r","reservation":{"principal":"p"},"disk":{"persistence":{"id":"v1"},"volume":{"container_path":"data","mode":"RW"}}}`
	volumeRP2 = `{"name":"disk","type":"SCALAR","scalar":{"value":5},"role":"r","reservation":{"principal":"p"},"disk":{"persistence":{"id":"v2"},"volume":{"container_path":"more","mode":"RW"}}}`
)

// Every refusal of the operation validation, with its message.
func TestOperationValidation(t *testing.T) {
	checkpointed := resources.FromProto(pbs(t, `[`+volumeRP+`]`))
	cases := []struct {
		name string
		got  string
		want string // "" valid, else a part of the reason
	}{
		{"reserve ok", validateReserve(pbs(t, `[`+cpuRP+`]`), "r", "p", true), ""},
		{"reserve ok for any role (operator)", validateReserve(pbs(t, `[`+cpuRP+`]`), "", "p", true), ""},
		{"reserve nothing", validateReserve(nil, "r", "p", true), "No resources to reserve"},
		{"reserve without principal", validateReserve(pbs(t, `[`+cpuRP+`]`), "r", "", false), "A framework without a principal cannot reserve resources."},
		{"reserve *", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*","reservation":{"principal":"p"}}]`), "r", "p", true),
			`Invalid resources: Invalid reservation: role "*" cannot be dynamically reserved`},
		{"reserve static", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r"}]`), "r", "p", true), "Resource cpus(r):1 is not dynamically reserved"},
		{"reserve other role", validateReserve(pbs(t, `[`+cpuRP+`]`), "q", "p", true), "The reserved resource's role 'r' does not match the framework's role 'q'"},
		{"reserve other principal", validateReserve(pbs(t, `[`+cpuRP+`]`), "r", "x", true), "The reserved resource's principal 'p' does not match the principal 'x'"},
		{"reserve revocable", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"},"revocable":{}}]`), "r", "p", true),
			"Invalid resources: Reserved resources cannot be revocable"},
		{"reserve a volume", validateReserve(pbs(t, `[`+volumeRP+`]`), "r", "p", true), "A persistent volume disk(r, p)[v1:data]:10 must already be reserved"},
		{"reserve negative", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":-1},"role":"r","reservation":{"principal":"p"}}]`), "r", "p", true), "Invalid resources: Invalid scalar resource cpus: negative"},
		{"reserve without a value", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","role":"r","reservation":{"principal":"p"}}]`), "r", "p", true), "the value is missing"},
		{"reserve unnamed", validateReserve(pbs(t, `[{"name":"","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}}]`), "r", "p", true), "Empty resource name"},
		{"reserve disk info on cpus", validateReserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"},"disk":{}}]`), "r", "p", true), "DiskInfo should not be set for cpus resource"},

		{"unreserve ok", validateUnreserve(pbs(t, `[`+cpuRP+`]`), true), ""},
		{"unreserve nothing", validateUnreserve(nil, true), "No resources to unreserve"},
		{"unreserve without principal", validateUnreserve(pbs(t, `[`+cpuRP+`]`), false), "A framework without a principal cannot unreserve resources."},
		{"unreserve unreserved", validateUnreserve(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]`), true), "Resource cpus:1 is not dynamically reserved"},
		{"unreserve a volume", validateUnreserve(pbs(t, `[`+volumeRP+`]`), true), "cannot be unreserved directly. Please destroy the persistent volume first"},

		{"create ok", validateCreate(pbs(t, `[`+volumeRP2+`]`), checkpointed, "p"), ""},
		{"create nothing", validateCreate(nil, checkpointed, "p"), "No volumes to create"},
		{"create a used id", validateCreate(pbs(t, `[`+volumeRP+`]`), checkpointed, "p"), "Persistence ID 'v1' is not unique"},
		{"create one id twice", validateCreate(pbs(t, `[`+volumeRP2+`,`+volumeRP2+`]`), nil, "p"), "Persistence ID 'v2' is not unique"},
		{"create without disk info", validateCreate(pbs(t, `[`+diskRP+`]`), nil, "p"), "Not a persistent volume: Resource disk(r, p):10 does not have DiskInfo"},
		{"create without persistence", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"volume":{"container_path":"d","mode":"RW"}}}]`), nil, "p"), "'persistence' is not set in DiskInfo"},
		{"create without volume", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"}}}]`), nil, "p"), "'volume' is not set in DiskInfo"},
		{"create with host_path", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"d","host_path":"/etc","mode":"RW"}}}]`), nil, "p"), "'host_path' cannot be set for persistent volume"},
		{"create on unreserved disk", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"disk":{"persistence":{"id":"x"},"volume":{"container_path":"d","mode":"RW"}}}]`), nil, "p"), "Persistent disk volume is disallowed for '*' role"},
		{"create on cpus", validateCreate(pbs(t, `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"d","mode":"RW"}}}]`), nil, "p"), "DiskInfo should not be set for cpus resource"},
		{"create at an absolute path", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"/etc","mode":"RW"}}}]`), nil, "p"), "'volume.container_path' must be a relative path inside the sandbox, not '/etc'"},
		{"create outside the sandbox", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"a/../../b","mode":"RW"}}}]`), nil, "p"), "must be a relative path inside the sandbox"},
		{"create with a path id", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"../x"},"volume":{"container_path":"d","mode":"RW"}}}]`), nil, "p"), "Invalid persistence id '../x'"},
		{"create as another principal", validateCreate(pbs(t, `[{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x","principal":"q"},"volume":{"container_path":"d","mode":"RW"}}}]`), nil, "p"), "there is a volume in the operation with principal 'q'"},

		{"destroy ok", validateDestroy(pbs(t, `[`+volumeRP+`]`), checkpointed, nil), ""},
		{"destroy nothing", validateDestroy(nil, checkpointed, nil), "No volumes to destroy"},
		{"destroy unknown", validateDestroy(pbs(t, `[`+volumeRP2+`]`), checkpointed, nil), "Persistent volumes not found"},
		{"destroy in use", validateDestroy(pbs(t, `[`+volumeRP+`]`), checkpointed, checkpointed), "Persistent volumes in use"},
		{"destroy plain disk", validateDestroy(pbs(t, `[`+diskRP+`]`), checkpointed, nil), "Not a persistent volume"},
	}
	for _, c := range cases {
		switch {
		case c.want == "" && c.got != "":
			t.Errorf("%s: refused: %s", c.name, c.got)
		case c.want != "" && !strings.Contains(c.got, c.want):
			t.Errorf("%s: reason %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestMixedRevocable(t *testing.T) {
	rev := resources.Resources{{Key: resources.Key{Name: "cpus", Role: "*", Revocable: true}, Kind: resources.Scalar, Milli: 1000}}
	plain, _ := resources.Parse("cpus:1;mem:64", "*")
	if got := mixedRevocable(plain.Plus(rev)); got != "cpus" {
		t.Fatalf("cpus both revocable and not: %q", got)
	}
	mem, _ := resources.Parse("mem:64", "*")
	if got := mixedRevocable(mem.Plus(rev)); got != "" {
		t.Fatalf("revocable cpus with plain mem refused: %q", got)
	}
}
