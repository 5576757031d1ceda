package tests

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// httpStatus makes a request to the cluster's runtime off the test's
// goroutine (the clock is paused) and returns its status and
// WWW-Authenticate header.
func httpStatus(t *testing.T, c *cluster.Cluster, method, path string, form url.Values, user, pass string) (int, string) {
	t.Helper()
	type answer struct {
		code int
		www  string
	}
	pr := future.NewPromise[answer]()
	go func() {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, "http://"+c.RT.Addr().String()+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		resp.Body.Close()
		pr.Set(answer{resp.StatusCode, resp.Header.Get("WWW-Authenticate")})
	}()
	a := cluster.Await(c, pr.Future())
	return a.code, a.www
}

// wantCredentials checks that a GET of each path needs the credentials
// ops:opspass: 401 with WWW-Authenticate without them, 401 with a wrong
// password, 200 with them.
func wantCredentials(t *testing.T, c *cluster.Cluster, paths ...string) {
	t.Helper()
	for _, path := range paths {
		if code, www := httpStatus(t, c, http.MethodGet, path, nil, "", ""); code != http.StatusUnauthorized || !strings.HasPrefix(www, "Basic") {
			t.Errorf("%s without credentials: %d %q, want 401 with WWW-Authenticate", path, code, www)
		}
		if code, _ := httpStatus(t, c, http.MethodGet, path, nil, "ops", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong password: %d, want 401", path, code)
		}
		if code, _ := httpStatus(t, c, http.MethodGet, path, nil, "ops", "opspass"); code != http.StatusOK {
			t.Errorf("%s with credentials: %d, want 200", path, code)
		}
	}
}

// --authenticate_http: the master's operator endpoints want HTTP Basic
// credentials from --credentials (401 with WWW-Authenticate otherwise);
// /health and /redirect stay open.
func TestAuthenticateHTTP(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		AuthenticateHTTP: true, Credentials: map[string]string{"ops": "opspass"},
	}})
	_, _, fid := c.StartFramework(cluster.FrameworkInfo("f"), scheduler.Options{})
	wantCredentials(t, c, "/master/state", "/state.json", "/master/flags", "/master/tasks", "/master/roles", "/master/slaves", "/master/frameworks", "/master/state-summary")
	if code, _ := httpStatus(t, c, http.MethodGet, "/master/health", nil, "", ""); code != http.StatusOK {
		t.Errorf("/master/health: %d, want 200 without credentials", code)
	}
	form := url.Values{"slaveId": {"S0"}, "resources": {"[]"}}
	for _, path := range []string{"/master/reserve", "/master/unreserve", "/master/create-volumes", "/master/destroy-volumes"} {
		if code, www := httpStatus(t, c, http.MethodPost, path, form, "", ""); code != http.StatusUnauthorized || www == "" {
			t.Errorf("%s without credentials: %d %q, want 401", path, code, www)
		}
	}
	teardown := url.Values{"frameworkId": {fid.GetValue()}}
	if code, _ := httpStatus(t, c, http.MethodPost, "/master/teardown", teardown, "", ""); code != http.StatusUnauthorized {
		t.Errorf("teardown without credentials: %d, want 401", code)
	}
	if code, _ := httpStatus(t, c, http.MethodPost, "/master/teardown", teardown, "ops", "opspass"); code != http.StatusOK {
		t.Errorf("teardown with credentials: %d, want 200", code)
	}
}

// Without --authenticate_http, reading endpoints are open even when the
// master has credentials (the endpoints that change the cluster still
// want them, as in Mesos 0.25).
func TestReadEndpointsOpenWithoutAuthenticateHTTP(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Credentials: map[string]string{"ops": "opspass"},
	}})
	if code, _ := httpStatus(t, c, http.MethodGet, "/master/state", nil, "", ""); code != http.StatusOK {
		t.Errorf("/master/state: %d, want 200", code)
	}
	if code, _ := httpStatus(t, c, http.MethodPost, "/master/teardown", url.Values{"frameworkId": {"x"}}, "", ""); code != http.StatusUnauthorized {
		t.Errorf("/master/teardown without credentials: %d, want 401", code)
	}
}

// --no-root_submissions refuses a framework whose user is root, with
// Mesos's message; others register.
func TestNoRootSubmissions(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Master: master.Config{NoRootSubmissions: true}})
	root := cluster.FrameworkInfo("root")
	root.User = proto.String("root")
	refused := cluster.NewScheduler()
	refusedErr := refused.NextError()
	d := scheduler.NewDriver(c.RT, refused, root, c.MasterPID, scheduler.Options{})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if msg := cluster.Await(c, refusedErr); msg != "User 'root' is not allowed to run frameworks without --root_submissions set" {
		t.Fatalf("root framework: %q", msg)
	}
	if _, _, fid := c.StartFramework(cluster.FrameworkInfo("alice"), scheduler.Options{}); fid.GetValue() == "" {
		t.Fatal("a framework of another user was not registered")
	}
}

// --authenticate_http also covers the runtime's own routes Mesos 1.0
// authenticates: /metrics/snapshot to read, /logging/toggle to change;
// /help and the master's /health stay open.
func TestAuthenticateHTTPRuntimeRoutes(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		AuthenticateHTTP: true, Credentials: map[string]string{"ops": "opspass"},
	}})
	var level slog.LevelVar
	if err := builtin.SpawnLogging(c.RT, &level); err != nil {
		t.Fatal(err)
	}
	if err := builtin.SpawnHelp(c.RT); err != nil {
		t.Fatal(err)
	}
	wantCredentials(t, c, "/metrics/snapshot", "/metrics", "/logging/toggle?level=1&duration=1secs")
	for _, path := range []string{"/help", "/master/health"} {
		if code, _ := httpStatus(t, c, http.MethodGet, path, nil, "", ""); code != http.StatusOK {
			t.Errorf("%s without credentials: %d, want 200", path, code)
		}
	}
}
