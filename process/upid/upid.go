// Package upid holds the libprocess process address, `id@ip:port`.
//
// It is a leaf package so that both the runtime (package process) and the
// wire codec can name addresses without importing each other; package
// process re-exports the type as process.UPID.
package upid

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// UPID is the address of a process: its id, and the IPv4 address and port of
// the OS process that hosts it. The zero value is the empty (invalid) UPID.
type UPID struct {
	ID   string
	Addr netip.AddrPort
}

// New returns the UPID of process id at addr.
func New(id string, addr netip.AddrPort) UPID { return UPID{ID: id, Addr: addr} }

// IsValid reports whether u names a process: an id and an address.
func (u UPID) IsValid() bool { return u.ID != "" && u.Addr.IsValid() }

// String formats u as `id@ip:port`; the empty UPID formats as "".
func (u UPID) String() string {
	if !u.Addr.IsValid() && u.ID == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(u.ID) + 22)
	b.WriteString(u.ID)
	b.WriteByte('@')
	if u.Addr.IsValid() {
		b.WriteString(u.Addr.Addr().String())
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(uint64(u.Addr.Port()), 10))
	}
	return b.String()
}

// HostPort returns the `ip:port` part of u.
func (u UPID) HostPort() string { return u.Addr.String() }

// Resolver maps a host name to an IPv4 address. Parse uses net.LookupIP
// unless ParseWith is given another.
type Resolver func(host string) (netip.Addr, error)

// Parse reads `id@host:port` the way libprocess does: leading white space is
// skipped and the text stops at the next white space; the id ends at the
// first '@' and the host at the first ':' after it. A host name is resolved
// to its IPv4 address, so the parsed UPID always holds an IP. Anything else
// is an error naming the input.
func Parse(s string) (UPID, error) { return ParseWith(s, lookupIPv4) }

// ParseWith is Parse with an explicit resolver for host names.
func ParseWith(s string, resolve Resolver) (UPID, error) {
	orig := s
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	if i := strings.IndexAny(s, " \t\r\n\v\f"); i >= 0 {
		s = s[:i]
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return UPID{}, fmt.Errorf("parse UPID %q: missing '@'", orig)
	}
	id, rest := s[:at], s[at+1:]
	if id == "" {
		return UPID{}, fmt.Errorf("parse UPID %q: empty id", orig)
	}
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		return UPID{}, fmt.Errorf("parse UPID %q: missing ':' before the port", orig)
	}
	host, portText := rest[:colon], rest[colon+1:]
	if host == "" {
		return UPID{}, fmt.Errorf("parse UPID %q: empty host", orig)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return UPID{}, fmt.Errorf("parse UPID %q: bad port %q", orig, portText)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if ip, err = resolve(host); err != nil {
			return UPID{}, fmt.Errorf("parse UPID %q: %w", orig, err)
		}
	}
	if !ip.Is4() && !ip.Is4In6() {
		return UPID{}, fmt.Errorf("parse UPID %q: %s is not an IPv4 address", orig, ip)
	}
	return UPID{ID: id, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))}, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) UPID {
	u, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func lookupIPv4(host string) (netip.Addr, error) {
	ips, err := net.LookupIP(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve host %q: %w", host, err)
	}
	for _, ip := range ips {
		if v4 := ip.To4(); v4 != nil {
			a, _ := netip.AddrFromSlice(v4)
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("resolve host %q: no IPv4 address", host)
}
