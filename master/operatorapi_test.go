package master

import (
	"bytes"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/recordio"
)

func TestValidateOperatorCall(t *testing.T) {
	res := []*mesospb.Resource{{Name: proto.String("cpus"), Type: mesospb.Value_SCALAR.Enum()}}
	for _, tc := range []struct {
		name string
		call *masterpb.Call
		want string
	}{
		{"no type", &masterpb.Call{}, "Expecting 'type' to be present"},
		{"unknown", &masterpb.Call{Type: masterpb.Call_UNKNOWN.Enum()}, ""},
		{"health", &masterpb.Call{Type: masterpb.Call_GET_HEALTH.Enum()}, ""},
		{"state", &masterpb.Call{Type: masterpb.Call_GET_STATE.Enum()}, ""},
		{"metrics without body", &masterpb.Call{Type: masterpb.Call_GET_METRICS.Enum()}, "Expecting 'get_metrics' to be present"},
		{"metrics", &masterpb.Call{Type: masterpb.Call_GET_METRICS.Enum(), GetMetrics: &masterpb.Call_GetMetrics{}}, ""},
		{"set logging without body", &masterpb.Call{Type: masterpb.Call_SET_LOGGING_LEVEL.Enum()}, "Expecting 'set_logging_level' to be present"},
		{"list files without body", &masterpb.Call{Type: masterpb.Call_LIST_FILES.Enum()}, "Expecting 'list_files' to be present"},
		{"read file without body", &masterpb.Call{Type: masterpb.Call_READ_FILE.Enum()}, "Expecting 'read_file' to be present"},
		{"reserve without body", &masterpb.Call{Type: masterpb.Call_RESERVE_RESOURCES.Enum()}, "Expecting 'reserve_resources' to be present"},
		{"reserve nothing", &masterpb.Call{Type: masterpb.Call_RESERVE_RESOURCES.Enum(),
			ReserveResources: &masterpb.Call_ReserveResources{AgentId: &mesospb.AgentID{Value: proto.String("s")}}}, "Expecting at least one resource"},
		{"reserve", &masterpb.Call{Type: masterpb.Call_RESERVE_RESOURCES.Enum(),
			ReserveResources: &masterpb.Call_ReserveResources{AgentId: &mesospb.AgentID{Value: proto.String("s")}, Resources: res}}, ""},
		{"unreserve without body", &masterpb.Call{Type: masterpb.Call_UNRESERVE_RESOURCES.Enum()}, "Expecting 'unreserve_resources' to be present"},
		{"unreserve unnamed", &masterpb.Call{Type: masterpb.Call_UNRESERVE_RESOURCES.Enum(),
			UnreserveResources: &masterpb.Call_UnreserveResources{AgentId: &mesospb.AgentID{Value: proto.String("s")},
				Resources: []*mesospb.Resource{{Name: proto.String(""), Type: mesospb.Value_SCALAR.Enum()}}}}, "Invalid resource: empty name"},
		{"create volumes without body", &masterpb.Call{Type: masterpb.Call_CREATE_VOLUMES.Enum()}, "Expecting 'create_volumes' to be present"},
		{"destroy volumes without body", &masterpb.Call{Type: masterpb.Call_DESTROY_VOLUMES.Enum()}, "Expecting 'destroy_volumes' to be present"},
		{"quota (not served)", &masterpb.Call{Type: masterpb.Call_SET_QUOTA.Enum()}, ""},
	} {
		if got := validateOperatorCall(tc.call); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOperatorMutates(t *testing.T) {
	for typ, want := range map[masterpb.Call_Type]bool{
		masterpb.Call_GET_STATE: false, masterpb.Call_SET_LOGGING_LEVEL: false, masterpb.Call_SUBSCRIBE: false,
		masterpb.Call_RESERVE_RESOURCES: true, masterpb.Call_UNRESERVE_RESOURCES: true,
		masterpb.Call_CREATE_VOLUMES: true, masterpb.Call_DESTROY_VOLUMES: true,
	} {
		if operatorMutates(typ) != want {
			t.Errorf("%v: %v", typ, !want)
		}
	}
}

// An event reaches every subscriber in its codec; one whose queue is full
// is dropped (its stream closed) instead of holding the master.
func TestPublishDropsASlowSubscriber(t *testing.T) {
	m := newMaster(Config{})
	m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	fast := &operatorSubscriber{json: true, frames: make(chan []byte, 4)}
	proto_ := &operatorSubscriber{frames: make(chan []byte, 4)}
	slow := &operatorSubscriber{json: true, frames: make(chan []byte, 1)}
	slow.frames <- []byte("unread")
	m.operatorSubs[1], m.operatorSubs[2], m.operatorSubs[3] = fast, proto_, slow
	m.agentRemoved("S1")
	if got := string(<-fast.frames); got != `68`+"\n"+`{"type":"AGENT_REMOVED","agent_removed":{"agent_id":{"value":"S1"}}}` {
		t.Fatalf("JSON frame %q", got)
	}
	ev := &masterpb.Event{}
	frame := <-proto_.frames
	body, err := recordio.NewReader(bytes.NewReader(frame), 1<<20).ReadRecord()
	if err == nil {
		err = proto.Unmarshal(body, ev)
	}
	if err != nil || ev.GetAgentRemoved().GetAgentId().GetValue() != "S1" {
		t.Fatalf("protobuf frame %q: %v %v", frame, ev, err)
	}
	if m.operatorSubs[3] != nil {
		t.Fatal("the slow subscriber was kept")
	}
	<-slow.frames
	if _, open := <-slow.frames; open {
		t.Fatal("the slow subscriber's stream was not ended")
	}
	if len(m.operatorSubs) != 2 {
		t.Fatal(m.operatorSubs)
	}
}
