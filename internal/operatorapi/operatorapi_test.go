package operatorapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
)

func TestRequestMedia(t *testing.T) {
	for _, tc := range []struct {
		method, contentType string
		media               string
		status              int
	}{
		{"POST", "application/json", MediaJSON, 0},
		{"POST", "application/json; charset=utf-8", MediaJSON, 0},
		{"POST", "application/x-protobuf", MediaProtobuf, 0},
		{"GET", "application/json", "", http.StatusMethodNotAllowed},
		{"POST", "", "", http.StatusBadRequest},
		{"POST", "text/plain", "", http.StatusUnsupportedMediaType},
	} {
		r := httptest.NewRequest(tc.method, "/api/v1", nil)
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		media, err := RequestMedia(r)
		switch {
		case tc.status == 0 && (err != nil || media != tc.media):
			t.Errorf("%s %q: %q, %v", tc.method, tc.contentType, media, err)
		case tc.status != 0 && (err == nil || err.Status != tc.status):
			t.Errorf("%s %q: want %d, got %v", tc.method, tc.contentType, tc.status, err)
		}
	}
}

func TestResponseMedia(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		media  string
		ok     bool
	}{
		{nil, MediaJSON, true},
		{[]string{"application/x-protobuf"}, MediaProtobuf, true},
		{[]string{"text/html, application/json;q=0.9"}, MediaJSON, true},
		{[]string{"text/html", "application/x-protobuf"}, MediaProtobuf, true},
		{[]string{"*/*"}, MediaJSON, true},
		{[]string{"text/html"}, "", false},
	} {
		r := httptest.NewRequest("POST", "/api/v1", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		if media, ok := ResponseMedia(r); media != tc.media || ok != tc.ok {
			t.Errorf("Accept %q: %q %v", tc.accept, media, ok)
		}
	}
}

// A call reads the same from JSON (Mesos's form) and protobuf, and an
// answer encodes in both.
func TestDecodeEncode(t *testing.T) {
	want := &masterpb.Call{Type: masterpb.Call_READ_FILE.Enum(), ReadFile: &masterpb.Call_ReadFile{
		Path: proto.String("/a/stdout"), Offset: proto.Uint64(7), Length: proto.Uint64(9)}}
	fromJSON := &masterpb.Call{}
	if err := Decode(MediaJSON, []byte(`{"type":"READ_FILE","read_file":{"path":"/a/stdout","offset":7,"length":"9"}}`), fromJSON); err != nil {
		t.Fatal(err)
	}
	b, err := Encode(MediaProtobuf, want)
	if err != nil {
		t.Fatal(err)
	}
	fromPB := &masterpb.Call{}
	if err := Decode(MediaProtobuf, b, fromPB); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(fromJSON, want) || !proto.Equal(fromPB, want) {
		t.Fatalf("json %v, protobuf %v", fromJSON, fromPB)
	}
	if err := Decode(MediaJSON, []byte(`{"type":`), &masterpb.Call{}); err == nil || !strings.Contains(err.Error(), "Failed to convert JSON") {
		t.Fatalf("bad JSON: %v", err)
	}
	if err := Decode(MediaProtobuf, []byte{0xff}, &masterpb.Call{}); err == nil {
		t.Fatal("bad protobuf accepted")
	}
	j, err := Encode(MediaJSON, want)
	if err != nil || string(j) != `{"type":"READ_FILE","read_file":{"path":"/a/stdout","offset":7,"length":9}}` {
		t.Fatalf("JSON %s %v", j, err)
	}
}

// Convert carries a v0 record into its v1 twin (slave_id → agent_id, same
// number) and drops what v1 does not have.
func TestConvert(t *testing.T) {
	v0 := &mesos.Task{Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String("t1")},
		FrameworkId: &mesos.FrameworkID{Value: proto.String("f")}, SlaveId: &mesos.SlaveID{Value: proto.String("s")},
		State: mesos.TaskState_TASK_RUNNING.Enum()}
	v1 := Convert(&mesospb.Task{}, v0)
	if v1.GetAgentId().GetValue() != "s" || v1.GetState() != mesospb.TaskState_TASK_RUNNING || v1.GetName() != "t" {
		t.Fatalf("%v", v1)
	}
	info := Convert(&mesospb.AgentInfo{}, &mesos.SlaveInfo{Hostname: proto.String("h"), Checkpoint: proto.Bool(true)})
	if len(info.ProtoReflect().GetUnknown()) != 0 || info.GetHostname() != "h" {
		t.Fatalf("v1 AgentInfo keeps v0's checkpoint: %v", info)
	}
	if got := ConvertAll([]*mesos.Task{v0, v0}, func() *mesospb.Task { return &mesospb.Task{} }); len(got) != 2 {
		t.Fatal(got)
	}
}

func TestFlags(t *testing.T) {
	got := Flags(map[string]string{"b": "2", "a": "1"})
	if len(got) != 2 || got[0].GetName() != "a" || got[1].GetValue() != "2" {
		t.Fatal(got)
	}
}
