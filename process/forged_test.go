package process

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestSenderAt(t *testing.T) {
	local := func(ip netip.Addr) bool { return ip.IsLoopback() || ip == netip.MustParseAddr("10.1.2.3") }
	for _, c := range []struct {
		claimed, peer string
		ok            bool
	}{
		{"192.0.2.7", "192.0.2.7", true},        // the sender's own address
		{"10.1.2.3", "127.0.0.1", true},         // this host, advertised, reached over loopback
		{"127.0.0.1", "10.1.2.3", true},         // this host, the other way round
		{"192.0.2.7", "127.0.0.1", false},       // a pid elsewhere claimed from here
		{"10.1.2.3", "192.0.2.8", false},        // our own pid claimed from elsewhere
		{"192.0.2.7", "192.0.2.8", false},       // one remote host speaking for another
		{"::ffff:192.0.2.7", "192.0.2.7", true}, // IPv4-mapped forms are the same address
	} {
		if got := senderAt(netip.MustParseAddr(c.claimed), netip.MustParseAddr(c.peer), local); got != c.ok {
			t.Errorf("senderAt(%s, %s) = %v, want %v", c.claimed, c.peer, got, c.ok)
		}
	}
}

// A message POSTed with a Libprocess-From naming a process on another host
// is dropped and counted; the same message naming a process of this host
// is delivered.
func TestForgedSenderDropped(t *testing.T) {
	rt := newRuntime(t, Options{})
	rt.Clock().Pause()
	var got atomic.Int64
	_, dst := spawn(t, rt, "sink", func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.Int64Value) { got.Store(m.Value) })
	})
	post := func(from string, v int64) {
		t.Helper()
		body, _ := proto.Marshal(wrapperspb.Int64(v))
		c, err := net.Dial("tcp", rt.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		name := string(proto.MessageName(wrapperspb.Int64(v)))
		fmt.Fprintf(c, "POST /%s/%s HTTP/1.1\r\nLibprocess-From: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", dst.ID, name, from, len(body))
		_, _ = c.Write(body)
		buf := make([]byte, 512)
		if n, _ := c.Read(buf); n == 0 {
			t.Fatal("no answer")
		}
		rt.Clock().Settle()
	}
	post("master@192.0.2.7:5050", 1)
	if g := got.Load(); g != 0 {
		t.Fatalf("a message claiming a sender on another host was delivered (%d)", g)
	}
	if n := rt.droppedForged.Value(); n != 1 {
		t.Fatalf("forged-sender drops counted %v, want 1", n)
	}
	post("master@127.0.0.1:5050", 2)
	if g := got.Load(); g != 2 {
		t.Fatalf("a message from this host was not delivered (got %d)", g)
	}
}
