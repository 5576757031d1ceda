package jsonv1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	mesos "github.com/gomesos/gomesos/mesos/v1/mesospb"
	sched "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
)

const (
	frameworkID = "20151206-025100-16777343-5050-1234-0000"
	agentID     = "20151206-025100-16777343-5050-1234-S0"
	offerID     = "20151206-025100-16777343-5050-1234-O7"
)

func scalar(name string, v float64) *mesos.Resource {
	return &mesos.Resource{Name: proto.String(name), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(v)}}
}

func rng(b, e uint64) *mesos.Value_Range {
	return &mesos.Value_Range{Begin: proto.Uint64(b), End: proto.Uint64(e)}
}

// goldenEvents are the events whose Mesos JSON is in testdata/events.
func goldenEvents() map[string]*sched.Event {
	disk := scalar("disk", 0.1)
	disk.Role = proto.String("analytics")
	disk.Reservation = &mesos.Resource_ReservationInfo{Principal: proto.String("ops")}
	return map[string]*sched.Event{
		"subscribed": {Type: sched.Event_SUBSCRIBED.Enum(), Subscribed: &sched.Event_Subscribed{
			FrameworkId:              &mesos.FrameworkID{Value: proto.String(frameworkID)},
			HeartbeatIntervalSeconds: proto.Float64(15),
		}},
		"offers": {Type: sched.Event_OFFERS.Enum(), Offers: &sched.Event_Offers{Offers: []*mesos.Offer{{
			Id:          &mesos.OfferID{Value: proto.String(offerID)},
			FrameworkId: &mesos.FrameworkID{Value: proto.String(frameworkID)},
			AgentId:     &mesos.AgentID{Value: proto.String(agentID)},
			Hostname:    proto.String("agent1.example.com"),
			Resources: []*mesos.Resource{
				scalar("cpus", 3.5),
				scalar("mem", 14895),
				disk,
				{Name: proto.String("ports"), Type: mesos.Value_RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []*mesos.Value_Range{
					rng(31000, 32000), rng(18446744073709551000, 18446744073709551615),
				}}},
				{Name: proto.String("gpus_vendor"), Type: mesos.Value_SET.Enum(), Set: &mesos.Value_Set{Item: []string{"a", "b<&>"}}},
			},
			ExecutorIds: []*mesos.ExecutorID{{Value: proto.String("default")}},
			Attributes: []*mesos.Attribute{
				{Name: proto.String("rack"), Type: mesos.Value_TEXT.Enum(), Text: &mesos.Value_Text{Value: proto.String("r1")}},
				{Name: proto.String("weight"), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(2.25)}},
				{Name: proto.String("slots"), Type: mesos.Value_RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []*mesos.Value_Range{rng(1, 4)}}},
				{Name: proto.String("zones"), Type: mesos.Value_SET.Enum(), Set: &mesos.Value_Set{Item: []string{"us-1a", "us-1b"}}},
			},
		}}}},
		"rescind": {Type: sched.Event_RESCIND.Enum(), Rescind: &sched.Event_Rescind{OfferId: &mesos.OfferID{Value: proto.String(offerID)}}},
		"update": {Type: sched.Event_UPDATE.Enum(), Update: &sched.Event_Update{Status: &mesos.TaskStatus{
			TaskId:     &mesos.TaskID{Value: proto.String("task-1")},
			State:      mesos.TaskState_TASK_RUNNING.Enum(),
			Data:       []byte{0, 1, 2, 0xff},
			Message:    proto.String("it runs"),
			AgentId:    &mesos.AgentID{Value: proto.String(agentID)},
			Timestamp:  proto.Float64(1449370260.123456),
			ExecutorId: &mesos.ExecutorID{Value: proto.String("task-1")},
			Healthy:    proto.Bool(true),
			Source:     mesos.TaskStatus_SOURCE_EXECUTOR.Enum(),
			Uuid:       []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00},
		}}},
		"message": {Type: sched.Event_MESSAGE.Enum(), Message: &sched.Event_Message{
			AgentId:    &mesos.AgentID{Value: proto.String(agentID)},
			ExecutorId: &mesos.ExecutorID{Value: proto.String("default")},
			Data:       []byte("hello world"),
		}},
		"failure": {Type: sched.Event_FAILURE.Enum(), Failure: &sched.Event_Failure{
			AgentId:    &mesos.AgentID{Value: proto.String(agentID)},
			ExecutorId: &mesos.ExecutorID{Value: proto.String("default")},
			Status:     proto.Int32(-9),
		}},
		"failure_agent": {Type: sched.Event_FAILURE.Enum(), Failure: &sched.Event_Failure{
			AgentId: &mesos.AgentID{Value: proto.String(agentID)},
		}},
		"error":     {Type: sched.Event_ERROR.Enum(), Error: &sched.Event_Error{Message: proto.String("Framework has been removed")}},
		"heartbeat": {Type: sched.Event_HEARTBEAT.Enum()},
	}
}

// decodeGeneric reads JSON keeping numbers as json.Number, so that a
// number and a string holding the same digits differ.
func decodeGeneric(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

// diff lists, path by path, where got differs from want.
func diff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want object, got %T %v", path, got, got)}
		}
		var out []string
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			wv, win := w[k]
			gv, gin := g[k]
			switch {
			case !gin:
				out = append(out, fmt.Sprintf("%s.%s: missing (want %v)", path, k, wv))
			case !win:
				out = append(out, fmt.Sprintf("%s.%s: unexpected %v", path, k, gv))
			default:
				out = append(out, diff(path+"."+k, wv, gv)...)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %T %v, got %T %v", path, want, want, got, got)}
		}
		return nil
	}
}

// TestGoldenEvents: every event type written as Mesos writes it, field by
// field (numbers as numbers, enums by name, bytes in base64, defaults
// written), in Mesos's field order, and read back to the same bytes.
func TestGoldenEvents(t *testing.T) {
	events := goldenEvents()
	files, _ := filepath.Glob("testdata/events/*.json")
	if len(files) != len(events) {
		t.Errorf("%d golden files for %d events", len(files), len(events))
	}
	for name, ev := range events {
		t.Run(name, func(t *testing.T) {
			golden, err := os.ReadFile(filepath.Join("testdata/events", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range diff("$", decodeGeneric(t, golden), decodeGeneric(t, got)) {
				t.Error(d)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, golden); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact.Bytes(), got) {
				t.Errorf("bytes differ (field order?)\nwant %s\ngot  %s", compact.Bytes(), got)
			}
			back := &sched.Event{}
			if err := Unmarshal(golden, back); err != nil {
				t.Fatal(err)
			}
			again, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, got) {
				t.Errorf("read back and written again:\n%s\nwant\n%s", again, got)
			}
		})
	}
}

// TestUnmarshalLenient: what Mesos's parser accepts.
func TestUnmarshalLenient(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *mesos.Value_Range
	}{
		{"numbers", `{"begin":31000,"end":32000}`, rng(31000, 32000)},
		{"strings", `{"begin":"31000","end":"32000"}`, rng(31000, 32000)},
		{"max uint64", `{"begin":0,"end":18446744073709551615}`, rng(0, 18446744073709551615)},
		{"unknown fields", `{"begin":1,"end":2,"stride":3,"x":{"y":[null]}}`, rng(1, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := &mesos.Value_Range{}
			if err := Unmarshal([]byte(tc.in), got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// mesos-go's v1 client sends "reservations":null (a field newer than
	// our schema) and nulls for unset messages.
	accept := `{"framework_id":{"value":"F"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"O"}],
	  "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"A"},
	    "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*","reservations":null,"disk":null}],
	    "command":{"value":"true","uris":null},"executor":null}]}}],"filters":{"refuse_seconds":5}}}`
	call := &sched.Call{}
	if err := Unmarshal([]byte(accept), call); err != nil {
		t.Fatal(err)
	}
	res := call.GetAccept().GetOperations()[0].GetLaunch().GetTaskInfos()[0].GetResources()[0]
	if res.GetScalar().GetValue() != 1 || res.Disk != nil || call.GetAccept().GetFilters().GetRefuseSeconds() != 5 {
		t.Errorf("decoded %v", call)
	}
	enum := `{"type":"SUBSCRIBED_IN_THE_FUTURE","subscribed":{"framework_id":{"value":"F"}}}`
	ev := &sched.Event{}
	if err := Unmarshal([]byte(enum), ev); err != nil || ev.Type != nil {
		t.Errorf("an unknown enum name: %v, %v", ev, err)
	}

	for _, bad := range []string{
		`{"begin":1}`,           // a required field is missing
		`{"begin":1.5,"end":2}`, // not an integer
		`{"begin":-1,"end":2}`,  // not unsigned
		`[1,2]`,
		`{"begin":1,"end":2`,
	} {
		if err := Unmarshal([]byte(bad), &mesos.Value_Range{}); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestMarshalValues: the scalar forms, one by one.
func TestMarshalValues(t *testing.T) {
	for _, tc := range []struct {
		m    proto.Message
		want string
	}{
		{&mesos.Value_Scalar{Value: proto.Float64(15)}, `{"value":15}`},
		{&mesos.Value_Scalar{Value: proto.Float64(0.1)}, `{"value":0.1}`},
		{&mesos.Value_Scalar{Value: proto.Float64(-2.5e-9)}, `{"value":-2.5e-9}`},
		{&mesos.Value_Scalar{Value: proto.Float64(1e22)}, `{"value":1e+22}`},
		{&mesos.Value_Range{Begin: proto.Uint64(1 << 63), End: proto.Uint64(1<<64 - 1)}, `{"begin":9223372036854775808,"end":18446744073709551615}`},
		{&mesos.Value_Text{Value: proto.String("a\"b\\c\n<>&é")}, `{"value":"a\"b\\c\n<>&é"}`},
		// Defaults of unset optional fields are written, as Mesos does.
		{&mesos.Filters{}, `{"refuse_seconds":5}`},
		{&mesos.CommandInfo{Value: proto.String("ls")}, `{"value":"ls","shell":true}`},
	} {
		got, err := Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%T: got %s, want %s", tc.m, got, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("invalid JSON %s", got)
		}
	}
	if !strings.Contains(string(mustMarshal(t, &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t")}, State: mesos.TaskState_TASK_LOST.Enum()})), `"state":"TASK_LOST"`) {
		t.Error("enum not written by name")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
