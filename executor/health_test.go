package executor_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// quickCheck is a health check with no delay, a short interval and no
// grace period.
func quickCheck(hc *mesos.HealthCheck) *mesos.HealthCheck {
	hc.DelaySeconds = proto.Float64(0)
	hc.IntervalSeconds = proto.Float64(0.05)
	hc.GracePeriodSeconds = proto.Float64(0)
	hc.TimeoutSeconds = proto.Float64(5)
	return hc
}

func TestHealthCheckCommandHealthy(t *testing.T) {
	r := startExecutorWith(t, "sleep 100", func(task *mesos.TaskInfo) {
		task.HealthCheck = quickCheck(&mesos.HealthCheck{Command: &mesos.CommandInfo{Value: proto.String("test -d .")}})
	})
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_RUNNING || st.Healthy != nil {
		t.Fatalf("first update %v healthy=%v", st.GetState(), st.Healthy)
	}
	if st := r.next(t); st.GetState() != mesos.TaskState_TASK_RUNNING || !st.GetHealthy() {
		t.Fatalf("health update %v healthy=%v %q", st.GetState(), st.Healthy, st.GetMessage())
	}
}

func TestHealthCheckFailuresKillTheTask(t *testing.T) {
	r := startExecutorWith(t, "sleep 100", func(task *mesos.TaskInfo) {
		task.HealthCheck = quickCheck(&mesos.HealthCheck{
			Command:             &mesos.CommandInfo{Value: proto.String("echo not ready; exit 1")},
			ConsecutiveFailures: proto.Uint32(2),
		})
	})
	r.next(t) // TASK_RUNNING
	for i := 0; i < 2; i++ {
		st := r.next(t)
		if st.GetState() != mesos.TaskState_TASK_RUNNING || st.Healthy == nil || st.GetHealthy() || !strings.Contains(st.GetMessage(), "not ready") {
			t.Fatalf("unhealthy update %d: %v healthy=%v %q", i, st.GetState(), st.Healthy, st.GetMessage())
		}
	}
	st := r.next(t)
	if st.GetState() != mesos.TaskState_TASK_KILLED || st.Healthy == nil || st.GetHealthy() ||
		!strings.Contains(st.GetMessage(), "2 consecutive health checks failed") {
		t.Fatalf("final update %v healthy=%v %q", st.GetState(), st.Healthy, st.GetMessage())
	}
	r.exits(t)
}

func TestHealthCheckHTTP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	r := startExecutorWith(t, "sleep 100", func(task *mesos.TaskInfo) {
		task.HealthCheck = quickCheck(&mesos.HealthCheck{Http: &mesos.HealthCheck_HTTP{Port: proto.Uint32(port), Path: proto.String("/health")}})
	})
	r.next(t)
	if st := r.next(t); !st.GetHealthy() {
		t.Fatalf("http health %v %q", st.Healthy, st.GetMessage())
	}
}
