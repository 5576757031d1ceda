// Package hook is a worked example of a gomesos module: a slave hook that
// labels every task it sees and adds a variable to every executor's
// environment. A module is a Go package that registers itself by name in
// an init function; to use it, build a custom slave whose main imports it
// for that side effect (see mesos-slave/main.go here), then name it as
// Mesos does:
//
//	mesos-slave --modules='{"libraries":[{"modules":[{"name":"gomesos_example_Hook",
//	    "parameters":[{"key":"var","value":"GREETING"},{"key":"value","value":"hello"}]}]}]}' \
//	  --hooks=gomesos_example_Hook ...
//
// Parameters: var (default EXAMPLE_HOOK) and value (default "on") name the
// environment variable; label (default "example_hook") is the key of the
// label added to tasks, whose value is the slave's host name.
package hook

import (
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
)

// Name is the module's name in --modules and --hooks.
const Name = "gomesos_example_Hook"

func init() {
	modules.Register(modules.KindHook, Name, func(p modules.Parameters) (any, error) {
		h := &Hook{Var: "EXAMPLE_HOOK", Value: "on", Label: "example_hook"}
		if v, ok := p["var"]; ok {
			h.Var = v
		}
		if v, ok := p["value"]; ok {
			h.Value = v
		}
		if v, ok := p["label"]; ok {
			h.Label = v
		}
		return h, nil
	})
}

// Hook implements the three slave hooks.
type Hook struct {
	Var, Value, Label string

	mu      sync.Mutex
	removed []string
}

// SlaveRunTaskLabelDecorator adds Label=<slave host name> to the task's
// labels.
func (h *Hook) SlaveRunTaskLabelDecorator(task *mesos.TaskInfo, _ *mesos.ExecutorInfo, _ *mesos.FrameworkInfo, slave *mesos.SlaveInfo) (*mesos.Labels, error) {
	labels := &mesos.Labels{}
	if task.GetLabels() != nil {
		labels = proto.Clone(task.GetLabels()).(*mesos.Labels)
	}
	labels.Labels = append(labels.Labels, &mesos.Label{Key: proto.String(h.Label), Value: proto.String(slave.GetHostname())})
	return labels, nil
}

// SlaveExecutorEnvironmentDecorator adds Var=Value.
func (h *Hook) SlaveExecutorEnvironmentDecorator(*mesos.ExecutorInfo) (*mesos.Environment, error) {
	return &mesos.Environment{Variables: []*mesos.Environment_Variable{{Name: proto.String(h.Var), Value: proto.String(h.Value)}}}, nil
}

// SlaveRemoveExecutorHook records the removed executor.
func (h *Hook) SlaveRemoveExecutorHook(_ *mesos.FrameworkInfo, e *mesos.ExecutorInfo) {
	h.mu.Lock()
	h.removed = append(h.removed, e.GetExecutorId().GetValue())
	h.mu.Unlock()
}

// Removed lists the executors the slave removed, in order.
func (h *Hook) Removed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.removed...)
}
