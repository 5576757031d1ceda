package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dialN opens n connections to tr.
func dialN(t *testing.T, tr *Transport, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", tr.Addr().String())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	return conns
}

// closedByPeer reports whether the server closed c within the wait bound.
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait)) // wall-clock: failure guard
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// 5,000 idle connections: those over the cap are closed at once, the
// others are held; with an idle timeout, the held ones close too.
func TestIdleConnectionsCappedAndClosed(t *testing.T) {
	const n, max = 5000, 100
	tr := listen(t, newRecorder(0), Options{MaxConnections: max, InboundIdleTimeout: time.Hour})
	conns := dialN(t, tr, n)
	// The connections accepted first are held; each later one is closed
	// at once. Their closes are all seen before the held ones time out.
	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns[max:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if closedByPeer(c) {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := closed.Load(); got != n-max {
		t.Fatalf("%d connections over the cap closed, want %d", got, n-max)
	}
	if st := tr.Stats(); st.Inbound != max || st.Refused != n-max {
		t.Fatalf("stats %+v, want %d held and %d refused", st, max, n-max)
	}
	// The held ones are still served.
	if _, err := conns[0].Write([]byte("GET /x HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a held connection: %v %v", resp, err)
	}

	// With a short idle timeout every idle connection closes.
	tr2 := listen(t, newRecorder(0), Options{MaxConnections: max, InboundIdleTimeout: 100 * time.Millisecond})
	for i, c := range dialN(t, tr2, max) {
		if !closedByPeer(c) {
			t.Fatalf("idle connection %d not closed", i)
		}
	}
}

// A connection that sends its header a byte at a time (slowloris) is
// closed after the header timeout, however steadily it trickles.
func TestSlowHeaderClosedAfterHeaderTimeout(t *testing.T) {
	tr := listen(t, newRecorder(0), Options{ReadHeaderTimeout: 300 * time.Millisecond})
	c := dialN(t, tr, 1)[0]
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_, _ = io.Copy(io.Discard, c)
	}()
	start := time.Now() // wall-clock: measuring the server's timeout
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond) // wall-clock: the attacker's pace
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
				t.Fatalf("closed after %v, want about the 300ms header timeout", d)
			}
			return
		case <-tick.C:
			if time.Since(start) > wait {
				t.Fatal("slow header never closed")
			}
			_, _ = c.Write([]byte("X"))
		}
	}
}

// A declared body that is never sent allocates nothing; one over the
// limit is answered 413 and the connection closed.
func TestHugeDeclaredBody(t *testing.T) {
	tr := listen(t, newRecorder(0), Options{ReadBodyTimeout: 200 * time.Millisecond})
	const n = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := dialN(t, tr, n)
	for _, c := range conns {
		fmt.Fprintf(c, "POST /x HTTP/1.1\r\nContent-Length: %d\r\n\r\npartial", DefaultMaxBodyBytes)
	}
	// Each is closed once its body timeout passes, so the server has read
	// every header by then.
	for i, c := range conns {
		if !closedByPeer(c) {
			t.Fatalf("connection %d with an unsent body not closed", i)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("%d declared %d MiB bodies allocated %d MiB", n, DefaultMaxBodyBytes>>20, grew>>20)
	}

	c := dialN(t, tr, 1)[0]
	fmt.Fprintf(c, "POST /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n", DefaultMaxBodyBytes+1)
	_ = c.SetReadDeadline(time.Now().Add(wait)) // wall-clock: failure guard
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the limit: %v %v, want 413", resp, err)
	}
	if !closedByPeer(c) {
		t.Fatal("connection not closed after 413")
	}
	// A chunked body over the limit too.
	c = dialN(t, tr, 1)[0]
	fmt.Fprintf(c, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", DefaultMaxBodyBytes+1)
	_ = c.SetReadDeadline(time.Now().Add(wait)) // wall-clock: failure guard
	if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked over the limit: %v %v, want 413", resp, err)
	}
}

// countingHandler counts log records at WARN and above.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h countingHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h countingHandler) WithGroup(string) slog.Handler                { return h }

const fdChildEnv = "GOMESOS_WIRE_FD_CHILD"

// At the file descriptor limit the accept loop backs off instead of
// spinning (little CPU, few log lines) and serves again once descriptors
// are free. It runs in a child process whose limit is lowered.
func TestFDExhaustionBacksOff(t *testing.T) {
	if os.Getenv(fdChildEnv) != "" {
		fdChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFDExhaustionBacksOff$", "-test.v")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "fd child: ok") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "fd child:") {
			t.Log(strings.TrimSpace(l))
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fdChild(t *testing.T) {
	lim := syscall.Rlimit{Cur: 128, Max: 128}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	var warnings atomic.Int64
	tr := listen(t, newRecorder(0), Options{Logger: slog.New(countingHandler{&warnings})})
	// Use up the descriptors with connections to the port: each one
	// takes two here (client and server side) until accept fails.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	spare, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, err := net.DialTimeout("tcp", tr.Addr().String(), time.Second)
		if err != nil {
			if spare == nil {
				break
			}
			// Out of descriptors, perhaps on the client side first:
			// free one for one more client socket, whose accept fails.
			_ = spare.Close()
			spare = nil
			continue
		}
		conns = append(conns, c)
	}
	for start := time.Now(); warnings.Load() == 0 && time.Since(start) < wait; { // wall-clock: failure guard
		runtime.Gosched()
	}
	// Connections queue in the backlog now that accept fails; measure
	// the accept loop over a second of that.
	held := len(conns)
	if warnings.Load() == 0 {
		t.Fatal("accept never failed: the limit was not reached")
	}
	warnings.Store(0)
	cpu0 := cpuTime()
	idle := time.NewTimer(time.Second) // wall-clock: the period measured
	<-idle.C
	cpu := cpuTime() - cpu0
	logs := warnings.Load()
	if cpu > 300*time.Millisecond {
		t.Fatalf("accept loop used %v of CPU in 1s at the fd limit", cpu)
	}
	if logs > 3 {
		t.Fatalf("%d warnings in 1s at the fd limit", logs)
	}
	// Free the descriptors: the port serves again.
	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	client := &http.Client{Timeout: wait}
	resp, err := client.Get("http://" + tr.Addr().String() + "/x")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after freeing descriptors: %v %v", resp, err)
	}
	resp.Body.Close()
	fmt.Printf("fd child: ok: %d connections to the limit, %v CPU and %d warnings in 1s\n", held, cpu, logs)
}
