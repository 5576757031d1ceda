package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
)

// healthPolicy is a TaskInfo.health_check with Mesos's defaults applied.
type healthPolicy struct {
	delay, interval, timeout, grace time.Duration
	maxFailures                     int
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func newHealthPolicy(hc *mesos.HealthCheck) healthPolicy {
	return healthPolicy{
		delay:       seconds(hc.GetDelaySeconds()),
		interval:    seconds(hc.GetIntervalSeconds()),
		timeout:     seconds(hc.GetTimeoutSeconds()),
		grace:       seconds(hc.GetGracePeriodSeconds()),
		maxFailures: int(hc.GetConsecutiveFailures()),
	}
}

// healthState is the health checker's pure core: check results in,
// decisions out. As in Mesos: failures within the grace period after the
// task started are ignored until the first success; every counted
// failure is reported unhealthy; a success is reported when it is the
// first or follows a failure; consecutive_failures counted failures in a
// row kill the task.
type healthState struct {
	policy   healthPolicy
	started  time.Time
	failures int
	healthy  bool // some check succeeded
	reported *bool
}

// healthDecision says what one check result leads to.
type healthDecision struct {
	report  bool // send TASK_RUNNING with healthy
	healthy bool
	kill    bool
	message string
}

func (h *healthState) result(now time.Time, err error) healthDecision {
	if err == nil {
		h.failures = 0
		h.healthy = true
		if h.reported != nil && *h.reported {
			return healthDecision{}
		}
		h.reported = proto.Bool(true)
		return healthDecision{report: true, healthy: true}
	}
	if !h.healthy && now.Sub(h.started) < h.policy.grace {
		return healthDecision{} // still starting up
	}
	h.failures++
	h.reported = proto.Bool(false)
	d := healthDecision{report: true, message: "Health check failed: " + err.Error()}
	if h.failures >= h.policy.maxFailures {
		d.kill = true
		d.message = fmt.Sprintf("Task unhealthy: %d consecutive health checks failed (the last: %v)", h.failures, err)
	}
	return d
}

// runHealthCheck runs one check of hc (command or HTTP) for a task whose
// sandbox is dir, bounded by timeout on the driver's clock: the check's
// process is killed (or its request cancelled) when the driver's timer
// fires. It blocks; the command executor calls it on a goroutine of its
// own and reports the result through the driver's goroutine-safe API.
func runHealthCheck(d *Driver, hc *mesos.HealthCheck, dir string, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timedOut := make(chan struct{})
	timer := d.Delay(timeout, func() { close(timedOut); cancel() })
	defer d.Cancel(timer)
	var err error
	switch {
	case hc.GetCommand() != nil:
		err = commandCheck(ctx, hc.GetCommand(), dir)
	case hc.GetHttp() != nil:
		err = httpCheck(ctx, hc.GetHttp())
	default:
		return errors.New("the health check has neither a command nor http")
	}
	select {
	case <-timedOut:
		return fmt.Errorf("timed out after %s", timeout)
	default:
		return err
	}
}

func commandCheck(ctx context.Context, ci *mesos.CommandInfo, dir string) error {
	var cmd *exec.Cmd
	if ci.Shell == nil || ci.GetShell() {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", ci.GetValue())
	} else {
		args := ci.GetArguments()
		if len(args) > 0 {
			args = args[1:]
		}
		cmd = exec.CommandContext(ctx, ci.GetValue(), args...)
	}
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for _, v := range ci.GetEnvironment().GetVariables() {
		cmd.Env = append(cmd.Env, v.GetName()+"="+v.GetValue())
	}
	// The check's children die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("command %q exited with status %d%s", ci.GetValue(), ee.ExitCode(), outputTail(out))
		}
		return fmt.Errorf("command %q: %w", ci.GetValue(), err)
	}
	return nil
}

func outputTail(out []byte) string {
	if len(out) == 0 {
		return ""
	}
	if len(out) > 200 {
		out = out[len(out)-200:]
	}
	return ": " + string(out)
}

// httpCheck GETs http://127.0.0.1:<port><path>: a status in statuses, or
// (without statuses) any 2xx or 3xx, is healthy (as in Mesos 1.0).
func httpCheck(ctx context.Context, h *mesos.HealthCheck_HTTP) error {
	url := "http://127.0.0.1:" + strconv.Itoa(int(h.GetPort())) + h.GetPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	resp.Body.Close()
	code := uint32(resp.StatusCode)
	if st := h.GetStatuses(); len(st) > 0 {
		if !slices.Contains(st, code) {
			return fmt.Errorf("GET %s: status %d is not one of %v", url, code, st)
		}
		return nil
	}
	if code < 200 || code >= 400 {
		return fmt.Errorf("GET %s: status %d", url, code)
	}
	return nil
}
