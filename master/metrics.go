package master

import (
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/metrics"
)

// masterMetrics are the master/* metrics of Mesos, by their Mesos names.
type masterMetrics struct {
	droppedMessages *metrics.Counter

	registerFramework, reregisterFramework, unregisterFramework, deactivateFramework *metrics.Counter
	resourceRequest, launchTasks, reviveOffers, killTask, statusUpdateAck            *metrics.Counter
	frameworkToExecutor, reconcileTasks, registerSlave, reregisterSlave              *metrics.Counter
	unregisterSlave, statusUpdate, exitedExecutor, authenticate                      *metrics.Counter

	validStatusUpdates, invalidStatusUpdates                *metrics.Counter
	validAcks, invalidAcks                                  *metrics.Counter
	validFrameworkToExecutor, invalidFrameworkToExecutor    *metrics.Counter
	slaveRegistrations, slaveReregistrations, slaveRemovals *metrics.Counter
	slaveShutdownsScheduled, slaveShutdownsCompleted        *metrics.Counter
	slaveShutdownsCanceled                                  *metrics.Counter
	tasks                                                   map[mesos.TaskState]*metrics.Counter
}

func newMasterMetrics(m *master) *masterMetrics {
	reg := m.Runtime().Metrics()
	counter := func(name string) *metrics.Counter {
		c, err := reg.NewCounter("master/" + name)
		if err != nil {
			m.log.Error("cannot register metric", "name", name, "err", err)
			c, _ = metrics.NewRegistry().NewCounter(name) // detached, keeps the master running
		}
		return c
	}
	c := &masterMetrics{
		droppedMessages:            counter("dropped_messages"),
		registerFramework:          counter("messages_register_framework"),
		reregisterFramework:        counter("messages_reregister_framework"),
		unregisterFramework:        counter("messages_unregister_framework"),
		deactivateFramework:        counter("messages_deactivate_framework"),
		resourceRequest:            counter("messages_resource_request"),
		launchTasks:                counter("messages_launch_tasks"),
		reviveOffers:               counter("messages_revive_offers"),
		killTask:                   counter("messages_kill_task"),
		statusUpdateAck:            counter("messages_status_update_acknowledgment"),
		frameworkToExecutor:        counter("messages_framework_to_executor"),
		reconcileTasks:             counter("messages_reconcile_tasks"),
		registerSlave:              counter("messages_register_slave"),
		reregisterSlave:            counter("messages_reregister_slave"),
		unregisterSlave:            counter("messages_unregister_slave"),
		statusUpdate:               counter("messages_status_update"),
		exitedExecutor:             counter("messages_exited_executor"),
		authenticate:               counter("messages_authenticate"),
		validStatusUpdates:         counter("valid_status_updates"),
		invalidStatusUpdates:       counter("invalid_status_updates"),
		validAcks:                  counter("valid_status_update_acknowledgements"),
		invalidAcks:                counter("invalid_status_update_acknowledgements"),
		validFrameworkToExecutor:   counter("valid_framework_to_executor_messages"),
		invalidFrameworkToExecutor: counter("invalid_framework_to_executor_messages"),
		slaveRegistrations:         counter("slave_registrations"),
		slaveReregistrations:       counter("slave_reregistrations"),
		slaveRemovals:              counter("slave_removals"),
		slaveShutdownsScheduled:    counter("slave_shutdowns_scheduled"),
		slaveShutdownsCompleted:    counter("slave_shutdowns_completed"),
		slaveShutdownsCanceled:     counter("slave_shutdowns_canceled"),
		tasks:                      make(map[mesos.TaskState]*metrics.Counter),
	}
	// Task state counters count transitions into each state.
	for state, name := range map[mesos.TaskState]string{
		mesos.TaskState_TASK_STAGING:  "tasks_staging",
		mesos.TaskState_TASK_STARTING: "tasks_starting",
		mesos.TaskState_TASK_FINISHED: "tasks_finished",
		mesos.TaskState_TASK_FAILED:   "tasks_failed",
		mesos.TaskState_TASK_KILLED:   "tasks_killed",
		mesos.TaskState_TASK_LOST:     "tasks_lost",
		mesos.TaskState_TASK_ERROR:    "tasks_error",
	} {
		c.tasks[state] = counter(name)
	}

	gauge := func(name string, fn func() float64) {
		if err := m.Gauge("master/"+name, fn); err != nil {
			m.log.Error("cannot register metric", "name", name, "err", err)
		}
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge("elected", func() float64 { return b2f(m.leader) })
	gauge("event_queue_messages", func() float64 { n, _, _ := m.QueueDepth(); return float64(n) })
	gauge("event_queue_dispatches", func() float64 { _, n, _ := m.QueueDepth(); return float64(n) })
	gauge("event_queue_http_requests", func() float64 { _, _, n := m.QueueDepth(); return float64(n) })
	gauge("uptime_secs", func() float64 { return m.Clock().Now().Sub(m.start).Seconds() })
	gauge("outstanding_offers", func() float64 { return float64(len(m.offers)) })
	gauge("tasks_running", func() float64 { return float64(m.countTasks(mesos.TaskState_TASK_RUNNING)) })
	gauge("slaves_active", func() float64 { return float64(m.countSlaves(func(s *slave) bool { return s.active })) })
	gauge("slaves_inactive", func() float64 { return float64(m.countSlaves(func(s *slave) bool { return !s.active })) })
	gauge("slaves_connected", func() float64 { return float64(m.countSlaves(func(s *slave) bool { return s.connected })) })
	gauge("slaves_disconnected", func() float64 { return float64(m.countSlaves(func(s *slave) bool { return !s.connected })) })
	gauge("frameworks_active", func() float64 { return float64(m.countFrameworks(func(f *framework) bool { return f.active })) })
	gauge("frameworks_inactive", func() float64 { return float64(m.countFrameworks(func(f *framework) bool { return !f.active })) })
	gauge("frameworks_connected", func() float64 { return float64(m.countFrameworks(func(f *framework) bool { return f.connected })) })
	gauge("frameworks_disconnected", func() float64 { return float64(m.countFrameworks(func(f *framework) bool { return !f.connected })) })
	for _, name := range []string{"cpus", "mem", "disk"} {
		for _, revocable := range []bool{false, true} {
			name, revocable, prefix := name, revocable, name
			if revocable {
				prefix += "_revocable"
			}
			gauge(prefix+"_total", func() float64 { t, _ := m.scalarTotals(name, revocable); return t })
			gauge(prefix+"_used", func() float64 { _, u := m.scalarTotals(name, revocable); return u })
			gauge(prefix+"_percent", func() float64 {
				t, u := m.scalarTotals(name, revocable)
				if t == 0 {
					return 0
				}
				return u / t
			})
		}
	}
	return c
}

// countTaskState counts a transition into state.
func (c *masterMetrics) countTaskState(state mesos.TaskState) {
	if ctr := c.tasks[state]; ctr != nil {
		ctr.Inc()
	}
}

func (m *master) countTasks(state mesos.TaskState) int {
	n := 0
	for _, f := range m.frameworks {
		for _, t := range f.tasks {
			if t.GetState() == state {
				n++
			}
		}
	}
	return n
}

func (m *master) countSlaves(pred func(*slave) bool) int {
	n := 0
	for _, s := range m.slaves {
		if pred(s) {
			n++
		}
	}
	return n
}

func (m *master) countFrameworks(pred func(*framework) bool) int {
	n := 0
	for _, f := range m.frameworks {
		if pred(f) {
			n++
		}
	}
	return n
}

// scalarTotals sums a scalar over the slaves: total and used.
// It reads the books the master keeps as slaves change.
func (m *master) scalarTotals(name string, revocable bool) (total, used float64) {
	return m.books.get(name, revocable)
}
