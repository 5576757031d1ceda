package tests

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// The answers of /api/v1/executor to bad requests (Mesos 1.0's codes and
// messages), and an executor registered through libprocess that HTTP
// calls cannot take over or speak for.
func TestExecutorAPIRefusesBadCalls(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, slavePID, _ := startSlave(t, c)
	url := "http://" + slavePID.HostPort() + "/" + slavePID.ID + "/api/v1/executor"
	// A client of its own, without keep-alive: no idle connection to this
	// cluster's port outlives the test (a later test may get the port).
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	post := func(method, contentType, accept string, body []byte) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	marshal := func(call *executorpb.Call) []byte {
		b, err := proto.Marshal(call)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sub := func(fid, eid string) *executorpb.Call {
		return &executorpb.Call{FrameworkId: &mesos.FrameworkID{Value: proto.String(fid)}, ExecutorId: &mesos.ExecutorID{Value: proto.String(eid)},
			Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: &executorpb.Call_Subscribe{}}
	}
	const pb, js = "application/x-protobuf", "application/json"
	for _, tc := range []struct {
		name, method, contentType, accept string
		body                              []byte
		code                              int
		msg                               string
	}{
		{"GET", http.MethodGet, "", "", nil, http.StatusMethodNotAllowed, "Expecting one of { 'POST' }"},
		{"no content type", http.MethodPost, "", "", nil, http.StatusBadRequest, "Expecting 'Content-Type' to be present"},
		{"text", http.MethodPost, "text/plain", "", []byte("x"), http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of"},
		{"garbage", http.MethodPost, pb, "", []byte{0xff, 0xff}, http.StatusBadRequest, "Failed to parse body into Call protobuf"},
		{"bad JSON", http.MethodPost, js, "", []byte("{"), http.StatusBadRequest, "Failed to parse body into Call protobuf"},
		{"no type", http.MethodPost, js, "", []byte(`{"framework_id":{"value":"f"},"executor_id":{"value":"e"}}`), http.StatusBadRequest, "Expecting 'type' to be present"},
		{"not acceptable", http.MethodPost, pb, "text/html", marshal(sub("f", "e")), http.StatusNotAcceptable, "Expecting 'Accept' to allow"},
		{"unknown framework", http.MethodPost, js, js, []byte(`{"framework_id":{"value":"f"},"executor_id":{"value":"e"},"type":"SUBSCRIBE","subscribe":{}}`),
			http.StatusBadRequest, "Framework cannot be found"},
	} {
		code, body := post(tc.method, tc.contentType, tc.accept, tc.body)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, body, tc.code, tc.msg)
		}
	}

	// A PID command executor runs a task: HTTP neither takes it over nor
	// reports for it.
	d, s, fid := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, "sleep 1000")}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("update %v", st)
	}
	if code, body := post(http.MethodPost, pb, pb, marshal(sub(fid.GetValue(), "t1"))); code != http.StatusForbidden {
		t.Fatalf("SUBSCRIBE for a PID executor: %d %q", code, body)
	}
	if code, body := post(http.MethodPost, pb, pb, marshal(sub(fid.GetValue(), "nope"))); code != http.StatusBadRequest || !strings.Contains(body, "Executor cannot be found") {
		t.Fatalf("SUBSCRIBE for an unknown executor: %d %q", code, body)
	}
	uuid := mesos.NewUUID(c.RT.RandBytes)
	update := &executorpb.Call{FrameworkId: fid, ExecutorId: &mesos.ExecutorID{Value: proto.String("t1")}, Type: executorpb.Call_UPDATE.Enum(),
		Update: &executorpb.Call_Update{Status: &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t1")}, State: mesos.TaskState_TASK_FINISHED.Enum(),
			Source: mesos.TaskStatus_SOURCE_EXECUTOR.Enum(), Uuid: uuid[:]}}}
	if code, body := post(http.MethodPost, pb, "", marshal(update)); code != http.StatusForbidden {
		t.Fatalf("UPDATE for a PID executor: %d %q", code, body)
	}
}
