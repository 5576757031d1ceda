package tests

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomesos/gomesos/internal/zktest"
)

// send makes one HTTP request to a daemon, without credentials.
func send(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	return httpDo(t, method, url, "", "", body)
}

// Quota and the maintenance schedule live in the registry: set on one
// master, they are the next leader's after a failover (ZooKeeper, two
// mesos-master binaries). A machine brought DOWN stays DOWN: its slave,
// restarted, is refused by the new leader; brought UP, it registers.
func TestBinariesQuotaAndMaintenanceSurviveFailover(t *testing.T) {
	zk := zktest.Start(t)
	bin := binaries(t)
	url := "zk://" + zk.Addr + "/mesos"
	startMaster := func() (*daemonProc, string) {
		m, port := startZKMaster(t, bin, url, "--zk_session_timeout=3secs", "--work_dir="+t.TempDir())
		return m, fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	m1, url1 := startMaster()
	m1.line(t, "elected as the leading master")
	m2, url2 := startMaster()
	work := t.TempDir()
	slaveArgs := []string{"--master=" + url, "--ip=127.0.0.1", "--hostname=maint-host", "--work_dir=" + work,
		"--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]", "--registration_backoff_factor=10ms",
		"--switch_user=false", "--fetcher_cache_dir=" + filepath.Join(work, "fetch")}
	startSlave := func() *daemonProc {
		return startProc(t, filepath.Join(bin, "mesos-slave"), append(slaveArgs, fmt.Sprintf("--port=%d", freePort(t)))...)
	}
	s := startSlave()
	s.line(t, "registered with the master")

	const quota = `{"role":"analytics","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}`
	if code, body := send(t, "POST", url1+"/master/quota", quota); code != http.StatusOK {
		t.Fatalf("set quota: %d %s", code, body)
	}
	machine := `{"hostname":"maint-host","ip":"127.0.0.1"}`
	start := time.Now().Add(time.Hour).UnixNano() // wall-clock: the binaries' clock
	schedule := fmt.Sprintf(`{"windows":[{"machine_ids":[%s],"unavailability":{"start":{"nanoseconds":%d}}}]}`, machine, start)
	if code, body := send(t, "POST", url1+"/master/maintenance/schedule", schedule); code != http.StatusOK {
		t.Fatalf("schedule: %d %s", code, body)
	}
	if code, body := send(t, "POST", url1+"/master/machine/down", "["+machine+"]"); code != http.StatusOK {
		t.Fatalf("down: %d %s", code, body)
	}
	s.line(t, "Operator initiated 'Machine DOWN'")

	m1.signal(syscall.SIGKILL)
	m2.line(t, "elected as the leading master")
	m2.linesAnyOrder(t, "recovered quotas from the registry", "recovered machines under maintenance from the registry")
	if code, body := send(t, "GET", url2+"/master/quota", ""); code != http.StatusOK || !strings.Contains(body, `"role":"analytics"`) {
		t.Fatalf("quota on the new leader: %d %s", code, body)
	}
	if code, body := send(t, "GET", url2+"/master/maintenance/status", ""); code != http.StatusOK || !strings.Contains(body, `"down_machines":[`+machine+`]`) {
		t.Fatalf("status on the new leader: %d %s", code, body)
	}
	if code, body := send(t, "GET", url2+"/master/maintenance/schedule", ""); code != http.StatusOK || !strings.Contains(body, fmt.Sprint(start)) {
		t.Fatalf("schedule on the new leader: %d %s", code, body)
	}

	// The slave of the DOWN machine, restarted, is refused.
	s2 := startSlave()
	s2.line(t, "Machine is `DOWN`")
	if code, body := send(t, "POST", url2+"/master/machine/up", "["+machine+"]"); code != http.StatusOK {
		t.Fatalf("up: %d %s", code, body)
	}
	s3 := startSlave()
	s3.line(t, "registered with the master")
	if code, body := send(t, "GET", url2+"/master/maintenance/status", ""); code != http.StatusOK || body != "{}" {
		t.Fatalf("status after up: %d %s", code, body)
	}
}
