package wire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/upid"
	"github.com/gomesos/gomesos/process/wire/tlsconf"
	"github.com/gomesos/gomesos/process/wire/tlsconf/tlstest"
)

func tlsConfigs(t testing.TB, extra ...string) (*tlsconf.Config, *tlsconf.Config) {
	t.Helper()
	ca, err := tlstest.NewCA("wire test CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out []*tlsconf.Config
	for _, name := range []string{"a", "b"} {
		f, err := ca.WriteFiles(dir, name, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c, err := tlsconf.FromEnv(f.Getenv(extra...))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out[0], out[1]
}

// A TLS ClientHello on a plain port is refused at once, not after the
// header timeout: a downgrading dialler then retries in plain quickly.
func TestDecodeRefusesTLSHandshake(t *testing.T) {
	_, err := decodeAll(t, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("ClientHello decoded with err %v, want ErrMalformed", err)
	}
}

// Messages between TLS transports carry the sender's verified
// certificate.
func TestTLSTransportsCarryPeerCertificate(t *testing.T) {
	ca, cb := tlsConfigs(t, "SSL_VERIFY_CERT=true")
	rb := newRecorder(1, "sink")
	b := listen(t, rb, Options{TLS: cb})
	a := listen(t, newRecorder(0), Options{TLS: ca})
	a.Send(upid.UPID{ID: "src", Addr: a.Addr()}, upid.UPID{ID: "sink", Addr: b.Addr()}, "m", []byte("x"))
	waitFor(t, rb.arrived, "the message over TLS")
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if c := rb.msgs[0].PeerCert; c == nil || c.Subject.CommonName != "a" {
		t.Fatalf("peer certificate %v, want a's", c)
	}
}

// A downgrading sender reaches a plain port in less than the header
// timeout (the plain port refuses the ClientHello at once).
func TestTLSDowngradeDialsPlainQuickly(t *testing.T) {
	ca, _ := tlsConfigs(t, "SSL_SUPPORT_DOWNGRADE=true")
	rb := newRecorder(1, "sink")
	b := listen(t, rb, Options{ReadHeaderTimeout: time.Hour})
	a := listen(t, newRecorder(0), Options{TLS: ca, DialTimeout: time.Hour})
	a.Send(upid.UPID{ID: "src", Addr: a.Addr()}, upid.UPID{ID: "sink", Addr: b.Addr()}, "m", []byte("x"))
	waitFor(t, rb.arrived, "the message downgraded to plain")
	if c := rb.msgs[0].PeerCert; c != nil {
		t.Fatalf("plain message carries a certificate %v", c.Subject)
	}
}

// A plain byte stream on a TLS port without downgrade gets no answer.
func TestTLSPortRefusesPlain(t *testing.T) {
	_, cb := tlsConfigs(t)
	b := listen(t, newRecorder(0, "sink"), Options{TLS: cb})
	c, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write(AppendMessage(nil, upid.UPID{ID: "x", Addr: b.Addr()}, upid.UPID{ID: "sink", Addr: b.Addr()}, "m", nil))
	_ = c.SetReadDeadline(time.Now().Add(wait)) // failure guard
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err == nil || n > 0 && string(buf[:5]) == "HTTP/" {
		t.Fatalf("plain peer on a TLS port got %q (err %v)", buf[:n], err)
	}
}

// BenchmarkStreamLoopbackTLS is BenchmarkStreamLoopback over TLS.
func BenchmarkStreamLoopbackTLS(b *testing.B) {
	ca, cb := tlsConfigs(b)
	rec := newRecorder(b.N, "sink")
	sink, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, rec, Options{TLS: cb})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	src, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), netip.AddrPort{}, newRecorder(0), Options{TLS: ca})
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

// SSL_VERIFY_DEPTH bounds the client's chain: a certificate issued by the
// CA itself has one certificate above it.
func TestTLSVerifyDepth(t *testing.T) {
	ca, err := tlstest.NewCA("depth CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := ca.WriteFiles(dir, "server", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("client", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		depth string
		ok    bool
	}{{"0", false}, {"1", true}} {
		cfg, err := tlsconf.FromEnv(f.Getenv("SSL_REQUIRE_CERT=true", "SSL_VERIFY_DEPTH="+c.depth))
		if err != nil {
			t.Fatal(err)
		}
		rb := newRecorder(1, "sink")
		b := listen(t, rb, Options{TLS: cfg})
		roots := x509.NewCertPool()
		roots.AddCert(ca.Cert)
		conn, err := tls.Dial("tcp", b.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{clientCert}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(AppendMessage(nil, upid.UPID{ID: "x", Addr: b.Addr()}, upid.UPID{ID: "sink", Addr: b.Addr()}, "m", nil))
		_ = conn.SetReadDeadline(time.Now().Add(wait)) // failure guard
		buf := make([]byte, 64)
		n, _ := conn.Read(buf)
		_ = conn.Close()
		if got := strings.HasPrefix(string(buf[:n]), "HTTP/1.1 202"); got != c.ok {
			t.Errorf("SSL_VERIFY_DEPTH=%s: answered %q, want accepted=%v", c.depth, buf[:n], c.ok)
		}
	}
}
