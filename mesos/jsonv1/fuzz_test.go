package jsonv1

import (
	"bytes"
	"encoding/json"
	"testing"

	sched "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
)

// FuzzRoundTrip: any input is refused or read into a Call; what Marshal
// then writes is valid JSON that reads back and writes again to the same
// bytes.
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":60}}}`,
		`{"framework_id":{"value":"F"},"type":"DECLINE","decline":{"offer_ids":[{"value":"O"}],"filters":{"refuse_seconds":1e3}}}`,
		`{"framework_id":{"value":"F"},"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"A"},"task_id":{"value":"t"},"uuid":"ESIzRFVmd4iZqrvM3e7/AA=="}}`,
		`{"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"RESERVE","reserve":{"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"1","end":18446744073709551615}]},"reservations":null}]}}]}}`,
		`{"type":"REQUEST","request":{"requests":[{"agent_id":null,"resources":[{"name":"x","type":"SET","set":{"item":["\u0000<&>"]}}]}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		call := &sched.Call{}
		if err := Unmarshal(data, call); err != nil {
			return
		}
		out, err := Marshal(call)
		if err != nil {
			t.Fatalf("marshal %v: %v", call, err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
		back := &sched.Call{}
		if err := Unmarshal(out, back); err != nil {
			t.Fatalf("own output %s refused: %v", out, err)
		}
		again, err := Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}
