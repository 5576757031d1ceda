package wire

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomesos/gomesos/process/upid"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/process/wire/tlsconf"
)

// Message is one libprocess message.
type Message struct {
	From upid.UPID // sender (Libprocess-From, else the libprocess/ User-Agent)
	To   upid.UPID // receiver; inbound, its address is the transport's own
	Name string    // the message name; may contain '/'
	Body []byte
	// Peer is the address the message's connection comes from (inbound
	// only): the receiver checks that the sender it claims lives there.
	Peer netip.Addr
	// PeerCert is the certificate the peer presented over TLS, verified
	// against the CAs (inbound only); nil over a plain connection or when
	// certificates are not verified.
	PeerCert *x509.Certificate
}

// Receiver gets what arrives on the listening port.
type Receiver interface {
	// Deliver queues an inbound message for process m.To.ID without
	// blocking; it reports false when no such process exists (answered
	// 404, else 202).
	Deliver(m *Message) bool
	// ServeHTTP handles a request that is not a libprocess message. It may
	// block; responses on one connection go out in request order.
	ServeHTTP(w http.ResponseWriter, r *http.Request)
}

// Options configure a Transport.
type Options struct {
	Logger         *slog.Logger  // nil: slog.Default()
	MaxHeaderBytes int           // default 64 KiB
	MaxBodyBytes   int64         // default 64 MiB; a larger declared size closes the connection
	IdleTimeout    time.Duration // an unlinked outbound connection with nothing queued closes after this; default 5 s
	DialTimeout    time.Duration // default 10 s

	// Limits of inbound connections; these are socket deadlines (the OS
	// edge), not Clock timers. Zero takes the LIBPROCESS_* environment
	// variable named, else the default.

	// MaxConnections caps the open inbound connections; more are closed
	// as soon as they are accepted. LIBPROCESS_MAX_CONNECTIONS; default
	// 10,000; negative: no cap.
	MaxConnections int
	// ReadHeaderTimeout bounds the time from a request's first byte to the
	// end of its header (slow headers are a flood). LIBPROCESS_READ_HEADER_TIMEOUT;
	// default 30 s.
	ReadHeaderTimeout time.Duration
	// ReadBodyTimeout bounds reading a request's body once its header is
	// in. LIBPROCESS_READ_BODY_TIMEOUT; default 5 minutes.
	ReadBodyTimeout time.Duration
	// InboundIdleTimeout closes an inbound connection that has waited this
	// long for its next request and has never carried a libprocess message
	// (an HTTP client, or a socket opened and left). LIBPROCESS_IDLE_TIMEOUT;
	// default 5 minutes.
	InboundIdleTimeout time.Duration
	// LinkIdleTimeout is the same for a connection that has carried
	// libprocess messages: its peer may use it as a link, and closing it
	// tells the peer we exited (an executor whose tasks run quietly for
	// hours would shut down). LIBPROCESS_LINK_IDLE_TIMEOUT; default and
	// zero: never; negative: never.
	LinkIdleTimeout time.Duration
	// OnExited is called once when a linked (persistent) outbound
	// connection fails to connect, errors, or reaches EOF.
	OnExited func(from upid.UPID, to netip.AddrPort)
	// OnDecodeError is called for each connection closed for malformed input.
	OnDecodeError func(err error)
	// OnClosed, if set, is called once when an outbound connection ends
	// for any reason (failure, idle, Close); a message queued or written
	// on it and not yet received has then been lost or received.
	OnClosed func(from upid.UPID, to netip.AddrPort)
	// Clock times the dial and idle timeouts; nil means real time. The
	// runtime passes its Clock's real-time side.
	Clock Clock
	// TLS, when enabled, makes the port speak TLS (and, with
	// SupportDowngrade, plain too, told apart by the first byte) and
	// outbound connections dial TLS (falling back to plain when the
	// handshake fails and SupportDowngrade is set). nil: plain only.
	TLS *tlsconf.Config
}

// Clock is the source of the transport's timeouts.
type Clock interface {
	// AfterFunc calls fn once d has passed; cancel stops it.
	AfterFunc(d time.Duration, fn func()) (cancel func() bool)
}

// Transport is the one listening port of a runtime and its outbound
// connections, one per (sender, destination address).
type Transport struct {
	opts  Options
	log   *slog.Logger
	recv  Receiver
	ln    net.Listener
	addr  netip.AddrPort
	local upid.UPID

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[netip.AddrPort]*outConn
	inbound map[net.Conn]struct{}
	closed  bool

	refused       atomic.Int64 // inbound connections closed over the cap
	acceptLog     LogThrottle  // accept errors
	refuseLog     LogThrottle  // connections refused over the cap
	tlsOnPlainLog LogThrottle  // TLS handshakes on a plain port
}

// Default limits of inbound connections.
const (
	DefaultMaxConnections     = 10000
	DefaultReadHeaderTimeout  = 30 * time.Second
	DefaultReadBodyTimeout    = 5 * time.Minute
	DefaultInboundIdleTimeout = 5 * time.Minute
)

// limitDefaults fills the zero inbound limits from the environment
// (getenv) or the defaults.
func (o *Options) limitDefaults(getenv func(string) string) {
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
		if n, err := strconv.Atoi(getenv("LIBPROCESS_MAX_CONNECTIONS")); err == nil && n != 0 {
			o.MaxConnections = n
		}
	}
	dur := func(d *time.Duration, env string, def time.Duration) {
		if *d != 0 {
			return
		}
		*d = def
		if v, err := time.ParseDuration(getenv(env)); err == nil && v != 0 {
			*d = v
		}
	}
	dur(&o.ReadHeaderTimeout, "LIBPROCESS_READ_HEADER_TIMEOUT", DefaultReadHeaderTimeout)
	dur(&o.ReadBodyTimeout, "LIBPROCESS_READ_BODY_TIMEOUT", DefaultReadBodyTimeout)
	dur(&o.InboundIdleTimeout, "LIBPROCESS_IDLE_TIMEOUT", DefaultInboundIdleTimeout)
	dur(&o.LinkIdleTimeout, "LIBPROCESS_LINK_IDLE_TIMEOUT", -1)
}

// LogThrottle lets a repeated log line through at most once a second, with
// the number of occurrences since the last one.
type LogThrottle struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

// Note counts one occurrence and returns how many to report, or 0 when
// the line is held back.
func (th *LogThrottle) Note() int {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.count++
	now := walltime.Clock{}.Now() // the OS edge, not a component's time
	if now.Sub(th.last) < time.Second {
		return 0
	}
	n := th.count
	th.last, th.count = now, 0
	return n
}

// Stats are counters of the listening port.
type Stats struct {
	Inbound int   // open inbound connections
	Refused int64 // inbound connections closed over MaxConnections
}

// Stats returns the port's counters.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	n := len(t.inbound)
	t.mu.Unlock()
	return Stats{Inbound: n, Refused: t.refused.Load()}
}

// Listen opens the port at bind and starts accepting. advertise, when
// valid, is the address reported by Addr and put into inbound messages.
func Listen(bind, advertise netip.AddrPort, recv Receiver, opts Options) (*Transport, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = walltime.Clock{}
	}
	opts.limitDefaults(os.Getenv)
	if opts.TLS == nil || !opts.TLS.Enabled {
		opts.TLS = nil
	}
	ln, err := net.Listen("tcp4", bind.String())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", bind, err)
	}
	bound := ln.Addr().(*net.TCPAddr).AddrPort()
	bound = netip.AddrPortFrom(bound.Addr().Unmap(), bound.Port())
	addr := bound
	if advertise.IsValid() {
		addr = advertise
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		opts:    opts,
		log:     opts.Logger.With("component", "wire"),
		recv:    recv,
		ln:      ln,
		addr:    addr,
		local:   upid.UPID{Addr: addr},
		ctx:     ctx,
		cancel:  cancel,
		conns:   make(map[netip.AddrPort]*outConn),
		inbound: make(map[net.Conn]struct{}),
	}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr returns the advertised ip:port.
func (t *Transport) Addr() netip.AddrPort { return t.addr }

// Close stops listening and closes every connection; its goroutines end
// before it returns.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	conns := make([]*outConn, 0, len(t.conns))
	for _, c := range t.conns {
		conns = append(conns, c)
	}
	for c := range t.inbound {
		_ = c.Close()
	}
	t.mu.Unlock()
	t.cancel()
	err := t.ln.Close()
	for _, c := range conns {
		c.fail(errors.New("transport closed"), false)
	}
	t.wg.Wait()
	return err
}

// accept takes inbound connections. Accept errors (such as running out
// of file descriptors) back off, 5 ms doubling to 1 s as net/http does,
// and are logged at most once a second; connections over MaxConnections
// are closed at once.
func (t *Transport) accept() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			if n := t.acceptLog.Note(); n > 0 {
				t.log.Warn("accept failed; backing off", "err", err, "failures", n, "retry_in", delay)
			}
			wait, stop := walltime.Clock{}.After(delay) // accept backoff: the OS edge
			select {
			case <-t.ctx.Done():
				stop()
				return
			case <-wait:
			}
			continue
		}
		delay = 0
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = c.Close()
			return
		}
		if max := t.opts.MaxConnections; max > 0 && len(t.inbound) >= max {
			t.mu.Unlock()
			_ = c.Close()
			t.refused.Add(1)
			if n := t.refuseLog.Note(); n > 0 {
				t.log.Warn("too many inbound connections; closing new ones", "max", max, "refused", n)
			}
			continue
		}
		t.inbound[c] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go func() {
			defer t.wg.Done()
			t.serve(c)
			t.mu.Lock()
			delete(t.inbound, c)
			t.mu.Unlock()
		}()
	}
}
