package registrar

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/maintenancepb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/quotapb"
	"github.com/gomesos/gomesos/resources"
)

func machine(host, ip string) *mesos.MachineID {
	return &mesos.MachineID{Hostname: proto.String(host), Ip: proto.String(ip)}
}

func window(start int64, ids ...*mesos.MachineID) *maintenancepb.Window {
	return &maintenancepb.Window{MachineIds: ids, Unavailability: &mesos.Unavailability{Start: &mesos.TimeInfo{Nanoseconds: proto.Int64(start)}}}
}

func modes(reg *messages.Registry) map[string]string {
	out := map[string]string{}
	for _, m := range reg.GetMachines().GetMachines() {
		out[m.GetInfo().GetId().GetHostname()] = m.GetInfo().GetMode().String()
	}
	return out
}

// The registry operations of quota and maintenance, applied in turn, and
// the registry surviving an encoding round trip (what a new leader reads).
func TestQuotaAndMaintenanceOperations(t *testing.T) {
	reg := &messages.Registry{}
	apply := func(op Operation) bool {
		t.Helper()
		changed, err := op(reg, true)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := proto.Marshal(reg)
		if err != nil {
			t.Fatal(err)
		}
		back := &messages.Registry{}
		if err := proto.Unmarshal(raw, back); err != nil || !proto.Equal(back, reg) {
			t.Fatalf("round trip: %v", err)
		}
		return changed
	}
	r, _ := resources.Parse("cpus:2", "*")
	apply(UpdateQuota(&quotapb.QuotaInfo{Role: proto.String("a"), Guarantee: r.ToProto()}))
	apply(UpdateQuota(&quotapb.QuotaInfo{Role: proto.String("b"), Guarantee: r.ToProto()}))
	if len(reg.Quotas) != 2 || !apply(RemoveQuota("a")) || apply(RemoveQuota("a")) || reg.Quotas[0].GetInfo().GetRole() != "b" {
		t.Fatalf("quotas %v", reg.Quotas)
	}

	a, b, c := machine("a", "10.0.0.1"), machine("b", "10.0.0.2"), machine("c", "10.0.0.3")
	apply(UpdateSchedule(&maintenancepb.Schedule{Windows: []*maintenancepb.Window{window(1, a, b)}}))
	if got := modes(reg); got["a"] != "DRAINING" || got["b"] != "DRAINING" || len(got) != 2 {
		t.Fatalf("after schedule: %v", got)
	}
	if !apply(StartMaintenance([]*mesos.MachineID{machine("A", "10.0.0.1")})) { // hostnames ignore case
		t.Fatal("a not brought down")
	}
	// A new schedule keeps a's mode, drops b, adds c.
	apply(UpdateSchedule(&maintenancepb.Schedule{Windows: []*maintenancepb.Window{window(2, a), window(3, c)}}))
	if got := modes(reg); got["a"] != "DOWN" || got["c"] != "DRAINING" || len(got) != 2 {
		t.Fatalf("after the second schedule: %v", got)
	}
	if !apply(StopMaintenance([]*mesos.MachineID{a})) {
		t.Fatal("a not brought up")
	}
	if got := modes(reg); len(got) != 1 || got["c"] != "DRAINING" {
		t.Fatalf("after up: %v", got)
	}
	if len(reg.Schedules) != 1 || len(reg.Schedules[0].Windows) != 1 || reg.Schedules[0].Windows[0].MachineIds[0].GetHostname() != "c" {
		t.Fatalf("schedule after up: %v", reg.Schedules)
	}
	apply(StopMaintenance([]*mesos.MachineID{c}))
	if len(reg.Schedules) != 0 || len(modes(reg)) != 0 {
		t.Fatalf("after the last machine is up: %v", reg)
	}
}
