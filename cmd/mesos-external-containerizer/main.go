// Command mesos-external-containerizer is a small reference program for
// Mesos 0.25's external containerizer protocol: give it to a slave with
//
//	mesos-slave --containerizers=external --containerizer_path=/path/to/mesos-external-containerizer
//
// It runs each executor as a plain process group in its sandbox, under a
// supervisor process of its own (a second copy of this program, in a new
// session) that survives both this program and the slave, waits for the
// executor and records how it ended. Its state lives under
// $MESOS_WORK_DIRECTORY/external-containerizer/<container id>/, so a
// restarted slave's recover and containers find the live containers again.
//
// Commands (the slave writes the input record to stdin and reads the
// result record from stdout; a record is a 4-byte native-endian length and
// a protobuf of package mesos.containerizer):
//
//	launch     < Launch        starts the executor, returns at once
//	wait       < Wait          > Termination, once the executor has ended
//	destroy    < Destroy       kills the executor's process group
//	usage      < Usage         > mesos.ResourceStatistics (from /proc)
//	update     < Update        records the container's new resources
//	containers                 > Containers, the live ones
//	recover                    nothing to rebuild: the state is on disk
//
// Diagnostics go to stderr (the slave copies them into the sandbox's
// stderr file); any failure exits non-zero.
//
// Isolation. By default (--isolation=process) the executor is a plain
// process group on the host. With --isolation=unshare (given before the
// command, e.g. from a wrapper script that --containerizer_path names, or
// as MESOS_EXTERNAL_CONTAINERIZER_ISOLATION=unshare in the program's
// environment, which is the executor's: see the slave's
// --executor_environment_variables) the executor starts in new mount,
// PID, UTS and IPC namespaces: it is PID 1 of its own PID namespace, sees
// only its own processes in a /proc mounted afresh, and mount or host
// name changes it makes stay inside. The network namespace is the host's
// (the executor talks to the slave). It needs root; without it, launch
// fails saying so. When the executor ends, the kernel kills whatever is
// left in its namespace.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/external"
	"github.com/gomesos/gomesos/containerizer/procstat"
	"github.com/gomesos/gomesos/mesos"
	cpb "github.com/gomesos/gomesos/mesos/containerizerpb"
	"github.com/gomesos/gomesos/resources"
)

const prog = "mesos-external-containerizer"

// The isolation modes (--isolation, or the environment variable
// isolationEnv).
const (
	isolationProcess = "process"
	isolationUnshare = "unshare"
	isolationEnv     = "MESOS_EXTERNAL_CONTAINERIZER_ISOLATION"
)

// namespaces are the namespaces an executor gets with --isolation=unshare.
const namespaces = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC

func main() {
	args := os.Args[1:]
	isolation := os.Getenv(isolationEnv)
	if len(args) > 0 {
		if v, ok := strings.CutPrefix(args[0], "--isolation="); ok {
			isolation, args = v, args[1:]
		}
	}
	if len(args) < 1 {
		fmt.Fprintf(os.Stderr, "usage: %s [--isolation=process|unshare] launch|wait|destroy|usage|update|containers|recover (see the package doc)\n", prog)
		os.Exit(2)
	}
	if err := run(args[0], args[1:], isolation); err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", prog, args[0], err)
		os.Exit(1)
	}
}

func run(command string, args []string, isolation string) error {
	if command == "nsinit" { // internal: PID 1 of an unshared container
		if len(args) != 1 {
			return errors.New("nsinit needs a container state directory")
		}
		return nsinit(args[0])
	}
	root, err := stateRoot()
	if err != nil {
		return err
	}
	switch command {
	case "launch":
		return launch(root, isolation)
	case "supervise": // internal: the supervisor of one container
		if len(args) != 1 {
			return errors.New("supervise needs a container id")
		}
		return supervise(root, args[0])
	case "wait":
		return wait(root)
	case "destroy":
		return destroy(root)
	case "usage":
		return usage(root)
	case "update":
		return update(root)
	case "containers":
		return containers(root)
	case "recover":
		return recoverState(root)
	}
	return fmt.Errorf("unknown command %q", command)
}

func stateRoot() (string, error) {
	wd := os.Getenv("MESOS_WORK_DIRECTORY")
	if wd == "" {
		return "", errors.New("MESOS_WORK_DIRECTORY is not set")
	}
	return filepath.Join(wd, "external-containerizer"), nil
}

// containerDir is a container's state directory; id must be a plain name.
func containerDir(root, id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return "", fmt.Errorf("bad container id %q", id)
	}
	return filepath.Join(root, id), nil
}

func read(m proto.Message) error {
	if err := external.ReadRecord(bufio.NewReader(os.Stdin), m); err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	return nil
}

func write(m proto.Message) error {
	w := bufio.NewWriter(os.Stdout)
	if err := external.WriteRecord(w, m); err != nil {
		return err
	}
	return w.Flush()
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// launch starts the supervisor, which starts the executor and reports
// back on a pipe; launch returns once it has.
func launch(root, isolation string) error {
	switch isolation {
	case "", isolationProcess:
		isolation = isolationProcess
	case isolationUnshare:
		if os.Geteuid() != 0 {
			return fmt.Errorf("--isolation=unshare needs root (it creates mount, PID, UTS and IPC namespaces); this program runs as uid %d: run the slave as root or use --isolation=process", os.Geteuid())
		}
	default:
		return fmt.Errorf("--isolation=%s: want %s or %s", isolation, isolationProcess, isolationUnshare)
	}
	var l cpb.Launch
	if err := read(&l); err != nil {
		return err
	}
	dir, err := containerDir(root, l.GetContainerId().GetValue())
	if err != nil {
		return err
	}
	if l.GetExecutorInfo().GetCommand() == nil {
		return errors.New("the launch names no executor command")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("container state: %w", err)
	}
	raw, err := proto.Marshal(&l)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "launch.pb"), raw); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "isolation"), []byte(isolation)); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sandbox := l.GetDirectory()
	out, err1 := os.OpenFile(filepath.Join(sandbox, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	errf, err2 := os.OpenFile(filepath.Join(sandbox, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer out.Close()
	defer errf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "supervise", l.GetContainerId().GetValue())
	cmd.Dir = sandbox
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return fmt.Errorf("start the supervisor: %w", err)
	}
	pw.Close()
	report, _ := io.ReadAll(io.LimitReader(pr, 4096))
	pr.Close()
	_ = cmd.Process.Release() // the supervisor outlives this program
	if msg := strings.TrimSpace(string(report)); msg != "ok" {
		if msg == "" {
			msg = "the supervisor died before starting the executor"
		}
		return errors.New(msg)
	}
	fmt.Fprintf(os.Stderr, "%s: launched container %s (isolation %s)\n", prog, l.GetContainerId().GetValue(), isolation)
	return nil
}

// supervise runs in its own session: it starts the executor in a process
// group of its own, reports on fd 3, waits for it and records its end.
func supervise(root, id string) error {
	// The report pipe must not leak into the executor: launch reads it
	// to its end.
	syscall.CloseOnExec(3)
	report := os.NewFile(3, "report")
	fail := func(err error) error {
		fmt.Fprintf(report, "%v\n", err)
		report.Close()
		return err
	}
	dir, err := containerDir(root, id)
	if err != nil {
		return fail(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "launch.pb"))
	if err != nil {
		return fail(err)
	}
	var l cpb.Launch
	if err := proto.Unmarshal(raw, &l); err != nil {
		return fail(err)
	}
	argv := containerizer.Argv(l.GetExecutorInfo().GetCommand())
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var setup *os.File // nsinit's report: EOF once it became the executor
	if iso, _ := os.ReadFile(filepath.Join(dir, "isolation")); string(iso) == isolationUnshare {
		// This program again, as PID 1 of the new namespaces: it sets
		// them up, then becomes the executor.
		self, err := os.Executable()
		if err != nil {
			return fail(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		defer w.Close()
		setup = r
		cmd = exec.Command(self, "nsinit", dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: namespaces}
		cmd.ExtraFiles = []*os.File{w}
	}
	cmd.Dir = l.GetDirectory()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start the executor %s: %w", argv[0], err))
	}
	if setup != nil {
		cmd.ExtraFiles[0].Close()
		msg, _ := io.ReadAll(io.LimitReader(setup, 4096))
		setup.Close()
		if len(msg) > 0 {
			_ = cmd.Wait()
			return fail(fmt.Errorf("unshared container: %s", strings.TrimSpace(string(msg))))
		}
	}
	pid := cmd.Process.Pid
	err = errors.Join(
		writeFile(filepath.Join(dir, "executor.pid"), []byte(strconv.Itoa(pid))),
		writeFile(filepath.Join(dir, "supervisor.pid"), []byte(strconv.Itoa(os.Getpid()))))
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fail(err)
	}
	fmt.Fprintln(report, "ok")
	report.Close()
	err = cmd.Wait()
	status := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return err
		}
		status = int(ee.Sys().(syscall.WaitStatus))
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // what the executor left behind
	return writeFile(filepath.Join(dir, "status"), []byte(strconv.Itoa(status)))
}

// nsinit runs as PID 1 of a container's new namespaces
// (--isolation=unshare): it keeps its mounts from propagating to the
// host, mounts a /proc of the new PID namespace, and execs the executor
// of the launch recorded in dir, which stays PID 1.
func nsinit(dir string) error {
	// fd 3 reports a failure to the supervisor; exec closes it.
	syscall.CloseOnExec(3)
	report := os.NewFile(3, "report")
	if err := nsinitExec(dir); err != nil {
		fmt.Fprintln(report, err)
		return err
	}
	return nil
}

func nsinitExec(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "launch.pb"))
	if err != nil {
		return err
	}
	var l cpb.Launch
	if err := proto.Unmarshal(raw, &l); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	argv := containerizer.Argv(l.GetExecutorInfo().GetCommand())
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("start the executor %s: %w", argv[0], err)
	}
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("start the executor %s: %w", argv[0], err)
	}
	return nil
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// awaitExit blocks until pid has exited (or timeout, if positive, passed).
func awaitExit(pid int, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(fd)
	ms := -1
	if timeout > 0 {
		ms = int(timeout / time.Millisecond)
	}
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("pid %d still runs after %s", pid, timeout)
		}
		return nil
	}
}

func wait(root string) error {
	var w cpb.Wait
	if err := read(&w); err != nil {
		return err
	}
	dir, err := containerDir(root, w.GetContainerId().GetValue())
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("unknown container %s", w.GetContainerId().GetValue())
	}
	if sup, err := readInt(filepath.Join(dir, "supervisor.pid")); err == nil {
		if err := awaitExit(sup, 0); err != nil {
			return err
		}
	}
	t := &cpb.Termination{Killed: proto.Bool(false)}
	status, err := readInt(filepath.Join(dir, "status"))
	switch {
	case err != nil:
		t.Message = proto.String("the container's supervisor ended without recording the executor's end")
	default:
		t.Status = proto.Int32(int32(status))
		ws := syscall.WaitStatus(status)
		if ws.Signaled() {
			t.Message = proto.String("Executor killed by signal " + ws.Signal().String())
		} else {
			t.Message = proto.String(fmt.Sprintf("Executor exited with status %d", ws.ExitStatus()))
		}
		if _, err := os.Stat(filepath.Join(dir, "destroyed")); err == nil {
			t.Message = proto.String("Container destroyed")
		}
	}
	return write(t)
}

func destroy(root string) error {
	var d cpb.Destroy
	if err := read(&d); err != nil {
		return err
	}
	dir, err := containerDir(root, d.GetContainerId().GetValue())
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "status")); err == nil {
		return nil // already ended
	}
	if err := writeFile(filepath.Join(dir, "destroyed"), nil); err != nil {
		return err
	}
	if pid, err := readInt(filepath.Join(dir, "executor.pid")); err == nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if sup, err := readInt(filepath.Join(dir, "supervisor.pid")); err == nil {
		return awaitExit(sup, 30*time.Second)
	}
	return nil
}

// limits are the container's resources: the latest update's, else the
// executor's and its task's at launch.
func limits(dir string) (resources.Resources, error) {
	if raw, err := os.ReadFile(filepath.Join(dir, "resources.pb")); err == nil {
		var u cpb.Update
		if err := proto.Unmarshal(raw, &u); err != nil {
			return nil, err
		}
		return resources.FromProto(u.GetResources()), nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "launch.pb"))
	if err != nil {
		return nil, err
	}
	var l cpb.Launch
	if err := proto.Unmarshal(raw, &l); err != nil {
		return nil, err
	}
	return resources.FromProto(l.GetExecutorInfo().GetResources()).Plus(resources.FromProto(l.GetTaskInfo().GetResources())), nil
}

func usage(root string) error {
	var u cpb.Usage
	if err := read(&u); err != nil {
		return err
	}
	dir, err := containerDir(root, u.GetContainerId().GetValue())
	if err != nil {
		return err
	}
	pid, err := readInt(filepath.Join(dir, "executor.pid"))
	if err != nil {
		return fmt.Errorf("unknown container %s", u.GetContainerId().GetValue())
	}
	st := &mesos.ResourceStatistics{Timestamp: proto.Float64(mesos.Timestamp(time.Now()))}
	if res, err := limits(dir); err == nil {
		if cpus := res.Scalar("cpus"); cpus > 0 {
			st.CpusLimit = proto.Float64(cpus)
		}
		if mem := res.Scalar("mem"); mem > 0 {
			st.MemLimitBytes = proto.Uint64(uint64(mem * 1024 * 1024))
		}
	}
	if pids, err := procstat.Tree(pid); err == nil {
		s, err := procstat.Usage(pids)
		if err != nil {
			return err
		}
		s.Fill(st)
	}
	return write(st)
}

func update(root string) error {
	var u cpb.Update
	if err := read(&u); err != nil {
		return err
	}
	dir, err := containerDir(root, u.GetContainerId().GetValue())
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("unknown container %s", u.GetContainerId().GetValue())
	}
	raw, err := proto.Marshal(&u)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "resources.pb"), raw)
}

// live lists the containers whose supervisor still runs.
func live(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "status")); err == nil {
			continue
		}
		if sup, err := readInt(filepath.Join(dir, "supervisor.pid")); err == nil && alive(sup) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func containers(root string) error {
	ids, err := live(root)
	if err != nil {
		return err
	}
	c := &cpb.Containers{}
	for _, id := range ids {
		c.Containers = append(c.Containers, &mesos.ContainerID{Value: proto.String(id)})
	}
	return write(c)
}

func recoverState(root string) error {
	ids, err := live(root)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d live containers under %s\n", prog, len(ids), root)
	return nil
}
