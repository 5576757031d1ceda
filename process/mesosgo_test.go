package process_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Interop with mesos-go 0.0.6's messenger: messages both ways over real
// sockets, with the sender UPID intact.

const (
	pingName = "mesos.internal.PingSlaveMessage"
	pongName = "mesos.internal.PongSlaveMessage"
)

var pingBody = []byte{0x08, 0x01} // PingSlaveMessage{connected: true}

func interopRuntime(t *testing.T) *process.Runtime {
	t.Helper()
	rt, err := process.New(process.Options{
		Bind:   netip.MustParseAddrPort("127.0.0.1:0"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

func startPeer(t *testing.T, args ...string) *mesosgo.Peer {
	t.Helper()
	p, err := mesosgo.Start(args...)
	if errors.Is(err, mesosgo.ErrUnavailable) {
		t.Skipf("skipping interop: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

type rawProc struct {
	process.Process
	init func(p *rawProc)
}

func (p *rawProc) Initialize() { p.init(p) }

func TestMesosGoReceivesOurMessagesAndReplies(t *testing.T) {
	peer := startPeer(t, "-mode=echo")
	rt := interopRuntime(t)
	peerPID := process.MustParseUPID(peer.UPID)
	const n = 100
	pongs := make(chan process.UPID, n)
	self, err := rt.Spawn(&rawProc{init: func(p *rawProc) {
		p.InstallRaw(pongName, func(from process.UPID, _ []byte) error {
			pongs <- from
			return nil
		})
	}}, "ours")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		rt.Post(self, peerPID, pingName, pingBody)
	}
	want := fmt.Sprintf("PING from=%s connected=true", self)
	for i := 0; i < n; i++ {
		line, err := peer.Line("PING ", 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if line != want {
			t.Fatalf("mesos-go saw %q, want %q", line, want)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case from := <-pongs:
			if from != peerPID {
				t.Fatalf("pong from %s, want %s", from, peerPID)
			}
		case <-time.After(30 * time.Second): // wall-clock: bound on another OS process
			t.Fatalf("got %d of %d pongs", i, n)
		}
	}
}

func TestMesosGoSendsToUs(t *testing.T) {
	rt := interopRuntime(t)
	got := future.NewPromise[process.UPID]()
	self, err := rt.Spawn(&rawProc{init: func(p *rawProc) {
		p.InstallRaw(pingName, func(from process.UPID, body []byte) error {
			got.Set(from)
			p.Runtime().Post(p.Self(), from, pongName, nil)
			return nil
		})
	}}, "ours")
	if err != nil {
		t.Fatal(err)
	}
	peer := startPeer(t, "-mode=send", "-to="+self.String())
	if !process.Await(rt, got.Future(), 30*time.Second) {
		t.Fatal("no ping from mesos-go")
	}
	if from := got.Future().Value(); from.String() != peer.UPID {
		t.Fatalf("ping from %s, want mesos-go's %s", from, peer.UPID)
	}
	line, err := peer.Line("PONG ", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := "PONG from=" + self.String(); line != want {
		t.Fatalf("mesos-go printed %q, want %q", line, want)
	}
	if err := peer.Wait(); err != nil {
		t.Fatalf("mesos-go peer: %v", err)
	}
}
