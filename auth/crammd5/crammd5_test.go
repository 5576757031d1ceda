package crammd5

import "testing"

func TestResponseMatchesRFC2195(t *testing.T) {
	got := Response("tim", "tanstaaftanstaaf", []byte("<1896.697170952@postoffice.reston.mci.net>"))
	if string(got) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("response %q", got)
	}
}

func TestParseCredentials(t *testing.T) {
	text, err := ParseCredentials([]byte("# comment\nalice secret1\n\nbob secret2\n"))
	if err != nil || len(text) != 2 || text["bob"] != "secret2" {
		t.Fatalf("text form: %v %v", text, err)
	}
	js, err := ParseCredentials([]byte(`{"credentials":[{"principal":"alice","secret":"s"}]}`))
	if err != nil || js["alice"] != "s" {
		t.Fatalf("JSON form: %v %v", js, err)
	}
	for _, bad := range []string{"alice", "a b c", `{"credentials":[{"secret":"s"}]}`, `{"credentials":`} {
		if _, err := ParseCredentials([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if p, s, err := ParseCredential([]byte(`{"principal":"slave","secret":"x"}`)); err != nil || p != "slave" || s != "x" {
		t.Fatalf("single JSON credential: %q %q %v", p, s, err)
	}
	if p, s, err := ParseCredential([]byte("slave x\n")); err != nil || p != "slave" || s != "x" {
		t.Fatalf("single text credential: %q %q %v", p, s, err)
	}
}
