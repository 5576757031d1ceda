package tests

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// settableEstimator estimates what the test last set.
type settableEstimator struct {
	v atomic.Pointer[resources.Resources]
}

func (e *settableEstimator) Oversubscribable() future.Future[resources.Resources] {
	return future.Ready(*e.v.Load())
}

func (e *settableEstimator) set(t *testing.T, text string) {
	r := mustParseResources(t, text)
	e.v.Store(&r)
}

func mustParseResources(t *testing.T, text string) resources.Resources {
	t.Helper()
	r, err := resources.Parse(text, "*")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The slave's estimate reaches the master as revocable resources, offered
// only to the framework that takes them; a smaller estimate rescinds the
// offer holding them; the load QoS controller kills the revocable task:
// TASK_LOST with REASON_CONTAINER_PREEMPTED.
func TestOversubscriptionEndToEnd(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	est := &settableEstimator{}
	est.set(t, "cpus:2")
	var load atomic.Value
	load.Store([3]float64{0, 0, 0})
	qos := &slave.LoadQoSController{Threshold5: 4, LoadAverage: func() ([3]float64, error) { return load.Load().([3]float64), nil }}
	c.StartSlave("cpus:1;mem:512;disk:100", func(cfg *slave.Config) {
		cfg.ResourceEstimator, cfg.OversubscribedResourcesInterval = est, time.Second
		cfg.QoSController, cfg.QoSCorrectionInterval = qos, time.Second
	})

	_, schedB, _ := startFramework(t, c, cluster.FrameworkInfo("plain"), scheduler.Options{})
	oB := nextOffer(t, c, schedB)
	if rev := resources.FromProto(oB.GetResources()).Revocable(); !rev.IsEmpty() {
		t.Fatalf("a framework without the capability was offered %v", rev)
	}

	info := cluster.FrameworkInfo("revocable")
	info.Capabilities = []*mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_REVOCABLE_RESOURCES.Enum()}}
	dA, schedA, _ := startFramework(t, c, info, scheduler.Options{})
	oA := nextOffer(t, c, schedA)
	if rev := resources.FromProto(oA.GetResources()).Revocable(); rev.Scalar("cpus") != 2 {
		t.Fatalf("revocable offer %v, want cpus:2{REV}", resources.FromProto(oA.GetResources()))
	}
	_, metrics := get(t, c, "/metrics/snapshot")
	var snap map[string]float64
	if err := json.Unmarshal(metrics, &snap); err != nil {
		t.Fatal(err)
	}
	if snap["master/cpus_revocable_total"] != 2 || snap["master/cpus_total"] != 1 {
		t.Fatalf("revocable metrics: total %v, revocable %v", snap["master/cpus_total"], snap["master/cpus_revocable_total"])
	}

	// The estimate shrinks: the offer with revocable resources is
	// rescinded, and the new estimate offered.
	rescinded := schedA.NextRescinded()
	est.set(t, "cpus:1")
	c.Advance(2 * time.Second)
	if id := cluster.Await(c, rescinded); id.GetValue() != oA.GetId().GetValue() {
		t.Fatalf("rescinded %v, want %v", id, oA.GetId())
	}
	var o *mesos.Offer
	for i := 0; i < 5 && o == nil; i++ {
		if x := nextOffer(t, c, schedA); resources.FromProto(x.GetResources()).Revocable().Scalar("cpus") == 1 {
			o = x
		} else {
			_, _ = dA.DeclineOffer(x.GetId(), &mesos.Filters{RefuseSeconds: proto.Float64(1)})
		}
	}
	if o == nil {
		t.Fatal("the new estimate was not offered")
	}

	// A task on revocable CPUs runs until the load passes the threshold.
	taskRes := resources.Resources{{Key: resources.Key{Name: "cpus", Role: "*", Revocable: true}, Kind: resources.Scalar, Milli: 500}}
	running, lost := schedA.NextUpdate(), schedA.NextUpdate()
	_, _ = dA.AcceptOffers([]*mesos.OfferID{o.GetId()}, []*mesos.Offer_Operation{launchOp(volumeTask("rev", o, taskRes, waitForGo))}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("revocable task: %v %s", st.GetState(), st.GetMessage())
	}
	load.Store([3]float64{9, 9, 9})
	c.Advance(2 * time.Second)
	st := cluster.Await(c, lost)
	if st.GetState() != mesos.TaskState_TASK_LOST || st.GetReason() != mesos.TaskStatus_REASON_CONTAINER_PREEMPTED {
		t.Fatalf("after the QoS correction: %v %v %s", st.GetState(), st.GetReason(), st.GetMessage())
	}
}
