package master

import (
	"testing"

	"github.com/gomesos/gomesos/resources"
)

// FuzzOperationEndpoints feeds the operator endpoints' JSON to the parser,
// the validation of each operation and the arithmetic: nothing panics,
// and an operation that validates and applies converts as much as it
// consumes.
func FuzzOperationEndpoints(f *testing.F) {
	f.Add(cpuRP)
	f.Add(volumeRP)
	f.Add(`{"name":"disk","type":"SCALAR","scalar":{"value":1},"role":"r","disk":{"persistence":{"id":"x"},"volume":{"container_path":"a/../../b","mode":"RO"}}}`)
	f.Add(`{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]},"role":"r","reservation":{}}`)
	total, _ := resources.Parse("cpus:4;mem:1024;disk:100;ports:[1-100];disk(r):10", "*")
	f.Fuzz(func(t *testing.T, item string) {
		pbs, err := parseResourcesJSON("[" + item + "]")
		if err != nil {
			return
		}
		rs := resources.FromProto(pbs)
		checkpointed := total.Checkpointed()
		for kind, reason := range map[resources.OpKind]string{
			resources.Reserve:   validateReserve(pbs, "", "p", true),
			resources.Unreserve: validateUnreserve(pbs, true),
			resources.Create:    validateCreate(pbs, checkpointed, "p"),
			resources.Destroy:   validateDestroy(pbs, checkpointed, nil),
		} {
			after, err := total.Apply(resources.Operation{Kind: kind, Resources: rs})
			if reason != "" || err != nil {
				continue
			}
			for _, name := range []string{"cpus", "mem", "disk"} {
				if after.ScalarMilli(name) != total.ScalarMilli(name) {
					t.Fatalf("%v of %s changed the %s total: %v -> %v", kind, item, name, total, after)
				}
			}
		}
	})
}
