package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gomesos/gomesos/process/wire"
)

// okReceiver answers every request 200 and drops messages.
type okReceiver struct{}

func (okReceiver) Deliver(*wire.Message) bool { return true }
func (okReceiver) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok"))
}

// Flood sizes: idle sockets and slow-header (slowloris) sockets opened
// against a port capped at floodCap connections with a 2 s header timeout.
const (
	floodIdle      = 3000
	floodSlow      = 1000
	floodCap       = 1000
	floodHeader    = 2 * time.Second
	floodDuration  = 4 * time.Second
	floodKeepAlive = 4 // clients connected before the flood, timing requests
)

// flood measures the listening port under a flood of idle and slowloris
// connections: how many it holds (the cap), how many it refused, the p99
// latency of requests on connections made before the flood, and RSS.
func flood(config) (string, error) {
	tr, err := wire.Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, okReceiver{}, wire.Options{
		Logger: quiet, MaxConnections: floodCap, ReadHeaderTimeout: floodHeader,
	})
	if err != nil {
		return "", err
	}
	defer tr.Close()
	addr := tr.Addr().String()

	// Clients that were connected before the flood.
	var clients []*bufio.ReadWriter
	for i := 0; i < floodKeepAlive; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		clients = append(clients, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var attackers []net.Conn
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		for _, c := range attackers {
			_ = c.Close()
		}
		mu.Unlock()
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return nil
		}
		mu.Lock()
		attackers = append(attackers, c)
		mu.Unlock()
		return c
	}
	// Interleaved: one slowloris socket for every floodIdle/floodSlow idle ones.
	for i := 0; i < floodIdle+floodSlow; i++ {
		c := dial()
		if c == nil || i%((floodIdle+floodSlow)/floodSlow) != 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Write([]byte("GET / HTTP/1.1\r\n"))
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte("X")); err != nil {
						return
					}
				}
			}
		}()
	}

	// Time requests on the pre-flood connections while the flood lasts.
	var lat []time.Duration
	var held int
	end := time.Now().Add(floodDuration)
	for time.Now().Before(end) {
		for _, rw := range clients {
			start := time.Now()
			if _, err := rw.WriteString("GET /x HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
				return "", err
			}
			if err := rw.Flush(); err != nil {
				return "", err
			}
			resp, err := http.ReadResponse(rw.Reader, nil)
			if err != nil {
				return "", fmt.Errorf("request under the flood: %w", err)
			}
			buf := make([]byte, 16)
			_, _ = resp.Body.Read(buf)
			_ = resp.Body.Close()
			lat = append(lat, time.Since(start))
		}
		held = max(held, tr.Stats().Inbound)
	}
	close(stop)
	wg.Wait()
	st := tr.Stats()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(float64(len(lat)-1)*q)] }
	return kv(
		"attack_conns", floodIdle+floodSlow, "cap", floodCap, "held_max", held, "held_end", st.Inbound,
		"refused", st.Refused, "requests", len(lat),
		"p50_us", p(0.5).Microseconds(), "p99_us", p(0.99).Microseconds(),
		"rss_mb", fmt.Sprintf("%.1f", rssMB()), "maxrss_mb", fmt.Sprintf("%.1f", maxRSSMB()),
	), nil
}

// rssMB is the resident set size now, from /proc.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize()) / (1 << 20)
}

func maxRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}
