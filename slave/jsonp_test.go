package slave

import (
	"net/http/httptest"
	"testing"
)

func TestJSONPCallback(t *testing.T) {
	for q, want := range map[string]struct {
		cb string
		ok bool
	}{
		"":                                {"", true},
		"?jsonp=cb":                       {"cb", true},
		"?jsonp=angular.callbacks._0":     {"angular.callbacks._0", true},
		"?jsonp=$x.y_1":                   {"$x.y_1", true},
		"?jsonp=alert(1)":                 {"alert(1)", false},
		"?jsonp=a..b":                     {"a..b", false},
		"?jsonp=1a":                       {"1a", false},
		"?jsonp=a%3Bdocument.cookie":      {"a;document.cookie", false},
		"?jsonp=a%0Ab":                    {"a\nb", false},
		"?jsonp=cb.":                      {"cb.", false},
		"?other=1&jsonp=cb&jsonp=ignored": {"cb", true},
	} {
		cb, ok := jsonpOf(httptest.NewRequest("GET", "/state"+q, nil))
		if cb != want.cb || ok != want.ok {
			t.Errorf("%q: (%q, %v), want (%q, %v)", q, cb, ok, want.cb, want.ok)
		}
	}
	if got := string(wrapJSONP("cb", []byte("{\"a\":1}\n"))); got != `cb({"a":1});` {
		t.Errorf("wrapJSONP = %q", got)
	}
}
