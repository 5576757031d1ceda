package slave

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Oversubscription: a resource estimator says what the slave may offer
// as revocable resources, and a QoS controller says which executors
// using revocable resources to evict. Both answer with futures and run as
// processes of their own (`resource-estimator(N)`, `qos-controller(N)`),
// called by dispatch; the slave polls the estimator every
// OversubscribedResourcesInterval and sends the master an
// UpdateSlaveMessage when the revocable total (what revocable executors
// hold plus the estimate) changes, and polls the controller every
// QoSCorrectionInterval.

// ResourceEstimator estimates the resources the slave may oversubscribe.
type ResourceEstimator interface {
	// Oversubscribable returns what may be offered as revocable now,
	// beyond what revocable executors already hold.
	Oversubscribable() future.Future[resources.Resources]
}

// ExecutorRef names an executor of a framework.
type ExecutorRef struct{ FrameworkID, ExecutorID string }

// QoSController decides which executors that use revocable resources to
// evict (Mesos's QoS corrections, all of kind KILL).
type QoSController interface {
	// Corrections returns, of the executors using revocable resources,
	// those to kill now.
	Corrections(revocable []ExecutorRef) future.Future[[]ExecutorRef]
}

// Module names of the built-in estimators and controllers (package
// modules, kinds ResourceEstimator and QoSController). Mesos's own module
// names for the fixed estimator and the load controller are accepted as
// well, so that a Mesos --modules configuration works unchanged.
const (
	NoopEstimatorName      = "noop"
	FixedEstimatorName     = "fixed"
	MesosFixedEstimator    = "org_apache_mesos_FixedResourceEstimator"
	NoopQoSControllerName  = "noop"
	LoadQoSControllerName  = "load"
	MesosLoadQoSController = "org_apache_mesos_LoadQoSController"
)

func init() {
	RegisterResourceEstimator(NoopEstimatorName, func(p modules.Parameters) (ResourceEstimator, error) {
		return NoopEstimator{}, noParameters(p)
	})
	RegisterResourceEstimator(FixedEstimatorName, fixedFromParameters)
	RegisterResourceEstimator(MesosFixedEstimator, fixedFromParameters)
	RegisterQoSController(NoopQoSControllerName, func(p modules.Parameters) (QoSController, error) {
		return NoopQoSController{}, noParameters(p)
	})
	RegisterQoSController(LoadQoSControllerName, loadFromParameters)
	RegisterQoSController(MesosLoadQoSController, loadFromParameters)
}

func noParameters(p modules.Parameters) error {
	for k := range p {
		return fmt.Errorf("unknown parameter %q", k)
	}
	return nil
}

// RegisterResourceEstimator makes an estimator available by name to
// --resource_estimator: a module of kind ResourceEstimator in package
// modules' registry, built from its parameters (--modules, and the
// slave's --resource_estimator_params). It panics when the name is taken.
func RegisterResourceEstimator(name string, ctor func(modules.Parameters) (ResourceEstimator, error)) {
	modules.Register(modules.KindResourceEstimator, name, func(p modules.Parameters) (any, error) { return ctor(p) })
}

// RegisterQoSController makes a QoS controller available by name to
// --qos_controller (a module of kind QoSController; see
// RegisterResourceEstimator).
func RegisterQoSController(name string, ctor func(modules.Parameters) (QoSController, error)) {
	modules.Register(modules.KindQoSController, name, func(p modules.Parameters) (any, error) { return ctor(p) })
}

// FlagParameters reads the text of --resource_estimator_params or
// --qos_controller_params as module parameters: `key=value` pairs
// separated by `,` or `;`, or, when the text has no `=`, the resources
// of the fixed estimator (`resources=<text>`, e.g. `cpus:2;mem:512`).
func FlagParameters(text string) (modules.Parameters, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if !strings.Contains(text, "=") {
		return modules.Parameters{"resources": text}, nil
	}
	p := modules.Parameters{}
	for _, kv := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parameters %q: %q is not key=value", text, kv)
		}
		p[k] = v
	}
	return p, nil
}

// NewResourceEstimator builds the estimator module name with its
// parameters from mods (nil: none) and from params, the text of
// --resource_estimator_params (see FlagParameters), which wins.
func NewResourceEstimator(mods *modules.Config, name, params string) (ResourceEstimator, error) {
	p, err := FlagParameters(params)
	if err != nil {
		return nil, err
	}
	return modules.New[ResourceEstimator](mods, modules.KindResourceEstimator, name, p)
}

// NewQoSController builds the QoS controller module name (see
// NewResourceEstimator; params is --qos_controller_params).
func NewQoSController(mods *modules.Config, name, params string) (QoSController, error) {
	p, err := FlagParameters(params)
	if err != nil {
		return nil, err
	}
	return modules.New[QoSController](mods, modules.KindQoSController, name, p)
}

// NoopEstimator oversubscribes nothing.
type NoopEstimator struct{}

// Oversubscribable implements ResourceEstimator.
func (NoopEstimator) Oversubscribable() future.Future[resources.Resources] {
	return future.Ready(resources.Resources(nil))
}

// FixedEstimator always offers the same resources as revocable (Mesos's
// fixed estimator module).
type FixedEstimator struct{ Resources resources.Resources }

// fixedFromParameters builds the fixed estimator from its parameter
// resources (required).
func fixedFromParameters(p modules.Parameters) (ResourceEstimator, error) {
	rs, ok := p["resources"]
	if !ok {
		return nil, errors.New("fixed resource estimator: the parameter resources is required")
	}
	for k := range p {
		if k != "resources" {
			return nil, fmt.Errorf("fixed resource estimator: unknown parameter %q", k)
		}
	}
	return NewFixedEstimator(rs)
}

// NewFixedEstimator reads the fixed resources in the text form
// (`cpus:2;mem:512`, unreserved only).
func NewFixedEstimator(params string) (ResourceEstimator, error) {
	rs, err := resources.Parse(params, "*")
	if err != nil {
		return nil, fmt.Errorf("fixed resource estimator: %w", err)
	}
	if !rs.Unreserved().Equal(rs) {
		return nil, fmt.Errorf("fixed resource estimator: %v: oversubscribed resources cannot be reserved", rs)
	}
	return FixedEstimator{Resources: rs}, nil
}

// Oversubscribable implements ResourceEstimator.
func (e FixedEstimator) Oversubscribable() future.Future[resources.Resources] {
	return future.Ready(markRevocable(e.Resources))
}

func markRevocable(rs resources.Resources) resources.Resources {
	var out resources.Resources
	for _, r := range rs {
		r.Revocable = true
		out = out.Plus(resources.Resources{r})
	}
	return out
}

// NoopQoSController never corrects.
type NoopQoSController struct{}

// Corrections implements QoSController.
func (NoopQoSController) Corrections([]ExecutorRef) future.Future[[]ExecutorRef] {
	return future.Ready[[]ExecutorRef](nil)
}

// LoadQoSController evicts every executor using revocable resources when
// the machine's 5-minute (or 15-minute) load average passes its threshold
// (Mesos's load QoS controller).
type LoadQoSController struct {
	Threshold5, Threshold15 float64 // 0: no threshold
	// LoadAverage reads the 1-, 5- and 15-minute load averages (default:
	// /proc/loadavg).
	LoadAverage func() ([3]float64, error)
}

// NewLoadQoSController reads `load_threshold_5min=X,load_threshold_15min=Y`
// (either may be left out).
func NewLoadQoSController(params string) (QoSController, error) {
	p, err := FlagParameters(params)
	if err != nil {
		return nil, fmt.Errorf("load QoS controller: %w", err)
	}
	if _, fixed := p["resources"]; fixed && len(p) == 1 {
		return nil, fmt.Errorf("load QoS controller: parameters %q are not key=value", params)
	}
	return loadFromParameters(p)
}

// loadFromParameters builds the load controller from its parameters
// load_threshold_5min and load_threshold_15min.
func loadFromParameters(p modules.Parameters) (QoSController, error) {
	c := &LoadQoSController{LoadAverage: procLoadAverage}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := p[k]
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("load QoS controller: bad %s %q", k, v)
		}
		switch k {
		case "load_threshold_5min":
			c.Threshold5 = x
		case "load_threshold_15min":
			c.Threshold15 = x
		default:
			return nil, fmt.Errorf("load QoS controller: unknown parameter %q", k)
		}
	}
	if c.Threshold5 == 0 && c.Threshold15 == 0 {
		return nil, fmt.Errorf("load QoS controller: give load_threshold_5min or load_threshold_15min")
	}
	return c, nil
}

// Corrections implements QoSController.
func (c *LoadQoSController) Corrections(revocable []ExecutorRef) future.Future[[]ExecutorRef] {
	load, err := c.LoadAverage()
	if err != nil {
		return future.Failed[[]ExecutorRef](fmt.Errorf("load QoS controller: %w", err))
	}
	if (c.Threshold5 > 0 && load[1] > c.Threshold5) || (c.Threshold15 > 0 && load[2] > c.Threshold15) {
		return future.Ready(revocable)
	}
	return future.Ready[[]ExecutorRef](nil)
}

func procLoadAverage() ([3]float64, error) {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return out, fmt.Errorf("/proc/loadavg: %q", b)
	}
	for i := range out {
		if out[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return out, fmt.Errorf("/proc/loadavg: %w", err)
		}
	}
	return out, nil
}

// pluginProcess is the process an estimator or a controller runs in: the
// slave reaches it by dispatch only.
type pluginProcess struct{ process.Process }

// startOversubscription spawns the estimator's and the controller's
// processes and starts polling them.
func (s *slave) startOversubscription() {
	rt := s.Runtime()
	if s.cfg.ResourceEstimator != nil {
		pid, err := rt.Spawn(&pluginProcess{}, rt.GenerateID("resource-estimator"))
		if err != nil {
			s.log.Error("cannot start the resource estimator", "err", err)
		} else {
			s.estimatorPID = pid
			s.Delay(s.oversubscribedInterval(), s.forwardOversubscribed)
		}
	}
	if s.cfg.QoSController != nil {
		pid, err := rt.Spawn(&pluginProcess{}, rt.GenerateID("qos-controller"))
		if err != nil {
			s.log.Error("cannot start the QoS controller", "err", err)
		} else {
			s.qosPID = pid
			s.Delay(s.qosInterval(), s.qosCorrections)
		}
	}
}

// stopOversubscription terminates the plugin processes.
func (s *slave) stopOversubscription() {
	for _, pid := range []process.UPID{s.estimatorPID, s.qosPID} {
		if pid.IsValid() {
			s.Runtime().Terminate(pid)
		}
	}
}

func (s *slave) oversubscribedInterval() time.Duration {
	if s.cfg.OversubscribedResourcesInterval > 0 {
		return s.cfg.OversubscribedResourcesInterval
	}
	return 15 * time.Second
}

func (s *slave) qosInterval() time.Duration {
	// Mesos's default is 0 (as often as the controller answers); a floor
	// keeps a controller that answers at once from spinning.
	return max(s.cfg.QoSCorrectionInterval, 100*time.Millisecond)
}

// forwardOversubscribed asks the estimator, then sends the master the new
// revocable total if it changed.
func (s *slave) forwardOversubscribed() {
	est := s.cfg.ResourceEstimator
	process.DispatchF(s.Runtime(), s.estimatorPID, est.Oversubscribable).OnAny(process.Defer1(s.Runtime(), s.Self(), func(f future.Future[resources.Resources]) {
		defer s.Delay(s.oversubscribedInterval(), s.forwardOversubscribed)
		estimate, err := f.Get()
		if err != nil {
			s.log.Warn("the resource estimator failed", "err", err)
			return
		}
		total := markRevocable(estimate)
		for _, f := range inIDOrder(s.frameworks) {
			for _, e := range inIDOrder(f.executors) {
				if e.state != executorTerminated {
					total = total.Plus(s.executorResources(e).Revocable())
				}
			}
		}
		if s.oversubscribed != nil && total.Equal(*s.oversubscribed) {
			return
		}
		s.oversubscribed = &total
		s.sendOversubscribed()
	}))
}

// sendOversubscribed sends the latest revocable total to the master (also
// after each (re-)registration).
func (s *slave) sendOversubscribed() {
	if s.oversubscribed == nil || !s.registered || s.info.Id == nil {
		return
	}
	s.log.Info("forwarding oversubscribed resources", "resources", s.oversubscribed.String())
	s.send(s.cfg.Master, &messages.UpdateSlaveMessage{SlaveId: s.info.Id, OversubscribedResources: s.oversubscribed.ToProto()})
}

// qosCorrections asks the controller which revocable executors to evict
// and destroys them: their tasks are lost with REASON_CONTAINER_PREEMPTED
// (17, REASON_EXECUTOR_PREEMPTED in Mesos 0.25).
func (s *slave) qosCorrections() {
	var revocable []ExecutorRef
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			if e.state != executorTerminated && e.state != executorTerminating && !s.executorResources(e).Revocable().IsEmpty() {
				revocable = append(revocable, ExecutorRef{f.id, e.id})
			}
		}
	}
	qos := s.cfg.QoSController
	process.DispatchF(s.Runtime(), s.qosPID, func() future.Future[[]ExecutorRef] { return qos.Corrections(revocable) }).
		OnAny(process.Defer1(s.Runtime(), s.Self(), func(f future.Future[[]ExecutorRef]) {
			defer s.Delay(s.qosInterval(), s.qosCorrections)
			kills, err := f.Get()
			if err != nil {
				s.log.Warn("the QoS controller failed", "err", err)
				return
			}
			sort.Slice(kills, func(i, j int) bool {
				return kills[i].FrameworkID+"/"+kills[i].ExecutorID < kills[j].FrameworkID+"/"+kills[j].ExecutorID
			})
			for _, k := range kills {
				fw := s.frameworks[k.FrameworkID]
				if fw == nil {
					continue
				}
				e := fw.executors[k.ExecutorID]
				if e == nil || e.state == executorTerminated || e.state == executorTerminating || s.executorResources(e).Revocable().IsEmpty() {
					continue
				}
				s.log.Info("QoS correction: killing an executor that uses revocable resources", "executor", e.id, "framework", fw.id)
				s.metrics.executorsPreempted.Inc()
				s.destroyExecutor(e, mesos.TaskStatus_REASON_CONTAINER_PREEMPTED)
			}
		}))
}
