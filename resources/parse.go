package resources

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse reads the Mesos text form: `name(role):value` items separated by
// ';', where value is a scalar (`4`, `0.5`), ranges (`[31000-32000,
// 40000-40010]`) or a set (`{a,b}`); items without a role get
// defaultRole ("*" when empty). Errors name the offending item.
func Parse(text, defaultRole string) (Resources, error) {
	if defaultRole == "" {
		defaultRole = "*"
	}
	var out Resources
	for _, item := range strings.Split(text, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		r, err := parseItem(item, defaultRole)
		if err != nil {
			return nil, fmt.Errorf("parse resources %q: %w", text, err)
		}
		if err := (Resources{r}).Plus(out).Validate(); err != nil {
			return nil, fmt.Errorf("parse resources %q: %w", text, err)
		}
		if i, ok := out.find(r.Key); ok && out[i].Kind != r.Kind {
			return nil, fmt.Errorf("parse resources %q: %q has more than one type", text, r.Name)
		}
		out = add(out, r)
	}
	return out, nil
}

func parseItem(item, role string) (Resource, error) {
	nameRole, value, ok := strings.Cut(item, ":")
	if !ok {
		return Resource{}, fmt.Errorf("item %q: missing ':'", item)
	}
	name := strings.TrimSpace(nameRole)
	if i := strings.IndexByte(name, '('); i >= 0 {
		if !strings.HasSuffix(name, ")") {
			return Resource{}, fmt.Errorf("item %q: unterminated role", item)
		}
		role = strings.TrimSpace(name[i+1 : len(name)-1])
		name = strings.TrimSpace(name[:i])
		if role == "" {
			return Resource{}, fmt.Errorf("item %q: empty role", item)
		}
	}
	if name == "" || strings.ContainsAny(name, "()[]{},: \t") {
		return Resource{}, fmt.Errorf("item %q: bad name %q", item, name)
	}
	r := Resource{Key: Key{Name: name, Role: role}}
	value = strings.TrimSpace(value)
	switch {
	case strings.HasPrefix(value, "["):
		if !strings.HasSuffix(value, "]") {
			return Resource{}, fmt.Errorf("item %q: unterminated ranges", item)
		}
		r.Kind = Ranges
		for _, part := range strings.Split(value[1:len(value)-1], ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			b, e, ok := strings.Cut(part, "-")
			begin, err1 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
			end, err2 := strconv.ParseUint(strings.TrimSpace(e), 10, 64)
			if !ok || err1 != nil || err2 != nil || end < begin {
				return Resource{}, fmt.Errorf("item %q: bad range %q", item, part)
			}
			r.Ranges = append(r.Ranges, Range{begin, end})
		}
		r.Ranges = mergeRanges(r.Ranges)
	case strings.HasPrefix(value, "{"):
		if !strings.HasSuffix(value, "}") {
			return Resource{}, fmt.Errorf("item %q: unterminated set", item)
		}
		r.Kind = Set
		var items []string
		for _, x := range strings.Split(value[1:len(value)-1], ",") {
			if x = strings.TrimSpace(x); x != "" {
				items = append(items, x)
			}
		}
		r.Items = unionItems(nil, items)
	default:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > 1e15 {
			return Resource{}, fmt.Errorf("item %q: bad scalar %q", item, value)
		}
		r.Kind = Scalar
		r.Milli = toMilli(v)
	}
	return r, nil
}

// jsonResource is the JSON form of mesos.Resource.
type jsonResource struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Scalar *struct {
		Value float64 `json:"value"`
	} `json:"scalar,omitempty"`
	Ranges *struct {
		Range []struct {
			Begin uint64 `json:"begin"`
			End   uint64 `json:"end"`
		} `json:"range"`
	} `json:"ranges,omitempty"`
	Set *struct {
		Item []string `json:"item"`
	} `json:"set,omitempty"`
	Role        string `json:"role,omitempty"`
	Reservation *struct {
		Principal string `json:"principal"`
		Labels    *struct {
			Labels []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"labels"`
		} `json:"labels,omitempty"`
	} `json:"reservation,omitempty"`
	Disk *struct {
		Persistence *struct {
			ID        string `json:"id"`
			Principal string `json:"principal,omitempty"`
		} `json:"persistence,omitempty"`
		Volume *struct {
			ContainerPath string `json:"container_path"`
			Mode          string `json:"mode"`
		} `json:"volume,omitempty"`
		Source *struct {
			Type string `json:"type"`
			Path *struct {
				Root string `json:"root"`
			} `json:"path,omitempty"`
			Mount *struct {
				Root string `json:"root"`
			} `json:"mount,omitempty"`
		} `json:"source,omitempty"`
	} `json:"disk,omitempty"`
	Revocable *struct{} `json:"revocable,omitempty"`
}

// ParseJSON reads the JSON array form:
// `[{"name":"cpus","type":"SCALAR","scalar":{"value":4},"role":"*"}]`.
func ParseJSON(data []byte, defaultRole string) (Resources, error) {
	if defaultRole == "" {
		defaultRole = "*"
	}
	var items []jsonResource
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("parse JSON resources: %w", err)
	}
	var out Resources
	for i, it := range items {
		r := Resource{Key: Key{Name: it.Name, Role: it.Role}}
		if r.Role == "" {
			r.Role = defaultRole
		}
		if it.Reservation != nil {
			r.Dynamic, r.Principal = true, it.Reservation.Principal
			if ls := it.Reservation.Labels; ls != nil {
				var labels [][2]string
				for _, l := range ls.Labels {
					labels = append(labels, [2]string{l.Key, l.Value})
				}
				r.ReservationLabels = EncodeLabels(labels)
			}
		}
		if d := it.Disk; d != nil {
			if d.Persistence != nil {
				if d.Persistence.ID == "" {
					return nil, fmt.Errorf("parse JSON resources: item %d (%s): empty persistence id", i, it.Name)
				}
				r.DiskID, r.DiskPrincipal = d.Persistence.ID, d.Persistence.Principal
			}
			if src := d.Source; src != nil {
				switch {
				case strings.ToUpper(src.Type) == "PATH" && src.Path != nil:
					r.DiskSource = "PATH:" + src.Path.Root
				case strings.ToUpper(src.Type) == "MOUNT" && src.Mount != nil:
					r.DiskSource = "MOUNT:" + src.Mount.Root
				default:
					return nil, fmt.Errorf("parse JSON resources: item %d (%s): bad disk source", i, it.Name)
				}
			}
			if v := d.Volume; v != nil {
				switch strings.ToUpper(v.Mode) {
				case "RW", "":
					r.VolumeMode = 1
				case "RO":
					r.VolumeMode = 2
				default:
					return nil, fmt.Errorf("parse JSON resources: item %d (%s): bad volume mode %q", i, it.Name, v.Mode)
				}
				r.VolumePath = v.ContainerPath
			}
		}
		r.Revocable = it.Revocable != nil
		switch strings.ToUpper(it.Type) {
		case "SCALAR":
			if it.Scalar == nil || it.Scalar.Value < 0 {
				return nil, fmt.Errorf("parse JSON resources: item %d (%s): bad scalar", i, it.Name)
			}
			r.Kind, r.Milli = Scalar, toMilli(it.Scalar.Value)
		case "RANGES":
			r.Kind = Ranges
			if it.Ranges != nil {
				for _, x := range it.Ranges.Range {
					if x.End < x.Begin {
						return nil, fmt.Errorf("parse JSON resources: item %d (%s): bad range", i, it.Name)
					}
					r.Ranges = append(r.Ranges, Range{x.Begin, x.End})
				}
			}
			r.Ranges = mergeRanges(r.Ranges)
		case "SET":
			r.Kind = Set
			if it.Set != nil {
				r.Items = unionItems(nil, it.Set.Item)
			}
		default:
			return nil, fmt.Errorf("parse JSON resources: item %d (%s): unknown type %q", i, it.Name, it.Type)
		}
		if r.Name == "" {
			return nil, fmt.Errorf("parse JSON resources: item %d: empty name", i)
		}
		out = add(out, r)
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("parse JSON resources: %w", err)
	}
	return out, nil
}
