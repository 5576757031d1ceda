package process

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gomesos/gomesos/process/future"
)

// A panic in an HTTP route, a blocking handler or a stream ends only that
// request: the answer is 500 (or the stream ends), and the process and the
// runtime go on serving.
func TestHTTPRoutePanicEndsOnlyTheRequest(t *testing.T) { both(t, testHTTPRoutePanic) }

func testHTTPRoutePanic(t *testing.T, base Options) {
	rt := newRuntime(t, base)
	_, pid := spawn(t, rt, "p", func(p *testProc) {
		p.Route("/boom", "panics", func(*http.Request) future.Future[*Response] { panic("route boom") })
		p.Route("/blocking", "panics on its goroutine", Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("handler boom")
		})))
		p.Route("/stream", "panics while streaming", func(*http.Request) future.Future[*Response] {
			return future.Ready(&Response{Status: 200, Stream: func(w io.Writer, flush func()) error {
				_, _ = w.Write([]byte("first"))
				flush()
				panic(errors.New("stream boom"))
			}})
		})
		p.Route("/ok", "fine", func(*http.Request) future.Future[*Response] { return OK("text/plain", []byte("ok")) })
	})
	for _, path := range []string{"/p/boom", "/p/blocking"} {
		if code, body := httpGet(t, rt, path); code != http.StatusInternalServerError {
			t.Errorf("GET %s = %d %q, want 500", path, code, body)
		}
	}
	if code, body := httpGet(t, rt, "/p/stream"); code != 200 || body != "first" {
		t.Errorf("GET /p/stream = %d %q, want 200 and the part written", code, body)
	}
	if code, body := httpGet(t, rt, "/p/ok"); code != 200 || body != "ok" {
		t.Errorf("after the panics GET /p/ok = %d %q", code, body)
	}
	if v := await(t, rt, Dispatch(rt, pid, func() string { return "alive" })); v != "alive" {
		t.Fatal("process ended after a route panicked")
	}
}
