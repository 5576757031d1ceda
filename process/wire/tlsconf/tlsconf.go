// Package tlsconf reads the TLS settings of a libprocess port from the
// environment, as Mesos documents them (SSL_ENABLED, SSL_CERT_FILE, ...,
// each also with the LIBPROCESS_ prefix, which wins when both are set), and
// builds the server and client configurations of crypto/tls from them.
//
// Differences from OpenSSL-based libprocess: SSLv3, TLS 1.0 and TLS 1.1
// are refused (their toggles may only be false), TLS 1.3 is on unless
// SSL_ENABLE_TLS_V1_3=false, SSL_CIPHERS names (OpenSSL's spelling) are
// mapped to Go's suites and govern TLS 1.2 only (Go does not let TLS 1.3
// suites be chosen), and an unknown or unsupported name is an error at
// start-up rather than a silently shorter list.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultVerifyDepth is SSL_VERIFY_DEPTH when unset.
const DefaultVerifyDepth = 4

// Config is the TLS setup of one libprocess port.
type Config struct {
	// Enabled: inbound and outbound connections use TLS (SSL_ENABLED).
	Enabled bool
	// SupportDowngrade: the port also accepts plain connections, told
	// apart by their first byte, and an outbound connection whose TLS
	// handshake fails is retried in plain (SSL_SUPPORT_DOWNGRADE).
	SupportDowngrade bool
	// VerifyCert: peers' certificates are verified against the CAs
	// (SSL_VERIFY_CERT); a client without one is still accepted.
	VerifyCert bool
	// RequireCert: connecting clients must present a certificate that
	// verifies (SSL_REQUIRE_CERT; implies VerifyCert). The runtime then
	// also checks that it names the host of the sender a message claims.
	RequireCert bool
	// VerifyDepth bounds the certificate chain: at most VerifyDepth
	// certificates above the peer's own (SSL_VERIFY_DEPTH, default 4).
	VerifyDepth int

	// Server and Client are the crypto/tls configurations of inbound and
	// outbound connections; nil when not Enabled.
	Server *tls.Config
	Client *tls.Config
}

// Off is a Config with TLS disabled.
var Off = &Config{}

// boolean names with their defaults.
var booleans = []struct {
	name string
	def  bool
}{
	{"ENABLED", false},
	{"SUPPORT_DOWNGRADE", false},
	{"VERIFY_CERT", false},
	{"REQUIRE_CERT", false},
	{"ENABLE_SSL_V3", false},
	{"ENABLE_TLS_V1_0", false},
	{"ENABLE_TLS_V1_1", false},
	{"ENABLE_TLS_V1_2", true},
	{"ENABLE_TLS_V1_3", true},
}

// lookup returns the value of LIBPROCESS_SSL_<name>, else SSL_<name>, and
// the variable it came from.
func lookup(getenv func(string) string, name string) (value, from string) {
	for _, v := range []string{"LIBPROCESS_SSL_" + name, "SSL_" + name} {
		if s := getenv(v); s != "" {
			return s, v
		}
	}
	return "", ""
}

// parseBool accepts what the docs list: true|1 and false|0 (any case).
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// FromEnv reads the SSL_* variables through getenv (os.Getenv in
// production). Bad values, unknown cipher names, enabled protocols older
// than TLS 1.2, and unreadable key, certificate or CA files are errors that
// name the variable. With SSL_ENABLED unset or false, only the booleans
// are checked and the Config is disabled.
func FromEnv(getenv func(string) string) (*Config, error) {
	flags := map[string]bool{}
	for _, b := range booleans {
		flags[b.name] = b.def
		v, from := lookup(getenv, b.name)
		if from == "" {
			continue
		}
		x, ok := parseBool(v)
		if !ok {
			return nil, fmt.Errorf("%s=%q: want true, false, 1 or 0", from, v)
		}
		flags[b.name] = x
	}
	if !flags["ENABLED"] {
		return Off, nil
	}
	for _, old := range []string{"ENABLE_SSL_V3", "ENABLE_TLS_V1_0", "ENABLE_TLS_V1_1"} {
		if flags[old] {
			_, from := lookup(getenv, old)
			return nil, fmt.Errorf("%s=true: protocols older than TLS 1.2 are not supported", from)
		}
	}
	c := &Config{
		Enabled:          true,
		SupportDowngrade: flags["SUPPORT_DOWNGRADE"],
		RequireCert:      flags["REQUIRE_CERT"],
		VerifyCert:       flags["VERIFY_CERT"] || flags["REQUIRE_CERT"],
		VerifyDepth:      DefaultVerifyDepth,
	}
	if v, from := lookup(getenv, "VERIFY_DEPTH"); from != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s=%q: want a number >= 0", from, v)
		}
		c.VerifyDepth = n
	}
	minV, maxV, err := versions(flags["ENABLE_TLS_V1_2"], flags["ENABLE_TLS_V1_3"])
	if err != nil {
		return nil, err
	}
	var suites []uint16
	if v, from := lookup(getenv, "CIPHERS"); from != "" {
		if suites, err = Ciphers(v); err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
	}
	certFile, certVar := lookup(getenv, "CERT_FILE")
	keyFile, keyVar := lookup(getenv, "KEY_FILE")
	if certVar == "" || keyVar == "" {
		return nil, errors.New("SSL_ENABLED needs SSL_CERT_FILE and SSL_KEY_FILE")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s=%s, %s=%s: %w", certVar, certFile, keyVar, keyFile, err)
	}
	roots, err := caPool(getenv)
	if err != nil {
		return nil, err
	}
	base := tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   minV,
		MaxVersion:   maxV,
		CipherSuites: suites,
	}
	c.Server = base.Clone()
	c.Server.ClientCAs = roots
	switch {
	case c.RequireCert:
		c.Server.ClientAuth = tls.RequireAndVerifyClientCert
	case c.VerifyCert:
		c.Server.ClientAuth = tls.VerifyClientCertIfGiven
	}
	if c.VerifyCert {
		c.Server.VerifyConnection = c.checkDepth
	}
	c.Client = base.Clone()
	// Peers are dialled by IP, and Mesos verifies the chain, not the
	// name: verification is done by verifyServer (when asked for), not by
	// crypto/tls's host name check.
	c.Client.InsecureSkipVerify = true
	if c.VerifyCert {
		c.Client.VerifyConnection = func(cs tls.ConnectionState) error { return c.verifyServer(cs, roots) }
	}
	return c, nil
}

// versions maps the protocol toggles to a version range.
func versions(v12, v13 bool) (minV, maxV uint16, err error) {
	switch {
	case v12 && v13:
		return tls.VersionTLS12, tls.VersionTLS13, nil
	case v12:
		return tls.VersionTLS12, tls.VersionTLS12, nil
	case v13:
		return tls.VersionTLS13, tls.VersionTLS13, nil
	}
	return 0, 0, errors.New("SSL_ENABLE_TLS_V1_2 and SSL_ENABLE_TLS_V1_3 are both false: no protocol left")
}

// caPool reads SSL_CA_FILE and every certificate file of SSL_CA_DIR; with
// neither, it is the system's pool.
func caPool(getenv func(string) string) (*x509.CertPool, error) {
	file, fileVar := lookup(getenv, "CA_FILE")
	dir, dirVar := lookup(getenv, "CA_DIR")
	if fileVar == "" && dirVar == "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("system CA pool (set SSL_CA_FILE or SSL_CA_DIR): %w", err)
		}
		return pool, nil
	}
	pool := x509.NewCertPool()
	if fileVar != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fileVar, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s=%s: no PEM certificate in it", fileVar, file)
		}
	}
	if dirVar != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dirVar, err)
		}
		found := 0
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || !hasCert(b) {
				continue // OpenSSL's hashed directories hold other files too
			}
			if pool.AppendCertsFromPEM(b) {
				found++
			}
		}
		if found == 0 {
			return nil, fmt.Errorf("%s=%s: no PEM certificate in it", dirVar, dir)
		}
	}
	return pool, nil
}

func hasCert(b []byte) bool {
	for len(b) > 0 {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return false
		}
		if blk.Type == "CERTIFICATE" {
			return true
		}
	}
	return false
}

// checkDepth bounds the verified chains of a client certificate.
func (c *Config) checkDepth(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return nil // no certificate, and none required
	}
	for _, ch := range cs.VerifiedChains {
		if len(ch)-1 <= c.VerifyDepth {
			return nil
		}
	}
	return fmt.Errorf("peer certificate chain longer than SSL_VERIFY_DEPTH=%d", c.VerifyDepth)
}

// verifyServer verifies the chain the server presented against roots,
// within the depth.
func (c *Config) verifyServer(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, ic := range cs.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	chains, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify server certificate: %w", err)
	}
	cs.VerifiedChains = chains
	return c.checkDepth(cs)
}
