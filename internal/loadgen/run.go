package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/scheduler"
)

// Config is one load run: a fleet of slaves and some frameworks against
// one master (or the leader a detector reports).
type Config struct {
	// Master is the master's pid; Detector, when set, is used instead.
	Master   process.UPID
	Detector detector.Detector
	// Bind is the IP the load generator's runtimes listen on (127.0.0.1).
	Bind netip.Addr
	// Slaves is the fleet's size; Slave shapes each slave.
	Slaves int
	Slave  SlaveConfig
	// Spread spreads the slaves' connections over these master IPs (see
	// FleetOptions.Spread).
	Spread []netip.Addr
	// SlavesPerRuntime is how many slaves share one runtime (one port,
	// like one machine running many slaves; default 1,000).
	SlavesPerRuntime int
	// Frameworks is how many frameworks launch tasks (1); Framework
	// shapes each (its Name gets a suffix per framework).
	Frameworks int
	Framework  FrameworkConfig
	// Duration is how long frameworks launch once every slave registered.
	Duration time.Duration
	// RegisterTimeout bounds the wait for every slave to register (5 min).
	RegisterTimeout time.Duration
	// DrainTimeout bounds the wait, after launching stops, for every
	// launched task to end (TaskDuration + 1 min); skipped when tasks run
	// until killed.
	DrainTimeout time.Duration
	// Logger receives the runtimes' logs (default: none).
	Logger *slog.Logger
	// Progress, when set, is called with a line now and then.
	Progress func(string)
	// Window, when set, is called as the launch window begins (true) and
	// ends (false), e.g. to sample the master's CPU time.
	Window func(begin bool)
}

// Result is what a run measured. Times are real time (the runtimes'
// clocks run unpaused).
type Result struct {
	Slaves, Registered int
	RegSeconds         float64 // fleet started → every slave registered (or the timeout)
	Window             time.Duration
	Offers             int64 // offers received during the launch window
	Launched           int   // tasks launched (all frameworks)
	Running            int   // of them, seen TASK_RUNNING
	Finished           int   // of them, with exactly one terminal update, TASK_FINISHED
	Duplicates         int   // terminal updates beyond a task's first
	Unfinished         int   // launched tasks with no terminal update
	Terminal           map[mesos.TaskState]int
	LaunchP50, P99     time.Duration // launch sent → TASK_RUNNING received
	// The launch latency's two legs: launch sent → RunTaskMessage at the
	// slave (the master's accept path), and from there → TASK_RUNNING at
	// the framework (the slave's update through the master).
	ToSlaveP50, ToSlaveP99         time.Duration
	ToFrameworkP50, ToFrameworkP99 time.Duration
	Shutdown                       int64 // slaves the master shut down
	Resent                         int64 // status updates sent more than once
	Errors                         []string
}

// OffersPerSec and LaunchesPerSec are rates over the launch window.
func (r *Result) OffersPerSec() float64 { return perSec(float64(r.Offers), r.Window) }

// LaunchesPerSec is launches per second over the launch window.
func (r *Result) LaunchesPerSec() float64 { return perSec(float64(r.Launched), r.Window) }

func perSec(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// Check reports what went wrong for a run where every launched task
// should have finished exactly once: unregistered slaves, unfinished,
// lost or duplicated tasks, shut-down slaves, framework errors.
func (r *Result) Check() error {
	var bad []string
	if r.Registered != r.Slaves {
		bad = append(bad, fmt.Sprintf("%d of %d slaves registered", r.Registered, r.Slaves))
	}
	if r.Launched == 0 {
		bad = append(bad, "no task was launched")
	}
	if r.Finished != r.Launched {
		bad = append(bad, fmt.Sprintf("%d of %d launched tasks finished exactly once (terminal updates %v, %d unfinished, %d duplicates)",
			r.Finished, r.Launched, r.Terminal, r.Unfinished, r.Duplicates))
	}
	if r.Shutdown > 0 {
		bad = append(bad, fmt.Sprintf("%d slaves were shut down", r.Shutdown))
	}
	if len(r.Errors) > 0 {
		bad = append(bad, "framework errors: "+strings.Join(r.Errors, "; "))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// Cluster is a running load: the fleet, the frameworks and their drivers.
type Cluster struct {
	cfg        Config
	SlaveRT    *process.Runtime   // the first of SlaveRTs
	SlaveRTs   []*process.Runtime // the slaves' runtimes (Config.SlavesPerRuntime each)
	FrameRTs   []*process.Runtime // one per framework: frameworks are processes of their own
	Fleet      *Fleet
	Frameworks []*Framework
	Drivers    []*scheduler.Driver
	started    time.Time
}

// Start starts the runtimes and the fleet (frameworks come with
// StartFrameworks).
func Start(cfg Config) (*Cluster, error) {
	if !cfg.Bind.IsValid() {
		cfg.Bind = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Frameworks <= 0 {
		cfg.Frameworks = 1
	}
	if cfg.RegisterTimeout <= 0 {
		cfg.RegisterTimeout = 5 * time.Minute
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = cfg.Slave.TaskDuration + time.Minute
	}
	newRT := func() (*process.Runtime, error) {
		return process.New(process.Options{Bind: netip.AddrPortFrom(cfg.Bind, 0), Logger: cfg.Logger})
	}
	c := &Cluster{cfg: cfg}
	var err error
	per := cfg.SlavesPerRuntime
	if per <= 0 {
		per = 1000
	}
	for i := 0; i == 0 || i*per < cfg.Slaves; i++ {
		rt, err := newRT()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("loadgen: slaves' runtime: %w", err)
		}
		c.SlaveRTs = append(c.SlaveRTs, rt)
	}
	c.SlaveRT = c.SlaveRTs[0]
	for range cfg.Frameworks {
		rt, err := newRT()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("loadgen: a framework's runtime: %w", err)
		}
		c.FrameRTs = append(c.FrameRTs, rt)
	}
	c.started = c.SlaveRT.Clock().Now()
	c.Fleet, err = StartFleet(FleetOptions{
		N: cfg.Slaves, Runtimes: c.SlaveRTs, Master: cfg.Master, Detector: cfg.Detector, Spread: cfg.Spread, Slave: cfg.Slave,
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Now is the load generator's time (real time).
func (c *Cluster) Now() time.Time { return c.SlaveRT.Clock().Now() }

// WaitRegistered waits (at most RegisterTimeout) until every slave
// registered; it returns how long that took from Start.
func (c *Cluster) WaitRegistered() (time.Duration, bool) {
	ok := c.waitFor(c.cfg.RegisterTimeout, func() (bool, string) {
		n := c.Fleet.Counters().Registered.Load()
		return n == int64(c.Fleet.Len()), fmt.Sprintf("registered %d/%d", n, c.Fleet.Len())
	})
	return c.Now().Sub(c.started), ok
}

// StartFrameworks registers the frameworks (launching off).
func (c *Cluster) StartFrameworks() error {
	for i := 0; i < c.cfg.Frameworks; i++ {
		fc := c.cfg.Framework
		if fc.Name == "" {
			fc.Name = "loadgen"
		}
		fc.Name = fmt.Sprintf("%s%d", fc.Name, i)
		rt := c.FrameRTs[i]
		f, err := NewFramework(fc, rt.Clock())
		if err != nil {
			return err
		}
		d := scheduler.NewDriver(rt, f, f.Info(), c.cfg.Master, scheduler.Options{Detector: c.cfg.Detector})
		if _, err := d.Start(); err != nil {
			return fmt.Errorf("loadgen: start framework %s: %w", fc.Name, err)
		}
		c.Frameworks = append(c.Frameworks, f)
		c.Drivers = append(c.Drivers, d)
	}
	return nil
}

// waitFor polls cond every 50 ms (real time) until it holds or timeout
// passes, reporting progress every 5 s.
func (c *Cluster) waitFor(timeout time.Duration, cond func() (bool, string)) bool {
	start := c.Now()
	last := start
	for {
		ok, what := cond()
		if ok {
			return true
		}
		now := c.Now()
		if now.Sub(start) > timeout {
			return false
		}
		if c.cfg.Progress != nil && now.Sub(last) >= 5*time.Second {
			last = now
			c.cfg.Progress(what)
		}
		walltime.Sleep(50 * time.Millisecond)
	}
}

// WaitFor is waitFor for callers: it polls cond until it holds or timeout
// (real time) passes.
func (c *Cluster) WaitFor(timeout time.Duration, cond func() (bool, string)) bool {
	return c.waitFor(timeout, cond)
}

// Launch turns launching on or off in every framework.
func (c *Cluster) Launch(on bool) {
	for _, f := range c.Frameworks {
		f.Launch(on)
	}
}

// Close stops the drivers (failing over, so the master keeps their tasks)
// and the fleet, and closes the runtimes.
func (c *Cluster) Close() {
	for _, d := range c.Drivers {
		_, _ = d.Abort()
	}
	if c.Fleet != nil {
		c.Fleet.Stop()
	}
	for _, rt := range c.FrameRTs {
		rt.Close()
	}
	for _, rt := range c.SlaveRTs {
		rt.Close()
	}
}

// Run runs the whole load: the fleet registers, the frameworks launch for
// Duration, then launching stops and the run waits for the launched tasks
// to end. The result is returned even when something timed out (Check
// says what).
func Run(cfg Config) (*Result, error) {
	c, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r := &Result{Slaves: cfg.Slaves}
	reg, _ := c.WaitRegistered()
	r.RegSeconds = reg.Seconds()
	r.Registered = int(c.Fleet.Counters().Registered.Load())
	if err := c.StartFrameworks(); err != nil {
		return nil, err
	}
	if !c.waitFor(time.Minute, func() (bool, string) {
		n := 0
		for _, f := range c.Frameworks {
			if !f.Stats().Registered.IsZero() {
				n++
			}
		}
		return n == len(c.Frameworks), fmt.Sprintf("frameworks registered %d/%d", n, len(c.Frameworks))
	}) {
		return nil, errors.New("loadgen: the frameworks did not register within a minute")
	}
	offers0 := c.offers()
	if cfg.Window != nil {
		cfg.Window(true)
	}
	start := c.Now()
	c.Launch(true)
	c.waitFor(cfg.Duration, func() (bool, string) {
		return false, fmt.Sprintf("launched %d", c.launched())
	})
	c.Launch(false)
	r.Window = c.Now().Sub(start)
	r.Offers = c.offers() - offers0
	if cfg.Window != nil {
		cfg.Window(false)
	}
	if cfg.Slave.TaskDuration > 0 {
		c.waitFor(c.cfg.DrainTimeout, func() (bool, string) {
			l, t := 0, 0
			for _, f := range c.Frameworks {
				a, b := f.TerminalCount()
				l, t = l+a, t+b
			}
			return l == t, fmt.Sprintf("draining: %d of %d tasks ended", t, l)
		})
	}
	c.result(r)
	return r, nil
}

func (c *Cluster) offers() int64 {
	var n int64
	for _, f := range c.Frameworks {
		n += f.offers.Load()
	}
	return n
}

func (c *Cluster) launched() int64 {
	var n int64
	for _, f := range c.Frameworks {
		n += f.launched.Load()
	}
	return n
}

// result fills r from the frameworks and the fleet.
func (c *Cluster) result(r *Result) {
	r.Terminal = map[mesos.TaskState]int{}
	var lat, toSlave, toFramework []time.Duration
	for _, f := range c.Frameworks {
		s := f.Stats()
		r.Launched += s.Launched
		r.Running += s.Running
		r.Finished += s.Finished
		r.Duplicates += s.Duplicates
		r.Unfinished += s.Unfinished
		for st, n := range s.Terminal {
			r.Terminal[st] += n
		}
		lat = append(lat, s.Latencies...)
		toSlave = append(toSlave, s.ToSlave...)
		toFramework = append(toFramework, s.ToFramework...)
		r.Errors = append(r.Errors, s.Errors...)
	}
	r.LaunchP50, r.P99 = Percentile(lat, 0.5), Percentile(lat, 0.99)
	r.ToSlaveP50, r.ToSlaveP99 = Percentile(toSlave, 0.5), Percentile(toSlave, 0.99)
	r.ToFrameworkP50, r.ToFrameworkP99 = Percentile(toFramework, 0.5), Percentile(toFramework, 0.99)
	r.Shutdown = c.Fleet.Counters().Shutdown.Load()
	r.Resent = c.Fleet.Counters().Resent.Load()
}

// Percentile returns the q-quantile of ds (nearest rank; 0 when empty).
func Percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(len(s)-1, i))]
}

// MasterFigures are the master's resource use and allocation time, where
// known (negative: unknown).
type MasterFigures struct {
	RSSMB, CPUPct, AllocP99MS float64
}

// Line formats the run as the bench's `slaves` line.
func (r *Result) Line(m MasterFigures) string {
	f := func(v float64) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", v)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("n=%d registered=%d reg_s=%.1f offers_per_sec=%.0f launches_per_sec=%.0f launch_p50_ms=%s launch_p99_ms=%s master_rss_mb=%s master_cpu_pct=%s alloc_p99_ms=%s to_slave_p50_ms=%s to_slave_p99_ms=%s to_framework_p50_ms=%s to_framework_p99_ms=%s resent=%d",
		r.Slaves, r.Registered, r.RegSeconds, r.OffersPerSec(), r.LaunchesPerSec(), ms(r.LaunchP50), ms(r.P99),
		f(m.RSSMB), f(m.CPUPct), f(m.AllocP99MS),
		ms(r.ToSlaveP50), ms(r.ToSlaveP99), ms(r.ToFrameworkP50), ms(r.ToFrameworkP99), r.Resent)
}
