package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/gomesos/gomesos/process/walltime"
)

var (
	accepted = []byte("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
	notFound = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
)

var (
	tooLargeBody   = []byte("HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	tooLargeHeader = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
)

// serve reads requests from one inbound connection until it ends, sends
// something malformed, or stays silent past its deadlines: the idle
// timeout between requests, the header timeout from a request's first
// byte to the end of its header, the body timeout after that. Deadlines
// are cleared while a request is handled (a response may stream for
// long).
func (t *Transport) serve(c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	sc, peerCert, err := t.secure(ctx, c)
	if err != nil {
		t.log.Debug("closing inbound connection", "peer", c.RemoteAddr().String(), "err", err)
		return
	}
	c = sc
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 16<<10)
	dec := NewDecoder(br, t.opts.MaxHeaderBytes, t.opts.MaxBodyBytes, t.local)
	var dl deadline
	dec.OnHeader(func(n int64) {
		if n < 0 || n > int64(br.Buffered()) { // the body is still to come
			dl.set(c, t.opts.ReadBodyTimeout)
		}
	})
	carriedMessages := false
	var peer netip.Addr
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		peer = ap.Addr().Unmap()
	}
	for {
		if br.Buffered() == 0 && !t.awaitRequest(c, br, &dl, carriedMessages) {
			_ = bw.Flush()
			return
		}
		dl.set(c, t.opts.ReadHeaderTimeout)
		req, err := dec.Next()
		if err != nil {
			switch {
			case errors.Is(err, ErrBodyTooLarge):
				_, _ = bw.Write(tooLargeBody)
			case errors.Is(err, ErrHeaderTooLarge):
				_, _ = bw.Write(tooLargeHeader)
			}
			switch {
			case isTimeout(err):
				t.log.Debug("closing inbound connection: request not read in time", "peer", c.RemoteAddr().String())
			case errors.Is(err, ErrTLSOnPlain):
				// Expected while a cluster moves to TLS: not worth a warning
				// per connection.
				if n := t.tlsOnPlainLog.Note(); n > 0 {
					t.log.Info("closing connections of TLS clients", "peer", c.RemoteAddr().String(), "err", err, "count", n)
				}
				if t.opts.OnDecodeError != nil {
					t.opts.OnDecodeError(err)
				}
			case errors.Is(err, ErrMalformed):
				t.log.Warn("closing connection on malformed input", "peer", c.RemoteAddr().String(), "err", err)
				if t.opts.OnDecodeError != nil {
					t.opts.OnDecodeError(err)
				}
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
				t.log.Debug("inbound connection ended", "peer", c.RemoteAddr().String(), "err", err)
			}
			dl.set(c, time.Second) // for the answer above, if any
			_ = bw.Flush()
			return
		}
		if m := req.Message; m != nil {
			// Delivery does not block: the header deadline may stay.
			carriedMessages = true
			m.Peer = peer
			m.PeerCert = peerCert
			if t.recv.Deliver(m) {
				_, _ = bw.Write(accepted)
			} else {
				_, _ = bw.Write(notFound)
			}
		} else {
			dl.set(c, 0) // a handler may take long, a stream longer
			if streamed, ok := t.serveHTTP(ctx, c, br, bw, req); streamed || !ok {
				// A streamed response ends the connection: the peer may
				// not have read all of it, and a watcher read its side
				// meanwhile. So does a handler that panicked.
				_ = bw.Flush()
				return
			}
		}
		if req.Close {
			_ = bw.Flush()
			return
		}
		// Answer in batches: flush only when no further request is
		// already waiting in the buffer.
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}

// awaitRequest waits for the first byte of the next request, up to the
// idle timeout. A connection without one (a link that carried messages,
// by default) waits on under the header deadline, re-armed each time it
// passes, so that a busy link does not move its deadline per message.
func (t *Transport) awaitRequest(c net.Conn, br *bufio.Reader, dl *deadline, carriedMessages bool) bool {
	idle := t.opts.InboundIdleTimeout
	if carriedMessages {
		idle = t.opts.LinkIdleTimeout
	}
	for {
		if idle > 0 {
			dl.set(c, idle)
		} else {
			dl.set(c, t.opts.ReadHeaderTimeout)
		}
		_, err := br.Peek(1)
		switch {
		case err == nil:
			return true
		case isTimeout(err) && idle <= 0:
			continue
		case isTimeout(err):
			t.log.Debug("closing idle inbound connection", "peer", c.RemoteAddr().String())
		}
		return false
	}
}

// deadline tracks a connection's read deadline so that it is moved only
// when it changes by more than deadlineSlack: a stream of messages then
// costs no deadline update per message.
type deadline struct{ at time.Time }

const deadlineSlack = time.Second

// set makes c's read deadline d from now; d <= 0 clears it.
func (dl *deadline) set(c net.Conn, d time.Duration) {
	if d <= 0 {
		if !dl.at.IsZero() {
			dl.at = time.Time{}
			_ = c.SetReadDeadline(dl.at)
		}
		return
	}
	at := walltime.Clock{}.Now().Add(d) // a socket deadline: the OS edge
	if !dl.at.IsZero() && dl.at.Before(at) && at.Sub(dl.at) < deadlineSlack && d > 2*deadlineSlack {
		return // close enough: the deadline set a moment ago stands
	}
	dl.at = at
	_ = c.SetReadDeadline(at)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// serveHTTP turns a decoded request into an *http.Request for the
// receiver and writes its response. It reports whether the response was
// streamed (chunked while the handler ran): then the request's context is
// cancelled as soon as the peer closes its side, so that a stream (such as
// the v1 API's event stream) ends when its client goes away.
//
// ok is false when the handler panicked: the request was answered 500 if
// nothing had been written yet, and the connection should close.
func (t *Transport) serveHTTP(ctx context.Context, c net.Conn, br *bufio.Reader, bw *bufio.Writer, req *Request) (streamed, ok bool) {
	u, err := url.ParseRequestURI(req.Target)
	if err != nil {
		writeSimple(bw, http.StatusBadRequest, "bad request target\n")
		return false, true
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hr := (&http.Request{
		Method:        req.Method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        req.Header,
		Body:          io.NopCloser(bytes.NewReader(req.Body)),
		ContentLength: int64(len(req.Body)),
		Host:          req.Header.Get("Host"),
		RemoteAddr:    c.RemoteAddr().String(),
		RequestURI:    req.Target,
		Close:         req.Close,
	}).WithContext(ctx)
	if tc, ok := c.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		hr.TLS = &cs
	}
	w := newResponseWriter(bw, hr)
	w.onStream = func() {
		// Nothing else reads the connection until the stream ends, and
		// the connection closes after it: watch it for the peer's close.
		go func() {
			if _, err := br.Peek(1); err != nil {
				cancel()
			}
		}()
	}
	if !t.handle(w, hr) {
		return w.chunked, false
	}
	w.finish()
	return w.chunked, true
}

// handle runs the receiver's handler; a panic in it ends only this
// request (500 when nothing was written yet), never the daemon.
func (t *Transport) handle(w *responseWriter, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			t.log.Error("http handler panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if !w.chunked { // nothing sent yet: answer 500 instead
				w.buf.Reset()
				w.header = http.Header{"Connection": {"close"}}
				w.status = http.StatusInternalServerError
				w.finish()
			}
			ok = false
		}
	}()
	t.recv.ServeHTTP(w, r)
	return true
}
