package slave

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// ParseAttributes parses --attributes: the text form "name:value;..."
// where a value is a number (scalar), "[a-b,c-d]" (ranges), "{x,y}" (set)
// or anything else (text), or the JSON form (a list of Attribute objects
// as Mesos prints them).
func ParseAttributes(text string) ([]*mesos.Attribute, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if strings.HasPrefix(text, "[") || strings.HasPrefix(text, "{") {
		return parseAttributesJSON(text)
	}
	var out []*mesos.Attribute
	for _, item := range strings.Split(text, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("bad attribute %q: want name:value", item)
		}
		out = append(out, attribute(name, value))
	}
	return out, nil
}

func attribute(name, value string) *mesos.Attribute {
	a := &mesos.Attribute{Name: proto.String(name)}
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		a.Type, a.Scalar = mesos.Value_SCALAR.Enum(), &mesos.Value_Scalar{Value: proto.Float64(f)}
		return a
	}
	if strings.HasPrefix(value, "[") && strings.HasSuffix(value, "]") {
		if r, err := resources.Parse("r:"+value, "*"); err == nil && len(r) == 1 {
			if pb := r.ToProto(); len(pb) == 1 && pb[0].Ranges != nil {
				a.Type, a.Ranges = mesos.Value_RANGES.Enum(), pb[0].Ranges
				return a
			}
		}
	}
	if strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}") {
		var items []string
		for _, it := range strings.Split(value[1:len(value)-1], ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		a.Type, a.Set = mesos.Value_SET.Enum(), &mesos.Value_Set{Item: items}
		return a
	}
	a.Type, a.Text = mesos.Value_TEXT.Enum(), &mesos.Value_Text{Value: proto.String(value)}
	return a
}

func parseAttributesJSON(text string) ([]*mesos.Attribute, error) {
	var raw []struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Scalar *struct {
			Value float64 `json:"value"`
		} `json:"scalar"`
		Ranges *struct {
			Range []struct {
				Begin uint64 `json:"begin"`
				End   uint64 `json:"end"`
			} `json:"range"`
		} `json:"ranges"`
		Set *struct {
			Item []string `json:"item"`
		} `json:"set"`
		Text *struct {
			Value string `json:"value"`
		} `json:"text"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("bad JSON attributes: %w", err)
	}
	var out []*mesos.Attribute
	for i, r := range raw {
		a := &mesos.Attribute{Name: proto.String(r.Name)}
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("attribute %d has no name", i)
		case r.Scalar != nil && (r.Type == "" || r.Type == "SCALAR"):
			a.Type, a.Scalar = mesos.Value_SCALAR.Enum(), &mesos.Value_Scalar{Value: proto.Float64(r.Scalar.Value)}
		case r.Ranges != nil && (r.Type == "" || r.Type == "RANGES"):
			a.Type, a.Ranges = mesos.Value_RANGES.Enum(), &mesos.Value_Ranges{}
			for _, rg := range r.Ranges.Range {
				a.Ranges.Range = append(a.Ranges.Range, &mesos.Value_Range{Begin: proto.Uint64(rg.Begin), End: proto.Uint64(rg.End)})
			}
		case r.Set != nil && (r.Type == "" || r.Type == "SET"):
			a.Type, a.Set = mesos.Value_SET.Enum(), &mesos.Value_Set{Item: r.Set.Item}
		case r.Text != nil && (r.Type == "" || r.Type == "TEXT"):
			a.Type, a.Text = mesos.Value_TEXT.Enum(), &mesos.Value_Text{Value: proto.String(r.Text.Value)}
		default:
			return nil, fmt.Errorf("attribute %q: no value of type %q", r.Name, r.Type)
		}
		out = append(out, a)
	}
	return out, nil
}

// attributeValue is the text form of an attribute's value.
func attributeValue(a *mesos.Attribute) any {
	switch a.GetType() {
	case mesos.Value_SCALAR:
		return a.GetScalar().GetValue()
	case mesos.Value_RANGES:
		return resources.FormatRanges(a.GetRanges())
	case mesos.Value_SET:
		return "{" + strings.Join(a.GetSet().GetItem(), ",") + "}"
	}
	return a.GetText().GetValue()
}

func attributesEqual(a, b []*mesos.Attribute) bool {
	key := func(as []*mesos.Attribute) []string {
		var out []string
		for _, x := range as {
			out = append(out, x.GetName()+"="+fmt.Sprint(attributeValue(x)))
		}
		sort.Strings(out)
		return out
	}
	ka, kb := key(a), key(b)
	if len(ka) != len(kb) {
		return false
	}
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return true
}

// machineResources parses --resources and fills in what it leaves out
// from the machine, as Mesos does: cpus = the CPUs, mem = total memory
// less 1 GB (half of it below 2 GB), disk = the work directory's file
// system less 5 GB (half of it below 10 GB), ports = [31000-32000].
func machineResources(text, defaultRole, workDir string) (resources.Resources, error) {
	if defaultRole == "" {
		defaultRole = "*"
	}
	var given resources.Resources
	var err error
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") {
		given, err = resources.ParseJSON([]byte(t), defaultRole)
	} else {
		given, err = resources.Parse(text, defaultRole)
	}
	if err != nil {
		return nil, err
	}
	has := make(map[string]bool)
	for _, n := range given.Names() {
		has[n] = true
	}
	var defaults []string
	if !has["cpus"] {
		defaults = append(defaults, fmt.Sprintf("cpus:%d", runtime.NumCPU()))
	}
	if !has["mem"] {
		var si syscall.Sysinfo_t
		mb := uint64(1024)
		if syscall.Sysinfo(&si) == nil {
			total := si.Totalram * uint64(si.Unit) / (1 << 20)
			if total >= 2048 {
				mb = total - 1024
			} else {
				mb = total / 2
			}
		}
		defaults = append(defaults, fmt.Sprintf("mem:%d", mb))
	}
	if !has["disk"] {
		mb := uint64(1024)
		var st syscall.Statfs_t
		dir := workDir
		for dir != "" && dir != "/" {
			if _, err := os.Stat(dir); err == nil {
				break
			}
			dir = parentDir(dir)
		}
		if syscall.Statfs(dir, &st) == nil {
			total := st.Blocks * uint64(st.Bsize) / (1 << 20)
			if total >= 10240 {
				mb = total - 5120
			} else {
				mb = total / 2
			}
		}
		defaults = append(defaults, fmt.Sprintf("disk:%d", mb))
	}
	if !has["ports"] {
		defaults = append(defaults, "ports:[31000-32000]")
	}
	if len(defaults) == 0 {
		return given, nil
	}
	detected, err := resources.Parse(strings.Join(defaults, ";"), defaultRole)
	if err != nil {
		return nil, err
	}
	return given.Plus(detected), nil
}

func parentDir(p string) string {
	i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// validRoleName checks Mesos's rules for a role name.
func validRoleName(role string) error {
	switch {
	case role == "." || role == "..":
		return fmt.Errorf("role %q is reserved", role)
	case strings.HasPrefix(role, "-"):
		return fmt.Errorf("role %q may not start with '-'", role)
	case strings.ContainsAny(role, "/\\ \t\n\x0b\f\r\x00"):
		return fmt.Errorf("role %q may not contain slashes, backslashes or whitespace", role)
	}
	return nil
}
