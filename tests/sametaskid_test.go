package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// Two frameworks run a task with the same id "t" on one real slave at the
// same time. The slave keeps one status update stream per (framework,
// task), so each framework gets exactly its own RUNNING and FINISHED,
// every acknowledgement reaches the right stream (nothing is resent), and
// the master's task counters and used resources are right at every step.
func TestTwoFrameworksSameTaskIDOnOneSlave(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := c.StartSlave(slaveResources, nil)

	checkMetrics := func(step string, running, finished, cpus, mem float64) {
		t.Helper()
		c.Settle()
		snap := c.RT.Metrics().Snapshot(t.Context())
		got := fmt.Sprintf("running %v finished %v cpus %v mem %v",
			snap["master/tasks_running"], snap["master/tasks_finished"], snap["master/cpus_used"], snap["master/mem_used"])
		want := fmt.Sprintf("running %v finished %v cpus %v mem %v", running, finished, cpus, mem)
		if got != want {
			t.Fatalf("%s: master metrics %s, want %s", step, got, want)
		}
	}

	// Framework a takes the first offer; its task waits for a file in its
	// sandbox (or ends by itself after 10 s).
	da, sa, fa := c.StartFramework(cluster.FrameworkInfo("a"), scheduler.Options{})
	offers := sa.NextOffers()
	c.Advance(time.Second)
	oa := cluster.Await(c, offers)[0]
	runningA, finishedA := sa.NextUpdate(), sa.NextUpdate()
	const waitThenEnd = "for i in $(seq 200); do [ -f go ] && break; sleep 0.05; done; echo a done"
	_, _ = da.LaunchTasks([]*mesos.OfferID{oa.GetId()}, []*mesos.TaskInfo{cluster.CommandTask("t", oa, "cpus:1;mem:64", waitThenEnd)}, nil)
	if st := cluster.Await(c, runningA); st.GetState() != mesos.TaskState_TASK_RUNNING || st.GetTaskId().GetValue() != "t" {
		t.Fatalf("framework a's first update: %v %v", st.GetTaskId().GetValue(), st.GetState())
	}
	checkMetrics("a running", 1, 0, 1, 64)

	// Framework b gets what is left and runs its own "t", a short sleep.
	db, sb, fb := c.StartFramework(cluster.FrameworkInfo("b"), scheduler.Options{})
	if fa.GetValue() == fb.GetValue() {
		t.Fatalf("both frameworks have id %s", fa.GetValue())
	}
	offers = sb.NextOffers()
	c.Advance(time.Second)
	ob := cluster.Await(c, offers)[0]
	runningB, finishedB := sb.NextUpdate(), sb.NextUpdate()
	_, _ = db.LaunchTasks([]*mesos.OfferID{ob.GetId()}, []*mesos.TaskInfo{cluster.CommandTask("t", ob, "cpus:1;mem:64", "sleep 0.2; echo b done")}, nil)
	if st := cluster.Await(c, runningB); st.GetState() != mesos.TaskState_TASK_RUNNING || st.GetTaskId().GetValue() != "t" {
		t.Fatalf("framework b's first update: %v %v", st.GetTaskId().GetValue(), st.GetState())
	}
	checkMetrics("both running", 2, 0, 2, 128)

	// b's task ends first; a's keeps running and a hears nothing.
	if st := cluster.Await(c, finishedB); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("framework b's second update: %v %q", st.GetState(), st.GetMessage())
	}
	checkMetrics("b finished", 1, 1, 1, 64)
	cluster.AssertPending(c, finishedA)

	// Then a's.
	sandboxes := globNoLatest(filepath.Join(work, "slaves", "*", "frameworks", fa.GetValue(), "executors", "t", "runs", "*"))
	if len(sandboxes) != 1 {
		t.Fatalf("framework a's sandbox: %v", sandboxes)
	}
	if err := os.WriteFile(filepath.Join(sandboxes[0], "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := cluster.Await(c, finishedA); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("framework a's second update: %v %q", st.GetState(), st.GetMessage())
	}
	checkMetrics("both finished", 0, 2, 0, 0)

	// Every acknowledgement reached its stream: nothing is resent, even
	// after the longest resend interval.
	extraA, extraB := sa.NextUpdate(), sb.NextUpdate()
	for range 4 {
		c.Advance(10 * time.Minute)
	}
	cluster.AssertPending(c, extraA)
	cluster.AssertPending(c, extraB)
	checkMetrics("after resend intervals", 0, 2, 0, 0)
}
