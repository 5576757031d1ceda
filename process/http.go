package process

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gomesos/gomesos/process/future"
)

// Response is a process's answer to an HTTP request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Stream, when set, writes the body instead of Body: it runs on the
	// connection's goroutine after the headers are sent, flushing as it
	// goes, until it returns or the client goes away (ctx of the request).
	Stream func(w io.Writer, flush func()) error
}

// RouteHandler answers a request routed to a process. It runs inside the
// process, like any event; it may return a pending future and complete it
// later (from a dispatch, say).
type RouteHandler func(r *http.Request) future.Future[*Response]

type route struct {
	help    string
	handler RouteHandler
}

// Route serves path (relative to the process, e.g. "/state") at
// /<process id><path>. Requests are matched longest prefix first.
func (p *Process) Route(path, help string, h RouteHandler) {
	if p.routes == nil {
		p.routes = make(map[string]route)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	p.routes[path] = route{help: help, handler: h}
}

// Routes lists this process's route paths with their help text, sorted.
func (p *Process) Routes() [][2]string {
	out := make([][2]string, 0, len(p.routes))
	for path, r := range p.routes {
		out = append(out, [2]string{path, r.help})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// OK returns a ready 200 response with a body.
func OK(contentType string, body []byte) future.Future[*Response] {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return future.Ready(&Response{Status: http.StatusOK, Header: h, Body: body})
}

// JSON returns a ready 200 response with v encoded as JSON, or a 500 if v
// cannot be encoded.
func JSON(v any) future.Future[*Response] {
	b, err := json.Marshal(v)
	if err != nil {
		return Status(http.StatusInternalServerError, "encode JSON: "+err.Error())
	}
	return OK("application/json", b)
}

// Aside answers with what render returns, rendered on a goroutine of its
// own, so a big document (a master's /state) does not hold up the
// process that asked for it. render must read only values the process no
// longer changes: copies, or immutable data it replaces rather than
// updates.
func Aside(contentType string, render func() []byte) future.Future[*Response] {
	pr := future.NewPromise[*Response]()
	go func() { pr.Associate(OK(contentType, render())) }()
	return pr.Future()
}

// Status returns a ready response with the status and a text message.
func Status(code int, msg string) future.Future[*Response] {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if msg != "" && !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	return future.Ready(&Response{Status: code, Header: h, Body: []byte(msg)})
}

// Handler adapts a blocking http.Handler into a RouteHandler: it runs on
// its own goroutine (not inside the process) and its output becomes the
// response. Use it for handlers that wait on other processes.
func Handler(h http.Handler) RouteHandler {
	return func(r *http.Request) future.Future[*Response] {
		pr := future.NewPromise[*Response]()
		go func() {
			defer func() {
				if v := recover(); v != nil {
					slog.Error("http handler panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					pr.Associate(Status(http.StatusInternalServerError, "internal error"))
				}
			}()
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			pr.Set(&Response{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()})
		}()
		return pr.Future()
	}
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func (p *Process) handleHTTP(e *httpEvent) {
	path := e.path
	for {
		if r, ok := p.routes[path]; ok {
			e.promise.Associate(p.callRoute(r.handler, e))
			return
		}
		if path == "/" || path == "" {
			break
		}
		i := strings.LastIndexByte(path, '/')
		if i <= 0 {
			path = "/"
		} else {
			path = path[:i]
		}
	}
	e.promise.Associate(Status(http.StatusNotFound, "no route "+e.path+" on process "+p.self.ID))
}

// callRoute runs a route handler; a panic in it ends only the request
// (500), not the process.
func (p *Process) callRoute(h RouteHandler, e *httpEvent) (f future.Future[*Response]) {
	defer func() {
		if v := recover(); v != nil {
			p.rt.logger.Error("http route panicked", "process", p.self.ID, "path", e.req.URL.Path, "panic", v, "stack", string(debug.Stack()))
			f = Status(http.StatusInternalServerError, "internal error")
		}
	}()
	return h(e.req)
}

// HTTPGuard looks at a request for the routes of the process processID
// before the process sees it; a non-nil Response (a 401, say) answers the
// request instead. It runs on the connection's goroutine, so it may read
// only what does not change (a daemon's configuration).
type HTTPGuard func(r *http.Request, processID string) *Response

// SetHTTPGuard installs g in front of every route the runtime serves; nil
// removes it. A daemon uses it to authenticate the runtime's own routes
// (/metrics, /logging, /profiler), which no component owns.
func (rt *Runtime) SetHTTPGuard(g HTTPGuard) {
	if g == nil {
		rt.guard.Store(nil)
		return
	}
	rt.guard.Store(&g)
}

// ServeHTTP routes a plain HTTP request to the process named by the first
// path segment (or to the delegate) and writes its response. The transport
// calls it on the connection's goroutine. The request counts as work in
// flight (Settle waits for it) until its response future is set; a
// streamed body after the headers is not counted.
func (rt *Runtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	release := rt.holdOnce()
	defer release()
	id, rest := splitPath(r.URL.EscapedPath())
	p := rt.lookup(id)
	if p == nil {
		if d := rt.delegate.Load(); d != nil {
			if p = rt.lookup(*d); p != nil {
				rest = r.URL.Path
				if id == "" {
					rest = "/"
				}
			}
		}
	}
	if p == nil {
		http.Error(w, "no process "+id, http.StatusNotFound)
		return
	}
	if g := rt.guard.Load(); g != nil {
		if resp := (*g)(r, p.self.ID); resp != nil {
			rt.writeResponse(w, r, resp)
			return
		}
	}
	pr := future.NewPromise[*Response]()
	if !p.post(queuedHTTP, &httpEvent{req: r, path: rest, promise: pr}) {
		http.Error(w, "process "+id+" terminated", http.StatusServiceUnavailable)
		return
	}
	f := pr.Future()
	f.OnAny(func(future.Future[*Response]) { release() })
	select {
	case <-f.Done():
	case <-r.Context().Done():
		f.Discard()
		return
	}
	resp, err := f.Get()
	if err != nil || resp == nil {
		msg := "no response"
		if err != nil {
			msg = err.Error()
		}
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	rt.writeResponse(w, r, resp)
}

// writeResponse writes resp (a status of 0 is 200) and runs its Stream,
// if any, after the headers.
func (rt *Runtime) writeResponse(w http.ResponseWriter, r *http.Request, resp *Response) {
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Stream != nil {
		w.WriteHeader(status)
		flusher, _ := w.(http.Flusher)
		flush := func() {
			if flusher != nil {
				flusher.Flush()
			}
		}
		flush()
		if err := rt.stream(resp, w, flush); err != nil {
			rt.logger.Debug("http stream ended", "path", r.URL.Path, "err", err)
		}
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
}

// stream runs a response's Stream; a panic in it ends only the stream.
func (rt *Runtime) stream(resp *Response, w io.Writer, flush func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			rt.logger.Error("http stream panicked", "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("stream panicked: %v", v)
		}
	}()
	return resp.Stream(w, flush)
}

// splitPath splits "/id/rest" into the percent-decoded id and "/rest".
func splitPath(escaped string) (id, rest string) {
	s := strings.TrimPrefix(escaped, "/")
	seg, after, found := strings.Cut(s, "/")
	id, err := url.PathUnescape(seg)
	if err != nil {
		id = seg
	}
	if !found {
		return id, "/"
	}
	rest, err = url.PathUnescape("/" + after)
	if err != nil {
		rest = "/" + after
	}
	return id, rest
}
