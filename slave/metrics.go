package slave

import (
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/metrics"
	"github.com/gomesos/gomesos/resources"
)

// slaveMetrics are the slave/* counters of Mesos. Only the first slave of
// a runtime registers them (one slave per OS process, as in Mesos); others
// count into a detached registry.
type slaveMetrics struct {
	validUpdates, invalidUpdates   *metrics.Counter
	validMessages, invalidMessages *metrics.Counter
	executorsTerminated            *metrics.Counter
	executorsPreempted             *metrics.Counter
	tasks                          map[mesos.TaskState]*metrics.Counter
}

func (s *slave) initMetrics() {
	reg := s.Runtime().Metrics()
	if _, err := reg.NewCounter("slave/valid_status_updates"); err != nil {
		reg = metrics.NewRegistry() // another slave in this runtime owns the names
	} else {
		reg.Remove("slave/valid_status_updates")
	}
	counter := func(name string) *metrics.Counter {
		c, err := reg.NewCounter("slave/" + name)
		if err != nil {
			c, _ = metrics.NewRegistry().NewCounter(name)
		}
		return c
	}
	s.metrics = &slaveMetrics{
		validUpdates:        counter("valid_status_updates"),
		invalidUpdates:      counter("invalid_status_updates"),
		validMessages:       counter("valid_framework_messages"),
		invalidMessages:     counter("invalid_framework_messages"),
		executorsTerminated: counter("executors_terminated"),
		executorsPreempted:  counter("executors_preempted"),
		tasks: map[mesos.TaskState]*metrics.Counter{
			mesos.TaskState_TASK_FAILED:   counter("tasks_failed"),
			mesos.TaskState_TASK_FINISHED: counter("tasks_finished"),
			mesos.TaskState_TASK_KILLED:   counter("tasks_killed"),
			mesos.TaskState_TASK_LOST:     counter("tasks_lost"),
		},
	}
	if reg != s.Runtime().Metrics() {
		return
	}
	gauge := func(name string, fn func() float64) {
		if err := s.Gauge("slave/"+name, fn); err != nil {
			s.log.Debug("metric not registered", "name", name, "err", err)
		}
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge("registered", func() float64 { return b2f(s.registered) })
	gauge("uptime_secs", func() float64 { return s.Clock().Now().Sub(s.start).Seconds() })
	gauge("frameworks_active", func() float64 { return float64(len(s.frameworks)) })
	gauge("executors_registering", func() float64 {
		return float64(s.countExecutors(func(e *executor) bool { return e.state == executorLaunching || e.state == executorRegistering }))
	})
	gauge("executors_running", func() float64 {
		return float64(s.countExecutors(func(e *executor) bool { return e.state == executorRunning }))
	})
	gauge("executors_terminating", func() float64 {
		return float64(s.countExecutors(func(e *executor) bool { return e.state == executorTerminating }))
	})
	for state, name := range map[mesos.TaskState]string{
		mesos.TaskState_TASK_RUNNING: "tasks_running", mesos.TaskState_TASK_STAGING: "tasks_staging", mesos.TaskState_TASK_STARTING: "tasks_starting",
	} {
		state := state
		gauge(name, func() float64 { return float64(s.countTasks(state)) })
	}
	for _, name := range []string{"cpus", "mem", "disk"} {
		name := name
		gauge(name+"_total", func() float64 { return s.total().Scalar(name) })
		gauge(name+"_used", func() float64 { return s.used().Scalar(name) })
		gauge(name+"_percent", func() float64 {
			if t := s.total().Scalar(name); t > 0 {
				return s.used().Scalar(name) / t
			}
			return 0
		})
		revocableTotal := func() float64 {
			if s.oversubscribed == nil {
				return 0
			}
			return s.oversubscribed.Scalar(name)
		}
		gauge(name+"_revocable_total", revocableTotal)
		gauge(name+"_revocable_used", func() float64 { return s.used().Revocable().Scalar(name) })
		gauge(name+"_revocable_percent", func() float64 {
			if t := revocableTotal(); t > 0 {
				return s.used().Revocable().Scalar(name) / t
			}
			return 0
		})
	}
}

func (s *slave) countExecutors(pred func(*executor) bool) int {
	n := 0
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			if pred(e) {
				n++
			}
		}
	}
	return n
}

func (s *slave) countTasks(state mesos.TaskState) int {
	n := 0
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			for _, t := range inIDOrder(e.tasks) {
				if t.GetState() == state {
					n++
				}
			}
		}
	}
	return n
}

func (s *slave) total() resources.Resources { return s.totalResources() }

// used is the resources of the slave's unfinished tasks.
func (s *slave) used() resources.Resources {
	var used resources.Resources
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			for _, t := range inIDOrder(e.tasks) {
				if !mesos.IsTerminal(t.GetState()) {
					used = used.Plus(resources.FromProto(t.GetResources()))
				}
			}
		}
	}
	return used
}

// countTerminal counts a task's move into a terminal state.
func (m *slaveMetrics) countTerminal(state mesos.TaskState) {
	if c := m.tasks[state]; c != nil {
		c.Inc()
	}
}
