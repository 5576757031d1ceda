// Package hook is a worked example of a gomesos module: a hook that
// labels every task a slave runs and adds a variable to every executor's
// environment, and, in a master, labels every task it launches with its
// framework's name. A module is a Go package that registers itself by
// name in an init function; to use it, build a custom slave (or master)
// whose main imports it for that side effect and calls the public
// package daemon (see mesos-slave/main.go here), then name it as Mesos
// does:
//
//	mesos-slave --modules='{"libraries":[{"modules":[{"name":"gomesos_example_Hook",
//	    "parameters":[{"key":"var","value":"GREETING"},{"key":"value","value":"hello"}]}]}]}' \
//	  --hooks=gomesos_example_Hook ...
//
// Parameters: var (default EXAMPLE_HOOK) and value (default "on") name the
// environment variable; label (default "example_hook") is the key of the
// label the slave adds to tasks, whose value is the slave's host name;
// master_label (default "example_master_hook") the key of the one the
// master adds, whose value is the framework's name.
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
		h := &Hook{Var: "EXAMPLE_HOOK", Value: "on", Label: "example_hook", MasterLabel: "example_master_hook"}
		if v, ok := p["var"]; ok {
			h.Var = v
		}
		if v, ok := p["value"]; ok {
			h.Value = v
		}
		if v, ok := p["label"]; ok {
			h.Label = v
		}
		if v, ok := p["master_label"]; ok {
			h.MasterLabel = v
		}
		return h, nil
	})
}

// Hook implements the three slave hooks and the master's launch-task
// hook.
type Hook struct {
	Var, Value, Label, MasterLabel string

	mu      sync.Mutex
	removed []string
}

// SlaveRunTaskLabelDecorator adds Label=<slave host name> to the task's
// labels.
func (h *Hook) SlaveRunTaskLabelDecorator(task *mesos.TaskInfo, _ *mesos.ExecutorInfo, _ *mesos.FrameworkInfo, slave *mesos.SlaveInfo) (*mesos.Labels, error) {
	return withLabel(task, h.Label, slave.GetHostname()), nil
}

// MasterLaunchTaskLabelDecorator adds MasterLabel=<framework name> to the
// task's labels.
func (h *Hook) MasterLaunchTaskLabelDecorator(task *mesos.TaskInfo, framework *mesos.FrameworkInfo, _ *mesos.SlaveInfo) (*mesos.Labels, error) {
	return withLabel(task, h.MasterLabel, framework.GetName()), nil
}

// withLabel is the task's labels and key=value (the hook's result
// replaces the task's labels, so it keeps those it has).
func withLabel(task *mesos.TaskInfo, key, value string) *mesos.Labels {
	labels := &mesos.Labels{}
	if task.GetLabels() != nil {
		labels = proto.Clone(task.GetLabels()).(*mesos.Labels)
	}
	labels.Labels = append(labels.Labels, &mesos.Label{Key: proto.String(key), Value: proto.String(value)})
	return labels
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
