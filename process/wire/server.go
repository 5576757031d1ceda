package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
)

var (
	accepted = []byte("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
	notFound = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
)

// serve reads requests from one inbound connection until it ends or sends
// something malformed.
func (t *Transport) serve(c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	br := bufio.NewReaderSize(c, 64<<10)
	bw := bufio.NewWriterSize(c, 16<<10)
	dec := NewDecoder(br, t.opts.MaxHeaderBytes, t.opts.MaxBodyBytes, t.local)
	for {
		req, err := dec.Next()
		if err != nil {
			if errors.Is(err, ErrMalformed) {
				t.log.Warn("closing connection on malformed input", "peer", c.RemoteAddr().String(), "err", err)
				if t.opts.OnDecodeError != nil {
					t.opts.OnDecodeError(err)
				}
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.log.Debug("inbound connection ended", "peer", c.RemoteAddr().String(), "err", err)
			}
			_ = bw.Flush()
			return
		}
		if m := req.Message; m != nil {
			if t.recv.Deliver(m) {
				_, _ = bw.Write(accepted)
			} else {
				_, _ = bw.Write(notFound)
			}
		} else if streamed := t.serveHTTP(ctx, c, br, bw, req); streamed {
			// A streamed response ends the connection: the peer may not
			// have read all of it, and a watcher read its side meanwhile.
			_ = bw.Flush()
			return
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

// serveHTTP turns a decoded request into an *http.Request for the
// receiver and writes its response. It reports whether the response was
// streamed (chunked while the handler ran): then the request's context is
// cancelled as soon as the peer closes its side, so that a stream (such as
// the v1 API's event stream) ends when its client goes away.
func (t *Transport) serveHTTP(ctx context.Context, c net.Conn, br *bufio.Reader, bw *bufio.Writer, req *Request) bool {
	u, err := url.ParseRequestURI(req.Target)
	if err != nil {
		writeSimple(bw, http.StatusBadRequest, "bad request target\n")
		return false
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
	t.recv.ServeHTTP(w, hr)
	w.finish()
	return w.chunked
}
