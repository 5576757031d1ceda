package process

import (
	"fmt"
	"net/netip"

	"github.com/gomesos/gomesos/process/wire"
)

// receiver adapts the runtime to the wire's Receiver.
type receiver struct{ *Runtime }

// Deliver hands an inbound message to its local process. A message from
// another runtime of this OS process stops counting as in flight on the
// wire once it is posted (or found to have no receiver).
func (r receiver) Deliver(m *wire.Message) bool {
	ok := r.deliver(Message{Name: m.Name, From: m.From, To: m.To, Body: m.Body})
	wireArrived(m.From, m.To.Addr)
	return ok
}

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
