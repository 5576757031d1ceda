package wire

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/upid"
)

// manualTimers is a Clock whose timers fire only when the test says.
type manualTimers struct {
	mu    sync.Mutex
	fns   map[time.Duration][]func()
	armed chan struct{} // gets a token for every timer armed
}

func (m *manualTimers) AfterFunc(d time.Duration, fn func()) func() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fns == nil {
		m.fns = make(map[time.Duration][]func())
	}
	m.fns[d] = append(m.fns[d], fn)
	select {
	case m.armed <- struct{}{}:
	default:
	}
	return func() bool { return false } // firing a stale one is harmless
}

// fire runs the timers armed for d so far.
func (m *manualTimers) fire(d time.Duration) int {
	m.mu.Lock()
	fns := m.fns[d]
	delete(m.fns, d)
	m.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return len(fns)
}

// The idle timeout of an outbound connection runs on the transport's
// clock: the connection is retired (OnClosed) when that clock fires it.
func TestIdleTimeoutUsesInjectedClock(t *testing.T) {
	rb := newRecorder(1, "sink")
	b := listen(t, rb, Options{})
	clock := &manualTimers{armed: make(chan struct{}, 16)}
	closed := make(chan struct{}, 1)
	a := listen(t, newRecorder(0), Options{
		Clock:       clock,
		IdleTimeout: time.Hour,
		OnClosed:    func(upid.UPID, netip.AddrPort) { closed <- struct{}{} },
	})
	from := upid.UPID{ID: "source", Addr: a.Addr()}
	if !a.Send(from, upid.UPID{ID: "sink", Addr: b.Addr()}, "m", nil) {
		t.Fatal("Send dropped the message")
	}
	waitFor(t, rb.arrived, "the message")
	select {
	case <-closed:
		t.Fatal("connection closed before its idle timeout fired")
	default:
	}
	// The writer arms the idle timer once its queue is empty (the dial
	// timer is armed first, with another duration).
	for clock.fire(time.Hour) == 0 {
		waitFor(t, clock.armed, "a timer to be armed")
	}
	waitFor(t, closed, "the idle connection to close")
	a.mu.Lock()
	n := len(a.conns)
	a.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d outbound connections left after the idle timeout", n)
	}
}
