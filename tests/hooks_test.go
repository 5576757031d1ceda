package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/examples/hook"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

func TestModulesRejectUnknownNames(t *testing.T) {
	_, err := modules.Parse(`{"libraries":[{"file":"/usr/lib/libfoo.so","modules":[{"name":"org_apache_mesos_NoSuchModule"}]}]}`)
	if err == nil || !strings.Contains(err.Error(), `unknown module "org_apache_mesos_NoSuchModule"`) || !strings.Contains(err.Error(), "Hook/"+hook.Name) {
		t.Fatalf("err %v", err)
	}
	if _, err := (*modules.Config)(nil).Hooks("nope"); err == nil || !strings.Contains(err.Error(), hook.Name) {
		t.Fatalf("--hooks=nope: %v", err)
	}
}

func TestSlaveHooksDecorateTasksAndExecutors(t *testing.T) {
	mods, err := modules.Parse(`{"libraries":[{"modules":[{"name":"` + hook.Name + `","parameters":[{"key":"var","value":"GREETING"},{"key":"value","value":"hello from a hook"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := mods.Hooks(hook.Name)
	if err != nil {
		t.Fatal(err)
	}
	// The same hook serves the master (its launch-task label decorator).
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Hooks: hooks}})
	_, _, work := c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.Hooks = hooks })
	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running, finished := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "echo GREETING=$GREETING")}, nil)
	cluster.Await(c, running)
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("t1: %v %q", st.GetState(), st.GetMessage())
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, work, "t1"), "stdout"))
	if !strings.Contains(string(out), "GREETING=hello from a hook") {
		t.Fatalf("the environment hook did not run: stdout %q", out)
	}
	// The slave keeps (and checkpoints) the task with the hook's labels:
	// the master's and its own.
	m := globNoLatest(filepath.Join(work, "meta", "slaves", "*", "frameworks", "*", "executors", "t1", "runs", "*", "tasks", "t1", "task.info"))
	if len(m) != 1 {
		t.Fatalf("task.info: %v", m)
	}
	if info, _ := os.ReadFile(m[0]); !bytes.Contains(info, []byte("example_hook")) || !bytes.Contains(info, []byte("127.0.0.1")) ||
		!bytes.Contains(info, []byte("example_master_hook")) || !bytes.Contains(info, []byte("f1")) {
		t.Fatalf("the checkpointed task lacks the hooks' labels: %q", info)
	}
	deadline := time.Now().Add(30 * time.Second) // wall-clock: the executor is an OS process
	for len(hooks[0].(*hook.Hook).Removed()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the remove-executor hook was not called")
		}
		c.Advance(time.Second)
	}
}
