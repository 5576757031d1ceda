// Package external implements the slave side of Mesos 0.25's external
// containerizer protocol (--containerizers=external with
// --containerizer_path, or --isolation=external): every containerizer
// operation runs the program at the path with a command argument
// (launch, update, usage, wait, destroy, containers, recover), writes the
// command's input message to its stdin and reads its result from its
// stdout, each as one record (a 4-byte native-endian length, then the
// protobuf). The program runs in the container's sandbox with
// MESOS_LIBEXEC_DIRECTORY and MESOS_WORK_DIRECTORY set, and its stderr
// goes to the sandbox's stderr file. A program that exits non-zero,
// crashes, answers garbage or outlives the timeout fails the operation
// with a message that says so (and quotes the end of its stderr).
//
// Like the Mesos containerizer, this is an OS edge: the invocations run on
// goroutines of their own that complete the futures they returned.
package external

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	cpb "github.com/gomesos/gomesos/mesos/containerizerpb"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Config holds the external containerizer's settings (slave flags).
type Config struct {
	// Path is the external containerizer program (--containerizer_path).
	Path string
	// WorkDir is the slave's work directory (MESOS_WORK_DIRECTORY).
	WorkDir string
	// LibexecDir holds mesos-executor (MESOS_LIBEXEC_DIRECTORY).
	LibexecDir string
	// DefaultImage is --default_container_image
	// (MESOS_DEFAULT_CONTAINER_IMAGE, on launch only).
	DefaultImage string
	// Timeout bounds every invocation but wait (which lasts as long as
	// the container); 0 means one minute.
	Timeout time.Duration
	// After returns a channel closed once d of real time has passed (and
	// a stop function): the program runs in real time, so its timeout
	// cannot follow a paused Clock. Pass walltime.Clock{}.After. Required.
	After func(d time.Duration) (<-chan struct{}, func())
	// Now stamps usage samples the program leaves without a timestamp.
	// Required.
	Now    func() time.Time
	Logger *slog.Logger
}

// osEdge runs a blocking invocation of the external program on a
// goroutine of its own; it completes the futures it was given.
func osEdge(fn func()) { go fn() }

// External is the external containerizer.
type External struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	containers map[string]*container
}

type container struct {
	id  string
	dir string // the sandbox; empty for an orphan found at recovery
	env []string
	// launched is closed once launch has returned (successfully or not):
	// the protocol runs no other command on a container before.
	launched  chan struct{}
	launchErr error
	term      *future.Promise[containerizer.Termination]
	waiting   bool
	waitProc  *os.Process // the running wait invocation
	destroyed *future.Promise[future.Nothing]
	// lastUpdate is closed when the latest update has returned: each
	// update waits for the one before, so they run in call order.
	lastUpdate chan struct{}
}

// New returns an external containerizer for cfg.
func New(cfg Config) (*External, error) {
	if cfg.Path == "" {
		return nil, errors.New("external containerizer: --containerizer_path is required")
	}
	if st, err := os.Stat(cfg.Path); err != nil {
		return nil, fmt.Errorf("external containerizer: --containerizer_path: %w", err)
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("external containerizer: --containerizer_path=%s is not an executable file", cfg.Path)
	}
	if cfg.After == nil || cfg.Now == nil {
		return nil, errors.New("external containerizer: Config.After and Config.Now are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &External{cfg: cfg, log: cfg.Logger.With("component", "external-containerizer"), containers: make(map[string]*container)}, nil
}

// WorkDir is the slave work directory the program is given.
func (c *External) WorkDir() string { return c.cfg.WorkDir }

// MayOwn says whether a recovered container may be the external
// containerizer's: its executor has no ContainerInfo or a MESOS one (the
// program decides, through containers, which are really its own).
func (c *External) MayOwn(r containerizer.Recovered) bool {
	return r.Executor.GetContainer() == nil || r.Executor.GetContainer().GetType() == mesos.ContainerInfo_MESOS
}

// invocation is one run of the external program.
type invocation struct {
	command string
	input   proto.Message // nil: nothing on stdin
	dir     string        // cwd and stderr file; empty: the work dir, stderr logged only
	env     []string
	timeout bool // bounded by Config.Timeout
	started func(*os.Process)
}

// tailWriter keeps the last bytes written to it.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2048 {
		t.b = t.b[len(t.b)-2048:]
	}
	return len(p), nil
}

// run invokes the program and returns what it wrote on stdout. It blocks.
func (c *External) run(inv invocation) ([]byte, error) {
	var stdin bytes.Buffer
	if inv.input != nil {
		if err := WriteRecord(&stdin, inv.input); err != nil {
			return nil, fmt.Errorf("external containerizer %q: %w", inv.command, err)
		}
	}
	cmd := exec.Command(c.cfg.Path, inv.command)
	cmd.Dir = c.cfg.WorkDir
	if inv.dir != "" {
		if st, err := os.Stat(inv.dir); err == nil && st.IsDir() {
			cmd.Dir = inv.dir
		}
	}
	env := inv.env
	if env == nil {
		env = []string{"PATH=" + os.Getenv("PATH")}
	}
	cmd.Env = append(append([]string(nil), env...),
		"MESOS_LIBEXEC_DIRECTORY="+c.cfg.LibexecDir,
		"MESOS_WORK_DIRECTORY="+c.cfg.WorkDir)
	if inv.command == "launch" && c.cfg.DefaultImage != "" {
		cmd.Env = append(cmd.Env, "MESOS_DEFAULT_CONTAINER_IMAGE="+c.cfg.DefaultImage)
	}
	cmd.Stdin = &stdin
	var stdout bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &stdout, n: MaxRecord + 4}
	tail := &tailWriter{}
	var stderr io.Writer = tail
	if inv.dir != "" && cmd.Dir == inv.dir {
		if f, err := os.OpenFile(filepath.Join(inv.dir, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
			defer f.Close()
			stderr = io.MultiWriter(f, tail)
		}
	}
	cmd.Stderr = stderr
	// A program that leaves a child holding its stdout or stderr open
	// must not hold the invocation up once it has exited itself.
	cmd.WaitDelay = time.Second
	c.log.Debug("invoking the external containerizer", "command", inv.command, "path", c.cfg.Path, "dir", cmd.Dir)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("external containerizer %q: start %s: %w", inv.command, c.cfg.Path, err)
	}
	if inv.started != nil {
		inv.started(cmd.Process)
	}
	done := make(chan error, 1)
	osEdge(func() { done <- cmd.Wait() })
	var err error
	if inv.timeout {
		expired, stop := c.cfg.After(c.cfg.Timeout)
		select {
		case err = <-done:
			stop()
		case <-expired:
			_ = cmd.Process.Kill()
			<-done
			return nil, fmt.Errorf("external containerizer %q: no answer within %s (killed)%s", inv.command, c.cfg.Timeout, stderrTail(tail))
		}
	} else {
		err = <-done
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				return nil, fmt.Errorf("external containerizer %q: killed by signal %s%s", inv.command, ws.Signal(), stderrTail(tail))
			}
			return nil, fmt.Errorf("external containerizer %q: exited with status %d%s", inv.command, ws.ExitStatus(), stderrTail(tail))
		}
		return nil, fmt.Errorf("external containerizer %q: %w%s", inv.command, err, stderrTail(tail))
	}
	return stdout.Bytes(), nil
}

func stderrTail(t *tailWriter) string {
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 && len(s)-i > 1 {
		s = s[i+1:]
	}
	return ": " + s
}

// limitedWriter stops keeping bytes after n (a runaway program cannot
// exhaust the slave's memory); what it drops makes the record invalid.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	_, err := l.w.Write(q)
	return len(p), err
}

// result reads the one record a command must answer with.
func result(command string, out []byte, m proto.Message) error {
	if err := decodeOnly(out, m); err != nil {
		return fmt.Errorf("external containerizer %q answered garbage (%d bytes): %w", command, len(out), err)
	}
	return nil
}

func cid(id string) *mesos.ContainerID { return &mesos.ContainerID{Value: proto.String(id)} }

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// Launch runs the program's launch command, which starts the executor
// and returns at once. DOCKER ContainerInfos are refused as unsupported
// (the composing containerizer offers them to the docker containerizer);
// anything else is the program's to run or to refuse. The future holds 0: the executor is the program's
// child, not the slave's.
func (c *External) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	task, exec := containerizer.ContainerInfos(spec)
	for _, ci := range []*mesos.ContainerInfo{task, exec} {
		if ci != nil && ci.GetType() == mesos.ContainerInfo_DOCKER {
			// Left to the docker containerizer (after this one in
			// --containerizers), not handed to the program.
			return future.Failed[int](fmt.Errorf("launch %s: %w", spec.ContainerID,
				containerizer.Unsupported("the external containerizer runs no DOCKER containers")))
		}
	}
	c.mu.Lock()
	if _, dup := c.containers[spec.ContainerID]; dup {
		c.mu.Unlock()
		return future.Failed[int](fmt.Errorf("launch %s: container already exists", spec.ContainerID))
	}
	ct := &container{id: spec.ContainerID, dir: spec.Directory, env: spec.Env, launched: make(chan struct{}), term: future.NewPromise[containerizer.Termination]()}
	c.containers[spec.ContainerID] = ct
	c.mu.Unlock()
	msg := &cpb.Launch{
		ContainerId:  cid(spec.ContainerID),
		TaskInfo:     spec.Task,
		ExecutorInfo: spec.Executor,
		Directory:    proto.String(spec.Directory),
		SlavePid:     proto.String(envValue(spec.Env, "MESOS_SLAVE_PID")),
		Checkpoint:   proto.Bool(envValue(spec.Env, "MESOS_CHECKPOINT") == "1"),
	}
	if sid := envValue(spec.Env, "MESOS_SLAVE_ID"); sid != "" {
		msg.SlaveId = &mesos.SlaveID{Value: proto.String(sid)}
	}
	if spec.User != "" {
		msg.User = proto.String(spec.User)
	}
	return future.Async(osEdge, func() (int, error) {
		_, err := c.run(invocation{command: "launch", input: msg, dir: spec.Directory, env: spec.Env, timeout: true})
		ct.launchErr = err
		close(ct.launched)
		if err != nil {
			c.mu.Lock()
			delete(c.containers, spec.ContainerID)
			c.mu.Unlock()
			ct.term.Set(containerizer.Termination{Status: -1, Message: err.Error()})
			return 0, fmt.Errorf("launch %s: %w", spec.ContainerID, err)
		}
		c.log.Info("launched container", "container", spec.ContainerID, "sandbox", spec.Directory)
		return 0, nil
	})
}

func (c *External) get(id string) (*container, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.containers[id]
	if ct == nil {
		return nil, fmt.Errorf("unknown container %s", id)
	}
	return ct, nil
}

// afterLaunch runs fn on an edge goroutine once the container's launch
// has returned; a failed launch fails fn's future.
func afterLaunch[T any](ct *container, fn func() (T, error)) future.Future[T] {
	return future.Async(osEdge, func() (T, error) {
		<-ct.launched
		if ct.launchErr != nil {
			var zero T
			return zero, fmt.Errorf("container %s was not launched: %w", ct.id, ct.launchErr)
		}
		return fn()
	})
}

// Update sends the container's new resources (update); updates of a
// container run one at a time, in order.
func (c *External) Update(id string, res resources.Resources) future.Future[future.Nothing] {
	ct, err := c.get(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("update: %w", err))
	}
	c.mu.Lock()
	prev, mine := ct.lastUpdate, make(chan struct{})
	ct.lastUpdate = mine
	c.mu.Unlock()
	return future.Async(osEdge, func() (future.Nothing, error) {
		defer close(mine)
		if prev != nil {
			<-prev
		}
		<-ct.launched
		if ct.launchErr != nil {
			return future.Nothing{}, fmt.Errorf("update: container %s was not launched: %w", id, ct.launchErr)
		}
		_, err := c.run(invocation{command: "update", input: &cpb.Update{ContainerId: cid(id), Resources: res.ToProto()}, dir: ct.dir, timeout: true})
		return future.Nothing{}, err
	})
}

// Usage asks the program for the container's ResourceStatistics (usage).
func (c *External) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	ct, err := c.get(id)
	if err != nil {
		return future.Failed[*mesos.ResourceStatistics](fmt.Errorf("usage: %w", err))
	}
	now := c.cfg.Now()
	return afterLaunch(ct, func() (*mesos.ResourceStatistics, error) {
		out, err := c.run(invocation{command: "usage", input: &cpb.Usage{ContainerId: cid(id)}, dir: ct.dir, timeout: true})
		if err != nil {
			return nil, err
		}
		st := &mesos.ResourceStatistics{}
		if err := result("usage", out, st); err != nil {
			return nil, err
		}
		if st.GetTimestamp() == 0 {
			st.Timestamp = proto.Float64(mesos.Timestamp(now))
		}
		return st, nil
	})
}

// Wait completes when the container has ended. The first Wait runs the
// program's wait command, which blocks until then; a wait that fails
// (the program crashed or answered garbage) ends the container with a
// termination that says so, and the container is destroyed.
func (c *External) Wait(id string) future.Future[containerizer.Termination] {
	ct, err := c.get(id)
	if err != nil {
		return future.Failed[containerizer.Termination](fmt.Errorf("wait: %w", err))
	}
	c.mu.Lock()
	start := !ct.waiting
	ct.waiting = true
	c.mu.Unlock()
	if start {
		c.startWait(ct)
	}
	return ct.term.Future()
}

func (c *External) startWait(ct *container) {
	osEdge(func() {
		<-ct.launched
		if ct.launchErr != nil {
			return // Launch set the termination
		}
		out, err := c.run(invocation{command: "wait", input: &cpb.Wait{ContainerId: cid(ct.id)}, dir: ct.dir, started: func(p *os.Process) {
			c.mu.Lock()
			ct.waitProc = p
			c.mu.Unlock()
		}})
		var t cpb.Termination
		if err == nil {
			err = result("wait", out, &t)
		}
		c.mu.Lock()
		destroying := ct.destroyed != nil
		c.mu.Unlock()
		var term containerizer.Termination
		switch {
		case err == nil:
			term = containerizer.Termination{Status: int(t.GetStatus()), Message: t.GetMessage()}
			if t.Status == nil {
				term.Status = -1
			}
			if t.GetKilled() {
				term.Limited, term.Reason = true, mesos.TaskStatus_REASON_CONTAINER_LIMITATION
			}
		case destroying:
			term = containerizer.Termination{Status: -1, Message: "Container destroyed"}
		default:
			c.log.Warn("wait failed; destroying the container", "container", ct.id, "err", err)
			term = containerizer.Termination{Status: -1, Message: err.Error()}
			if _, derr := c.run(invocation{command: "destroy", input: &cpb.Destroy{ContainerId: cid(ct.id)}, dir: ct.dir, timeout: true}); derr != nil {
				c.log.Warn("cannot destroy the container", "container", ct.id, "err", derr)
			}
		}
		c.mu.Lock()
		delete(c.containers, ct.id)
		c.mu.Unlock()
		ct.term.Set(term)
	})
}

// Destroy runs the program's destroy command. Once it has returned, the
// pending wait must return too; if it has not within the timeout, it is
// killed and the container ends as destroyed.
func (c *External) Destroy(id string) future.Future[future.Nothing] {
	ct, err := c.get(id)
	if err != nil {
		return future.Failed[future.Nothing](fmt.Errorf("destroy: %w", err))
	}
	c.mu.Lock()
	if ct.destroyed != nil {
		c.mu.Unlock()
		return ct.destroyed.Future()
	}
	pr := future.NewPromise[future.Nothing]()
	ct.destroyed = pr
	start := !ct.waiting
	ct.waiting = true
	c.mu.Unlock()
	if start {
		c.startWait(ct) // a destroyed container's end is read by wait
	}
	osEdge(func() {
		<-ct.launched
		if ct.launchErr != nil {
			pr.Set(future.Nothing{})
			return
		}
		if _, err := c.run(invocation{command: "destroy", input: &cpb.Destroy{ContainerId: cid(id)}, dir: ct.dir, timeout: true}); err != nil {
			pr.Fail(fmt.Errorf("destroy %s: %w", id, err))
			return
		}
		ended := ct.term.Future().Done()
		expired, stop := c.cfg.After(c.cfg.Timeout)
		select {
		case <-ended:
			stop()
		case <-expired:
			c.mu.Lock()
			p := ct.waitProc
			c.mu.Unlock()
			c.log.Warn("wait did not return after destroy; killing it", "container", id)
			if p != nil {
				_ = p.Kill()
			}
			<-ended
		}
		pr.Set(future.Nothing{})
	})
	return pr.Future()
}

// Containers lists the containers this slave runs through the program.
func (c *External) Containers() future.Future[[]string] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return future.Ready(slices.Sorted(maps.Keys(c.containers)))
}

// Recover runs the program's recover command, then containers: the
// known containers it lists are adopted (alive) and waited for; those it
// lists that the slave does not know are orphans, destroyed before
// recovery completes; known containers it does not list are gone.
func (c *External) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	return future.Async(osEdge, func() (map[string]bool, error) {
		if _, err := c.run(invocation{command: "recover", timeout: true}); err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		out, err := c.run(invocation{command: "containers", timeout: true})
		if err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		var list cpb.Containers
		if err := result("containers", out, &list); err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		byID := make(map[string]containerizer.Recovered, len(known))
		for _, r := range known {
			byID[r.ContainerID] = r
		}
		alive := make(map[string]bool)
		var orphans []*container
		for _, id := range list.GetContainers() {
			r, ok := byID[id.GetValue()]
			ct := &container{id: id.GetValue(), dir: r.Directory, launched: make(chan struct{}), term: future.NewPromise[containerizer.Termination]()}
			close(ct.launched)
			c.mu.Lock()
			if c.containers[ct.id] != nil {
				c.mu.Unlock()
				continue
			}
			c.containers[ct.id] = ct
			c.mu.Unlock()
			if ok {
				alive[ct.id] = true
				c.log.Info("recovered container", "container", ct.id)
			} else {
				orphans = append(orphans, ct)
			}
		}
		for _, ct := range orphans {
			c.log.Info("destroying an orphan container", "container", ct.id)
			w := c.Wait(ct.id)
			d := c.Destroy(ct.id)
			<-d.Done()
			if err := d.Err(); err != nil {
				c.log.Warn("cannot destroy an orphan container", "container", ct.id, "err", err)
				continue
			}
			<-w.Done()
		}
		return alive, nil
	})
}
