package upid

import (
	"fmt"
	"net/netip"
	"testing"
)

func fakeResolver(host string) (netip.Addr, error) {
	if host == "master.example" {
		return netip.MustParseAddr("10.0.0.1"), nil
	}
	return netip.Addr{}, fmt.Errorf("no such host %q", host)
}

func TestParse(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"master@10.0.0.1:5050", "master@10.0.0.1:5050"},
		{"slave(1)@10.0.0.2:5051", "slave(1)@10.0.0.2:5051"},
		{"  scheduler-1@127.0.0.1:0 trailing", "scheduler-1@127.0.0.1:0"},
		{"master@master.example:5050", "master@10.0.0.1:5050"},
		{"a@b@10.0.0.1:1", ""}, // host "b@10.0.0.1" does not resolve
	}
	for _, c := range cases {
		u, err := ParseWith(c.in, fakeResolver)
		if c.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", c.in, u)
			}
			continue
		}
		if err != nil || u.String() != c.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, u, err, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "master", "@1.2.3.4:5", "m@:5", "m@1.2.3.4", "m@1.2.3.4:", "m@1.2.3.4:65536", "m@1.2.3.4:-1", "m@::1:5", "m@nowhere:5"} {
		if u, err := ParseWith(in, fakeResolver); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, u)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var u UPID
	if u.IsValid() || u.String() != "" {
		t.Fatalf("zero UPID: valid=%v string=%q", u.IsValid(), u.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"master@10.0.0.1:5050", "slave(1)@1.2.3.4:1", "x@y:z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseWith(s, fakeResolver)
		if err != nil {
			return
		}
		again, err := ParseWith(u.String(), fakeResolver)
		if err != nil || again != u {
			t.Fatalf("round trip of %q: %v then %v, %v", s, u, again, err)
		}
	})
}
