package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/external"
	"github.com/gomesos/gomesos/mesos"
	cpb "github.com/gomesos/gomesos/mesos/containerizerpb"
)

// buildProgram builds this program into a directory anyone may read.
func buildProgram(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ecp-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, prog)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// invoke runs the program's command with input as its record; it
// returns stdout, stderr and the error of the run.
func invoke(t *testing.T, bin string, env []string, cred *syscall.Credential, input proto.Message, args ...string) ([]byte, string, error) {
	t.Helper()
	var in bytes.Buffer
	if input != nil {
		if err := external.WriteRecord(&in, input); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdin = &in
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	err := cmd.Run()
	return out.Bytes(), errb.String(), err
}

// runContainer launches command as container id with the program's
// isolation args, waits for its end and returns its stdout.
func runContainer(t *testing.T, bin, id, command string, env []string, args ...string) string {
	t.Helper()
	sandbox := t.TempDir()
	launch := &cpb.Launch{
		ContainerId: &mesos.ContainerID{Value: proto.String(id)},
		ExecutorInfo: &mesos.ExecutorInfo{
			ExecutorId: &mesos.ExecutorID{Value: proto.String(id)},
			Command:    &mesos.CommandInfo{Value: proto.String(command)},
		},
		Directory: proto.String(sandbox),
	}
	if _, stderr, err := invoke(t, bin, env, nil, launch, append(args, "launch")...); err != nil {
		t.Fatalf("launch: %v\n%s", err, stderr)
	}
	out, stderr, err := invoke(t, bin, env, nil, &cpb.Wait{ContainerId: launch.ContainerId}, "wait")
	if err != nil {
		t.Fatalf("wait: %v\n%s", err, stderr)
	}
	var term cpb.Termination
	if err := external.ReadRecord(bufio.NewReader(bytes.NewReader(out)), &term); err != nil {
		t.Fatal(err)
	}
	stdout, _ := os.ReadFile(filepath.Join(sandbox, "stdout"))
	if term.GetStatus() != 0 {
		errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
		t.Fatalf("container %s: %s (status %d)\nstdout: %s\nstderr: %s", id, term.GetMessage(), term.GetStatus(), stdout, errOut)
	}
	return string(stdout)
}

// With --isolation=unshare (or its environment variable) the executor is
// PID 1 of a PID namespace of its own, with its own /proc and UTS
// namespace; without, it shares the host's.
func TestUnshareRunsTheExecutorInNewNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("UNSHARE TEST SKIPPED: --isolation=unshare needs root")
	}
	bin := buildProgram(t)
	env := []string{"MESOS_WORK_DIRECTORY=" + t.TempDir()}
	hostPID, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	hostUTS, _ := os.Readlink("/proc/self/ns/uts")
	const probe = `echo pid=$$; readlink /proc/self/ns/pid; readlink /proc/self/ns/uts; ls /proc | grep -c '^[0-9]'; hostname x-in-container; hostname`
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--isolation=unshare"}},
		{"environment", []string{isolationEnv + "=unshare"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := runContainer(t, bin, "ns-"+tc.name, probe, append(env, tc.env...), tc.args...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 5 {
				t.Fatalf("output %q", out)
			}
			if lines[0] != "pid=1" {
				t.Errorf("the executor is %s, want pid=1 in its own PID namespace", lines[0])
			}
			if lines[1] == hostPID || lines[2] == hostUTS {
				t.Errorf("namespaces pid %s, uts %s: the host's (%s, %s)", lines[1], lines[2], hostPID, hostUTS)
			}
			// The fresh /proc shows the namespace's processes only: the
			// shell, ls and grep.
			if lines[3] != "3" && lines[3] != "2" {
				t.Errorf("/proc of the container lists %s processes", lines[3])
			}
			if host, _ := os.Hostname(); host == "x-in-container" || lines[4] != "x-in-container" {
				t.Errorf("host name inside %q, outside %q", lines[4], host)
			}
		})
	}
	if out := runContainer(t, bin, "plain", "echo pid=$$; readlink /proc/self/ns/pid", env); !strings.Contains(out, hostPID) || strings.Contains(out, "pid=1\n") {
		t.Errorf("--isolation=process: %q, want the host's PID namespace %s", out, hostPID)
	}

	// A setup failure in the new namespaces fails the launch, saying why.
	missing := &cpb.Launch{
		ContainerId: &mesos.ContainerID{Value: proto.String("missing")},
		ExecutorInfo: &mesos.ExecutorInfo{
			ExecutorId: &mesos.ExecutorID{Value: proto.String("missing")},
			Command:    &mesos.CommandInfo{Value: proto.String("/nonexistent/executor"), Shell: proto.Bool(false)},
		},
		Directory: proto.String(t.TempDir()),
	}
	if _, stderr, err := invoke(t, bin, env, nil, missing, "--isolation=unshare", "launch"); err == nil || !strings.Contains(stderr, "unshared container: start the executor /nonexistent/executor") {
		t.Errorf("unshare with a missing executor: %v %q", err, stderr)
	}

	// Not root: launch fails saying why.
	bare := &cpb.Launch{ContainerId: &mesos.ContainerID{Value: proto.String("bare")}}
	_, stderr, err := invoke(t, bin, env, &syscall.Credential{Uid: 65534, Gid: 65534}, bare, "--isolation=unshare", "launch")
	if err == nil || !strings.Contains(stderr, "--isolation=unshare needs root") {
		t.Errorf("unshare as uid 65534: %v %q", err, stderr)
	}
	_, stderr, err = invoke(t, bin, env, nil, bare, "--isolation=chroot", "launch")
	if err == nil || !strings.Contains(stderr, "--isolation=chroot: want process or unshare") {
		t.Errorf("an unknown isolation: %v %q", err, stderr)
	}
}
