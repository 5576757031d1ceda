// Package resources is Mesos resource arithmetic on a compact value type:
// scalars (kept as exact thousandths, as Mesos rounds to three decimals),
// ranges and sets, each with a role, an optional dynamic reservation
// principal, an optional persistent disk id and a revocable flag. It
// parses the Mesos text form (`cpus:4;mem:1024;ports:[31000-32000];
// disk(role):100`) and the JSON form, and converts to and from the
// mesos.Resource protobuf.
package resources

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is the type of a resource's value.
type Kind int

// Resource kinds, as Mesos's Value.Type.
const (
	Scalar Kind = iota
	Ranges
	Set
)

// Range is an inclusive interval of integers.
type Range struct{ Begin, End uint64 }

// Key identifies what may be added together: same name, role, principal,
// disk and revocability.
type Key struct {
	Name      string
	Role      string // "*" unreserved
	Principal string // dynamic reservation principal; "" static or none
	Dynamic   bool   // dynamically reserved (has a ReservationInfo)
	DiskID    string // persistent volume id
	// DiskPrincipal is the principal that created the persistent volume
	// (DiskInfo.persistence.principal).
	DiskPrincipal string
	// VolumePath and VolumeMode are a persistent volume's
	// DiskInfo.volume: its container_path and mode (0 when unset,
	// else mesos.Volume_Mode).
	VolumePath string
	VolumeMode int32
	// DiskSource is DiskInfo.source, the disk a PATH or MOUNT resource
	// is: EncodeDiskSource's form, "" for the root disk. It stays with
	// the disk through reservations and volumes.
	DiskSource string
	Revocable  bool

	// ReservationLabels are the reservation's labels, encoded by
	// EncodeLabels ("" for none).
	ReservationLabels string
}

// Resource is one named resource value.
type Resource struct {
	Key
	Kind   Kind
	Milli  int64    // Scalar: value × 1000
	Ranges []Range  // Ranges: sorted, merged
	Items  []string // Set: sorted, unique
}

// Value returns a scalar's value.
func (r Resource) Value() float64 { return float64(r.Milli) / 1000 }

// Resources is a normalized collection: at most one Resource per Key,
// sorted by key, no empty values. The zero value is empty. Methods never
// modify their receiver.
type Resources []Resource

// toMilli rounds a float to thousandths, as Mesos's fixed-point scalars.
func toMilli(v float64) int64 { return int64(math.Round(v * 1000)) }

func keyLess(a, b Key) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Role != b.Role {
		return a.Role < b.Role
	}
	if a.Principal != b.Principal {
		return a.Principal < b.Principal
	}
	if a.Dynamic != b.Dynamic {
		return !a.Dynamic
	}
	if a.ReservationLabels != b.ReservationLabels {
		return a.ReservationLabels < b.ReservationLabels
	}
	if a.DiskID != b.DiskID {
		return a.DiskID < b.DiskID
	}
	if a.DiskPrincipal != b.DiskPrincipal {
		return a.DiskPrincipal < b.DiskPrincipal
	}
	if a.VolumePath != b.VolumePath {
		return a.VolumePath < b.VolumePath
	}
	if a.VolumeMode != b.VolumeMode {
		return a.VolumeMode < b.VolumeMode
	}
	if a.DiskSource != b.DiskSource {
		return a.DiskSource < b.DiskSource
	}
	return !a.Revocable && b.Revocable
}

func (r Resource) empty() bool {
	switch r.Kind {
	case Scalar:
		return r.Milli <= 0
	case Ranges:
		return len(r.Ranges) == 0
	default:
		return len(r.Items) == 0
	}
}

// find returns the index of key in rs (sorted) and whether it is there.
func (rs Resources) find(k Key) (int, bool) {
	i := sort.Search(len(rs), func(i int) bool { return !keyLess(rs[i].Key, k) })
	return i, i < len(rs) && rs[i].Key == k
}

// add merges r into rs (a copy is returned).
func add(rs Resources, r Resource) Resources {
	if r.empty() {
		return rs
	}
	out := make(Resources, len(rs), len(rs)+1)
	copy(out, rs)
	return addOwned(out, r)
}

// addOwned merges r into out in place: out is the caller's own copy (its
// elements may share their Ranges and Items with other values, which
// are replaced, never written to).
func addOwned(out Resources, r Resource) Resources {
	if r.empty() {
		return out
	}
	i, ok := out.find(r.Key)
	if !ok {
		out = append(out, Resource{})
		copy(out[i+1:], out[i:])
		out[i] = r.clone()
		return out
	}
	cur := out[i]
	if cur.Kind != r.Kind {
		return out // incompatible types of one name: ignored, as Validate reports
	}
	switch r.Kind {
	case Scalar:
		cur.Milli += r.Milli
	case Ranges:
		cur.Ranges = mergeRanges(append(append([]Range(nil), cur.Ranges...), r.Ranges...))
	case Set:
		cur.Items = unionItems(cur.Items, r.Items)
	}
	out[i] = cur
	return out
}

func (r Resource) clone() Resource {
	r.Ranges = append([]Range(nil), r.Ranges...)
	r.Items = append([]string(nil), r.Items...)
	return r
}

// Plus returns rs + other.
func (rs Resources) Plus(other Resources) Resources {
	if len(other) == 0 {
		return rs
	}
	if len(rs) == 0 && other.normalized() {
		return other
	}
	out := make(Resources, len(rs), len(rs)+len(other))
	copy(out, rs)
	for _, r := range other {
		out = addOwned(out, r)
	}
	if len(out) == 0 {
		return rs // nothing but empty values added to nothing
	}
	return out
}

// Add adds other to acc in place and returns the sum (what acc.Plus(other)
// returns, without copying acc): acc must be the caller's own, as for
// AddProto.
func Add(acc, other Resources) Resources {
	for _, r := range other {
		acc = addOwned(acc, r)
	}
	return acc
}

// normalized reports whether rs is sorted by key without duplicates or
// empty values (what every function here returns).
func (rs Resources) normalized() bool {
	for i, r := range rs {
		if r.empty() || (i > 0 && !keyLess(rs[i-1].Key, r.Key)) {
			return false
		}
	}
	return true
}

// Minus returns rs - other; what other has beyond rs is ignored, and no
// value goes below empty.
func (rs Resources) Minus(other Resources) Resources {
	if len(other) == 0 || len(rs) == 0 {
		return rs
	}
	out := append(Resources(nil), rs...)
	for _, r := range other {
		i, ok := out.find(r.Key)
		if !ok || out[i].Kind != r.Kind {
			continue
		}
		cur := out[i]
		switch r.Kind {
		case Scalar:
			cur.Milli -= r.Milli
		case Ranges:
			cur.Ranges = subtractRanges(cur.Ranges, r.Ranges)
		case Set:
			cur.Items = subtractItems(cur.Items, r.Items)
		}
		out[i] = cur
	}
	kept := out[:0]
	for _, r := range out {
		if !r.empty() {
			kept = append(kept, r)
		}
	}
	return kept
}

// Contains reports whether rs holds all of other. A persistent volume
// (DiskID set) is contained only whole, as in Mesos 1.0: a task cannot
// use part of one.
func (rs Resources) Contains(other Resources) bool {
	for _, r := range other {
		i, ok := rs.find(r.Key)
		if !ok || rs[i].Kind != r.Kind {
			return false
		}
		cur := rs[i]
		switch r.Kind {
		case Scalar:
			if cur.Milli < r.Milli {
				return false
			}
			if (r.DiskID != "" || r.IsMountDisk()) && cur.Milli != r.Milli {
				return false // a volume or MOUNT disk is used whole (Mesos 1.0)
			}
		case Ranges:
			if len(subtractRanges(r.Ranges, cur.Ranges)) > 0 {
				return false
			}
		case Set:
			if len(subtractItems(r.Items, cur.Items)) > 0 {
				return false
			}
		}
	}
	return true
}

// IsMountDisk reports whether r is a MOUNT disk (used whole, as Mesos).
func (r Resource) IsMountDisk() bool { return strings.HasPrefix(r.DiskSource, "MOUNT:") }

// IsEmpty reports whether rs holds nothing.
func (rs Resources) IsEmpty() bool { return len(rs) == 0 }

// Equal reports whether rs and other hold the same resources.
func (rs Resources) Equal(other Resources) bool {
	return rs.Contains(other) && other.Contains(rs)
}

// Filter returns the resources for which keep is true.
func (rs Resources) Filter(keep func(Resource) bool) Resources {
	var out Resources
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Unreserved returns the resources of role "*".
func (rs Resources) Unreserved() Resources {
	return rs.Filter(func(r Resource) bool { return r.Role == "*" })
}

// Reserved returns the resources reserved for role.
func (rs Resources) Reserved(role string) Resources {
	return rs.Filter(func(r Resource) bool { return r.Role == role && role != "*" })
}

// AllocatableTo returns what a framework of role may be offered: the
// unreserved resources and those reserved for its role.
func (rs Resources) AllocatableTo(role string) Resources {
	return rs.Filter(func(r Resource) bool { return r.Role == "*" || r.Role == role })
}

// NonRevocable returns the resources that are not revocable.
func (rs Resources) NonRevocable() Resources {
	return rs.Filter(func(r Resource) bool { return !r.Revocable })
}

// Revocable returns the revocable resources.
func (rs Resources) Revocable() Resources {
	return rs.Filter(func(r Resource) bool { return r.Revocable })
}

// Flatten returns rs with every resource moved to role (reservation
// details dropped), merging what becomes alike.
func (rs Resources) Flatten(role string) Resources {
	var out Resources
	for _, r := range rs {
		r.Role, r.Principal, r.Dynamic, r.ReservationLabels = role, "", false, ""
		out = add(out, r)
	}
	return out
}

// Scalar returns the sum of the scalar resources named name, across roles.
func (rs Resources) Scalar(name string) float64 {
	var milli int64
	for _, r := range rs {
		if r.Name == name && r.Kind == Scalar {
			milli += r.Milli
		}
	}
	return float64(milli) / 1000
}

// ScalarMilli is Scalar in thousandths.
func (rs Resources) ScalarMilli(name string) int64 {
	var milli int64
	for _, r := range rs {
		if r.Name == name && r.Kind == Scalar {
			milli += r.Milli
		}
	}
	return milli
}

// ScalarMilliOf is ScalarMilli over the revocable resources (revocable
// true) or the others, without building the filtered collection.
func (rs Resources) ScalarMilliOf(name string, revocable bool) int64 {
	var milli int64
	for _, r := range rs {
		if r.Name == name && r.Kind == Scalar && r.Revocable == revocable {
			milli += r.Milli
		}
	}
	return milli
}

// Names returns the distinct resource names, sorted.
func (rs Resources) Names() []string {
	var names []string
	for _, r := range rs {
		if len(names) == 0 || names[len(names)-1] != r.Name {
			names = append(names, r.Name)
		}
	}
	return names
}

// Validate reports a problem with rs (such as one name with two types).
func (rs Resources) Validate() error {
	types := map[string]Kind{}
	for _, r := range rs {
		if r.Name == "" {
			return fmt.Errorf("resource with an empty name")
		}
		if k, ok := types[r.Name]; ok && k != r.Kind {
			return fmt.Errorf("resource %q has more than one type", r.Name)
		}
		types[r.Name] = r.Kind
		if r.Kind == Scalar && r.Milli < 0 {
			return fmt.Errorf("resource %q is negative", r.Name)
		}
	}
	return nil
}

// String formats rs in the Mesos text form.
func (rs Resources) String() string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ";")
}

// String formats one resource as `name(role):value`, as Mesos prints
// it: a dynamic reservation adds its principal (`name(role, principal)`),
// a persistent volume its id and container path (`disk(role,
// principal)[id:path]:64`). Parse reads back what it produced itself
// (static roles only).
func (r Resource) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if r.Dynamic {
		b.WriteString("(" + r.Role + ", " + r.Principal + ")")
	} else if r.Role != "*" && r.Role != "" {
		b.WriteString("(" + r.Role + ")")
	}
	if r.DiskID != "" || r.VolumePath != "" {
		b.WriteString("[" + r.DiskID + ":" + r.VolumePath + "]")
	}
	if r.Revocable {
		b.WriteString("{REV}")
	}
	b.WriteByte(':')
	b.WriteString(r.valueString())
	return b.String()
}

func (r Resource) valueString() string {
	switch r.Kind {
	case Scalar:
		return strconv.FormatFloat(r.Value(), 'f', -1, 64)
	case Ranges:
		return formatRangeList(r.Ranges)
	default:
		return "{" + strings.Join(r.Items, ",") + "}"
	}
}

func formatRangeList(rs []Range) string {
	parts := make([]string, len(rs))
	for i, x := range rs {
		parts[i] = strconv.FormatUint(x.Begin, 10) + "-" + strconv.FormatUint(x.End, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func mergeRanges(rs []Range) []Range {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Begin < rs[j].Begin })
	out := []Range{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Begin <= last.End+1 && last.End != math.MaxUint64 {
			if r.End > last.End {
				last.End = r.End
			}
			continue
		}
		if r.Begin <= last.End {
			continue
		}
		out = append(out, r)
	}
	return out
}

func subtractRanges(a, b []Range) []Range {
	out := append([]Range(nil), a...)
	for _, s := range b {
		var next []Range
		for _, r := range out {
			if s.End < r.Begin || s.Begin > r.End {
				next = append(next, r)
				continue
			}
			if s.Begin > r.Begin {
				next = append(next, Range{r.Begin, s.Begin - 1})
			}
			if s.End < r.End {
				next = append(next, Range{s.End + 1, r.End})
			}
		}
		out = next
	}
	return out
}

func unionItems(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		set[x] = true
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func subtractItems(a, b []string) []string {
	drop := map[string]bool{}
	for _, x := range b {
		drop[x] = true
	}
	var out []string
	for _, x := range a {
		if !drop[x] {
			out = append(out, x)
		}
	}
	return out
}
