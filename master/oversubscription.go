package master

import (
	"slices"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// updateSlave takes a slave's oversubscription estimate
// (UpdateSlaveMessage): its revocable resources become the estimate
// (marked revocable), outstanding offers holding revocable resources of
// the slave are rescinded first (the estimate may have shrunk), and the
// allocator offers the new ones to frameworks that take revocable
// resources.
func (m *master) updateSlave(from process.UPID, msg *messages.UpdateSlaveMessage) {
	s := m.slavesByPID[from]
	if s == nil || s.id != msg.GetSlaveId().GetValue() {
		m.log.Warn("ignoring an oversubscription update not from its slave", "from", from.String(), "slave", msg.GetSlaveId().GetValue())
		return
	}
	var est resources.Resources
	for _, r := range resources.FromProto(msg.GetOversubscribedResources()) {
		if r.IsReserved() || r.DiskID != "" {
			m.log.Warn("ignoring reserved oversubscribed resources", "slave", s.id, "resource", r.String())
			continue
		}
		r.Revocable = true
		est = est.Plus(resources.Resources{r})
	}
	m.log.Info("oversubscribed resources updated", "slave", s.id, "resources", est.String(), "previous", s.total.Revocable().String())
	for _, o := range sortedOffers(s.offers) {
		if !o.res.Revocable().IsEmpty() {
			m.rescindOffer(o, 0)
		}
	}
	s.setTotal(s.total.NonRevocable().Plus(est))
	m.alloc.UpdateSlave(s.id, est)
}

// takesRevocable says whether a framework has the REVOCABLE_RESOURCES
// capability.
func takesRevocable(info *mesos.FrameworkInfo) bool {
	return slices.ContainsFunc(info.GetCapabilities(), func(c *mesos.FrameworkInfo_Capability) bool {
		return c.GetType() == mesos.FrameworkInfo_Capability_REVOCABLE_RESOURCES
	})
}
