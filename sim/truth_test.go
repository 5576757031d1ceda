package sim

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
)

// TestMayBeAccept: the launch recorder skips decoding exactly the calls
// that are not ACCEPTs.
func TestMayBeAccept(t *testing.T) {
	fid := &mesos.FrameworkID{Value: proto.String("f")}
	for _, c := range []struct {
		call *schedulerpb.Call
		want bool
	}{
		{&schedulerpb.Call{FrameworkId: fid, Type: schedulerpb.Call_ACCEPT.Enum(), Accept: &schedulerpb.Call_Accept{}}, true},
		{&schedulerpb.Call{FrameworkId: fid, Type: schedulerpb.Call_DECLINE.Enum()}, false},
		{&schedulerpb.Call{FrameworkId: fid, Type: schedulerpb.Call_ACKNOWLEDGE.Enum()}, false},
		{&schedulerpb.Call{Type: schedulerpb.Call_SUBSCRIBE.Enum()}, false},
		{&schedulerpb.Call{FrameworkId: fid}, true}, // no type: decode to be sure
	} {
		b, err := proto.Marshal(c.call)
		if err != nil {
			t.Fatal(err)
		}
		if got := mayBeAccept(b); got != c.want {
			t.Errorf("mayBeAccept(%v) = %v, want %v", c.call, got, c.want)
		}
	}
	if !mayBeAccept([]byte{0xff}) {
		t.Error("a malformed body must be decoded (and rejected) as before")
	}
}
