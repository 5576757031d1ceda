package registrar

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/maintenancepb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/quotapb"
)

// MachineKey is how machines are told apart: Mesos compares MachineIDs
// by hostname, case-insensitively, and IP.
func MachineKey(id *mesos.MachineID) string {
	return strings.ToLower(id.GetHostname()) + "\x00" + id.GetIp()
}

// UpdateQuota records a role's quota, replacing any the role had.
func UpdateQuota(info *quotapb.QuotaInfo) Operation {
	info = proto.Clone(info).(*quotapb.QuotaInfo)
	return func(reg *messages.Registry, _ bool) (bool, error) {
		for _, q := range reg.Quotas {
			if q.GetInfo().GetRole() == info.GetRole() {
				q.Info = proto.Clone(info).(*quotapb.QuotaInfo)
				return true, nil
			}
		}
		reg.Quotas = append(reg.Quotas, &messages.Registry_Quota{Info: proto.Clone(info).(*quotapb.QuotaInfo)})
		return true, nil
	}
}

// RemoveQuota forgets a role's quota (nothing changes if it has none).
func RemoveQuota(role string) Operation {
	return func(reg *messages.Registry, _ bool) (bool, error) {
		for i, q := range reg.Quotas {
			if q.GetInfo().GetRole() == role {
				reg.Quotas = append(reg.Quotas[:i:i], reg.Quotas[i+1:]...)
				return true, nil
			}
		}
		return false, nil
	}
}

// UpdateSchedule replaces the maintenance schedule: machines it no longer
// names are forgotten (they are UP), machines it names keep their mode
// with the new unavailability, and new ones are DRAINING.
func UpdateSchedule(schedule *maintenancepb.Schedule) Operation {
	schedule = proto.Clone(schedule).(*maintenancepb.Schedule)
	return func(reg *messages.Registry, _ bool) (bool, error) {
		windows := map[string]*mesos.Unavailability{}
		var order []*mesos.MachineID
		for _, w := range schedule.GetWindows() {
			for _, id := range w.GetMachineIds() {
				if _, ok := windows[MachineKey(id)]; !ok {
					order = append(order, id)
				}
				windows[MachineKey(id)] = w.GetUnavailability()
			}
		}
		if reg.Machines == nil {
			reg.Machines = &messages.Registry_Machines{}
		}
		kept := reg.Machines.Machines[:0]
		known := map[string]bool{}
		for _, m := range reg.Machines.Machines {
			k := MachineKey(m.GetInfo().GetId())
			if u, ok := windows[k]; ok {
				m.Info.Unavailability = proto.Clone(u).(*mesos.Unavailability)
				kept = append(kept, m)
				known[k] = true
			}
		}
		reg.Machines.Machines = kept
		for _, id := range order {
			k := MachineKey(id)
			if known[k] {
				continue
			}
			known[k] = true
			reg.Machines.Machines = append(reg.Machines.Machines, &messages.Registry_Machine{Info: &mesos.MachineInfo{
				Id:             proto.Clone(id).(*mesos.MachineID),
				Mode:           mesos.MachineInfo_DRAINING.Enum(),
				Unavailability: proto.Clone(windows[k]).(*mesos.Unavailability),
			}})
		}
		reg.Schedules = []*maintenancepb.Schedule{proto.Clone(schedule).(*maintenancepb.Schedule)}
		return true, nil
	}
}

// StartMaintenance marks machines DOWN.
func StartMaintenance(ids []*mesos.MachineID) Operation {
	keys := machineKeys(ids)
	return func(reg *messages.Registry, _ bool) (bool, error) {
		changed := false
		for _, m := range reg.GetMachines().GetMachines() {
			if keys[MachineKey(m.GetInfo().GetId())] {
				m.Info.Mode = mesos.MachineInfo_DOWN.Enum()
				changed = true
			}
		}
		return changed, nil
	}
}

// StopMaintenance brings machines UP: they leave the machines and the
// schedule (windows left empty go, and so does an empty schedule).
func StopMaintenance(ids []*mesos.MachineID) Operation {
	keys := machineKeys(ids)
	return func(reg *messages.Registry, _ bool) (bool, error) {
		changed := false
		if reg.Machines != nil {
			kept := reg.Machines.Machines[:0]
			for _, m := range reg.Machines.Machines {
				if keys[MachineKey(m.GetInfo().GetId())] {
					changed = true
					continue
				}
				kept = append(kept, m)
			}
			reg.Machines.Machines = kept
		}
		reg.Schedules = RemoveMachines(reg.Schedules, keys)
		return changed, nil
	}
}

// RemoveMachines drops the machines of keys from schedules, and the
// windows and schedules left empty.
func RemoveMachines(schedules []*maintenancepb.Schedule, keys map[string]bool) []*maintenancepb.Schedule {
	var out []*maintenancepb.Schedule
	for _, s := range schedules {
		var windows []*maintenancepb.Window
		for _, w := range s.GetWindows() {
			var ids []*mesos.MachineID
			for _, id := range w.GetMachineIds() {
				if !keys[MachineKey(id)] {
					ids = append(ids, id)
				}
			}
			if len(ids) > 0 {
				w.MachineIds = ids
				windows = append(windows, w)
			}
		}
		if len(windows) > 0 {
			s.Windows = windows
			out = append(out, s)
		}
	}
	return out
}

func machineKeys(ids []*mesos.MachineID) map[string]bool {
	keys := make(map[string]bool, len(ids))
	for _, id := range ids {
		keys[MachineKey(id)] = true
	}
	return keys
}
