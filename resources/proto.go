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
	if out = AddProto(out, pbs); len(out) == 0 {
		return nil
	}
	return out
}

// AddProto adds pbs to acc in place and returns the sum: for totals of
// many protobuf lists (a framework's tasks) without a copy per list. acc
// must be the caller's own: nil, or what an earlier Add or AddProto
// returned, never a value shared with anything else.
func AddProto(acc Resources, pbs []*mesos.Resource) Resources {
	out := acc
	for _, pb := range pbs {
		r := Resource{Key: Key{Name: pb.GetName(), Role: pb.GetRole()}}
		if r.Role == "" {
			r.Role = "*"
		}
		if res := pb.GetReservation(); res != nil {
			r.Dynamic, r.Principal = true, res.GetPrincipal()
			var labels [][2]string
			for _, l := range res.GetLabels().GetLabels() {
				labels = append(labels, [2]string{l.GetKey(), l.GetValue()})
			}
			r.ReservationLabels = EncodeLabels(labels)
		}
		if d := pb.GetDisk(); d != nil {
			r.DiskSource = EncodeDiskSource(d.GetSource())
			r.DiskID = d.GetPersistence().GetId()
			r.DiskPrincipal = d.GetPersistence().GetPrincipal()
			if v := d.GetVolume(); v != nil {
				r.VolumePath, r.VolumeMode = v.GetContainerPath(), int32(v.GetMode())
				if r.VolumeMode == 0 {
					r.VolumeMode = int32(mesos.Volume_RW)
				}
			}
		}
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
			if labels := DecodeLabels(r.ReservationLabels); len(labels) > 0 {
				pb.Reservation.Labels = &mesos.Labels{}
				for _, l := range labels {
					pb.Reservation.Labels.Labels = append(pb.Reservation.Labels.Labels, &mesos.Label{Key: proto.String(l[0]), Value: proto.String(l[1])})
				}
			}
		}
		if r.DiskID != "" || r.VolumePath != "" || r.DiskSource != "" {
			pb.Disk = &mesos.Resource_DiskInfo{Source: DecodeDiskSource(r.DiskSource)}
			if r.DiskID != "" {
				pb.Disk.Persistence = &mesos.Resource_DiskInfo_Persistence{Id: proto.String(r.DiskID)}
				if r.DiskPrincipal != "" {
					pb.Disk.Persistence.Principal = proto.String(r.DiskPrincipal)
				}
			}
			if r.VolumePath != "" || r.VolumeMode != 0 {
				mode := mesos.Volume_Mode(r.VolumeMode)
				if mode == 0 {
					mode = mesos.Volume_RW
				}
				pb.Disk.Volume = &mesos.Volume{ContainerPath: proto.String(r.VolumePath), Mode: mode.Enum()}
			}
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

// EncodeDiskSource encodes a DiskInfo.source as a Key's DiskSource.
func EncodeDiskSource(s *mesos.Resource_DiskInfo_Source) string {
	if s == nil {
		return ""
	}
	root := s.GetPath().GetRoot()
	if s.GetType() == mesos.Resource_DiskInfo_Source_MOUNT {
		root = s.GetMount().GetRoot()
	}
	return s.GetType().String() + ":" + root
}

// DecodeDiskSource is the DiskInfo.source of a Key's DiskSource (nil for
// "").
func DecodeDiskSource(enc string) *mesos.Resource_DiskInfo_Source {
	typ, root, ok := strings.Cut(enc, ":")
	if !ok {
		return nil
	}
	switch typ {
	case "PATH":
		return &mesos.Resource_DiskInfo_Source{Type: mesos.Resource_DiskInfo_Source_PATH.Enum(), Path: &mesos.Resource_DiskInfo_Source_Path{Root: proto.String(root)}}
	case "MOUNT":
		return &mesos.Resource_DiskInfo_Source{Type: mesos.Resource_DiskInfo_Source_MOUNT.Enum(), Mount: &mesos.Resource_DiskInfo_Source_Mount{Root: proto.String(root)}}
	}
	return nil
}
