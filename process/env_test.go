package process

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
)

func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort().Port()
}

func TestLibprocessEnvironment(t *testing.T) {
	port := freePort(t)
	t.Setenv("LIBPROCESS_IP", "127.0.0.1")
	t.Setenv("LIBPROCESS_PORT", strconv.Itoa(int(port)))
	t.Setenv("LIBPROCESS_ADVERTISE_IP", "10.1.2.3")
	t.Setenv("LIBPROCESS_ADVERTISE_PORT", "5051")
	rt, err := New(Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if got, want := rt.Addr(), netip.MustParseAddrPort("10.1.2.3:5051"); got != want {
		t.Fatalf("advertised %v, want %v", got, want)
	}
	// Bound where LIBPROCESS_IP/PORT say.
	c, err := net.Dial("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String())
	if err != nil {
		t.Fatalf("nothing listens on LIBPROCESS_PORT %d: %v", port, err)
	}
	c.Close()
}

func TestLibprocessEnvironmentErrors(t *testing.T) {
	for _, kv := range [][2]string{{"LIBPROCESS_IP", "not-an-ip"}, {"LIBPROCESS_PORT", "70000"}, {"LIBPROCESS_ADVERTISE_IP", "::1"}} {
		t.Run(kv[0], func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			if rt, err := New(Options{Logger: quiet}); err == nil {
				rt.Close()
				t.Fatalf("%s=%s accepted", kv[0], kv[1])
			}
		})
	}
}
