package process

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/process/wire/tlsconf"
	"github.com/gomesos/gomesos/process/wire/tlsconf/tlstest"
)

// pki is a throwaway CA with a directory for its files.
type pki struct {
	t   *testing.T
	ca  *tlstest.CA
	dir string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca, err := tlstest.NewCA("gomesos test CA")
	if err != nil {
		t.Fatal(err)
	}
	return &pki{t: t, ca: ca, dir: t.TempDir()}
}

// config issues a certificate naming hosts and returns the TLS setup that
// uses it, with extra SSL_* settings.
func (p *pki) config(name string, hosts []string, extra ...string) *tlsconf.Config {
	p.t.Helper()
	f, err := p.ca.WriteFiles(p.dir, name, hosts...)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := tlsconf.FromEnv(f.Getenv(extra...))
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// clientTLS is a crypto/tls client setup presenting a certificate naming
// hosts (none: no certificate) and trusting the CA.
func (p *pki) clientTLS(hosts ...string) *tls.Config {
	p.t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.Cert)
	c := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	if len(hosts) > 0 {
		certPEM, keyPEM, err := p.ca.Issue("client", hosts...)
		if err != nil {
			p.t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			p.t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// sink spawns a process that stores the last Int64Value it gets.
func sink(t *testing.T, rt *Runtime) (UPID, *atomic.Int64) {
	t.Helper()
	var got atomic.Int64
	_, pid := spawn(t, rt, "sink", func(p *testProc) {
		Install(&p.Process, func(_ UPID, m *wrapperspb.Int64Value) { got.Store(m.Value) })
	})
	return pid, &got
}

// postMessage writes one libprocess message claiming from over c and
// returns the status line of the answer ("" when the connection closed).
func postMessage(t *testing.T, c net.Conn, to UPID, from string, v int64) string {
	t.Helper()
	defer c.Close()
	body, _ := proto.Marshal(wrapperspb.Int64(v))
	name := string(proto.MessageName(wrapperspb.Int64(v)))
	fmt.Fprintf(c, "POST /%s/%s HTTP/1.1\r\nLibprocess-From: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", to.ID, name, from, len(body))
	_, _ = c.Write(body)
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

func dialTLS(t *testing.T, addr netip.AddrPort, cfg *tls.Config) net.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr.String(), cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	return c
}

func dialPlain(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Two runtimes with TLS and required certificates exchange messages.
func TestTLSBetweenRuntimes(t *testing.T) {
	p := newPKI(t)
	a := newRuntime(t, Options{TLS: p.config("a", []string{"127.0.0.1"}, "SSL_REQUIRE_CERT=true")})
	b := newRuntime(t, Options{TLS: p.config("b", []string{"127.0.0.1"}, "SSL_REQUIRE_CERT=true")})
	dst, got := sink(t, b)
	_, src := spawn(t, a, "src", nil)
	a.Clock().Pause()
	a.Send(src, dst, wrapperspb.Int64(42))
	a.Clock().Settle()
	if g := got.Load(); g != 42 {
		t.Fatalf("message over TLS not delivered (got %d)", g)
	}
}

// With SSL_REQUIRE_CERT, a message is delivered only if the peer's
// certificate names the host of the sender it claims, even from this host.
func TestTLSCertificateMustNameSender(t *testing.T) {
	p := newPKI(t)
	rt := newRuntime(t, Options{TLS: p.config("rt", []string{"127.0.0.1"}, "SSL_REQUIRE_CERT=true")})
	rt.Clock().Pause()
	dst, got := sink(t, rt)
	for i, c := range []struct {
		certHosts []string
		from      string
		ok        bool
	}{
		{[]string{"127.0.0.2"}, "master@127.0.0.1:5050", false}, // the certificate names another host
		{[]string{"127.0.0.1"}, "master@127.0.0.1:5050", true},
		{[]string{"localhost"}, "master@127.0.0.1:5050", true}, // a DNS name of the host
		{[]string{"10.9.9.9", "127.0.0.1"}, "master@127.0.0.1:5050", true},
	} {
		v := int64(i + 1)
		status := postMessage(t, dialTLS(t, rt.Addr(), p.clientTLS(c.certHosts...)), dst, c.from, v)
		if !strings.Contains(status, "202") {
			t.Fatalf("%v: answer %q, want 202 (forged messages are answered as delivered)", c.certHosts, status)
		}
		rt.Clock().Settle()
		if delivered := got.Load() == v; delivered != c.ok {
			t.Errorf("certificate naming %v, sender %s: delivered %v, want %v", c.certHosts, c.from, delivered, c.ok)
		}
	}
	if n := rt.droppedForged.Value(); n != 1 {
		t.Fatalf("dropped_messages_forged_sender = %v, want 1", n)
	}
	// No certificate at all: the handshake fails.
	c, err := tls.Dial("tcp", rt.Addr().String(), p.clientTLS())
	if err == nil {
		if status := postMessage(t, c, dst, "master@127.0.0.1:5050", 99); status != "" {
			t.Fatalf("client without a certificate answered %q", status)
		}
	}
	if got.Load() == 99 {
		t.Fatal("message from a client without a certificate delivered")
	}
}

// Without downgrade, a TLS port refuses plain peers; with it, it takes
// both on the same port.
func TestTLSDowngrade(t *testing.T) {
	p := newPKI(t)
	strict := newRuntime(t, Options{TLS: p.config("strict", []string{"127.0.0.1"})})
	strict.Clock().Pause()
	dst, got := sink(t, strict)
	if status := postMessage(t, dialPlain(t, strict.Addr()), dst, "x@127.0.0.1:1", 1); status != "" {
		t.Fatalf("plain peer on a TLS port answered %q", status)
	}
	strict.Clock().Settle()
	if got.Load() == 1 {
		t.Fatal("plain message delivered on a TLS port without downgrade")
	}

	mixed := newRuntime(t, Options{TLS: p.config("mixed", []string{"127.0.0.1"}, "SSL_SUPPORT_DOWNGRADE=true")})
	mixed.Clock().Pause()
	dst, got = sink(t, mixed)
	if status := postMessage(t, dialPlain(t, mixed.Addr()), dst, "x@127.0.0.1:1", 2); !strings.Contains(status, "202") {
		t.Fatalf("plain peer with downgrade answered %q", status)
	}
	mixed.Clock().Settle()
	if g := got.Load(); g != 2 {
		t.Fatalf("plain message with downgrade not delivered (got %d)", g)
	}
	if status := postMessage(t, dialTLS(t, mixed.Addr(), p.clientTLS("127.0.0.1")), dst, "x@127.0.0.1:1", 3); !strings.Contains(status, "202") {
		t.Fatalf("TLS peer with downgrade answered %q", status)
	}
	mixed.Clock().Settle()
	if g := got.Load(); g != 3 {
		t.Fatalf("TLS message with downgrade not delivered (got %d)", g)
	}
}

// An outbound link with downgrade falls back to plain when the peer does
// not speak TLS; without downgrade it does not reach it.
func TestTLSOutboundDowngrade(t *testing.T) {
	p := newPKI(t)
	plain := newRuntime(t, Options{TLS: tlsconf.Off})
	plain.Clock().Pause()
	dst, got := sink(t, plain)

	down := newRuntime(t, Options{TLS: p.config("down", []string{"127.0.0.1"}, "SSL_SUPPORT_DOWNGRADE=true")})
	_, src := spawn(t, down, "src", nil)
	down.Send(src, dst, wrapperspb.Int64(5))
	plain.Clock().Settle()
	down.Clock().Settle()
	if g := got.Load(); g != 5 {
		t.Fatalf("downgrading sender did not reach a plain peer (got %d)", g)
	}

	strict := newRuntime(t, Options{TLS: p.config("strict", []string{"127.0.0.1"})})
	_, src = spawn(t, strict, "src", nil)
	strict.Send(src, dst, wrapperspb.Int64(6))
	strict.Clock().Settle()
	plain.Clock().Settle()
	if g := got.Load(); g == 6 {
		t.Fatal("TLS-only sender reached a plain peer")
	}
}

// HTTP endpoints are served over TLS on the same port.
func TestTLSServesHTTP(t *testing.T) {
	p := newPKI(t)
	rt := newRuntime(t, Options{TLS: p.config("rt", []string{"127.0.0.1"}, "SSL_SUPPORT_DOWNGRADE=true")})
	for _, scheme := range []string{"https", "http"} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS()}}
		resp, err := client.Get(scheme + "://" + rt.Addr().String() + "/metrics/snapshot")
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "dropped_messages_forged_sender") {
			t.Fatalf("%s: %d %s", scheme, resp.StatusCode, body)
		}
	}
}
