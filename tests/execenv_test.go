package tests

import (
	"os"
	"testing"
	"time"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// --executor_environment_variables: executors and their tasks get that
// environment in place of the slave's (the MESOS_* variables as always).
func TestExecutorEnvironmentVariables(t *testing.T) {
	t.Setenv("LANG", "C") // the slave's LANG, which executors would inherit
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave("cpus:2;mem:1024", func(cfg *slave.Config) {
		cfg.ExecutorEnvironment = map[string]string{"PATH": os.Getenv("PATH"), "GREETING": "hi"}
	})
	d, sched, _ := c.StartFramework(cluster.FrameworkInfo("env"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	task := cluster.CommandTask("env", o, "cpus:1;mem:64", `test "$GREETING" = hi && test -z "$LANG" && test -n "$MESOS_SANDBOX"`)
	running, done := sched.NextUpdate(), sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
	cluster.Await(c, running)
	if st := cluster.Await(c, done); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("the task saw another environment: %v %q", st.GetState(), st.GetMessage())
	}
}
