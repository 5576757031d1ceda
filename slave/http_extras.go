package slave

import (
	"encoding/json"
	"strconv"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/jsonv1"
)

// flagsJSON is what /flags shows: the flags the slave was started with,
// or (started from code) the few Config holds.
func (s *slave) flagsJSON() map[string]string {
	if s.cfg.Flags != nil {
		return s.cfg.Flags
	}
	return map[string]string{
		"work_dir": s.cfg.WorkDir, "launcher_dir": s.cfg.LauncherDir, "recover": s.cfg.Recover,
		"strict": strconv.FormatBool(s.cfg.Strict), "isolation": s.cfg.Isolation,
		"resources": s.cfg.Resources, "attributes": s.cfg.Attributes, "hostname": s.cfg.Hostname,
	}
}

// taskExtrasJSON adds a task's labels and discovery info to its /state
// object, in Mesos's form (labels as key/value objects, discovery as the
// protobuf in JSON).
func taskExtrasJSON(t *mesos.Task, obj jsonObj) {
	if l := t.GetLabels(); l != nil {
		labels := make([]jsonObj, 0, len(l.GetLabels()))
		for _, kv := range l.GetLabels() {
			labels = append(labels, jsonObj{"key": kv.GetKey(), "value": kv.GetValue()})
		}
		obj["labels"] = labels
	}
	if d := t.GetDiscovery(); d != nil {
		if raw, err := jsonv1.Marshal(d); err == nil {
			obj["discovery"] = json.RawMessage(raw)
		}
	}
}
