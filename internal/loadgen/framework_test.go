package loadgen

import (
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
)

// A framework with MaxPending launches no more than that many tasks until
// some report, and splits each launch's latency at the slave's arrival
// stamp.
func TestFrameworkPacesLaunchesAndSplitsLatency(t *testing.T) {
	rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:5050"), Testing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	clock := rt.Clock()
	clock.Pause()
	f, err := NewFramework(FrameworkConfig{TasksPerOffer: 4, MaxPending: 3}, clock)
	if err != nil {
		t.Fatal(err)
	}
	f.Launch(true)
	offer := &mesos.Offer{
		Id: &mesos.OfferID{Value: proto.String("o1")}, SlaveId: &mesos.SlaveID{Value: proto.String("s1")},
		Resources: []*mesos.Resource{
			{Name: proto.String("cpus"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(8)}},
			{Name: proto.String("mem"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(4096)}},
		},
	}
	tasks := f.tasksFor(offer)
	if len(tasks) != 3 || !f.full() {
		t.Fatalf("launched %d tasks (full=%v), want 3 and full", len(tasks), f.full())
	}
	if more := f.tasksFor(offer); len(more) != 0 {
		t.Fatalf("launched %d more while full", len(more))
	}
	clock.Advance(100 * time.Millisecond)
	arrived := clock.Now()
	clock.Advance(50 * time.Millisecond)
	f.StatusUpdate(nil, &mesos.TaskStatus{
		TaskId: tasks[0].TaskId, State: mesos.TaskState_TASK_RUNNING.Enum(), Data: stampArrival(arrived),
	})
	if f.full() {
		t.Fatal("still full after a task started")
	}
	if more := f.tasksFor(offer); len(more) != 1 {
		t.Fatalf("launched %d after one started, want 1", len(more))
	}
	s := f.Stats()
	if len(s.ToSlave) != 1 || s.ToSlave[0] != 100*time.Millisecond || s.ToFramework[0] != 50*time.Millisecond || s.Latencies[0] != 150*time.Millisecond {
		t.Fatalf("legs %v + %v, total %v; want 100ms + 50ms = 150ms", s.ToSlave, s.ToFramework, s.Latencies)
	}
}
