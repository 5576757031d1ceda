package slave

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzFilesQuery: any /files query is refused or parsed into a clean
// absolute path and offsets of -1 or more; a path that splits into a
// sandbox and a path inside it rejoins to the same path, never leaves that
// sandbox, and names an attached one; parsing the query written back gives the same.
func FuzzFilesQuery(f *testing.F) {
	for _, seed := range []string{
		"path=/var/lib/mesos/slaves/S0/frameworks/F0/executors/E0/runs/C0/stdout&offset=0&length=100",
		"path=/var/lib/mesos/slaves/S0/frameworks/F0/executors/E0/runs/C0/../../../../../../../meta&offset=-5",
		"path=%2Fslave%2Flog&offset=-1",
		"path=/var/lib/mesos/slaves/S0/frameworks/F0/executors/E0/runs/./C0",
		"path=a%00b",
		"path=&length=9223372036854775808",
		"path=//var//lib/mesos/slaves/../slaves/S0/frameworks/F0/executors/E0/runs/C0/a/b",
	} {
		f.Add(seed)
	}
	sandboxes := []string{
		"/var/lib/mesos/slaves/S0/frameworks/F0/executors/E0/runs/C0",
		"/var/lib/mesos/slaves/S0/frameworks/F0/executors/E1/runs/C1",
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		offset, okOffset := parseOffset(q.Get("offset"))
		length, okLength := parseOffset(q.Get("length"))
		if (okOffset && offset < -1) || (okLength && length < -1) {
			t.Fatalf("offset %d length %d accepted", offset, length)
		}
		clean, bad := cleanFilesPath(q.Get("path"))
		if bad != "" {
			return
		}
		if !filepath.IsAbs(clean) || filepath.Clean(clean) != clean || strings.IndexByte(clean, 0) >= 0 {
			t.Fatalf("path %q cleaned to %q", q.Get("path"), clean)
		}
		if sandbox, inside, ok := splitSandbox(sandboxes, clean); ok {
			if got := filepath.Join(sandbox, inside); got != clean {
				t.Fatalf("%q split into %q + %q = %q", clean, sandbox, inside, got)
			}
			if inside == ".." || strings.HasPrefix(inside, "../") || filepath.IsAbs(inside) {
				t.Fatalf("%q: inside %q leaves the sandbox", clean, inside)
			}
			if !slices.Contains(sandboxes, sandbox) {
				t.Fatalf("%q: sandbox %q was not attached", clean, sandbox)
			}
		} else if strings.HasPrefix(clean, sandboxes[0]+"/") || clean == sandboxes[0] {
			t.Fatalf("%q lies in an attached sandbox but was refused", clean)
		}
		// Written back and read again: the same request.
		again, err := url.ParseQuery(url.Values{"path": {clean}, "offset": {q.Get("offset")}, "length": {q.Get("length")}}.Encode())
		if err != nil {
			t.Fatalf("re-encoded query: %v", err)
		}
		if c2, _ := cleanFilesPath(again.Get("path")); c2 != clean {
			t.Fatalf("round trip: %q, want %q", c2, clean)
		}
		if o2, ok := parseOffset(again.Get("offset")); ok != okOffset || (ok && o2 != offset) {
			t.Fatalf("offset round trip: %d %v, want %d %v", o2, ok, offset, okOffset)
		}
	})
}
