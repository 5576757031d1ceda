package master

import "testing"

// The one decision behind every operator endpoint's authentication.
func TestHTTPAuth(t *testing.T) {
	creds := map[string]string{"ops": "secret"}
	for _, c := range []struct {
		name       string
		creds      map[string]string
		authHTTP   bool
		access     httpAccess
		user, pass string
		given      bool
		wantOK     bool
		wantPrinc  string
	}{
		{"read, auth off: open", creds, false, httpRead, "", "", false, true, ""},
		{"read, auth off, wrong password ignored", creds, false, httpRead, "ops", "x", true, true, "ops"},
		{"read, auth on: none given", creds, true, httpRead, "", "", false, false, ""},
		{"read, auth on: wrong", creds, true, httpRead, "ops", "x", true, false, "ops"},
		{"read, auth on: unknown", creds, true, httpRead, "eve", "secret", true, false, "eve"},
		{"read, auth on: right", creds, true, httpRead, "ops", "secret", true, true, "ops"},
		{"read, auth on, no credentials: refused", nil, true, httpRead, "ops", "secret", true, false, "ops"},
		{"write, no credentials: open", nil, false, httpWrite, "", "", false, true, ""},
		{"write, no credentials: the name given", nil, false, httpWrite, "ops", "", true, true, "ops"},
		{"write, credentials: none given", creds, false, httpWrite, "", "", false, false, ""},
		{"write, credentials: wrong", creds, false, httpWrite, "ops", "x", true, false, "ops"},
		{"write, credentials: right", creds, false, httpWrite, "ops", "secret", true, true, "ops"},
		{"write, auth on: right", creds, true, httpWrite, "ops", "secret", true, true, "ops"},
		{"write, auth on: none", creds, true, httpWrite, "", "", false, false, ""},
	} {
		p, ok := httpAuth(c.creds, c.authHTTP, c.access, c.user, c.pass, c.given)
		if ok != c.wantOK || (ok && p != c.wantPrinc) {
			t.Errorf("%s: %q %v, want %q %v", c.name, p, ok, c.wantPrinc, c.wantOK)
		}
	}
	if r := unauthorizedResponse(); r.Status != 401 || r.Header.Get("WWW-Authenticate") != `Basic realm="mesos"` {
		t.Errorf("401 answer: %d %v", r.Status, r.Header)
	}
}
