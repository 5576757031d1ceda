package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gomesos/gomesos/process/upid"
	"github.com/gomesos/gomesos/process/walltime"
)

// Message is one libprocess message.
type Message struct {
	From upid.UPID // sender (Libprocess-From, else the libprocess/ User-Agent)
	To   upid.UPID // receiver; inbound, its address is the transport's own
	Name string    // the message name; may contain '/'
	Body []byte
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
	conns   map[connKey]*outConn
	inbound map[net.Conn]struct{}
	closed  bool
}

type connKey struct {
	from upid.UPID
	to   netip.AddrPort
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
		conns:   make(map[connKey]*outConn),
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

func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				t.log.Warn("accept failed", "err", err)
				continue
			}
			return
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = c.Close()
			return
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
