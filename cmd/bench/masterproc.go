package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The slaves and failover figures run masters as OS processes, built
// from ./cmd/mesos-master, and measure them from /proc and their
// /metrics/snapshot.

// masterBin names a mesos-master binary to run instead of one built from
// this tree: an earlier commit's build, for a comparison in the same run.
var masterBin = flag.String("master_bin", "", "slaves, failover: run this mesos-master binary (an earlier commit's build, say) instead of building ./cmd/mesos-master")

// buildMaster builds mesos-master into dir and returns its path (or
// -master_bin's).
func buildMaster(dir string) (string, error) {
	if *masterBin != "" {
		return *masterBin, nil
	}
	bin := filepath.Join(dir, "mesos-master")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/gomesos/gomesos/cmd/mesos-master")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build mesos-master: %w", err)
	}
	return bin, nil
}

// masterProc is a running mesos-master.
type masterProc struct {
	cmd  *exec.Cmd
	port int
	out  *bytes.Buffer
	done chan struct{}
}

// freePort returns a port free on the loopback now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startMaster starts bin listening on all addresses (advertising
// 127.0.0.1, so every 127.0.0.0/8 address reaches it) with the given
// extra flags; maxConns is its LIBPROCESS_MAX_CONNECTIONS.
func startMaster(bin, workDir string, maxConns int, extra ...string) (*masterProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--ip=0.0.0.0", "--advertise_ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--work_dir=" + workDir, "--logging_level=" + benchMasterLog(),
	}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("LIBPROCESS_MAX_CONNECTIONS=%d", maxConns))
	m := &masterProc{cmd: cmd, port: port, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = m.out, m.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mesos-master: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()
	deadline := time.Now().Add(30 * time.Second) // wall-clock: a daemon starting
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return nil, fmt.Errorf("mesos-master exited: %s", m.out.String())
		default:
		}
		if c, err := net.Dial("tcp", m.addr()); err == nil {
			_ = c.Close()
			return m, nil
		}
		time.Sleep(50 * time.Millisecond) // wall-clock: polling a daemon's port
	}
	m.kill()
	return nil, errors.New("mesos-master did not listen within 30 s")
}

func (m *masterProc) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

func (m *masterProc) pid() string { return "master@" + m.addr() }

// kill sends SIGKILL and waits for the exit; with $BENCH_MASTER_LOGS set
// to a directory, the master's output is kept there.
func (m *masterProc) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
	if dir := os.Getenv("BENCH_MASTER_LOGS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("master-%d.log", m.port)), m.out.Bytes(), 0o644)
	}
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is 3rd.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// rssOf is the process's resident set size in MiB (VmHWM: its peak,
// when peak is set).
func rssOf(pid int, peak bool) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	key := "VmRSS:"
	if peak {
		key = "VmHWM:"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return -1
}

// snapshot reads a daemon's /metrics/snapshot.
func snapshot(addr string) (map[string]float64, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics/snapshot")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]float64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("metrics of %s: %w", addr, err)
	}
	return m, nil
}

// allocP99 is the p99 of the master's allocation cycle timer, if it
// exports one (Mesos: allocator/mesos/allocation_run_ms/p99), else -1.
func allocP99(m map[string]float64) float64 {
	for _, k := range []string{"allocator/mesos/allocation_run_ms/p99", "allocator/allocation_run_ms/p99"} {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return -1
}

// raiseFileLimit raises this process's open-file limit (and so its
// children's) to at least n, as far as the hard limit (root may raise
// that too); it returns the soft limit in force.
func raiseFileLimit(n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur >= n {
		return lim.Cur
	}
	want := syscall.Rlimit{Cur: n, Max: max(lim.Max, n)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// benchMasterLog is the masters' logging level: WARNING, or
// $BENCH_MASTER_LOG_LEVEL.
func benchMasterLog() string {
	if l := os.Getenv("BENCH_MASTER_LOG_LEVEL"); l != "" {
		return l
	}
	return "WARNING"
}
