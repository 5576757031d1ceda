package estimator

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/slave"
)

func TestFileEstimator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revocable")
	mods, err := modules.Parse(`{"libraries":[{"file":"libfile_estimator.so","modules":[{"name":"` + Name + `","parameters":[{"key":"path","value":"` + path + `"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	est, err := slave.NewResourceEstimator(mods, Name, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		content string // "-": no file
		cpus    float64
		err     string
	}{
		{"-", 0, ""},
		{"", 0, ""},
		{"cpus:2;mem:512\n", 2, ""},
		{"cpus(prod):1", 0, "cannot be reserved"},
		{"cpus:x", 0, "bad scalar"},
	} {
		_ = os.Remove(path)
		if tc.content != "-" {
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := est.Oversubscribable().Get()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, %v; want an error with %q", tc.content, rs, err, tc.err)
			}
			continue
		}
		if err != nil || rs.Scalar("cpus") != tc.cpus {
			t.Errorf("%q: %v, %v; want cpus %v", tc.content, rs, err, tc.cpus)
		}
	}
	for _, tc := range []struct{ params, want string }{
		{`[]`, "the parameter path is required"},
		{`[{"key":"path","value":"/x"},{"key":"size","value":"1"}]`, `unknown parameter "size"`},
	} {
		mods, err := modules.Parse(`{"libraries":[{"modules":[{"name":"` + Name + `","parameters":` + tc.params + `}]}]}`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := slave.NewResourceEstimator(mods, Name, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parameters %s: %v, want %q", tc.params, err, tc.want)
		}
	}
}

// The custom slave of mesos-slave/main.go, started with the module in
// --modules, oversubscribes what the file says, and follows the file as
// it changes; an unknown --resource_estimator fails its start-up with
// the known ones, the example's among them.
func TestCustomSlaveRunsTheModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/gomesos/gomesos/cmd/mesos-master", "github.com/gomesos/gomesos/examples/estimator/mesos-slave")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	path := filepath.Join(work, "revocable")
	if err := os.WriteFile(path, []byte("cpus:3"), 0o644); err != nil {
		t.Fatal(err)
	}
	mport := freePort(t)
	m := start(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory")
	m.line(t, "master started")
	modulesJSON := `{"libraries":[{"file":"libfile_estimator.so","modules":[{"name":"` + Name + `","parameters":[{"key":"path","value":"` + path + `"}]}]}]}`
	slaveArgs := []string{fmt.Sprintf("--master=127.0.0.1:%d", mport), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", freePort(t)),
		"--work_dir=" + filepath.Join(work, "slave"), "--resources=cpus:1;mem:256;disk:256;ports:[31000-31001]",
		"--registration_backoff_factor=10ms", "--oversubscribed_resources_interval=50ms", "--modules=" + modulesJSON}

	bad := start(t, filepath.Join(bin, "mesos-slave"), append(slaveArgs, "--resource_estimator=nope")...)
	l := bad.line(t, "unknown ResourceEstimator module")
	if !strings.Contains(l, `--resource_estimator: unknown ResourceEstimator module "nope" (known: fixed, `+Name+", noop, ") {
		t.Fatalf("start-up error %q", l)
	}
	if code := bad.exitCode(t); code != 1 {
		t.Fatalf("a slave with an unknown module exited %d", code)
	}

	start(t, filepath.Join(bin, "mesos-slave"), append(slaveArgs, "--resource_estimator="+Name)...)
	m.line(t, "cpus{REV}:3")
	if err := os.WriteFile(path, []byte("cpus:5;mem:64"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.line(t, "cpus{REV}:5;mem{REV}:64")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a running binary whose output (stdout and stderr) is read line
// by line.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 4096), done: make(chan struct{})}
	var all []string
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second): // wall-clock: bounds another process's exit
			_ = cmd.Process.Kill()
			<-p.done
		}
		for l := range p.lines {
			all = append(all, l)
		}
		if t.Failed() {
			t.Logf("rest of the output of %s:\n%s", filepath.Base(bin), strings.Join(all, "\n"))
		}
	})
	return p
}

// line waits (bounded) for an output line containing s.
func (p *proc) line(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(60 * time.Second) // wall-clock: bounds a wait on another process
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited before printing %q", filepath.Base(p.cmd.Path), s)
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			t.Fatalf("%s did not print %q within 60 s", filepath.Base(p.cmd.Path), s)
		}
	}
}

// exitCode waits (bounded) for the process to exit.
func (p *proc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second): // wall-clock: bounds another process's exit
		t.Fatalf("%s did not exit", filepath.Base(p.cmd.Path))
	}
	return p.cmd.ProcessState.ExitCode()
}
