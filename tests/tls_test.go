package tests

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process/wire/tlsconf/tlstest"
)

var (
	exampleOnce sync.Once
	exampleErr  error
)

// exampleFramework builds cmd/example-framework beside the other binaries.
func exampleFramework(t *testing.T) string {
	t.Helper()
	bin := binaries(t)
	exampleOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", bin+"/", "github.com/gomesos/gomesos/cmd/example-framework")
		if out, err := cmd.CombinedOutput(); err != nil {
			exampleErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return filepath.Join(bin, "example-framework")
}

// phaseEnv is this process's environment without any SSL setting, plus
// ssl (NAME=value lines).
func phaseEnv(ssl ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSL_") && !strings.HasPrefix(kv, "LIBPROCESS_SSL_") {
			env = append(env, kv)
		}
	}
	return append(env, ssl...)
}

// The rolling upgrade of the docs' SSL section, with a master, a slave and
// frameworks as OS processes: all plain; then each restarted in turn with
// SSL_ENABLED and SSL_SUPPORT_DOWNGRADE (a task started in plain keeps
// running, frameworks plain and TLS get offers and run tasks); then each
// restarted with TLS only, certificates required; a plain client is then
// refused while a TLS one is served.
func TestTLSRollingUpgrade(t *testing.T) {
	bin := binaries(t)
	example := exampleFramework(t)
	ca, err := tlstest.NewCA("gomesos test CA")
	if err != nil {
		t.Fatal(err)
	}
	files, err := ca.WriteFiles(t.TempDir(), "node", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	plain := phaseEnv()
	mixed := phaseEnv(files.Env("SSL_SUPPORT_DOWNGRADE=true")...)
	strict := phaseEnv(files.Env("SSL_REQUIRE_CERT=true")...)

	mport := freePort(t)
	master := fmt.Sprintf("127.0.0.1:%d", mport)
	masterArgs := []string{"--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--work_dir=" + t.TempDir(),
		"--allocation_interval=100ms"}
	work := t.TempDir()
	slaveArgs := []string{"--master=" + master, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir=" + work, "--resources=cpus:4;mem:2048;disk:2048;ports:[31000-32000]",
		"--registration_backoff_factor=10ms", "--switch_user=false", "--fetcher_cache_dir=" + filepath.Join(work, "fetch")}
	startMaster := func(env []string) *daemonProc {
		m := startProcEnv(t, env, filepath.Join(bin, "mesos-master"), masterArgs...)
		m.line(t, "master started")
		return m
	}
	startSlave := func(env []string) *daemonProc {
		return startProcEnv(t, env, filepath.Join(bin, "mesos-slave"), slaveArgs...)
	}
	kill := func(p *daemonProc) {
		p.signal(syscall.SIGKILL)
		<-p.done
	}
	runBatch := func(env []string, what string) {
		t.Helper()
		f := startProcEnv(t, env, example, "--master="+master, "--tasks=2", "--command=echo $MESOS_TASK_ID")
		if code := f.exitCode(t); code != 0 {
			t.Fatalf("%s: example-framework exited %d", what, code)
		}
	}
	longTask := func(env []string, name string) *daemonProc {
		t.Helper()
		ex := startProcEnv(t, env, filepath.Join(bin, "mesos-execute"), "--master="+master, "--name="+name, "--checkpoint",
			"--command="+waitForGo, "--resources=cpus:0.5;mem:64")
		ex.line(t, "TASK_RUNNING for task "+name)
		return ex
	}
	finish := func(ex *daemonProc, name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(sandboxOf(t, work, name), "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ex.line(t, "TASK_FINISHED for task "+name)
		if code := ex.exitCode(t); code != 0 {
			t.Fatalf("mesos-execute of %s exited %d", name, code)
		}
	}

	// All plain.
	t.Log("All plain")
	m := startMaster(plain)
	s := startSlave(plain)
	s.line(t, "registered with the master")
	runBatch(plain, "plain cluster")
	old := longTask(plain, "old")

	// Each restarted with SSL and downgrade; the plain task keeps running.
	t.Log("Each restarted with SSL and downgrade")
	kill(m)
	m = startMaster(mixed)
	m.linesAnyOrder(t, "re-registered unknown framework", "readmitted slave")
	kill(s)
	s = startSlave(mixed)
	s.line(t, "executor re-registered")
	s.line(t, "re-registered with the master")
	runBatch(mixed, "mixed cluster, TLS framework")
	runBatch(plain, "mixed cluster, plain framework")
	finish(old, "old")
	young := longTask(mixed, "young")

	// Each restarted with TLS only and required certificates.
	t.Log("Each restarted with TLS only and required certificates")
	kill(m)
	m = startMaster(strict)
	m.linesAnyOrder(t, "re-registered unknown framework", "readmitted slave")
	kill(s)
	s = startSlave(strict)
	s.line(t, "executor re-registered")
	s.line(t, "re-registered with the master")
	runBatch(strict, "TLS cluster")
	finish(young, "young")

	// A plain client is refused; a TLS one is served.
	t.Log("A plain client is refused")
	c, err := net.Dial("tcp", master)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", master)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // wall-clock: bounds a wait on another process
	if line, err := bufio.NewReader(c).ReadString('\n'); err == nil || strings.HasPrefix(line, "HTTP/") {
		t.Fatalf("plain client answered %q (err %v), want the connection closed", line, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
	resp, err := client.Get("https://" + master + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("https /health: %s", resp.Status)
	}
}
