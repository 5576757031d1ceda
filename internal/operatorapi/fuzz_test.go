package operatorapi

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos/v1/agentpb"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
)

// FuzzDecodeOperatorCall: any operator call body, JSON or protobuf, for
// the master or the agent, is refused with an error or decoded into a
// Call whose encoding (in either media type) decodes and encodes again to
// the same bytes. Never a panic.
func FuzzDecodeOperatorCall(f *testing.F) {
	for _, seed := range []string{
		`{"type":"GET_STATE"}`,
		`{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}`,
		`{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":"60000000000"}}}`,
		`{"type":"READ_FILE","read_file":{"path":"/slave/log","offset":0,"length":100}}`,
		`{"type":"LIST_FILES","list_files":{"path":"/tmp"}}`,
		`{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"S0"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"r","reservation":{"principal":"p"}}]}}`,
		`{"type":"NOT_A_TYPE"}`,
		`{"type":"READ_FILE","read_file":{"path":"x"}}`,
		"\x08\x09",
	} {
		f.Add(true, []byte(seed))
		f.Add(false, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, json bool, body []byte) {
		media := MediaProtobuf
		if json {
			media = MediaJSON
		}
		for _, newCall := range []func() proto.Message{
			func() proto.Message { return &masterpb.Call{} },
			func() proto.Message { return &agentpb.Call{} },
		} {
			call := newCall()
			if Decode(media, body, call) != nil {
				continue
			}
			for _, out := range []string{MediaJSON, MediaProtobuf} {
				b, err := Encode(out, call)
				if err != nil {
					continue // a protobuf call missing a required field
				}
				again := newCall()
				if err := Decode(out, b, again); err != nil {
					t.Fatalf("%s of %q does not decode: %v\n%s", out, body, err, b)
				}
				// JSON writes defaults (a resource's role "*"), so the
				// encoding is a fixed point rather than the call itself.
				b2, err := Encode(out, again)
				if err != nil || !bytes.Equal(b, b2) {
					t.Fatalf("%s of %q: %q, then %q (%v)", out, body, b, b2, err)
				}
			}
		}
	})
}
