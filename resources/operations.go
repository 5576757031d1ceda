package resources

import (
	"encoding/json"
	"fmt"
	"sort"
)

// IsReserved reports whether r is reserved for a role (statically or
// dynamically).
func (r Resource) IsReserved() bool { return r.Role != "*" && r.Role != "" }

// IsDynamicallyReserved reports whether r carries a ReservationInfo.
func (r Resource) IsDynamicallyReserved() bool { return r.Dynamic }

// IsPersistentVolume reports whether r is a persistent volume (its
// DiskInfo has a persistence id).
func (r Resource) IsPersistentVolume() bool { return r.DiskID != "" }

// Unreserved returns r as it was before any reservation or volume: role
// "*", no reservation, no disk info.
func (r Resource) Unreserved() Resource {
	r = r.clone()
	r.Role, r.Principal, r.Dynamic, r.ReservationLabels = "*", "", false, ""
	r.DiskID, r.DiskPrincipal, r.VolumePath, r.VolumeMode = "", "", "", 0
	return r
}

// WithoutDisk returns r without its disk info (what CREATE consumes and
// DESTROY gives back), keeping its role and reservation.
func (r Resource) WithoutDisk() Resource {
	r = r.clone()
	r.DiskID, r.DiskPrincipal, r.VolumePath, r.VolumeMode = "", "", "", 0
	return r
}

// Checkpointed returns what a slave checkpoints: the dynamically reserved
// resources and the persistent volumes.
func (rs Resources) Checkpointed() Resources {
	return rs.Filter(func(r Resource) bool { return r.Dynamic || r.DiskID != "" })
}

// PersistentVolumes returns the persistent volumes.
func (rs Resources) PersistentVolumes() Resources {
	return rs.Filter(func(r Resource) bool { return r.DiskID != "" })
}

// ByRole returns the reserved resources (static and dynamic) by role, as
// Mesos's /state `reserved_resources`.
func (rs Resources) ByRole() map[string]Resources {
	out := map[string]Resources{}
	for _, r := range rs {
		if r.IsReserved() {
			out[r.Role] = add(out[r.Role], r)
		}
	}
	return out
}

// Roles returns the roles rs holds reservations for, sorted.
func (rs Resources) Roles() []string {
	var roles []string
	for role := range rs.ByRole() {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	return roles
}

// OpKind is the kind of a resource operation (Offer.Operation.Type but
// LAUNCH, which consumes resources rather than converting them).
type OpKind int

// Resource operations.
const (
	Reserve OpKind = iota + 1
	Unreserve
	Create
	Destroy
)

func (k OpKind) String() string {
	switch k {
	case Reserve:
		return "RESERVE"
	case Unreserve:
		return "UNRESERVE"
	case Create:
		return "CREATE"
	case Destroy:
		return "DESTROY"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Operation converts resources of a slave: RESERVE turns unreserved
// resources into the given reserved ones, UNRESERVE the reverse, CREATE
// turns reserved disk into the given persistent volumes, DESTROY the
// reverse.
type Operation struct {
	Kind      OpKind
	Resources Resources // the reserved resources, or the volumes
}

// Conversion returns what op takes from a slave's resources (consumed)
// and what it puts in their place (produced), or why op is malformed.
// The quantities of consumed and produced are equal.
func (op Operation) Conversion() (consumed, produced Resources, err error) {
	for _, r := range op.Resources {
		switch op.Kind {
		case Reserve:
			switch {
			case !r.IsReserved():
				return nil, nil, fmt.Errorf("Invalid RESERVE Operation: Resource must be reserved")
			case !r.Dynamic:
				return nil, nil, fmt.Errorf("Invalid RESERVE Operation: Missing 'reservation'")
			}
			consumed, produced = add(consumed, r.Unreserved()), add(produced, r)
		case Unreserve:
			switch {
			case !r.IsReserved():
				return nil, nil, fmt.Errorf("Invalid UNRESERVE Operation: Resource is not reserved")
			case !r.Dynamic:
				return nil, nil, fmt.Errorf("Invalid UNRESERVE Operation: Resource is not dynamically reserved")
			}
			consumed, produced = add(consumed, r), add(produced, r.Unreserved())
		case Create:
			if r.DiskID == "" {
				return nil, nil, fmt.Errorf("Invalid CREATE Operation: Missing 'persistence'")
			}
			consumed, produced = add(consumed, r.WithoutDisk()), add(produced, r)
		case Destroy:
			if r.DiskID == "" {
				return nil, nil, fmt.Errorf("Invalid DESTROY Operation: Missing 'persistence'")
			}
			consumed, produced = add(consumed, r), add(produced, r.WithoutDisk())
		default:
			return nil, nil, fmt.Errorf("unknown operation %v", op.Kind)
		}
	}
	return consumed, produced, nil
}

// Apply returns rs with op applied, or an error (rs unchanged) when op is
// malformed or rs does not hold what it converts, with Mesos's wording.
func (rs Resources) Apply(op Operation) (Resources, error) {
	consumed, produced, err := op.Conversion()
	if err != nil {
		return rs, err
	}
	if !rs.Contains(consumed) {
		switch op.Kind {
		case Create:
			return rs, fmt.Errorf("Invalid CREATE Operation: Insufficient disk resources")
		case Destroy:
			return rs, fmt.Errorf("Invalid DESTROY Operation: Persistent volume does not exist")
		}
		return rs, fmt.Errorf("Invalid %v Operation: %v does not contain %v", op.Kind, rs, consumed)
	}
	return rs.Minus(consumed).Plus(produced), nil
}

// ApplyCheckpointed returns a slave's total resources: its static
// resources with the checkpointed ones (dynamic reservations and
// persistent volumes) in place of the unreserved (or reserved, for a
// volume's disk) resources they were made from.
func ApplyCheckpointed(static, checkpointed Resources) (Resources, error) {
	total := static
	for _, r := range checkpointed {
		if !r.Dynamic && r.DiskID == "" {
			return nil, fmt.Errorf("checkpointed resource %v is neither dynamically reserved nor a persistent volume", r)
		}
		base := r.WithoutDisk()
		if r.Dynamic {
			base = r.Unreserved()
		}
		one := Resources{r}
		if !total.Contains(Resources{base}) {
			return nil, fmt.Errorf("checkpointed resources %v are incompatible with the resources %v", checkpointed, static)
		}
		total = total.Minus(Resources{base}).Plus(one)
	}
	return total, nil
}

// ToJSONArray renders rs as Mesos renders repeated Resource protobufs in
// JSON (`/state`'s `*_full` fields): name, type, the value, role, and the
// reservation and disk info where present.
func (rs Resources) ToJSONArray() []map[string]any {
	out := make([]map[string]any, 0, len(rs))
	for _, r := range rs {
		j := map[string]any{"name": r.Name, "role": r.Role}
		switch r.Kind {
		case Scalar:
			j["type"], j["scalar"] = "SCALAR", map[string]any{"value": r.Value()}
		case Ranges:
			rg := make([]map[string]any, len(r.Ranges))
			for i, x := range r.Ranges {
				rg[i] = map[string]any{"begin": x.Begin, "end": x.End}
			}
			j["type"], j["ranges"] = "RANGES", map[string]any{"range": rg}
		case Set:
			j["type"], j["set"] = "SET", map[string]any{"item": append([]string{}, r.Items...)}
		}
		if r.Dynamic {
			res := map[string]any{}
			if r.Principal != "" {
				res["principal"] = r.Principal
			}
			if labels := DecodeLabels(r.ReservationLabels); len(labels) > 0 {
				ls := make([]map[string]any, len(labels))
				for i, l := range labels {
					ls[i] = map[string]any{"key": l[0], "value": l[1]}
				}
				res["labels"] = map[string]any{"labels": ls}
			}
			j["reservation"] = res
		}
		if r.DiskID != "" || r.VolumePath != "" || r.DiskSource != "" {
			disk := map[string]any{}
			if src := DecodeDiskSource(r.DiskSource); src != nil {
				typ, root := src.GetType().String(), src.GetPath().GetRoot()
				s := map[string]any{"type": typ}
				if src.Mount != nil {
					root = src.GetMount().GetRoot()
					s["mount"] = map[string]any{"root": root}
				} else {
					s["path"] = map[string]any{"root": root}
				}
				disk["source"] = s
			}
			if r.DiskID != "" {
				p := map[string]any{"id": r.DiskID}
				if r.DiskPrincipal != "" {
					p["principal"] = r.DiskPrincipal
				}
				disk["persistence"] = p
			}
			if r.VolumePath != "" {
				mode := "RW"
				if r.VolumeMode == 2 {
					mode = "RO"
				}
				disk["volume"] = map[string]any{"container_path": r.VolumePath, "mode": mode}
			}
			j["disk"] = disk
		}
		if r.Revocable {
			j["revocable"] = map[string]any{}
		}
		out = append(out, j)
	}
	return out
}

// EncodeLabels encodes key/value labels, in their order, as one string
// (how a reservation's labels sit in a Key).
func EncodeLabels(labels [][2]string) string {
	if len(labels) == 0 {
		return ""
	}
	b, _ := json.Marshal(labels)
	return string(b)
}

// DecodeLabels decodes what EncodeLabels made.
func DecodeLabels(s string) [][2]string {
	if s == "" {
		return nil
	}
	var out [][2]string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}
