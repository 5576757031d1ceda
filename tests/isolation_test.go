package tests

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/cgroups"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

func TestMemoryHogFailsUnderCgroupsMem(t *testing.T) {
	if err := cgroups.Available(cgroups.CPU, cgroups.CPUAcct, cgroups.Memory, cgroups.Freezer); err != nil {
		t.Skipf("needs root and cgroups v1 (cpu, cpuacct, memory, freezer): %v", err)
	}
	c := cluster.Start(t, cluster.Options{Network: true})
	root := fmt.Sprintf("gomesos-test-%d-%s", os.Getpid(), t.Name())
	t.Cleanup(func() {
		for _, sub := range []string{cgroups.CPU, cgroups.CPUAcct, cgroups.Memory, cgroups.Freezer} {
			_ = cgroups.Remove(sub, root, walltime.Sleep)
		}
	})
	c.StartSlave(slaveResources, func(cfg *slave.Config) {
		cfg.Isolation = "cgroups/cpu,cgroups/mem"
		cfg.CgroupsRoot = root
	})
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	first, second := sched.NextUpdate(), sched.NextUpdate()
	hog := commandTask("hog", o, "head -c 536870912 /dev/zero | tail -c 536870912 > /dev/null")
	hog.Resources = mustResources("cpus:0.5;mem:32")
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{hog}, nil)
	st := cluster.Await(c, first)
	if st.GetState() == mesos.TaskState_TASK_RUNNING {
		st = cluster.Await(c, second)
	}
	if st.GetState() != mesos.TaskState_TASK_FAILED || st.GetReason() != mesos.TaskStatus_REASON_CONTAINER_LIMITATION_MEMORY ||
		!strings.Contains(st.GetMessage(), "Memory limit exceeded") {
		t.Fatalf("memory hog ended %v (%v): %q", st.GetState(), st.GetReason(), st.GetMessage())
	}
}

func TestFetcherCacheHitDoesNotDownloadAgain(t *testing.T) {
	var downloads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.Add(1)
		_, _ = w.Write([]byte("echo fetched\n"))
	}))
	defer srv.Close()
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.FetcherCacheDir = t.TempDir() })
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	run := func(id string) {
		offers := sched.NextOffers()
		c.Advance(time.Second)
		o := cluster.Await(c, offers)[0]
		running, finished := sched.NextUpdate(), sched.NextUpdate()
		tk := commandTask(id, o, "sh script.sh")
		tk.Command.Uris = []*mesos.CommandInfo_URI{{Value: proto.String(srv.URL + "/script.sh"), Cache: proto.Bool(true)}}
		_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{tk}, nil)
		cluster.Await(c, running)
		if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
			t.Fatalf("task %s: %v %q", id, st.GetState(), st.GetMessage())
		}
	}
	run("t1")
	run("t2")
	if n := downloads.Load(); n != 1 {
		t.Fatalf("the URI was downloaded %d times, want once", n)
	}
}
