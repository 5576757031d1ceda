package slave

import (
	"bytes"
	"net/http"
	"regexp"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// jsonpCallback is what a jsonp= parameter may name: a JavaScript
// identifier or a dotted path of them (Mesos's web UI passes
// "angular.callbacks._0"); anything else could inject script.
var jsonpCallback = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

// jsonpOf returns the request's jsonp= callback ("" when absent), and
// false when it names no valid callback.
func jsonpOf(r *http.Request) (string, bool) {
	cb := r.URL.Query().Get("jsonp")
	return cb, cb == "" || jsonpCallback.MatchString(cb)
}

// wrapJSONP turns a JSON body into a call of cb, as Mesos answers
// jsonp= requests.
func wrapJSONP(cb string, body []byte) []byte {
	return append(append(append([]byte(cb), '('), bytes.TrimRight(body, "\n")...), ");"...)
}

// jsonp answers a request for a JSON endpoint with jsonp=<callback> as
// JSONP (text/javascript), as Mesos's /state and /files do for its web
// UI; other answers pass through.
func jsonp(r *http.Request, f future.Future[*process.Response]) future.Future[*process.Response] {
	cb, ok := jsonpOf(r)
	if !ok {
		return process.Status(http.StatusBadRequest, "Invalid jsonp callback")
	}
	if cb == "" {
		return f
	}
	return future.Then(f, func(resp *process.Response) (*process.Response, error) {
		if resp.Status != http.StatusOK {
			return resp, nil
		}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		resp.Header.Set("Content-Type", "text/javascript")
		resp.Body = wrapJSONP(cb, resp.Body)
		return resp, nil
	})
}
