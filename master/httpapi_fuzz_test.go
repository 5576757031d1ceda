package master

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	v1 "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
)

// encodeCallJSON writes call as v1 JSON (the inverse of decodeCall's JSON
// case).
func encodeCallJSON(call *schedulerpb.Call) ([]byte, error) {
	b, err := proto.Marshal(call)
	if err != nil {
		return nil, err
	}
	c1 := &v1.Call{}
	if err := proto.Unmarshal(b, c1); err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{UseProtoNames: true}.Marshal(c1)
}

// FuzzDecodeCall: any v1 call body, JSON or protobuf, is refused with an
// error or decoded into a Call that encodes back (in the same codec) and
// decodes again to the same Call.
func FuzzDecodeCall(f *testing.F) {
	for _, seed := range []string{
		`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1 framework","failover_timeout":60}}}`,
		`{"framework_id":{"value":"F0"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"O1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[
			{"name":"t1","task_id":{"value":"t1"},"agent_id":{"value":"S0"},
			 "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 1000"}}]}}],"filters":null}}`,
		`{"framework_id":{"value":"F0"},"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"S0"},"task_id":{"value":"t1"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}`,
		`{"framework_id":{"value":"F0"},"type":"KILL","kill":{"task_id":{"value":"t1"}}}`,
		`{"framework_id":{"value":"F0"},"type":"TEARDOWN"}`,
		`{"type":"NOT_A_TYPE"}`,
		`{"type":"MESSAGE","message":{"agent_id":{"value":"S0"},"executor_id":{"value":"E"},"data":"aGVsbG8="}}`,
	} {
		f.Add([]byte(seed), true)
	}
	sub := &schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum(), Subscribe: &schedulerpb.Call_Subscribe{}}
	if b, err := proto.Marshal(sub); err == nil {
		f.Add(b, false)
	}
	f.Add([]byte{0x08, 0x0b, 0x12, 0x03, 0x0a, 0x01, 0x46}, false)
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		media := v1http.MediaProtobuf
		if json {
			media = v1http.MediaJSON
		}
		call, err := decodeCall(media, body)
		if err != nil {
			return
		}
		var out []byte
		if json {
			out, err = encodeCallJSON(call)
		} else {
			out, err = proto.Marshal(call)
		}
		if err != nil {
			t.Fatalf("decoded call %v does not encode: %v", call, err)
		}
		again, err := decodeCall(media, out)
		if err != nil || !proto.Equal(again, call) {
			t.Fatalf("round trip of %q: %v, %v; want %v", out, again, err, call)
		}
		callName(call)
	})
}
