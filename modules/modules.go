// Package modules is gomesos's answer to Mesos modules: a registry of
// extension points by kind and name. Go has no portable dlopen, so a
// module is a Go package that registers its factories in an init
// function; a custom main imports it (for its side effect) and calls the
// public package daemon's MasterMain or SlaveMain, and --modules then
// names it exactly as Mesos's JSON does (libraries[].modules[].name with
// parameters; a library's file or name is accepted and ignored). An
// unknown name, in --modules or in a flag that names a module, fails
// start-up with the list of known ones. See examples/hook and
// examples/estimator for worked examples.
//
// Every kind is resolved through the registry; the flag that names it,
// the interface a module implements and the helper that registers one:
//
//   - Hook: the slave's --hooks (any of RunTaskLabelDecorator,
//     ExecutorEnvironmentDecorator, RemoveExecutorHook) and the master's
//     --hooks (MasterLaunchTaskLabelDecorator); Register.
//   - Isolator: the slave's --isolation (containerizer.Isolator, built
//     from containerizer.IsolatorConfig, whose Parameters are the
//     module's); containerizer.RegisterIsolator. Built in: posix/cpu,
//     posix/mem, cgroups/cpu, cgroups/mem.
//   - Authenticator: the master's --authenticators (auth.Authenticator);
//     built in: crammd5.
//   - Authenticatee: the slave's --authenticatee, and a scheduler
//     driver's Options.Authenticatee (auth.Authenticatee); built in:
//     crammd5.
//   - ResourceEstimator: the slave's --resource_estimator
//     (slave.ResourceEstimator); slave.RegisterResourceEstimator. Built
//     in: noop, fixed (also org_apache_mesos_FixedResourceEstimator).
//   - QoSController: the slave's --qos_controller (slave.QoSController);
//     slave.RegisterQoSController. Built in: noop, load (also
//     org_apache_mesos_LoadQoSController).
//   - ContainerLogger: the slave's --container_logger
//     (containerizer.ContainerLogger, asked by the Mesos containerizer
//     only); containerizer.RegisterContainerLogger. Built in: sandbox.
//   - Allocator: the master's --allocator (an allocator.Constructor);
//     allocator.Register. Built in: HierarchicalDRF.
//
// One name may serve several kinds (crammd5 is both an authenticator and
// an authenticatee); --modules' parameters are given by name to each.
// There are no anonymous modules (Go packages can run code in init).
package modules

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/mesos"
)

// Kind is an extension point.
type Kind string

// The extension points.
const (
	KindHook              Kind = "Hook"
	KindIsolator          Kind = "Isolator"
	KindAuthenticator     Kind = "Authenticator"
	KindAuthenticatee     Kind = "Authenticatee"
	KindResourceEstimator Kind = "ResourceEstimator"
	KindQoSController     Kind = "QoSController"
	KindContainerLogger   Kind = "ContainerLogger"
	KindAllocator         Kind = "Allocator"
)

// Parameters are a module's key/value parameters from --modules.
type Parameters map[string]string

// Factory builds a module instance from its parameters.
type Factory func(Parameters) (any, error)

var (
	mu       sync.Mutex
	registry = map[Kind]map[string]Factory{}
)

// Register makes a module of kind available under name. It panics on a
// duplicate name (a programming error, found at start-up).
func Register(kind Kind, name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if registry[kind] == nil {
		registry[kind] = map[string]Factory{}
	}
	if _, dup := registry[kind][name]; dup {
		panic(fmt.Sprintf("modules: %s %q registered twice", kind, name))
	}
	registry[kind][name] = f
}

// Names lists the registered modules of kind, sorted.
func Names(kind Kind) []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(registry[kind]))
	for n := range registry[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// all lists every registered module as kind/name.
func all() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for k, m := range registry {
		for n := range m {
			out = append(out, string(k)+"/"+n)
		}
	}
	sort.Strings(out)
	return out
}

// known says whether any kind has a module called name.
func known(name string) bool {
	mu.Lock()
	defer mu.Unlock()
	for _, m := range registry {
		if _, ok := m[name]; ok {
			return true
		}
	}
	return false
}

func factory(kind Kind, name string) (Factory, bool) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := registry[kind][name]
	return f, ok
}

// Config is what --modules names: each module with its parameters.
type Config struct {
	params map[string]Parameters
}

// jsonModules is Mesos's --modules JSON.
type jsonModules struct {
	Libraries []struct {
		File    string `json:"file"`
		Name    string `json:"name"`
		Modules []struct {
			Name       string `json:"name"`
			Parameters []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"parameters"`
		} `json:"modules"`
	} `json:"libraries"`
}

// Parse reads --modules: Mesos's JSON, inline or the path of a file
// holding it (file:// values are read by the flags package already). Every
// module it names must be registered; an unknown one is an error that
// lists the known ones.
func Parse(value string) (*Config, error) {
	c := &Config{params: map[string]Parameters{}}
	value = strings.TrimSpace(value)
	if value == "" {
		return c, nil
	}
	data := []byte(value)
	if !strings.HasPrefix(value, "{") {
		b, err := os.ReadFile(strings.TrimPrefix(value, "file://"))
		if err != nil {
			return nil, fmt.Errorf("--modules: %w", err)
		}
		data = b
	}
	var j jsonModules
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("--modules: not Mesos's modules JSON: %w", err)
	}
	for _, lib := range j.Libraries {
		for _, m := range lib.Modules {
			if m.Name == "" {
				return nil, errors.New("--modules: a module without a name")
			}
			if !known(m.Name) {
				return nil, fmt.Errorf("--modules: unknown module %q (known: %s)", m.Name, strings.Join(all(), ", "))
			}
			p := Parameters{}
			for _, kv := range m.Parameters {
				p[kv.Key] = kv.Value
			}
			c.params[m.Name] = p
		}
	}
	return c, nil
}

// Create builds the module name of kind with its --modules parameters
// (none when --modules does not list it). A nil Config has no
// parameters. An unknown name is an error that lists the known modules
// of kind.
func (c *Config) Create(kind Kind, name string) (any, error) {
	return c.CreateWith(kind, name, nil)
}

// CreateWith is Create with extra parameters, which take precedence over
// those --modules gives (a daemon's own flags for the module, such as
// the slave's --resource_estimator_params).
func (c *Config) CreateWith(kind Kind, name string, extra Parameters) (any, error) {
	f, ok := factory(kind, name)
	if !ok {
		return nil, fmt.Errorf("unknown %s module %q (known: %s)", kind, name, strings.Join(Names(kind), ", "))
	}
	var p Parameters
	if base := c.Params(name); len(base) > 0 || len(extra) > 0 {
		p = Parameters{}
		maps.Copy(p, base)
		maps.Copy(p, extra)
	}
	m, err := f(p)
	if err != nil {
		return nil, fmt.Errorf("%s module %q: %w", kind, name, err)
	}
	return m, nil
}

// New builds the module name of kind, as CreateWith does, and checks
// that it is a T (the interface of its kind); a module of the wrong type
// is an error naming both.
func New[T any](c *Config, kind Kind, name string, extra Parameters) (T, error) {
	var zero T
	m, err := c.CreateWith(kind, name, extra)
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("%s module %q is a %T, not a %T", kind, name, m, (*T)(nil))
	}
	return t, nil
}

// Params returns the parameters --modules gives the module name (nil
// when it is not listed, or for a nil Config).
func (c *Config) Params(name string) Parameters {
	if c == nil {
		return nil
	}
	return c.params[name]
}

// Listed says whether --modules lists the module name.
func (c *Config) Listed(name string) bool {
	if c == nil {
		return false
	}
	_, ok := c.params[name]
	return ok
}

// Hook is a hook module (Mesos 0.25's hooks). A hook implements any of
// the methods below; the master and the slave call them in --hooks
// order, each decorator seeing the result of the one before. A failing
// decorator is logged and changes nothing.
type Hook interface{}

// RunTaskLabelDecorator returns the labels a task launched on this slave
// carries from then on (the slave's run-task hook).
type RunTaskLabelDecorator interface {
	SlaveRunTaskLabelDecorator(task *mesos.TaskInfo, executor *mesos.ExecutorInfo, framework *mesos.FrameworkInfo, slave *mesos.SlaveInfo) (*mesos.Labels, error)
}

// ExecutorEnvironmentDecorator returns variables added to an executor's
// environment before it is launched.
type ExecutorEnvironmentDecorator interface {
	SlaveExecutorEnvironmentDecorator(executor *mesos.ExecutorInfo) (*mesos.Environment, error)
}

// MasterLaunchTaskLabelDecorator returns the labels a task launched
// through this master carries from then on (the master's launch-task
// hook): the master keeps the task with them and sends it so to the
// slave.
type MasterLaunchTaskLabelDecorator interface {
	MasterLaunchTaskLabelDecorator(task *mesos.TaskInfo, framework *mesos.FrameworkInfo, slave *mesos.SlaveInfo) (*mesos.Labels, error)
}

// RemoveExecutorHook is told when an executor has been removed.
type RemoveExecutorHook interface {
	SlaveRemoveExecutorHook(framework *mesos.FrameworkInfo, executor *mesos.ExecutorInfo)
}

// Hooks builds the --hooks list (comma-separated module names).
func (c *Config) Hooks(list string) ([]Hook, error) {
	var out []Hook
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		h, err := c.Create(KindHook, name)
		if err != nil {
			return nil, fmt.Errorf("--hooks: %w", err)
		}
		out = append(out, h)
	}
	return out, nil
}
