package process

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/gomesos/gomesos/process/wire"
)

// receiver adapts the runtime to the wire's Receiver.
type receiver struct{ *Runtime }

// Deliver hands an inbound message to its local process. A message from
// another runtime of this OS process stops counting as in flight on the
// wire once it is posted (or found to have no receiver). A message whose
// claimed sender does not live at the address its connection comes from
// (see senderAt) is dropped, counted and logged, and the peer is answered
// as if it had been delivered.
func (r receiver) Deliver(m *wire.Message) bool {
	defer wireArrived(m.From, m.To.Addr)
	if m.Peer.IsValid() && m.From.Addr.IsValid() && !senderAt(m.From.Addr.Addr(), m.Peer, localAddr) {
		r.droppedForged.Inc()
		if n := r.forgedLog.Note(); n > 0 {
			r.logger.Warn("dropping messages whose sender does not match their connection's address",
				"name", m.Name, "from", m.From.String(), "peer", m.Peer.String(), "count", n)
		}
		return true
	}
	if m.PeerCert != nil && r.tls != nil && r.tls.RequireCert && m.From.Addr.IsValid() &&
		!certNames(m.PeerCert, m.From.Addr.Addr(), lookupHost) {
		r.droppedForged.Inc()
		if n := r.forgedLog.Note(); n > 0 {
			r.logger.Warn("dropping messages whose sender's host is not named by their peer's certificate",
				"name", m.Name, "from", m.From.String(), "peer", m.Peer.String(),
				"subject", m.PeerCert.Subject.String(), "count", n)
		}
		return true
	}
	return r.deliver(Message{Name: m.Name, From: m.From, To: m.To, Body: m.Body})
}

// senderAt reports whether a message claiming a sender at IP claimed may
// come over a connection from peer: the same address, or both addresses
// of this host (a process here may advertise its host's address and still
// reach us over loopback, or the other way round). It binds a pid to the
// network address it is reached from, so that a peer elsewhere cannot
// speak as the master or a framework by copying its pid into
// Libprocess-From. It does not stop a process on the claimed host itself,
// nor anyone who can spoof source addresses; with SSL_REQUIRE_CERT,
// certNames checks the peer's certificate too.
func senderAt(claimed, peer netip.Addr, local func(netip.Addr) bool) bool {
	claimed, peer = claimed.Unmap(), peer.Unmap()
	if claimed == peer {
		return true
	}
	return local(claimed) && local(peer)
}

// certNames reports whether cert names the host ip: as a SAN IP address,
// or as a SAN DNS name that resolves to it ("localhost" names the loopback
// addresses without a lookup). Unlike senderAt, the addresses of this host
// do not count as one: a certificate naming only 127.0.0.1 does not speak
// for a pid at the host's LAN address, nor the other way round.
func certNames(cert *x509.Certificate, ip netip.Addr, lookup func(string) []netip.Addr) bool {
	ip = ip.Unmap()
	for _, a := range cert.IPAddresses {
		if x, ok := netip.AddrFromSlice(a); ok && x.Unmap() == ip {
			return true
		}
	}
	for _, name := range cert.DNSNames {
		if strings.EqualFold(name, "localhost") {
			if ip.IsLoopback() {
				return true
			}
			continue
		}
		if slices.Contains(lookup(name), ip) {
			return true
		}
	}
	return false
}

// lookupHost resolves a certificate's DNS name to its addresses, with the
// answers kept for the life of the OS process (a per-message lookup would
// stall a stream); a failed lookup is not kept.
func lookupHost(name string) []netip.Addr {
	key := strings.ToLower(name)
	if v, ok := hostCache.Load(key); ok {
		return v.([]netip.Addr)
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", key)
	if err != nil {
		return nil
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	hostCache.Store(key, ips)
	return ips
}

var hostCache sync.Map // lower-case DNS name → []netip.Addr

// localAddr reports whether ip is an address of this host: loopback or
// one of its interfaces' addresses (read once).
func localAddr(ip netip.Addr) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	_, ok := hostAddrs()[ip]
	return ok
}

var hostAddrs = sync.OnceValue(func() map[netip.Addr]struct{} {
	out := map[netip.Addr]struct{}{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out[p.Addr().Unmap()] = struct{}{}
		}
	}
	return out
})

// listen opens the runtime's port. The advertised address is advIP and
// advPort where set, else the bound ones; a bound "any" IP advertises the
// host name's IPv4 address.
func listen(rt *Runtime, bind netip.AddrPort, advIP netip.Addr, advPort uint16) (transport, error) {
	tr, err := wire.Listen(bind, netip.AddrPort{}, receiver{rt}, wire.Options{
		Logger:        rt.logger,
		OnExited:      rt.onExited,
		OnClosed:      wireClosed,
		Clock:         rt.clock.Real(),
		OnDecodeError: func(error) { rt.droppedDecoding.Inc() },
		TLS:           rt.tls,
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", bind, err)
	}
	bound := tr.Addr()
	ip, port := bound.Addr(), bound.Port()
	switch {
	case advIP.IsValid():
		ip = advIP
	case ip.IsUnspecified():
		ip = hostIPv4()
	}
	if advPort != 0 {
		port = advPort
	}
	if adv := netip.AddrPortFrom(ip, port); adv != bound {
		return advertised{tr, adv}, nil
	}
	return tr, nil
}

// advertised overrides the address a transport reports.
type advertised struct {
	*wire.Transport
	addr netip.AddrPort
}

func (a advertised) Addr() netip.AddrPort { return a.addr }
