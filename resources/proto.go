package resources

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// FromProto converts protobuf resources, merging alike ones. Resources of
// a kind it does not know (TEXT) are skipped.
func FromProto(pbs []*mesos.Resource) Resources {
	var out Resources
	if len(pbs) > 0 {
		out = make(Resources, 0, min(len(pbs), 4)) // few names, however many entries
	}
	for _, pb := range pbs {
		r := Resource{Key: Key{Name: pb.GetName(), Role: pb.GetRole()}}
		if r.Role == "" {
			r.Role = "*"
		}
		if res := pb.GetReservation(); res != nil {
			r.Dynamic, r.Principal = true, res.GetPrincipal()
		}
		r.DiskID = pb.GetDisk().GetPersistence().GetId()
		r.Revocable = pb.Revocable != nil
		switch pb.GetType() {
		case mesos.Value_SCALAR:
			r.Kind, r.Milli = Scalar, toMilli(pb.GetScalar().GetValue())
		case mesos.Value_RANGES:
			r.Kind = Ranges
			for _, x := range pb.GetRanges().GetRange() {
				if x.GetEnd() >= x.GetBegin() {
					r.Ranges = append(r.Ranges, Range{x.GetBegin(), x.GetEnd()})
				}
			}
			r.Ranges = mergeRanges(r.Ranges)
		case mesos.Value_SET:
			r.Kind, r.Items = Set, unionItems(nil, pb.GetSet().GetItem())
		default:
			continue
		}
		out = addOwned(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ToProto converts to protobuf resources.
func (rs Resources) ToProto() []*mesos.Resource {
	out := make([]*mesos.Resource, 0, len(rs))
	for _, r := range rs {
		pb := &mesos.Resource{Name: proto.String(r.Name), Role: proto.String(r.Role)}
		switch r.Kind {
		case Scalar:
			pb.Type = mesos.Value_SCALAR.Enum()
			pb.Scalar = &mesos.Value_Scalar{Value: proto.Float64(r.Value())}
		case Ranges:
			pb.Type = mesos.Value_RANGES.Enum()
			pb.Ranges = &mesos.Value_Ranges{}
			for _, x := range r.Ranges {
				pb.Ranges.Range = append(pb.Ranges.Range, &mesos.Value_Range{Begin: proto.Uint64(x.Begin), End: proto.Uint64(x.End)})
			}
		case Set:
			pb.Type = mesos.Value_SET.Enum()
			pb.Set = &mesos.Value_Set{Item: append([]string(nil), r.Items...)}
		}
		if r.Dynamic {
			pb.Reservation = &mesos.Resource_ReservationInfo{}
			if r.Principal != "" {
				pb.Reservation.Principal = proto.String(r.Principal)
			}
		}
		if r.DiskID != "" {
			pb.Disk = &mesos.Resource_DiskInfo{Persistence: &mesos.Resource_DiskInfo_Persistence{Id: proto.String(r.DiskID)}}
		}
		if r.Revocable {
			pb.Revocable = &mesos.Resource_RevocableInfo{}
		}
		out = append(out, pb)
	}
	return out
}

// FormatRanges formats protobuf ranges as `[a-b, c-d]`.
func FormatRanges(rs *mesos.Value_Ranges) string {
	parts := make([]string, 0, len(rs.GetRange()))
	for _, x := range rs.GetRange() {
		parts = append(parts, strconv.FormatUint(x.GetBegin(), 10)+"-"+strconv.FormatUint(x.GetEnd(), 10))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
