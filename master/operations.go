package master

import (
	"fmt"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// acceptOperation applies one RESERVE, UNRESERVE, CREATE or DESTROY of
// framework f's ACCEPT to the offered resources available on s: it
// returns the resources after the operation, or the reason the operation
// is refused (available unchanged). As in Mesos, a refused operation is
// dropped with a log line and the call's other operations still apply.
func (m *master) acceptOperation(f *framework, s *slave, op *mesos.Offer_Operation, available resources.Resources) (resources.Resources, string) {
	rop, pbs, err := operationOf(op)
	if err != nil {
		return available, err.Error()
	}
	principal, hasPrincipal := f.info.GetPrincipal(), f.info.Principal != nil
	if reason := m.authorizeOperation(principal, rop); reason != "" {
		return available, reason
	}
	if reason := m.validateOperation(s, rop, pbs, f.role(), principal, hasPrincipal); reason != "" {
		return available, reason
	}
	next, err := available.Apply(rop)
	if err != nil {
		return available, err.Error()
	}
	consumed, produced, _ := rop.Conversion()
	m.log.Info("applying offer operation", "type", rop.Kind.String(), "resources", rop.Resources.String(), "framework", f.id, "slave", s.id)
	m.alloc.UpdateAllocation(f.id, s.id, consumed, produced)
	m.applyOperation(s, consumed, produced)
	return next, ""
}

// validateOperation runs the validation of op's kind; role is "" for an
// operator (any role).
func (m *master) validateOperation(s *slave, rop resources.Operation, pbs []*mesos.Resource, role, principal string, hasPrincipal bool) string {
	switch rop.Kind {
	case resources.Reserve:
		return validateReserve(pbs, role, principal, hasPrincipal)
	case resources.Unreserve:
		return validateUnreserve(pbs, hasPrincipal)
	case resources.Create:
		return validateCreate(pbs, s.total.Checkpointed(), principal)
	case resources.Destroy:
		return validateDestroy(pbs, s.total.Checkpointed(), s.used)
	}
	return "unsupported operation"
}

// authorizeOperation checks the reserve_resources, unreserve_resources,
// create_volumes and destroy_volumes ACLs for principal: "" when allowed,
// else the reason.
func (m *master) authorizeOperation(principal string, op resources.Operation) string {
	a := m.cfg.Authorizer
	if a == nil {
		return ""
	}
	for _, r := range op.Resources {
		switch op.Kind {
		case resources.Reserve:
			if !a.ReserveResources(principal, r.Role) {
				return "Not authorized to reserve resources for role '" + r.Role + "' as '" + principal + "'"
			}
		case resources.Unreserve:
			if !a.UnreserveResources(principal, r.Principal) {
				return "Not authorized to unreserve resources reserved by '" + r.Principal + "' as '" + principal + "'"
			}
		case resources.Create:
			if !a.CreateVolume(principal, r.Role) {
				return "Not authorized to create persistent volumes for role '" + r.Role + "' as '" + principal + "'"
			}
		case resources.Destroy:
			if !a.DestroyVolume(principal, r.DiskPrincipal) {
				return "Not authorized to destroy persistent volumes created by '" + r.DiskPrincipal + "' as '" + principal + "'"
			}
		}
	}
	return ""
}

// applyOperation converts consumed into produced in s's total and sends
// the slave its new checkpointed resources. (Sent even while the slave is
// away: a slave that misses it gets the master's view again when it
// re-registers.)
func (m *master) applyOperation(s *slave, consumed, produced resources.Resources) {
	s.setTotal(s.total.Minus(consumed).Plus(produced))
	m.sendCheckpointedResources(s)
}

func (m *master) sendCheckpointedResources(s *slave) {
	m.send(s.pid, &messages.CheckpointResourcesMessage{Resources: s.total.Checkpointed().ToProto()})
}

// slaveTotal is a registering slave's total: its static resources with
// the checkpointed ones it reports applied. Checkpointed resources that do
// not fit are ignored, with a log line (the slave itself refuses to start
// with such a checkpoint).
func (m *master) slaveTotal(info *mesos.SlaveInfo, checkpointed []*mesos.Resource) resources.Resources {
	static := resources.FromProto(info.GetResources())
	total, err := resources.ApplyCheckpointed(static, resources.FromProto(checkpointed))
	if err != nil {
		m.log.Warn("ignoring a slave's checkpointed resources", "hostname", info.GetHostname(), "err", err)
		return static
	}
	return total
}

// reconcileCheckpointed compares what a re-registering slave the master
// knows reports as checkpointed with the master's view: on a mismatch the
// master's view wins and is sent to the slave again.
func (m *master) reconcileCheckpointed(s *slave, reported []*mesos.Resource) {
	if mine := s.total.Checkpointed(); !mine.Equal(resources.FromProto(reported)) {
		m.log.Info("slave's checkpointed resources differ from the master's: sending the master's",
			"slave", s.id, "slave_has", resources.FromProto(reported).String(), "master_has", mine.String())
		m.sendCheckpointedResources(s)
	}
}

// operatorOperation applies an operator's operation (the /master/reserve
// family) to s: offers holding what it needs are rescinded, the
// allocator converts the resources if they are free, and then the
// master's view and the slave's checkpoint follow. The future fails (a
// 409 for the endpoint) when the resources are not free.
func (m *master) operatorOperation(s *slave, rop resources.Operation) future.Future[future.Nothing] {
	consumed, produced, err := rop.Conversion()
	if err != nil {
		return future.Failed[future.Nothing](err)
	}
	if !s.total.Contains(consumed) {
		return future.Failed[future.Nothing](fmt.Errorf("the agent's resources %v do not contain %v", s.total, consumed))
	}
	required := consumed
	for _, o := range sortedOffers(s.offers) {
		if required.IsEmpty() {
			break
		}
		if left := required.Minus(o.res); !left.Equal(required) {
			required = left
			// The filter keeps the rescinded resources from being
			// offered back before the allocator applies the operation.
			m.rescindOffer(o, defaultRefuseSeconds)
		}
	}
	sid := s.id
	done := future.NewPromise[future.Nothing]()
	m.alloc.UpdateAvailable(sid, consumed, produced).OnAny(process.Defer1(m.Runtime(), m.Self(), func(f future.Future[future.Nothing]) {
		if err := f.Err(); err != nil {
			done.Fail(err)
			return
		}
		s := m.slaves[sid]
		if s == nil {
			done.Fail(fmt.Errorf("agent %s was removed", sid))
			return
		}
		m.log.Info("applying operator operation", "type", rop.Kind.String(), "resources", rop.Resources.String(), "slave", sid)
		m.applyOperation(s, consumed, produced)
		done.Set(future.Nothing{})
	}))
	return done.Future()
}
