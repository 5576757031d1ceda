package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"

	"github.com/gomesos/gomesos/process/upid"
)

// outConn is one outbound connection: messages from one sender to one
// address, written in order by a writer goroutine that batches whatever
// is queued; a reader goroutine discards what the peer answers.
type outConn struct {
	t   *Transport
	key connKey

	mu     sync.Mutex
	queue  []outMsg
	linked bool
	done   bool
	conn   net.Conn

	wake chan struct{}
	once sync.Once
}

type outMsg struct {
	to   upid.UPID
	name string
	body []byte
}

// Send queues a message from from to to. It never blocks on the network:
// delivery is at most once. It reports false when the message was
// dropped at once (the transport or the connection is closed); true means
// only that it was queued.
func (t *Transport) Send(from, to upid.UPID, name string, body []byte) bool {
	c := t.conn(connKey{from: from, to: to.Addr}, false)
	if c == nil {
		return false
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, outMsg{to: to, name: name, body: body})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// Link makes the (from, to) connection persistent, connecting now if
// needed. If it cannot connect, or later breaks, OnExited(from, to) is
// called once; link again after that to watch again.
func (t *Transport) Link(from upid.UPID, to netip.AddrPort) {
	t.conn(connKey{from: from, to: to}, true)
}

// conn returns the live connection for key, creating it; nil once the
// transport is closed.
func (t *Transport) conn(key connKey, link bool) *outConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		if link && t.opts.OnExited != nil {
			go t.opts.OnExited(key.from, key.to)
		}
		return nil
	}
	c := t.conns[key]
	if c == nil {
		c = &outConn{t: t, key: key, wake: make(chan struct{}, 1)}
		t.conns[key] = c
		t.wg.Add(1)
		go c.run()
	}
	if link {
		c.mu.Lock()
		c.linked = true
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
				scratch = AppendMessage(scratch[:0], c.key.from, m.to, m.name, m.body)
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
		conn, err := d.DialContext(ctx, "tcp4", c.key.to.String())
		if err != nil {
			select {
			case <-timedOut:
				return nil, fmt.Errorf("dial %s: timed out after %v: %w", c.key.to, t.opts.DialTimeout, err)
			default:
			}
			return nil, fmt.Errorf("dial %s: %w", c.key.to, err)
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
	if c.linked || len(c.queue) > 0 || c.done {
		c.mu.Unlock()
		t.mu.Unlock()
		return false
	}
	c.done = true
	if t.conns[c.key] == c {
		delete(t.conns, c.key)
	}
	conn := c.conn
	c.mu.Unlock()
	t.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	if t.opts.OnClosed != nil {
		t.opts.OnClosed(c.key.from, c.key.to)
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
		if t.conns[c.key] == c {
			delete(t.conns, c.key)
		}
		t.mu.Unlock()
		c.mu.Lock()
		wasDone := c.done
		c.done = true
		dropped := len(c.queue)
		c.queue = nil
		linked := c.linked
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
			t.opts.OnClosed(c.key.from, c.key.to)
		}
		t.log.Debug("outbound connection broken", "from", c.key.from.String(), "to", c.key.to.String(), "err", err, "dropped", dropped)
		if linked && report && t.opts.OnExited != nil {
			t.opts.OnExited(c.key.from, c.key.to)
		}
	})
}
