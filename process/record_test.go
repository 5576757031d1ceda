package process

import (
	"net/netip"
	"testing"
)

// TestAppendUPIDIsString: the trace hashes the bytes appendUPID gives
// where it used to hash String's.
func TestAppendUPIDIsString(t *testing.T) {
	for _, u := range []UPID{
		{},
		{ID: "master"},
		{ID: "slave(1)", Addr: netip.MustParseAddrPort("10.0.0.7:5051")},
		{ID: "scheduler-1a2b", Addr: netip.MustParseAddrPort("[::1]:8080")},
		{ID: "x", Addr: netip.MustParseAddrPort("[::ffff:10.1.2.3]:1")},
		{Addr: netip.MustParseAddrPort("127.0.0.1:0")},
	} {
		if got := string(appendUPID([]byte("pre"), u)); got != "pre"+u.String() {
			t.Errorf("appendUPID(%#v) = %q, String() = %q", u, got, u.String())
		}
	}
}
