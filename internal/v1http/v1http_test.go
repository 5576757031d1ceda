package v1http

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	v1 "github.com/gomesos/gomesos/mesos/v1/executorpb"
)

func TestResponseCodec(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   string
		ok     bool
	}{
		{nil, MediaJSON, true},
		{[]string{"application/x-protobuf"}, MediaProtobuf, true},
		{[]string{"text/html, application/json;q=0.9"}, MediaJSON, true},
		{[]string{"text/html", "application/x-protobuf"}, MediaProtobuf, true},
		{[]string{"*/*"}, MediaJSON, true},
		{[]string{"text/html"}, "", false},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		if got, ok := ResponseCodec(r); got != tc.want || ok != tc.ok {
			t.Errorf("Accept %q: %q %v, want %q %v", tc.accept, got, ok, tc.want, tc.ok)
		}
	}
}

// An event goes out in v1's JSON names (agent_info for slave_info) and
// comes back the same, and protobuf is the same bytes both ways.
func TestEncodeDecodeBothCodecs(t *testing.T) {
	ev := &executorpb.Event{Type: executorpb.Event_SUBSCRIBED.Enum(), Subscribed: &executorpb.Event_Subscribed{
		ExecutorInfo:  &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("e")}, Command: &mesos.CommandInfo{Value: proto.String("x")}},
		FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("f")},
		SlaveInfo:     &mesos.SlaveInfo{Hostname: proto.String("h")},
	}}
	js, err := Encode(ev, true, &v1.Event{})
	if err != nil || !strings.Contains(string(js), `"agent_info":{"hostname":"h"`) || strings.Contains(string(js), "slave_info") {
		t.Fatalf("JSON %s (%v)", js, err)
	}
	pb, err := Encode(ev, false, &v1.Event{})
	if err != nil {
		t.Fatal(err)
	}
	back := &executorpb.Event{}
	if err := Decode(MediaProtobuf, pb, back, &v1.Event{}); err != nil || !proto.Equal(back, ev) {
		t.Errorf("protobuf: %v (%v)", back, err)
	}
	// JSON writes fields' explicit defaults (as Mesos does): what comes
	// back writes the same JSON.
	back = &executorpb.Event{}
	if err := Decode(MediaJSON, js, back, &v1.Event{}); err != nil {
		t.Fatal(err)
	}
	if again, err := Encode(back, true, &v1.Event{}); err != nil || string(again) != string(js) {
		t.Errorf("JSON round trip: %s, want %s (%v)", again, js, err)
	}
	if err := Decode("text/plain", js, &executorpb.Event{}, &v1.Event{}); err == nil {
		t.Error("decoded an unsupported media type")
	}
	if MediaType("application/json; charset=utf-8") != MediaJSON {
		t.Error("media type parameters kept")
	}
}
