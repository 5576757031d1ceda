package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/process/upid"
)

// outConn is one outbound connection: every message from this transport's
// processes to one address, as libprocess keeps one socket per peer
// address (so thousands of processes talking to one peer hold one file
// descriptor, not thousands). A writer goroutine writes them in the
// order they were queued, batching whatever is queued; a reader
// goroutine discards what the peer answers. When it breaks, every
// process linked through it hears that its peers at that address exited.
type outConn struct {
	t  *Transport
	to netip.AddrPort

	mu      sync.Mutex
	queue   []outMsg
	linked  map[upid.UPID]struct{} // linkers, reported by OnExited
	senders map[upid.UPID]struct{} // who queued on it, reported by OnClosed
	done    bool
	conn    net.Conn

	wake chan struct{}
	once sync.Once
}

type outMsg struct {
	from upid.UPID
	to   upid.UPID
	name string
	body []byte
}

// Send queues a message from from to to. It never blocks on the network:
// delivery is at most once. It reports false when the message was
// dropped at once (the transport or the connection is closed); true means
// only that it was queued.
func (t *Transport) Send(from, to upid.UPID, name string, body []byte) bool {
	c := t.conn(from, to.Addr, false)
	if c == nil {
		return false
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return false
	}
	c.senders[from] = struct{}{}
	c.queue = append(c.queue, outMsg{from: from, to: to, name: name, body: body})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// Link makes the connection to `to` persistent for from, connecting now
// if needed. If it cannot connect, or later breaks, OnExited(from, to) is
// called once; link again after that to watch again.
func (t *Transport) Link(from upid.UPID, to netip.AddrPort) {
	t.conn(from, to, true)
}

// conn returns the live connection to `to`, creating it (linked for from
// when link is set); nil once the transport is closed.
func (t *Transport) conn(from upid.UPID, to netip.AddrPort, link bool) *outConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		if link && t.opts.OnExited != nil {
			go t.opts.OnExited(from, to)
		}
		return nil
	}
	c := t.conns[to]
	if c == nil {
		c = &outConn{t: t, to: to, wake: make(chan struct{}, 1),
			linked: map[upid.UPID]struct{}{}, senders: map[upid.UPID]struct{}{}}
		t.conns[to] = c
		t.wg.Add(1)
		go c.run()
	}
	if link {
		c.mu.Lock()
		c.linked[from] = struct{}{}
		c.mu.Unlock()
	}
	return c
}

// run dials, then writes queued messages until the connection fails, the
// transport closes, or (unlinked) it stays idle past the idle timeout.
func (c *outConn) run() {
	defer c.t.wg.Done()
	t := c.t
	conn, err := c.dial()
	if err != nil {
		c.fail(err, true)
		return
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		_ = conn.Close()
		return
	}
	c.conn = conn
	c.mu.Unlock()
	t.wg.Add(1)
	go c.discard(conn)

	bw := bufio.NewWriterSize(conn, 64<<10)
	var scratch []byte
	idle := make(chan struct{}, 1)
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		done := c.done
		c.mu.Unlock()
		if done {
			return
		}
		if len(batch) > 0 {
			for i := range batch {
				m := &batch[i]
				scratch = AppendMessage(scratch[:0], m.from, m.to, m.name, m.body)
				if _, err := bw.Write(scratch); err != nil {
					c.fail(err, true)
					return
				}
			}
			if err := bw.Flush(); err != nil {
				c.fail(err, true)
				return
			}
			continue // more may have been queued meanwhile
		}
		select {
		case <-c.wake:
			continue
		default:
		}
		// Nothing queued: wait for more, or retire after the idle timeout.
		select {
		case <-idle:
		default:
		}
		stop := t.opts.Clock.AfterFunc(t.opts.IdleTimeout, func() {
			select {
			case idle <- struct{}{}:
			default:
			}
		})
		select {
		case <-c.wake:
			stop()
		case <-t.ctx.Done():
			stop()
			c.fail(errors.New("transport closed"), false)
			return
		case <-idle:
			if c.closeIfIdle() {
				return
			}
		}
	}
}

// dial connects to the destination, with the TLS handshake when the
// transport speaks TLS, within the dial timeout (by the transport's
// clock); closing the transport cancels it.
func (c *outConn) dial() (net.Conn, error) {
	t := c.t
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	timedOut := make(chan struct{})
	stop := t.opts.Clock.AfterFunc(t.opts.DialTimeout, func() {
		close(timedOut)
		cancel()
	})
	defer stop()
	var d net.Dialer
	tcp := func() (net.Conn, error) {
		conn, err := d.DialContext(ctx, "tcp4", c.to.String())
		if err != nil {
			select {
			case <-timedOut:
				return nil, fmt.Errorf("dial %s: timed out after %v: %w", c.to, t.opts.DialTimeout, err)
			default:
			}
			return nil, fmt.Errorf("dial %s: %w", c.to, err)
		}
		return conn, nil
	}
	conn, err := tcp()
	if err != nil {
		return nil, err
	}
	return c.handshake(ctx, conn, tcp)
}

// closeIfIdle retires an unlinked connection with nothing queued.
func (c *outConn) closeIfIdle() bool {
	t := c.t
	t.mu.Lock()
	c.mu.Lock()
	if len(c.linked) > 0 || len(c.queue) > 0 || c.done {
		c.mu.Unlock()
		t.mu.Unlock()
		return false
	}
	c.done = true
	if t.conns[c.to] == c {
		delete(t.conns, c.to)
	}
	conn := c.conn
	senders := c.senders
	c.senders = nil
	c.mu.Unlock()
	t.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	if t.opts.OnClosed != nil {
		for _, from := range sortedPIDs(senders) {
			t.opts.OnClosed(from, c.to)
		}
	}
	return true
}

// discard reads and drops whatever the peer sends (202s, or nothing); a
// read error or EOF breaks the connection.
func (c *outConn) discard(conn net.Conn) {
	defer c.t.wg.Done()
	_, err := io.Copy(io.Discard, conn)
	if err == nil {
		err = io.EOF
	}
	c.fail(err, true)
}

// fail breaks the connection once: queued messages are dropped, the next
// Send opens a new connection, and a linked one reports OnExited.
func (c *outConn) fail(err error, report bool) {
	c.once.Do(func() {
		t := c.t
		t.mu.Lock()
		if t.conns[c.to] == c {
			delete(t.conns, c.to)
		}
		t.mu.Unlock()
		c.mu.Lock()
		wasDone := c.done
		c.done = true
		dropped := len(c.queue)
		c.queue = nil
		linked, senders := c.linked, c.senders
		c.linked, c.senders = nil, nil
		conn := c.conn
		c.mu.Unlock()
		if conn != nil {
			_ = conn.Close()
		}
		select {
		case c.wake <- struct{}{}:
		default:
		}
		if wasDone {
			return // retired as idle
		}
		if t.opts.OnClosed != nil {
			for _, from := range sortedPIDs(senders) {
				t.opts.OnClosed(from, c.to)
			}
		}
		t.log.Debug("outbound connection broken", "to", c.to.String(), "err", err, "dropped", dropped, "linkers", len(linked))
		if report && t.opts.OnExited != nil {
			for _, from := range sortedPIDs(linked) {
				t.opts.OnExited(from, c.to)
			}
		}
	})
}

// sortedPIDs returns the set's pids in a fixed order, so that what a
// broken connection reports comes in the same order each time.
func sortedPIDs(set map[upid.UPID]struct{}) []upid.UPID {
	out := make([]upid.UPID, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b upid.UPID) int { return strings.Compare(a.String(), b.String()) })
	return out
}
