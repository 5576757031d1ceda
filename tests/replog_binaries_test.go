package tests

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gomesos/gomesos/internal/zktest"
)

// Three mesos-master OS processes keep the registry in a replicated log
// (etcd raft) among themselves and elect the leader on ZooKeeper. The
// leader dies: the next one recovers the admitted slave from the log.
// Then a second master dies: the last one cannot reach a quorum, says so
// and exits rather than run without a registry.
func TestBinariesReplicatedLogAmongThreeMasters(t *testing.T) {
	zk := zktest.Start(t)
	bin := binaries(t)
	url := "zk://" + zk.Addr + "/mesos"
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var peers []string
	for _, p := range ports {
		peers = append(peers, fmt.Sprintf("127.0.0.1:%d", p))
	}
	masters := make([]*daemonProc, 3)
	for i, port := range ports {
		masters[i] = startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
			"--registry=replicated_log", "--replicated_log_peers="+strings.Join(peers, ","), "--quorum=2",
			"--work_dir="+t.TempDir(), "--zk="+url, "--zk_session_timeout=3secs", "--registry_store_timeout=5secs",
			"--allocation_interval=100ms")
		masters[i].line(t, "contending for leadership")
	}
	masters[0].line(t, "elected as the leading master")

	work := t.TempDir()
	s := startProc(t, filepath.Join(bin, "mesos-slave"), "--master="+url, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir="+work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]", "--registration_backoff_factor=10ms",
		"--switch_user=false", "--fetcher_cache_dir="+filepath.Join(work, "fetch"))
	s.line(t, "registered with the master")

	// The leading master dies: the next one reads the slave from the log.
	masters[0].signal(syscall.SIGKILL)
	masters[1].line(t, "elected as the leading master")
	masters[1].line(t, "recovered slaves from the registry")
	s.line(t, "re-registered with the master")

	// A second master dies: the last one has no quorum. It may lead, but
	// it cannot keep a registry: it says why and exits.
	masters[1].signal(syscall.SIGKILL)
	masters[2].line(t, "registry writes are stopped")
	if code := masters[2].exitCode(t); code != 1 {
		t.Fatalf("the master without a quorum exited %d, want 1", code)
	}
}
