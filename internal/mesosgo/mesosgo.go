// Package mesosgo builds and runs a mesos-go 0.0.6 messenger as a peer for
// interop tests and benchmarks. mesos-go comes from the Debian package
// golang-github-mesos-mesos-go-dev and builds in GOPATH mode only, so the
// peer program (peer.go, embedded here) is compiled into a temporary
// GOPATH at run time.
package mesosgo

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed peer.go
var peerSource []byte

//go:embed framework.go
var frameworkSource []byte

//go:embed executor.go
var executorSource []byte

//go:embed v1scheduler.go
var v1SchedulerSource []byte

//go:embed v1executor.go
var v1ExecutorSource []byte

//go:embed v1operator.go
var v1OperatorSource []byte

// GOPATH is where Debian installs Go sources for GOPATH builds.
const GOPATH = "/usr/share/gocode"

// ErrUnavailable means mesos-go is not installed (or will not build).
var ErrUnavailable = errors.New("mesos-go 0.0.6 is not available")

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Programs built by Build, by name.
const (
	PeerProgram      = "peer"      // a messenger: echo, send, sink, source modes
	FrameworkProgram = "framework" // a scheduler driver that launches one task
	ExecutorProgram  = "executor"  // an executor driver that runs one task
	// V1SchedulerProgram is a scheduler on mesos-go's v1 HTTP client
	// (api/v1/lib), built apart by BuildV1 (see v1scheduler.go).
	V1SchedulerProgram = "v1scheduler"
	// V1ExecutorProgram is an executor on mesos-go's v1 executor library
	// (see v1executor.go), built with the v1 scheduler by BuildV1; its
	// path is beside the scheduler's (PathV1).
	V1ExecutorProgram = "v1executor"
	// V1OperatorProgram drives the v1 operator API with mesos-go's
	// httpmaster and httpagent clients (see v1operator.go); BuildV1
	// builds it beside the v1 scheduler.
	V1OperatorProgram = "v1operator"
)

// Path returns the path of a built program.
func Path(name string) (string, error) {
	peer, err := Build()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(peer), "mesosgo-"+name), nil
}

// Build compiles the programs once per OS process and returns the path of
// the peer; the framework is beside it (see Path).
func Build() (string, error) {
	buildOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(GOPATH, "src/github.com/mesos/mesos-go/api/v0/messenger")); err != nil {
			buildErr = fmt.Errorf("%w: install the Debian package golang-github-mesos-mesos-go-dev (%v)", ErrUnavailable, err)
			return
		}
		dir, err := buildGOPATH("mesosgopeer", map[string][]byte{PeerProgram: peerSource, FrameworkProgram: frameworkSource, ExecutorProgram: executorSource})
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "mesosgo-"+PeerProgram)
	})
	return buildBin, buildErr
}

// Peer is a running peer program.
type Peer struct {
	UPID  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	kept  []string // lines Find has read but not returned, in order
}

// Start runs the peer with args and waits (up to 30 s) for its UPID line.
func Start(args ...string) (*Peer, error) {
	p, err := StartProgram(PeerProgram, args...)
	if err != nil {
		return nil, err
	}
	line, err := p.Line("UPID ", 30*time.Second)
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.UPID = strings.TrimPrefix(line, "UPID ")
	return p, nil
}

var (
	v1Once sync.Once
	v1Bin  string
	v1Err  error
)

// BuildV1 compiles, once per OS process, the programs written against
// mesos-go's v1 clients (api/v1/lib of the same Debian package): the
// scheduler, whose path it returns, and the operator driver beside it.
// They are built apart from the v0 programs so that a missing or broken
// v1 library does not hide the v0 interop tests.
func BuildV1() (string, error) {
	v1Once.Do(func() {
		if _, err := os.Stat(filepath.Join(GOPATH, "src/github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched")); err != nil {
			v1Err = fmt.Errorf("%w: mesos-go's v1 client (api/v1/lib) is not installed (%v)", ErrUnavailable, err)
			return
		}
		dir, err := buildGOPATH("mesosgov1", map[string][]byte{
			V1SchedulerProgram: v1SchedulerSource, V1ExecutorProgram: v1ExecutorSource, V1OperatorProgram: v1OperatorSource,
		})
		if err != nil {
			v1Err = err
			return
		}
		v1Bin = filepath.Join(dir, "mesosgo-"+V1SchedulerProgram)
	})
	return v1Bin, v1Err
}

// PathV1 returns the path of a program built by BuildV1.
func PathV1(name string) (string, error) {
	sched, err := BuildV1()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(sched), "mesosgo-"+name), nil
}

// StartProgram runs one of the built programs with args.
func StartProgram(name string, args ...string) (*Peer, error) {
	var bin string
	if name == V1SchedulerProgram || name == V1OperatorProgram {
		b, err := BuildV1()
		if err != nil {
			return nil, err
		}
		bin = filepath.Join(filepath.Dir(b), "mesosgo-"+name)
	} else {
		peerBin, err := Build()
		if err != nil {
			return nil, err
		}
		bin = filepath.Join(filepath.Dir(peerBin), "mesosgo-"+name)
	}
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start mesos-go peer: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start mesos-go peer: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mesos-go peer: %w", err)
	}
	p := &Peer{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p, nil
}

// Line returns the next output line starting with prefix, skipping
// others, waiting at most timeout (wall-clock: a bound on another OS
// process).
func (p *Peer) Line(prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("mesos-go peer exited before printing %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-deadline:
			return "", fmt.Errorf("mesos-go peer printed no %q within %v", prefix, timeout)
		}
	}
}

// Find returns the first output line starting with prefix, like Line,
// but keeps the lines it passes over: a later Find sees them first, so
// lines that may come in either order can be waited for one by one.
func (p *Peer) Find(prefix string, timeout time.Duration) (string, error) {
	for i, l := range p.kept {
		if strings.HasPrefix(l, prefix) {
			p.kept = append(p.kept[:i:i], p.kept[i+1:]...)
			return l, nil
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("mesos-go program exited before printing %q (unread: %q)", prefix, p.kept)
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
			p.kept = append(p.kept, l)
		case <-deadline:
			return "", fmt.Errorf("mesos-go program printed no %q within %v (unread: %q)", prefix, timeout, p.kept)
		}
	}
}

// Kept returns the lines Find has passed over and not returned yet.
func (p *Peer) Kept() []string { return p.kept }

// Wait waits for the peer to exit and returns its error.
func (p *Peer) Wait() error { return p.cmd.Wait() }

// Stop closes the peer's stdin (ending echo and sink modes) and kills it
// if it does not exit.
func (p *Peer) Stop() {
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// Command writes one line to the program's stdin (the v1 scheduler reads
// its calls there).
func (p *Peer) Command(line string) error {
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		return fmt.Errorf("mesos-go program: write %q: %w", line, err)
	}
	return nil
}

// buildGOPATH compiles each program of sources (name → its source) as
// package main in a temporary GOPATH (beside mesos-go's) under src/pkg,
// and returns the directory that holds them as mesosgo-<name>.
func buildGOPATH(pkg string, sources map[string][]byte) (string, error) {
	dir, err := os.MkdirTemp("", "gomesos-"+pkg)
	if err != nil {
		return "", fmt.Errorf("build mesos-go programs: %w", err)
	}
	src := filepath.Join(dir, "src", pkg)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", fmt.Errorf("build mesos-go programs: %w", err)
	}
	for name, source := range sources {
		file := name + ".go"
		if err := os.WriteFile(filepath.Join(src, file), source, 0o644); err != nil {
			return "", fmt.Errorf("build mesos-go %s: %w", name, err)
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "mesosgo-"+name), file)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOPATH="+dir+":"+GOPATH, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%w: build of %s failed: %v\n%s", ErrUnavailable, name, err, out)
		}
	}
	return dir, nil
}
