package tlsconf_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/process/wire/tlsconf"
	"github.com/gomesos/gomesos/process/wire/tlsconf/tlstest"
)

func files(t *testing.T) tlstest.Files {
	t.Helper()
	ca, err := tlstest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ca.WriteFiles(t.TempDir(), "node", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromEnvDisabled(t *testing.T) {
	c, err := tlsconf.FromEnv(func(string) string { return "" })
	if err != nil || c.Enabled || c.Server != nil {
		t.Fatalf("empty environment: %+v, %v", c, err)
	}
	if _, err := tlsconf.FromEnv(func(k string) string {
		if k == "SSL_ENABLED" {
			return "yes"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "SSL_ENABLED") {
		t.Fatalf("SSL_ENABLED=yes: err %v, want one naming the variable", err)
	}
}

func TestFromEnvSettings(t *testing.T) {
	f := files(t)
	c, err := tlsconf.FromEnv(f.Getenv("SSL_SUPPORT_DOWNGRADE=1", "SSL_REQUIRE_CERT=true", "SSL_VERIFY_DEPTH=2",
		"SSL_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA", "SSL_ENABLE_TLS_V1_3=false"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || !c.SupportDowngrade || !c.RequireCert || !c.VerifyCert || c.VerifyDepth != 2 {
		t.Fatalf("config %+v", c)
	}
	if c.Server.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("client auth %v", c.Server.ClientAuth)
	}
	if c.Server.MaxVersion != tls.VersionTLS12 || c.Server.MinVersion != tls.VersionTLS12 {
		t.Fatalf("versions %x..%x", c.Server.MinVersion, c.Server.MaxVersion)
	}
	want := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}
	if got := c.Client.CipherSuites; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("suites %x, want %x", got, want)
	}
}

// LIBPROCESS_SSL_* wins over SSL_*.
func TestFromEnvLibprocessPrefix(t *testing.T) {
	f := files(t)
	get := f.Getenv("SSL_VERIFY_DEPTH=9", "LIBPROCESS_SSL_VERIFY_DEPTH=1")
	c, err := tlsconf.FromEnv(get)
	if err != nil {
		t.Fatal(err)
	}
	if c.VerifyDepth != 1 {
		t.Fatalf("depth %d, want LIBPROCESS_SSL_VERIFY_DEPTH's 1", c.VerifyDepth)
	}
	only := func(k string) string {
		return map[string]string{"LIBPROCESS_SSL_ENABLED": "true", "LIBPROCESS_SSL_CERT_FILE": f.Cert,
			"LIBPROCESS_SSL_KEY_FILE": f.Key, "LIBPROCESS_SSL_CA_FILE": f.CA}[k]
	}
	if c, err := tlsconf.FromEnv(only); err != nil || !c.Enabled {
		t.Fatalf("LIBPROCESS_SSL_ only: %+v, %v", c, err)
	}
}

func TestFromEnvRefuses(t *testing.T) {
	f := files(t)
	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"SSL_CIPHERS=AES128-SHA:DHE-RSA-AES128-SHA"}, `SSL_CIPHERS: unknown or unsupported cipher "DHE-RSA-AES128-SHA"`},
		{[]string{"SSL_CIPHERS=HIGH:!aNULL"}, `unknown or unsupported cipher "HIGH"`},
		{[]string{"SSL_ENABLE_TLS_V1_0=true"}, "SSL_ENABLE_TLS_V1_0=true: protocols older than TLS 1.2"},
		{[]string{"SSL_ENABLE_SSL_V3=1"}, "SSL_ENABLE_SSL_V3=true"},
		{[]string{"SSL_ENABLE_TLS_V1_2=false", "SSL_ENABLE_TLS_V1_3=false"}, "no protocol left"},
		{[]string{"SSL_VERIFY_DEPTH=-1"}, "SSL_VERIFY_DEPTH"},
		{[]string{"SSL_CERT_FILE=/nonexistent"}, "SSL_CERT_FILE=/nonexistent"},
		{[]string{"SSL_CA_FILE=/nonexistent"}, "SSL_CA_FILE"},
		{[]string{"SSL_CA_FILE=", "SSL_CA_DIR=" + t.TempDir()}, "SSL_CA_DIR"},
	} {
		_, err := tlsconf.FromEnv(f.Getenv(c.extra...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want one containing %q", c.extra, err, c.want)
		}
	}
	noKey := func(k string) string {
		if k == "SSL_ENABLED" {
			return "true"
		}
		return ""
	}
	if _, err := tlsconf.FromEnv(noKey); err == nil || !strings.Contains(err.Error(), "SSL_CERT_FILE") {
		t.Errorf("no certificate: err %v", err)
	}
}

func TestCAFromDirectory(t *testing.T) {
	f := files(t)
	dir := f.CA[:strings.LastIndex(f.CA, "/")]
	c, err := tlsconf.FromEnv(f.Getenv("SSL_CA_FILE=", "SSL_CA_DIR="+dir))
	if err != nil || !c.Enabled {
		t.Fatalf("%+v, %v", c, err)
	}
}
