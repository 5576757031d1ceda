package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

func waitDone(t *testing.T, c *cluster.Cluster, s *slave.Slave) {
	t.Helper()
	if !process.Await(c.RT, s.Done(), 30*time.Second) { // wall-clock: bounds a test's wait for OS processes
		t.Fatal("slave did not stop")
	}
}

func checkpointingFramework(name string) *mesos.FrameworkInfo {
	info := cluster.FrameworkInfo(name)
	info.Checkpoint = proto.Bool(true)
	return info
}

// sandboxOf finds the sandbox of executor eid under work.
func sandboxOf(t *testing.T, work, eid string) string {
	t.Helper()
	m := globNoLatest(filepath.Join(work, "slaves", "*", "frameworks", "*", "executors", eid, "runs", "*"))
	if len(m) != 1 {
		t.Fatalf("sandbox of %s: %v", eid, m)
	}
	return m[0]
}

// globNoLatest globs pattern, leaving out paths through `latest` links.
func globNoLatest(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	var out []string
	for _, p := range m {
		if !strings.Contains(p+"/", "/latest/") {
			out = append(out, p)
		}
	}
	return out
}

// forkedPID reads the checkpointed executor pid of eid.
func forkedPID(t *testing.T, work, eid string) int {
	t.Helper()
	m := globNoLatest(filepath.Join(work, "meta", "slaves", "*", "frameworks", "*", "executors", eid, "runs", "*", "pids", "forked.pid"))
	if len(m) != 1 {
		t.Fatalf("forked.pid of %s: %v", eid, m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// running says whether pid is a live (not zombie) process.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// A task whose command waits for a file in its sandbox.
const waitForGo = "while [ ! -f go ]; do sleep 0.05; done; echo finished"

func TestSlaveRestartKeepsRunningTask(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	s1, _, work := c.StartSlave(slaveResources, nil)

	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running1 := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, waitForGo)}, nil)
	if st := cluster.Await(c, running1); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v", st.GetState())
	}
	executorPID := forkedPID(t, work, "t1")

	// The slave dies (after the scheduler's acknowledgement reached it);
	// the executor and its task keep running.
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)
	if !running(executorPID) {
		t.Fatal("the executor died with the slave")
	}

	// A new slave on the same work directory takes the executor back and
	// re-registers with the same id.
	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, nil)
	re := cluster.Await(c, reregistered)
	if len(re.GetTasks()) != 1 || re.GetTasks()[0].GetTaskId().GetValue() != "t1" {
		t.Fatalf("executor re-registered with tasks %v", re.GetTasks())
	}
	c.Settle()
	c.Advance(time.Second) // registration backoff
	back := cluster.Await(c, slaveBack)
	if back.GetSlaveId().GetValue() != o.GetSlaveId().GetValue() {
		t.Fatalf("slave came back as %s, want %s", back.GetSlaveId().GetValue(), o.GetSlaveId().GetValue())
	}

	// The task finishes and is reported once.
	finished := sched.NextUpdate()
	extra := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "t1"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("after the restart: %v %q", st.GetState(), st.GetMessage())
	}
	c.Settle()
	c.Advance(time.Minute) // any resend would come within this
	cluster.AssertPending(c, extra)
}

func TestSlaveRecoverCleanupKillsExecutors(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	s1, _, work := c.StartSlave(slaveResources, nil)
	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	runningF := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "sleep 1000")}, nil)
	cluster.Await(c, runningF)
	executorPID := forkedPID(t, work, "t1")
	s1.Detach()
	waitDone(t, c, s1)

	s2, _ := c.SpawnSlave(work, slaveResources, func(cfg *slave.Config) { cfg.Recover = "cleanup" })
	waitDone(t, c, s2)
	if running(executorPID) {
		_ = syscall.Kill(executorPID, syscall.SIGKILL)
		t.Fatal("--recover=cleanup left the executor running")
	}
	if _, err := os.Lstat(filepath.Join(work, "meta", "slaves", "latest")); !os.IsNotExist(err) {
		t.Fatalf("cleanup kept meta/slaves/latest: %v", err)
	}
}

// This test is the README's example of a deterministic test.
func TestSlaveResendsUnacknowledgedUpdateAfterTenSeconds(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})  // a master; the clock is paused
	_, slavePID, _ := c.StartSlave("cpus:2;mem:1024", nil) // a real slave; executors are OS processes
	d, sched, _ := c.StartFramework(cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second) // one allocation interval
	o := cluster.Await(c, offers)[0]
	first := sched.NextUpdate()
	processtest.DropProtobuf[*messages.StatusUpdateAcknowledgementMessage](c.Expect, c.MasterPID, slavePID)
	task := cluster.CommandTask("t1", o, "cpus:1;mem:64", "sleep 1000")
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
	st := cluster.Await(c, first) // TASK_RUNNING; its acknowledgement is dropped
	again := sched.NextUpdate()
	c.Advance(9 * time.Second)
	cluster.AssertPending(c, again) // not resent yet
	c.Advance(time.Second)
	st2 := cluster.Await(c, again) // resent at 10 s
	if st2.GetState() != mesos.TaskState_TASK_RUNNING || string(st2.GetUuid()) != string(st.GetUuid()) {
		t.Fatalf("resent update %v, want the same RUNNING update", st2.GetState())
	}
}

func TestExecutorDyingMidTaskFailsCommandTask(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := startSlave(t, c)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	runningF, failed := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "sleep 1000")}, nil)
	cluster.Await(c, runningF)
	// The command executor is killed under its task.
	if err := syscall.Kill(forkedPIDOf(t, work, "t1"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := cluster.Await(c, failed)
	if st.GetState() != mesos.TaskState_TASK_FAILED || st.GetSource() != mesos.TaskStatus_SOURCE_SLAVE {
		t.Fatalf("after the executor died: %v from %v (%q)", st.GetState(), st.GetSource(), st.GetMessage())
	}
}

// forkedPIDOf finds the executor's OS process for a non-checkpointing
// framework through the slave's /proc view: the process whose working
// directory is the sandbox.
func forkedPIDOf(t *testing.T, work, eid string) int {
	t.Helper()
	dir := sandboxOf(t, work, eid)
	procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
	best := 0
	for _, p := range procs {
		if target, err := os.Readlink(p); err == nil && target == dir {
			pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
			if best == 0 || pid < best {
				best = pid
			}
		}
	}
	if best == 0 {
		t.Fatalf("no process runs in %s", dir)
	}
	return best
}

func TestCustomExecutorThatNeverRegistersIsDestroyed(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	startSlave(t, c)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	lost := sched.NextUpdate()
	exited := processtest.FutureProtobuf[*messages.ExitedExecutorMessage](c.Expect, process.Any, c.MasterPID)
	tk := task("t1", o, "cpus:1;mem:64")
	tk.Command = nil
	tk.Executor = &mesos.ExecutorInfo{
		ExecutorId: &mesos.ExecutorID{Value: proto.String("silent")},
		Command:    &mesos.CommandInfo{Value: proto.String("exec sleep 1000")},
	}
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{tk}, nil)
	c.Settle()
	cluster.AssertPending(c, lost)
	c.Advance(time.Minute) // --executor_registration_timeout
	st := cluster.Await(c, lost)
	if st.GetState() != mesos.TaskState_TASK_LOST || st.GetReason() != mesos.TaskStatus_REASON_EXECUTOR_REGISTRATION_TIMEOUT {
		t.Fatalf("task of an executor that never registered: %v (%v)", st.GetState(), st.GetReason())
	}
	if m := cluster.Await(c, exited); m.GetExecutorId().GetValue() != "silent" {
		t.Fatalf("ExitedExecutorMessage for %v", m.GetExecutorId())
	}
}
