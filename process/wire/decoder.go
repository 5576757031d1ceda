package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/gomesos/gomesos/process/upid"
)

// Default limits of the decoder.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBodyBytes   = 64 << 20
)

// ErrMalformed wraps every decoding error caused by the peer's bytes.
var ErrMalformed = errors.New("malformed request")

// ErrTLSOnPlain (wrapping ErrMalformed) is a TLS handshake sent to a
// plain port: a peer with SSL_ENABLED, during a rolling upgrade perhaps.
var ErrTLSOnPlain = fmt.Errorf("%w: TLS handshake on a plain connection (SSL_ENABLED is off here)", ErrMalformed)

// ErrBodyTooLarge and ErrHeaderTooLarge wrap (besides ErrMalformed) a
// request over the decoder's limits; the server answers 413 and 431.
var (
	ErrBodyTooLarge   = errors.New("request body too large")
	ErrHeaderTooLarge = errors.New("request header too large")
)

// Request is one decoded request: a libprocess message (Message set) or
// a plain HTTP request for a route.
type Request struct {
	Method string
	Target string // the request target as sent
	Header http.Header
	Body   []byte
	// Message is set when the request is a libprocess message.
	Message *Message
	// Close is set when the peer asked to close after this request.
	Close bool
}

// Decoder reads successive requests from a connection.
type Decoder struct {
	r              *bufio.Reader
	tp             *textproto.Reader
	maxHeaderBytes int
	maxBodyBytes   int64
	local          upid.UPID // receiver address of decoded messages
	resolve        upid.Resolver
	headerDone     func(bodyLen int64)
}

// OnHeader sets a function called each time a request's header has been
// read, before its body, with the declared body length (-1: chunked or
// unknown). The server moves from its header deadline to its body
// deadline there.
func (d *Decoder) OnHeader(f func(bodyLen int64)) { d.headerDone = f }

// SetResolver sets how host names in sender UPIDs are resolved (default:
// the system resolver). Tests and fuzzing use one that needs no DNS.
func (d *Decoder) SetResolver(r upid.Resolver) { d.resolve = r }

// NewDecoder returns a decoder reading r with the given limits (zero:
// defaults). Decoded messages get local's address as their To address.
func NewDecoder(r *bufio.Reader, maxHeaderBytes int, maxBodyBytes int64, local upid.UPID) *Decoder {
	if maxHeaderBytes <= 0 {
		maxHeaderBytes = DefaultMaxHeaderBytes
	}
	if maxBodyBytes <= 0 {
		maxBodyBytes = DefaultMaxBodyBytes
	}
	return &Decoder{r: r, tp: textproto.NewReader(r), maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes, local: local}
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Next decodes the next request. It returns io.EOF at a clean end of the
// stream and an error wrapping ErrMalformed for bad input.
func (d *Decoder) Next() (*Request, error) {
	if b, err := d.r.Peek(1); err == nil && b[0] == tlsRecordHandshake {
		// A TLS client on a plain port: refuse now rather than wait for a
		// line end that a ClientHello may never hold.
		return nil, ErrTLSOnPlain
	}
	budget := d.maxHeaderBytes
	line, err := d.readLine(&budget)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, err
	}
	// Tolerate stray blank lines between pipelined requests.
	for line == "" {
		if line, err = d.readLine(&budget); err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, err
		}
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || !strings.HasPrefix(proto, "HTTP/1.") {
		return nil, malformed("bad request line %q", truncate(line))
	}
	req := &Request{Method: method, Target: target, Header: make(http.Header)}
	for {
		l, err := d.readLine(&budget)
		if err != nil {
			if err == io.EOF {
				return nil, malformed("connection closed inside the header")
			}
			return nil, err
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, malformed("bad header line %q", truncate(l))
		}
		req.Header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	if d.headerDone != nil {
		n := int64(0)
		if req.Header.Get("Transfer-Encoding") != "" {
			n = -1
		} else if cl := req.Header.Get("Content-Length"); cl != "" {
			if n, err = strconv.ParseInt(cl, 10, 64); err != nil {
				n = -1
			}
		}
		d.headerDone(n)
	}
	if proto == "HTTP/1.0" {
		req.Close = !strings.EqualFold(req.Header.Get("Connection"), "keep-alive")
	} else {
		req.Close = strings.EqualFold(req.Header.Get("Connection"), "close")
	}
	if err := d.readBody(req); err != nil {
		return nil, err
	}
	if err := d.classify(req); err != nil {
		return nil, err
	}
	return req, nil
}

// readLine reads one CRLF (or LF) terminated line within the budget.
func (d *Decoder) readLine(budget *int) (string, error) {
	var buf []byte
	for {
		chunk, err := d.r.ReadSlice('\n')
		*budget -= len(chunk)
		if *budget < 0 {
			return "", fmt.Errorf("%w: %w: over %d bytes", ErrMalformed, ErrHeaderTooLarge, d.maxHeaderBytes)
		}
		buf = append(buf, chunk...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return "", io.EOF
		}
		if err == io.EOF {
			return "", malformed("truncated line")
		}
		return "", err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	return string(buf), nil
}

func (d *Decoder) readBody(req *Request) error {
	te := req.Header.Get("Transfer-Encoding")
	switch {
	case te != "":
		if !strings.EqualFold(te, "chunked") {
			return malformed("unsupported transfer encoding %q", te)
		}
		return d.readChunked(req)
	case req.Header.Get("Content-Length") != "":
		n, err := strconv.ParseInt(req.Header.Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return malformed("bad Content-Length %q", req.Header.Get("Content-Length"))
		}
		if n > d.maxBodyBytes {
			return tooLarge("body of %d bytes over the limit of %d", n, d.maxBodyBytes)
		}
		body, err := readBody(d.r, n, nil)
		if err != nil {
			return fmt.Errorf("%w: truncated body: %w", ErrMalformed, err)
		}
		req.Body = body
	}
	return nil
}

func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrMalformed, ErrBodyTooLarge, fmt.Sprintf(format, args...))
}

// bodyStep is how much of a body is allocated ahead of the bytes that
// arrive: a declared size costs nothing until the peer sends it.
const bodyStep = 64 << 10

// readBody appends n bytes from r to buf, growing it as the bytes arrive.
func readBody(r io.Reader, n int64, buf []byte) ([]byte, error) {
	for n > 0 {
		step := min(n, bodyStep)
		if free := int64(cap(buf) - len(buf)); free < step {
			grown := make([]byte, len(buf), int64(len(buf))+max(step, int64(len(buf))))
			copy(grown, buf)
			buf = grown
		}
		start := len(buf)
		buf = buf[:start+int(step)]
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, err
		}
		n -= step
	}
	return buf, nil
}

func (d *Decoder) readChunked(req *Request) error {
	var body []byte
	for {
		budget := 4096
		line, err := d.readLine(&budget)
		if err != nil {
			if err == io.EOF {
				return malformed("truncated chunked body")
			}
			return err
		}
		sizeText, _, _ := strings.Cut(line, ";") // chunk extensions ignored
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return malformed("bad chunk size %q", truncate(line))
		}
		if int64(len(body))+size > d.maxBodyBytes {
			return tooLarge("chunked body over the limit of %d bytes", d.maxBodyBytes)
		}
		if size == 0 {
			// Trailers, up to the blank line.
			for {
				budget := d.maxHeaderBytes
				l, err := d.readLine(&budget)
				if err != nil {
					if err == io.EOF {
						return malformed("truncated chunked trailer")
					}
					return err
				}
				if l == "" {
					req.Body = body
					return nil
				}
			}
		}
		if body, err = readBody(d.r, size, body); err != nil {
			return fmt.Errorf("%w: truncated chunk: %w", ErrMalformed, err)
		}
		crlf := 2
		b, err := d.r.Peek(1)
		if err == nil && b[0] == '\n' {
			crlf = 1
		}
		end := make([]byte, crlf)
		if _, err := io.ReadFull(d.r, end); err != nil || (crlf == 2 && string(end) != "\r\n") || (crlf == 1 && end[0] != '\n') {
			return malformed("chunk not followed by CRLF")
		}
	}
}

// classify recognises libprocess messages: POST with a `libprocess/`
// User-Agent or a Libprocess-From header.
func (d *Decoder) classify(req *Request) error {
	if req.Method != http.MethodPost {
		return nil
	}
	from := req.Header.Get("Libprocess-From")
	ua := req.Header.Get("User-Agent")
	_, hasFrom := req.Header["Libprocess-From"]
	if !hasFrom && !strings.HasPrefix(ua, "libprocess/") {
		return nil
	}
	if !hasFrom {
		from = strings.TrimPrefix(ua, "libprocess/")
	}
	var sender upid.UPID
	var err error
	if d.resolve != nil {
		sender, err = upid.ParseWith(strings.TrimSpace(from), d.resolve)
	} else {
		sender, err = upid.Parse(strings.TrimSpace(from))
	}
	if err != nil {
		return malformed("bad sender: %v", err)
	}
	path := req.Target
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		return malformed("message path %q does not start with '/'", truncate(path))
	}
	idText, name, ok := strings.Cut(path[1:], "/")
	if !ok || name == "" {
		// `/<name>` with an empty receiver id.
		idText, name = "", path[1:]
	}
	id, err := url.PathUnescape(idText)
	if err != nil {
		return malformed("bad receiver id %q: %v", truncate(idText), err)
	}
	req.Message = &Message{
		From: sender,
		To:   upid.UPID{ID: id, Addr: d.local.Addr},
		Name: name,
		Body: req.Body,
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
