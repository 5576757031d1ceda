package master

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// The validation of resource operations (RESERVE, UNRESERVE, CREATE,
// DESTROY), as Mesos's master validates them: pure functions of the
// operation's resources and what the master knows, each returning the
// reason an operation is refused, or "".

// validateResource says why one resource is malformed, or "".
func validateResource(r *mesos.Resource) string {
	name := r.GetName()
	switch {
	case name == "":
		return "Empty resource name"
	case r.GetType() == mesos.Value_SCALAR && r.Scalar == nil,
		r.GetType() == mesos.Value_RANGES && r.Ranges == nil,
		r.GetType() == mesos.Value_SET && r.Set == nil:
		return "Invalid " + r.GetType().String() + " resource " + name + ": the value is missing"
	case r.GetType() != mesos.Value_SCALAR && r.GetType() != mesos.Value_RANGES && r.GetType() != mesos.Value_SET:
		return "Unsupported resource type " + r.GetType().String() + " of " + name
	case r.GetType() == mesos.Value_SCALAR && !(r.GetScalar().GetValue() >= 0):
		return "Invalid scalar resource " + name + ": negative or not a number"
	}
	role := r.GetRole()
	if role == "" {
		role = "*"
	}
	if role == "*" && r.Reservation != nil {
		return "Invalid reservation: role \"*\" cannot be dynamically reserved"
	}
	if d := r.GetDisk(); d != nil {
		if name != "disk" {
			return "DiskInfo should not be set for " + name + " resource"
		}
		if d.Persistence != nil && role == "*" {
			return "Persistent disk volume is disallowed for '*' role"
		}
	}
	if r.Revocable != nil && role != "*" {
		return "Reserved resources cannot be revocable"
	}
	return ""
}

// validateResources validates each resource and the set as a whole.
func validateResources(rs []*mesos.Resource) string {
	for _, r := range rs {
		if reason := validateResource(r); reason != "" {
			return reason
		}
	}
	if err := resources.FromProto(rs).Validate(); err != nil {
		return err.Error()
	}
	return ""
}

// validateReserve checks a RESERVE: each resource dynamically reserved for
// role (any role when role is "", as for the operator endpoint) by
// principal, and none a persistent volume.
func validateReserve(rs []*mesos.Resource, role, principal string, hasPrincipal bool) string {
	if len(rs) == 0 {
		return "No resources to reserve"
	}
	if reason := validateResources(rs); reason != "" {
		return "Invalid resources: " + reason
	}
	if !hasPrincipal {
		return "A framework without a principal cannot reserve resources."
	}
	for _, r := range rs {
		str := resources.FromProto([]*mesos.Resource{r}).String()
		switch {
		case r.Reservation == nil:
			return "Resource " + str + " is not dynamically reserved"
		case role != "" && r.GetRole() != role:
			return "The reserved resource's role '" + r.GetRole() + "' does not match the framework's role '" + role + "'"
		case r.GetReservation().GetPrincipal() != principal:
			return "The reserved resource's principal '" + r.GetReservation().GetPrincipal() +
				"' does not match the principal '" + principal + "'"
		case r.Revocable != nil:
			return "Resource " + str + " is revocable and cannot be reserved"
		case r.GetDisk().GetPersistence() != nil:
			return "A persistent volume " + str + " must already be reserved"
		}
	}
	return ""
}

// validateUnreserve checks an UNRESERVE: each resource dynamically
// reserved and not a persistent volume.
func validateUnreserve(rs []*mesos.Resource, hasPrincipal bool) string {
	if len(rs) == 0 {
		return "No resources to unreserve"
	}
	if reason := validateResources(rs); reason != "" {
		return "Invalid resources: " + reason
	}
	if !hasPrincipal {
		return "A framework without a principal cannot unreserve resources."
	}
	for _, r := range rs {
		str := resources.FromProto([]*mesos.Resource{r}).String()
		if r.Reservation == nil {
			return "Resource " + str + " is not dynamically reserved"
		}
		if r.GetDisk().GetPersistence() != nil {
			return "A dynamically reserved persistent volume " + str +
				" cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource"
		}
	}
	return ""
}

// validatePersistentVolumes checks that each resource is a persistent
// volume: reserved disk with a persistence id and a volume.
func validatePersistentVolumes(vs []*mesos.Resource) string {
	for _, v := range vs {
		str := resources.FromProto([]*mesos.Resource{v}).String()
		d := v.GetDisk()
		switch {
		case v.GetName() != "disk":
			return "Resource " + str + " is not a disk resource"
		case d == nil:
			return "Resource " + str + " does not have DiskInfo"
		case d.Persistence == nil:
			return "'persistence' is not set in DiskInfo"
		case d.GetPersistence().GetId() == "":
			return "'persistence.id' is empty in DiskInfo"
		case d.Volume == nil:
			return "'volume' is not set in DiskInfo"
		case d.GetVolume().HostPath != nil:
			return "'host_path' cannot be set for persistent volume"
		case d.GetVolume().GetContainerPath() == "":
			return "'volume.container_path' is empty in DiskInfo"
		case !localPath(d.GetVolume().GetContainerPath()):
			return "'volume.container_path' must be a relative path inside the sandbox, not '" + d.GetVolume().GetContainerPath() + "'"
		case v.GetRole() == "" || v.GetRole() == "*":
			return "Persistent volumes cannot be created from unreserved resources"
		}
		if reason := safeVolumeName(d.GetPersistence().GetId(), "persistence id"); reason != "" {
			return reason
		}
		if reason := safeVolumeName(v.GetRole(), "role"); reason != "" {
			return reason
		}
	}
	return ""
}

// localPath says whether p names a path inside a directory: relative,
// not the directory itself, never climbing out of it.
func localPath(p string) bool {
	clean := path.Clean(p)
	return !path.IsAbs(clean) && clean != "." && clean != ".." && !strings.HasPrefix(clean, "../")
}

// safeVolumeName refuses ids and roles that would not name one directory
// under the slave's volumes directory.
func safeVolumeName(s, what string) string {
	if s == "." || s == ".." || len(s) > 255 {
		return "Invalid " + what + " '" + s + "'"
	}
	for _, c := range s {
		if c == '/' || c == 0 {
			return "Invalid " + what + " '" + s + "': it may not contain '/' or NUL"
		}
	}
	return ""
}

// validateCreate checks a CREATE against the slave's checkpointed
// resources: well-formed volumes whose persistence ids are unique on the
// slave.
func validateCreate(vs []*mesos.Resource, checkpointed resources.Resources, principal string) string {
	if len(vs) == 0 {
		return "No volumes to create"
	}
	if reason := validateResources(vs); reason != "" {
		return "Invalid resources: " + reason
	}
	if reason := validatePersistentVolumes(vs); reason != "" {
		return "Not a persistent volume: " + reason
	}
	seen := map[string]bool{}
	for _, r := range checkpointed.PersistentVolumes() {
		seen[r.DiskID] = true
	}
	for _, v := range vs {
		id := v.GetDisk().GetPersistence().GetId()
		if seen[id] {
			return "Persistence ID '" + id + "' is not unique"
		}
		seen[id] = true
		if p := v.GetDisk().GetPersistence().Principal; p != nil && *p != principal {
			return "Create volume operation has been attempted by principal '" + principal +
				"', but there is a volume in the operation with principal '" + *p + "' set in 'DiskInfo.persistence'"
		}
	}
	return ""
}

// validateDestroy checks a DESTROY: existing volumes that no task uses.
func validateDestroy(vs []*mesos.Resource, checkpointed, used resources.Resources) string {
	if len(vs) == 0 {
		return "No volumes to destroy"
	}
	if reason := validateResources(vs); reason != "" {
		return "Invalid resources: " + reason
	}
	if reason := validatePersistentVolumes(vs); reason != "" {
		return "Not a persistent volume: " + reason
	}
	volumes := resources.FromProto(vs)
	if !checkpointed.Contains(volumes) {
		return "Persistent volumes not found"
	}
	for _, v := range volumes {
		for _, u := range used.PersistentVolumes() {
			if u.Role == v.Role && u.DiskID == v.DiskID {
				return "Persistent volumes in use"
			}
		}
	}
	return ""
}

// operationOf converts a RESERVE/UNRESERVE/CREATE/DESTROY operation to
// its resources form.
func operationOf(op *mesos.Offer_Operation) (resources.Operation, []*mesos.Resource, error) {
	switch op.GetType() {
	case mesos.Offer_Operation_RESERVE:
		rs := op.GetReserve().GetResources()
		return resources.Operation{Kind: resources.Reserve, Resources: resources.FromProto(rs)}, rs, nil
	case mesos.Offer_Operation_UNRESERVE:
		rs := op.GetUnreserve().GetResources()
		return resources.Operation{Kind: resources.Unreserve, Resources: resources.FromProto(rs)}, rs, nil
	case mesos.Offer_Operation_CREATE:
		rs := op.GetCreate().GetVolumes()
		return resources.Operation{Kind: resources.Create, Resources: resources.FromProto(rs)}, rs, nil
	case mesos.Offer_Operation_DESTROY:
		rs := op.GetDestroy().GetVolumes()
		return resources.Operation{Kind: resources.Destroy, Resources: resources.FromProto(rs)}, rs, nil
	}
	return resources.Operation{}, nil, fmt.Errorf("unsupported offer operation %s", op.GetType())
}
