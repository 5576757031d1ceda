package wire

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// responseWriter writes one HTTP/1.1 response: buffered with a
// Content-Length when the handler finishes without flushing, chunked once
// it flushes (streaming responses such as event streams).
type responseWriter struct {
	bw      *bufio.Writer
	req     *http.Request
	header  http.Header
	status  int
	buf     bytes.Buffer
	chunked bool // headers sent, body going out in chunks
	failed  bool
	// onStream runs once when the response turns into a stream.
	onStream func()
}

func newResponseWriter(bw *bufio.Writer, req *http.Request) *responseWriter {
	return &responseWriter{bw: bw, req: req, header: make(http.Header)}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.failed {
		return 0, fmt.Errorf("write response: connection failed")
	}
	if !w.chunked {
		return w.buf.Write(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	w.bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
	w.bw.WriteString("\r\n")
	w.bw.Write(p)
	if _, err := w.bw.WriteString("\r\n"); err != nil {
		w.failed = true
		return 0, err
	}
	return len(p), nil
}

// Flush sends the headers (switching to chunked encoding) and whatever
// is buffered.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.chunked {
		w.header.Del("Content-Length")
		w.header.Set("Transfer-Encoding", "chunked")
		// The server ends the connection after a streamed response (see
		// Transport.serve): say so, or a client would put the connection
		// back in its pool at the last chunk and send its next request
		// on a socket being closed (it reads EOF).
		w.header.Set("Connection", "close")
		w.writeHead()
		w.chunked = true
		if w.onStream != nil {
			w.onStream()
		}
		if w.buf.Len() > 0 {
			b := w.buf.Bytes()
			w.buf = bytes.Buffer{}
			_, _ = w.Write(b)
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.failed = true
	}
}

func (w *responseWriter) writeHead() {
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	if w.req.Close {
		w.header.Set("Connection", "close")
	}
	_ = w.header.Write(w.bw)
	w.bw.WriteString("\r\n")
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
		return
	}
	body := w.buf.Bytes()
	if len(body) > 0 && w.header.Get("Content-Type") == "" {
		w.header.Set("Content-Type", http.DetectContentType(body))
	}
	if len(body) >= 1024 && w.header.Get("Content-Encoding") == "" && acceptsGzip(w.req) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = z.Bytes()
		w.header.Set("Content-Encoding", "gzip")
	}
	if w.req.Method != http.MethodHead || len(body) > 0 {
		w.header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.writeHead()
	if w.req.Method != http.MethodHead {
		w.bw.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(name, "gzip") {
				return true
			}
		}
	}
	return false
}

// writeSimple writes a complete small response.
func writeSimple(bw *bufio.Writer, code int, body string) {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
}
