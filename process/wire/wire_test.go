package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/upid"
)

// wait bounds every wait: a failure guard, never a way to let time pass.
const wait = 10 * time.Second

func TestEncodeMatchesLibprocess(t *testing.T) {
	from := upid.MustParse("slave-observer(1)@10.0.0.1:5050")
	to := upid.MustParse("slave(1)@10.0.0.2:5051")
	got := string(AppendMessage(nil, from, to, "mesos.internal.PingSlaveMessage", []byte{0x08, 0x01}))
	want := "POST /slave(1)/mesos.internal.PingSlaveMessage HTTP/1.1\r\n" +
		"User-Agent: libprocess/slave-observer(1)@10.0.0.1:5050\r\n" +
		"Libprocess-From: slave-observer(1)@10.0.0.1:5050\r\n" +
		"Connection: Keep-Alive\r\n" +
		"Host: \r\n" +
		"Transfer-Encoding: chunked\r\n" +
		"\r\n" +
		"2\r\n\x08\x01\r\n0\r\n\r\n"
	if got != want {
		t.Fatalf("ping encoding:\n%q\nwant\n%q", got, want)
	}
	got = string(AppendMessage(nil, to, upid.UPID{ID: "slave-observer(1)", Addr: from.Addr}, "mesos.internal.PongSlaveMessage", nil))
	want = "POST /slave-observer(1)/mesos.internal.PongSlaveMessage HTTP/1.1\r\n" +
		"User-Agent: libprocess/slave(1)@10.0.0.2:5051\r\n" +
		"Libprocess-From: slave(1)@10.0.0.2:5051\r\n" +
		"Connection: Keep-Alive\r\n" +
		"Host: \r\n" +
		"\r\n"
	if got != want {
		t.Fatalf("pong encoding:\n%q\nwant\n%q", got, want)
	}
	for size, hex := range map[int]string{300: "12c", 1024: "400", 65536: "10000"} {
		enc := string(AppendMessage(nil, from, to, "x", make([]byte, size)))
		if !strings.Contains(enc, "\r\n\r\n"+hex+"\r\n") {
			t.Errorf("chunk size of %d bytes is not %s", size, hex)
		}
	}
}

func decodeAll(t *testing.T, input string) ([]*Request, error) {
	t.Helper()
	local := upid.MustParse("x@127.0.0.1:5050")
	dec := NewDecoder(bufio.NewReader(strings.NewReader(input)), 0, 0, local)
	var out []*Request
	for {
		r, err := dec.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

func TestDecodeBothBodyFormsPipelined(t *testing.T) {
	from := upid.MustParse("a(1)@10.0.0.1:1")
	to := upid.MustParse("b(2)@10.0.0.2:2")
	stream := string(AppendMessage(nil, from, to, "some.Message", []byte("hello"))) +
		// mesos-go style: Libprocess-From only, Content-Length body.
		"POST /b%282%29/mesos.internal.X HTTP/1.1\r\nHost: 10.0.0.2:2\r\nLibprocess-From: a(1)@10.0.0.1:1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 3\r\nConnection: Keep-Alive\r\n\r\nabc" +
		// A multi-chunk body with an extension, then an empty message.
		"POST /b/y/z HTTP/1.1\r\nUser-Agent: libprocess/a(1)@10.0.0.1:1\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nab\r\n1\r\nc\r\n0\r\n\r\n" +
		string(AppendMessage(nil, from, to, "empty", nil)) +
		"GET /master/state HTTP/1.1\r\nHost: x\r\n\r\n"
	reqs, err := decodeAll(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 5 {
		t.Fatalf("decoded %d requests, want 5", len(reqs))
	}
	want := []struct{ id, name, body string }{
		{"b(2)", "some.Message", "hello"},
		{"b(2)", "mesos.internal.X", "abc"},
		{"b", "y/z", "abc"},
		{"b(2)", "empty", ""},
	}
	for i, w := range want {
		m := reqs[i].Message
		if m == nil {
			t.Fatalf("request %d not recognised as a message", i)
		}
		if m.To.ID != w.id || m.Name != w.name || string(m.Body) != w.body || m.From != from {
			t.Errorf("request %d: to %q name %q body %q from %v; want %q %q %q %v", i, m.To.ID, m.Name, m.Body, m.From, w.id, w.name, w.body, from)
		}
		if m.To.Addr != netip.MustParseAddrPort("127.0.0.1:5050") {
			t.Errorf("request %d: receiver address %v, want the local one", i, m.To.Addr)
		}
	}
	if reqs[4].Message != nil || reqs[4].Method != "GET" || reqs[4].Target != "/master/state" {
		t.Errorf("plain request decoded as %+v", reqs[4])
	}
}

func TestDecodeMalformed(t *testing.T) {
	msg := "POST /a/b HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:5\r\n"
	cases := map[string]string{
		"bad request line":   "GARBAGE\r\n\r\n",
		"bad header line":    "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
		"bad sender":         "POST /a/b HTTP/1.1\r\nLibprocess-From: not-a-upid\r\n\r\n",
		"truncated chunk":    msg + "Transfer-Encoding: chunked\r\n\r\n10\r\nabc",
		"bad chunk size":     msg + "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
		"huge declared size": msg + "Content-Length: 99999999999\r\n\r\n",
		"huge chunk":         msg + "Transfer-Encoding: chunked\r\n\r\nffffffffff\r\n",
		"truncated header":   "GET / HTTP/1.1\r\nHost: x\r\n",
		"bad percent id":     "POST /%zz/b HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:5\r\n\r\n",
		"header too large":   "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n",
	}
	for name, input := range cases {
		_, err := decodeAll(t, input)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzDecoder(f *testing.F) {
	from := upid.MustParse("a(1)@10.0.0.1:1")
	to := upid.MustParse("b@10.0.0.2:2")
	f.Add(AppendMessage(nil, from, to, "mesos.internal.PingSlaveMessage", []byte{8, 1}))
	f.Add(AppendMessage(nil, from, to, "empty", nil))
	f.Add([]byte("POST /b/x HTTP/1.1\r\nLibprocess-From: a@1.2.3.4:5\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("GET /state HTTP/1.1\r\nHost:\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder(bufio.NewReader(bytes.NewReader(data)), 4096, 1<<16, upid.MustParse("x@127.0.0.1:1"))
		dec.SetResolver(noDNS)
		for i := 0; i < 100; i++ {
			r, err := dec.Next()
			if err != nil {
				return
			}
			if r.Message != nil {
				// A decoded message re-encodes and decodes to itself.
				enc := AppendMessage(nil, r.Message.From, r.Message.To, r.Message.Name, r.Message.Body)
				dec2 := NewDecoder(bufio.NewReader(bytes.NewReader(enc)), 0, 0, upid.MustParse("x@127.0.0.1:1"))
				dec2.SetResolver(noDNS)
				again, err := dec2.Next()
				if err != nil || again.Message == nil || again.Message.Name != r.Message.Name || !bytes.Equal(again.Message.Body, r.Message.Body) || again.Message.From != r.Message.From {
					if strings.ContainsAny(r.Message.Name, " \r\n") || strings.ContainsAny(r.Message.To.ID, " /\r\n?#%") {
						return // names the encoder cannot carry raw
					}
					t.Fatalf("round trip of %+v: %+v, %v", r.Message, again, err)
				}
			}
		}
	})
}

func noDNS(host string) (netip.Addr, error) { return netip.Addr{}, fmt.Errorf("no DNS for %q", host) }

// recorder is a Receiver collecting messages.
type recorder struct {
	mu      sync.Mutex
	msgs    []*Message
	known   map[string]bool
	arrived chan struct{}
	want    int
}

func newRecorder(want int, known ...string) *recorder {
	r := &recorder{known: map[string]bool{}, arrived: make(chan struct{}), want: want}
	for _, k := range known {
		r.known[k] = true
	}
	return r
}

func (r *recorder) Deliver(m *Message) bool {
	if !r.known[m.To.ID] {
		return false
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	if len(r.msgs) == r.want {
		close(r.arrived)
	}
	r.mu.Unlock()
	return true
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/stream":
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "event %d\n", i)
			w.(http.Flusher).Flush()
		}
	default:
		fmt.Fprintf(w, "path=%s", req.URL.Path)
	}
}

func listen(t *testing.T, recv Receiver, opts Options) *Transport {
	t.Helper()
	tr, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, recv, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait): // wall-clock: failure guard
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestTransportsExchangeInOrder(t *testing.T) {
	const n = 10000
	rb := newRecorder(n, "sink")
	b := listen(t, rb, Options{})
	a := listen(t, newRecorder(0), Options{})
	from := upid.UPID{ID: "source", Addr: a.Addr()}
	to := upid.UPID{ID: "sink", Addr: b.Addr()}
	for i := 0; i < n; i++ {
		a.Send(from, to, "seq", []byte(fmt.Sprint(i)))
	}
	waitFor(t, rb.arrived, "all messages")
	rb.mu.Lock()
	defer rb.mu.Unlock()
	for i, m := range rb.msgs {
		if string(m.Body) != fmt.Sprint(i) || m.From != from {
			t.Fatalf("message %d: body %q from %v", i, m.Body, m.From)
		}
	}
}

func TestLinkExitedWhenPeerCloses(t *testing.T) {
	exited := make(chan netip.AddrPort, 1)
	b := listen(t, newRecorder(1, "p"), Options{})
	a := listen(t, newRecorder(0), Options{OnExited: func(_ upid.UPID, to netip.AddrPort) { exited <- to }})
	from := upid.UPID{ID: "linker", Addr: a.Addr()}
	a.Link(from, b.Addr())
	a.Send(from, upid.UPID{ID: "p", Addr: b.Addr()}, "m", nil)
	_ = b.Close()
	select {
	case to := <-exited:
		if to != b.Addr() {
			t.Fatalf("exited for %v, want %v", to, b.Addr())
		}
	case <-time.After(wait): // wall-clock: failure guard
		t.Fatal("no exited after the peer closed")
	}
}

func TestLinkToClosedPortExits(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).AddrPort()
	_ = ln.Close()
	exited := make(chan struct{})
	a := listen(t, newRecorder(0), Options{OnExited: func(upid.UPID, netip.AddrPort) { close(exited) }})
	a.Link(upid.UPID{ID: "l", Addr: a.Addr()}, dead)
	waitFor(t, exited, "exited after a refused connection")
}

func rawConn(t *testing.T, tr *Transport) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp4", tr.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(wait)) // wall-clock: failure guard
	return c, bufio.NewReader(c)
}

func TestResponsesInOrderAndMixed(t *testing.T) {
	rec := newRecorder(2, "p")
	tr := listen(t, rec, Options{})
	c, br := rawConn(t, tr)
	from := upid.MustParse("a@127.0.0.1:9")
	var req []byte
	req = AppendMessage(req, from, upid.UPID{ID: "p"}, "one", []byte("x"))
	req = append(req, "GET /some/path HTTP/1.1\r\nHost: \r\n\r\n"...)
	req = AppendMessage(req, from, upid.UPID{ID: "nobody"}, "two", nil)
	req = AppendMessage(req, from, upid.UPID{ID: "p"}, "three", nil)
	req = append(req, "GET /stream HTTP/1.1\r\nHost: \r\n\r\n"...)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	codes := []int{202, 200, 404, 202, 200}
	for i, code := range codes {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != code {
			t.Fatalf("response %d: status %d, want %d", i, resp.StatusCode, code)
		}
		switch i {
		case 1:
			if string(body) != "path=/some/path" {
				t.Fatalf("route body %q", body)
			}
		case 4:
			if string(body) != "event 0\nevent 1\nevent 2\n" || resp.TransferEncoding == nil {
				t.Fatalf("streamed body %q, encoding %v", body, resp.TransferEncoding)
			}
		}
	}
	waitFor(t, rec.arrived, "delivered messages")
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	var mu sync.Mutex
	decodeErrors := 0
	rec := newRecorder(1, "p")
	tr := listen(t, rec, Options{OnDecodeError: func(error) { mu.Lock(); decodeErrors++; mu.Unlock() }})
	bad, br := rawConn(t, tr)
	if _, err := bad.Write([]byte("POST /p/x HTTP/1.1\r\nLibprocess-From: garbage\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("connection stayed open after malformed input")
	}
	good, gbr := rawConn(t, tr)
	if _, err := good.Write(AppendMessage(nil, upid.MustParse("a@127.0.0.1:9"), upid.UPID{ID: "p"}, "ok", nil)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(gbr, nil)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("good client after a bad one: %v %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if decodeErrors != 1 {
		t.Fatalf("decode errors %d, want 1", decodeErrors)
	}
}

func TestCloseEndsGoroutines(t *testing.T) {
	b := listen(t, newRecorder(1, "p"), Options{})
	a, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, newRecorder(0), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Send(upid.UPID{ID: "s", Addr: a.Addr()}, upid.UPID{ID: "p", Addr: b.Addr()}, "m", nil)
	done := make(chan struct{})
	go func() { _ = a.Close(); close(done) }()
	waitFor(t, done, "Close to return after its goroutines ended")
}

func BenchmarkEncode(b *testing.B) {
	from := upid.MustParse("scheduler(1)@10.0.0.1:40000")
	to := upid.MustParse("master@10.0.0.2:5050")
	body := make([]byte, 64)
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendMessage(buf[:0], from, to, "mesos.internal.StatusUpdateMessage", body)
	}
}

func BenchmarkStreamLoopback(b *testing.B) {
	rec := newRecorder(b.N, "sink")
	sink, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, rec, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	src, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, newRecorder(0), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	from := upid.UPID{ID: "source", Addr: src.Addr()}
	to := upid.UPID{ID: "sink", Addr: sink.Addr()}
	body := []byte{8, 1}
	b.ResetTimer()
	start := time.Now() // wall-clock: benchmark
	for i := 0; i < b.N; i++ {
		src.Send(from, to, "mesos.internal.PingSlaveMessage", body)
	}
	<-rec.arrived
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s") // wall-clock: benchmark
}

// Many senders of one transport share one connection to a peer address,
// as libprocess keeps one socket per address; a break of it reports
// exited to every linker, in a fixed order.
func TestSendersShareOneConnectionPerAddress(t *testing.T) {
	const senders = 500
	rb := newRecorder(senders, "sink")
	b := listen(t, rb, Options{})
	var mu sync.Mutex
	var exited []string
	all := make(chan struct{})
	a := listen(t, newRecorder(0), Options{OnExited: func(from upid.UPID, _ netip.AddrPort) {
		mu.Lock()
		defer mu.Unlock()
		exited = append(exited, from.ID)
		if len(exited) == 3 {
			close(all)
		}
	}})
	to := upid.UPID{ID: "sink", Addr: b.Addr()}
	for i := 0; i < senders; i++ {
		from := upid.UPID{ID: fmt.Sprintf("s%03d", i), Addr: a.Addr()}
		if i < 3 {
			a.Link(from, b.Addr())
		}
		a.Send(from, to, "m", []byte(fmt.Sprint(i)))
	}
	waitFor(t, rb.arrived, "every sender's message")
	if n := b.Stats().Inbound; n != 1 {
		t.Fatalf("%d inbound connections for %d senders, want 1", n, senders)
	}
	rb.mu.Lock()
	for i, m := range rb.msgs {
		if m.From.ID != fmt.Sprintf("s%03d", i) {
			t.Fatalf("message %d from %v: order or sender lost", i, m.From)
		}
	}
	rb.mu.Unlock()
	_ = b.Close()
	waitFor(t, all, "exited for every linker")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(exited, ",") != "s000,s001,s002" {
		t.Fatalf("exited reported for %v, want s000,s001,s002 in order", exited)
	}
}
