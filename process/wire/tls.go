package wire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/gomesos/gomesos/process/walltime"
)

// tlsRecordHandshake is the first byte of a TLS connection: the record
// type of the ClientHello. No HTTP request starts with it.
const tlsRecordHandshake = 0x16

// secure wraps an inbound connection per the transport's TLS setup: as is
// without TLS; with it, a TLS server connection whose handshake is done
// within the header timeout; with downgrade, whichever the first byte
// (read within the inbound idle timeout) says the peer speaks. It returns
// the certificate the peer presented, when verified.
func (t *Transport) secure(ctx context.Context, c net.Conn) (net.Conn, *x509.Certificate, error) {
	cfg := t.opts.TLS
	if cfg == nil {
		return c, nil, nil
	}
	if cfg.SupportDowngrade {
		if t.opts.InboundIdleTimeout > 0 {
			_ = c.SetReadDeadline(walltime.Clock{}.Now().Add(t.opts.InboundIdleTimeout)) // a socket deadline: the OS edge
		}
		var first [1]byte
		if _, err := c.Read(first[:]); err != nil {
			return nil, nil, fmt.Errorf("read first byte: %w", err)
		}
		_ = c.SetReadDeadline(time.Time{})
		c = &sniffed{Conn: c, first: first[0], pending: true}
		if first[0] != tlsRecordHandshake {
			return c, nil, nil // a plain peer
		}
	}
	tc := tls.Server(c, cfg.Server)
	hctx, cancel := context.WithTimeout(ctx, t.opts.ReadHeaderTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return nil, nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, verifiedPeer(tc.ConnectionState()), nil
}

// verifiedPeer is the peer's certificate when it was verified.
func verifiedPeer(cs tls.ConnectionState) *x509.Certificate {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}

// sniffed is a connection whose first byte was read to tell TLS from
// plain; Read gives it back first.
type sniffed struct {
	net.Conn
	first   byte
	pending bool
}

func (s *sniffed) Read(p []byte) (int, error) {
	if s.pending && len(p) > 0 {
		s.pending = false
		p[0] = s.first
		return 1, nil
	}
	return s.Conn.Read(p)
}

// handshake turns a dialled connection into a TLS client connection when
// the transport speaks TLS. With downgrade, a failed handshake (such as a
// plain peer closing on the ClientHello) redials in plain.
func (c *outConn) handshake(ctx context.Context, conn net.Conn, redial func() (net.Conn, error)) (net.Conn, error) {
	cfg := c.t.opts.TLS
	if cfg == nil {
		return conn, nil
	}
	tc := tls.Client(conn, cfg.Client)
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return tc, nil
	}
	_ = conn.Close()
	if !cfg.SupportDowngrade || ctx.Err() != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", c.to, err)
	}
	c.t.log.Debug("TLS handshake failed; retrying in plain (downgrade)", "to", c.to.String(), "err", err)
	return redial()
}
