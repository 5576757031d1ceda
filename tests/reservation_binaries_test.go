package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// post sends a form to a daemon's endpoint with optional Basic
// credentials ("principal:secret").
func post(t *testing.T, addr, path, creds string, form url.Values) (int, string) {
	t.Helper()
	return httpDo(t, http.MethodPost, "http://"+addr+path, creds, "application/x-www-form-urlencoded", form.Encode())
}

// httpDo sends one request to a daemon, with HTTP Basic credentials
// ("user:pass") when given, and returns the status and body.
func httpDo(t *testing.T, method, url, creds, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user, pass, ok := strings.Cut(creds, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getState reads a daemon's JSON state.
func getState(t *testing.T, addr, path string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// reservedOf returns a slave object's reserved_resources and
// reserved_resources_full for role.
func reservedOf(s map[string]any, role string) (summary map[string]any, full []any) {
	summary, _ = s["reserved_resources"].(map[string]any)[role].(map[string]any)
	full, _ = s["reserved_resources_full"].(map[string]any)[role].([]any)
	return summary, full
}

const (
	reservedDisk     = `[{"name":"disk","type":"SCALAR","scalar":{"value":100},"role":"analytics","reservation":{"principal":"ops"}}]`
	volumeOnReserved = `[{"name":"disk","type":"SCALAR","scalar":{"value":100},"role":"analytics","reservation":{"principal":"ops"},` +
		`"disk":{"persistence":{"id":"vol1"},"volume":{"container_path":"data","mode":"RW"}}}]`
)

const reservedCPU = `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"analytics","reservation":{"principal":"ops"}}]`

// An operator reserves through /master/reserve with credentials; a
// principal the ACLs refuse gets 403 and the reason; the reservation is in
// both daemons' /state, survives a SIGKILL of the slave, and
// /master/unreserve gives it back.
func TestBinariesOperatorReservesAndUnreserves(t *testing.T) {
	bin := binaries(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("ops opssecret\nbob bobsecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acls := `{"reserve_resources":[{"principals":{"values":["ops"]},"roles":{"type":"ANY"}},{"principals":{"type":"ANY"},"roles":{"type":"NONE"}}],` +
		`"unreserve_resources":[{"principals":{"values":["ops"]},"reserver_principals":{"type":"ANY"}},{"principals":{"type":"ANY"},"reserver_principals":{"type":"NONE"}}],` +
		`"create_volumes":[{"principals":{"values":["ops"]},"roles":{"type":"ANY"}},{"principals":{"type":"ANY"},"roles":{"type":"NONE"}}]}`
	mport := freePort(t)
	c := &binCluster{bin: bin, master: fmt.Sprintf("127.0.0.1:%d", mport), work: t.TempDir(), slavePort: freePort(t)}
	m := startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory",
		"--allocation_interval=100ms", "--credentials="+creds, "--acls="+acls)
	m.line(t, "master started")
	c.slaveArgs = []string{"--master=" + c.master, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", c.slavePort),
		"--work_dir=" + c.work, "--resources=cpus:4;mem:2048;disk:2048",
		"--registration_backoff_factor=10ms", "--switch_user=false", "--fetcher_cache_dir=" + filepath.Join(c.work, "fetch")}
	s := c.startSlave(t)
	s.line(t, "registered with the master")
	slaves := getState(t, c.master, "/master/state")["slaves"].([]any)
	sid := slaves[0].(map[string]any)["id"].(string)
	form := url.Values{"slaveId": {sid}, "resources": {reservedCPU}}

	if code, body := post(t, c.master, "/master/reserve", "", form); code != http.StatusUnauthorized {
		t.Fatalf("reserve without credentials: %d %s", code, body)
	}
	if code, body := post(t, c.master, "/master/reserve", "ops:wrong", form); code != http.StatusUnauthorized {
		t.Fatalf("reserve with a wrong secret: %d %s", code, body)
	}
	bobForm := url.Values{"slaveId": {sid}, "resources": {strings.ReplaceAll(reservedCPU, `"ops"`, `"bob"`)}}
	if code, body := post(t, c.master, "/master/reserve", "bob:bobsecret", bobForm); code != http.StatusForbidden ||
		!strings.Contains(body, "Not authorized to reserve resources for role 'analytics' as 'bob'") {
		t.Fatalf("reserve by bob: %d %q", code, body)
	}
	// ops may not reserve in bob's name.
	if code, body := post(t, c.master, "/master/reserve", "ops:opssecret", bobForm); code != http.StatusBadRequest ||
		!strings.Contains(body, "does not match the principal 'ops'") {
		t.Fatalf("reserve in another's name: %d %q", code, body)
	}
	if code, body := post(t, c.master, "/master/reserve", "ops:opssecret", url.Values{"slaveId": {sid}, "resources": {"[nope"}}); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d %q", code, body)
	}
	if code, body := post(t, c.master, "/master/reserve", "ops:opssecret", form); code != http.StatusOK {
		t.Fatalf("reserve by ops: %d %q", code, body)
	}
	s.line(t, "checkpointed new resources")
	tooMuch := url.Values{"slaveId": {sid}, "resources": {strings.Replace(reservedCPU, `"value":1`, `"value":8`, 1)}}
	if code, body := post(t, c.master, "/master/reserve", "ops:opssecret", tooMuch); code != http.StatusConflict {
		t.Fatalf("reserving more than the agent has: %d %q", code, body)
	}

	checkReserved := func(want float64) {
		t.Helper()
		ms := getState(t, c.master, "/master/state")["slaves"].([]any)[0].(map[string]any)
		ss := getState(t, fmt.Sprintf("127.0.0.1:%d", c.slavePort), "/slave(1)/state")
		for name, obj := range map[string]map[string]any{"master": ms, "slave": ss} {
			summary, full := reservedOf(obj, "analytics")
			if want == 0 {
				if summary != nil {
					t.Fatalf("%s still shows a reservation: %v", name, obj["reserved_resources"])
				}
				continue
			}
			if summary["cpus"] != want || len(full) == 0 {
				t.Fatalf("%s reserved_resources %v, full %v", name, obj["reserved_resources"], full)
			}
			for _, x := range full {
				r := x.(map[string]any)
				if r["role"] != "analytics" || r["reservation"].(map[string]any)["principal"] != "ops" {
					t.Fatalf("%s reserved_resources_full %v", name, r)
				}
			}
			if obj["unreserved_resources"].(map[string]any)["cpus"] != 4-want {
				t.Fatalf("%s unreserved_resources %v", name, obj["unreserved_resources"])
			}
		}
	}
	checkReserved(1)
	if _, err := os.Stat(filepath.Join(c.work, "meta", "resources", "resources.info")); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}

	// A persistent volume on reserved disk, through the 1.0 endpoints.
	diskForm := url.Values{"slaveId": {sid}, "resources": {reservedDisk}}
	if code, body := post(t, c.master, "/master/reserve", "ops:opssecret", diskForm); code != http.StatusOK {
		t.Fatalf("reserve disk: %d %q", code, body)
	}
	s.line(t, "checkpointed new resources")
	volForm := url.Values{"slaveId": {sid}, "volumes": {volumeOnReserved}}
	if code, body := post(t, c.master, "/master/create-volumes", "bob:bobsecret", volForm); code != http.StatusForbidden ||
		!strings.Contains(body, "Not authorized to create persistent volumes for role 'analytics' as 'bob'") {
		t.Fatalf("create-volumes by bob: %d %q", code, body)
	}
	if code, body := post(t, c.master, "/master/create-volumes", "ops:opssecret", url.Values{"slaveId": {sid}, "volumes": {reservedDisk}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "does not have DiskInfo") {
		t.Fatalf("create-volumes of plain disk: %d %q", code, body)
	}
	if code, body := post(t, c.master, "/master/create-volumes", "ops:opssecret", volForm); code != http.StatusOK {
		t.Fatalf("create-volumes: %d %q", code, body)
	}
	s.line(t, "checkpointed new resources")
	volDir := filepath.Join(c.work, "volumes", "roles", "analytics", "vol1")
	if err := os.WriteFile(filepath.Join(volDir, "kept"), []byte("data"), 0o644); err != nil {
		t.Fatalf("the volume's directory: %v", err)
	}

	// The slave dies hard and comes back: it re-registers with its
	// reservation, which both daemons still show.
	s.signal(syscall.SIGKILL)
	<-s.done
	s2 := c.startSlave(t)
	s2.line(t, "re-registered with the master")
	checkReserved(1)
	if b, err := os.ReadFile(filepath.Join(volDir, "kept")); err != nil || string(b) != "data" {
		t.Fatalf("volume data after the restart: %q %v", b, err)
	}
	if code, body := post(t, c.master, "/master/destroy-volumes", "ops:opssecret", volForm); code != http.StatusOK {
		t.Fatalf("destroy-volumes: %d %q", code, body)
	}
	s2.line(t, "checkpointed new resources")
	if _, err := os.Stat(volDir); !os.IsNotExist(err) {
		t.Fatalf("destroyed volume: %v", err)
	}
	if code, body := post(t, c.master, "/master/unreserve", "ops:opssecret", diskForm); code != http.StatusOK {
		t.Fatalf("unreserve disk: %d %q", code, body)
	}
	s2.line(t, "checkpointed new resources")

	if code, body := post(t, c.master, "/master/unreserve", "bob:bobsecret", form); code != http.StatusForbidden ||
		!strings.Contains(body, "Not authorized to unreserve resources reserved by 'ops' as 'bob'") {
		t.Fatalf("unreserve by bob: %d %q", code, body)
	}
	if code, body := post(t, c.master, "/master/unreserve", "ops:opssecret", form); code != http.StatusOK {
		t.Fatalf("unreserve by ops: %d %q", code, body)
	}
	s2.line(t, "checkpointed new resources")
	checkReserved(0)
	if code, body := post(t, c.master, "/master/unreserve", "ops:opssecret", form); code != http.StatusConflict {
		t.Fatalf("unreserving again: %d %q", code, body)
	}
}
