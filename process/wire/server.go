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
		} else {
			t.serveHTTP(ctx, c, bw, req)
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
// receiver and writes its response.
func (t *Transport) serveHTTP(ctx context.Context, c net.Conn, bw *bufio.Writer, req *Request) {
	u, err := url.ParseRequestURI(req.Target)
	if err != nil {
		writeSimple(bw, http.StatusBadRequest, "bad request target\n")
		return
	}
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
	t.recv.ServeHTTP(w, hr)
	w.finish()
}
