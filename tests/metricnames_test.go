package tests

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/tests/cluster"
)

// documentedMasterMetrics are the master's /metrics/snapshot names the
// Mesos docs list (docs-inventory.md §8; frameworks/<principal>/... are
// checked with a principal below).
var documentedMasterMetrics = strings.Fields(`
master/cpus_percent master/cpus_used master/cpus_total
master/cpus_revocable_percent master/cpus_revocable_total master/cpus_revocable_used
master/disk_percent master/disk_used master/disk_total
master/disk_revocable_percent master/disk_revocable_total master/disk_revocable_used
master/mem_percent master/mem_used master/mem_total
master/mem_revocable_percent master/mem_revocable_total master/mem_revocable_used
master/elected master/uptime_secs
system/cpus_total system/load_15min system/load_5min system/load_1min system/mem_free_bytes system/mem_total_bytes
master/slave_registrations master/slave_removals master/slave_reregistrations
master/slave_shutdowns_scheduled master/slave_shutdowns_cancelled master/slave_shutdowns_completed
master/slaves_active master/slaves_connected master/slaves_disconnected master/slaves_inactive
master/frameworks_active master/frameworks_connected master/frameworks_disconnected master/frameworks_inactive
master/outstanding_offers
master/tasks_error master/tasks_failed master/tasks_finished master/tasks_killed master/tasks_lost
master/tasks_running master/tasks_staging master/tasks_starting
master/invalid_framework_to_executor_messages master/invalid_status_update_acknowledgements master/invalid_status_updates
master/dropped_messages master/messages_authenticate master/messages_deactivate_framework master/messages_exited_executor
master/messages_framework_to_executor master/messages_kill_task master/messages_launch_tasks master/messages_reconcile_tasks
master/messages_register_framework master/messages_register_slave master/messages_reregister_framework
master/messages_reregister_slave master/messages_resource_request master/messages_revive_offers
master/messages_status_update master/messages_status_update_acknowledgment master/messages_unregister_framework
master/messages_unregister_slave master/valid_framework_to_executor_messages
master/valid_status_update_acknowledgements master/valid_status_updates
master/event_queue_dispatches master/event_queue_http_requests master/event_queue_messages
registrar/state_fetch_ms registrar/state_store_ms
registrar/state_store_ms/max registrar/state_store_ms/min registrar/state_store_ms/p50 registrar/state_store_ms/p90
registrar/state_store_ms/p95 registrar/state_store_ms/p99 registrar/state_store_ms/p999 registrar/state_store_ms/p9999
`)

// missingMetrics returns, sorted, the documented names snap lacks.
func missingMetrics(snap map[string]float64, documented []string) []string {
	var missing []string
	for _, name := range documented {
		if _, has := snap[name]; !has {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}

// The master's /metrics/snapshot has every name the docs list (§8): the
// test prints what is missing.
func TestMasterMetricNamesAsDocumented(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartFakeSlave(slaveResources)
	c.Advance(time.Second)
	snap := c.RT.Metrics().Snapshot(t.Context())
	missing := missingMetrics(snap, documentedMasterMetrics)
	if len(missing) > 0 {
		t.Errorf("documented metrics missing from /metrics/snapshot:\n  %s", strings.Join(missing, "\n  "))
	}
}

// documentedSlaveMetrics are the slave's /metrics/snapshot names the Mesos
// docs list (docs-inventory.md §8), system/* aside (checked on the
// master, served by both).
var documentedSlaveMetrics = strings.Fields(`
slave/cpus_percent slave/cpus_used slave/cpus_total
slave/cpus_revocable_percent slave/cpus_revocable_total slave/cpus_revocable_used
slave/disk_percent slave/disk_used slave/disk_total
slave/disk_revocable_percent slave/disk_revocable_total slave/disk_revocable_used
slave/mem_percent slave/mem_used slave/mem_total
slave/mem_revocable_percent slave/mem_revocable_total slave/mem_revocable_used
slave/registered slave/uptime_secs
slave/frameworks_active slave/executors_registering slave/executors_running
slave/executors_terminated slave/executors_terminating
slave/tasks_failed slave/tasks_finished slave/tasks_killed slave/tasks_lost
slave/tasks_running slave/tasks_staging slave/tasks_starting
slave/invalid_framework_messages slave/invalid_status_updates
slave/valid_framework_messages slave/valid_status_updates
`)

// The slave's /metrics/snapshot has every name the docs list (§8); the
// test prints what is missing.
func TestSlaveMetricNamesAsDocumented(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, nil)
	snap := c.RT.Metrics().Snapshot(t.Context())
	missing := missingMetrics(snap, documentedSlaveMetrics)
	if len(missing) > 0 {
		t.Errorf("documented slave metrics missing from /metrics/snapshot:\n  %s", strings.Join(missing, "\n  "))
	}
}
