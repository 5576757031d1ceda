package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/internal/loadgen"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/walltime"
)

var (
	failoverMasters   = flag.Int("masters", 3, "failover: masters in the ZooKeeper group")
	failoverTasks     = flag.Int("tasks", 1000, "failover: running tasks when the leader is killed")
	failoverZKSession = flag.Duration("zk_session_timeout", 10*time.Second, "failover: the masters' --zk_session_timeout")
	failoverBackoff   = flag.Duration("registration_backoff", time.Second, "failover: the emulated slaves' registration backoff factor")
)

// zkJar is where Debian installs ZooKeeper.
const zkJar = "/usr/share/java/zookeeper.jar"

// zkServer is a standalone ZooKeeper server (Debian's package, on Java).
type zkServer struct {
	addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

func startZK(dir string) (*zkServer, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("failover needs ZooKeeper on Java (Debian package zookeeper): %w", err)
	}
	if _, err := os.Stat(zkJar); err != nil {
		return nil, fmt.Errorf("failover needs ZooKeeper (Debian package zookeeper): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &zkServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), out: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(java, "-Xmx512m", "-Dzookeeper.admin.enableServer=false", "-cp", zkJar+":/usr/share/java/*",
		"org.apache.zookeeper.server.ZooKeeperServerMain", strconv.Itoa(port), dir)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	conn, events, err := zk.Connect([]string{s.addr}, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(zkQuiet{}))
	if err != nil {
		s.stop()
		return nil, err
	}
	defer conn.Close()
	timeout := time.After(90 * time.Second) // wall-clock: a JVM starting on a loaded machine
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return s, nil
			}
		case <-s.done:
			return nil, fmt.Errorf("ZooKeeper exited: %s", s.out.String())
		case <-timeout:
			s.stop()
			return nil, errors.New("ZooKeeper did not start within 90 s")
		}
	}
}

func (s *zkServer) stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

type zkQuiet struct{}

func (zkQuiet) Printf(string, ...any) {}

// failoverFigure runs -masters masters on ZooKeeper, -n emulated slaves
// (1,000 by default) and -frameworks frameworks with -tasks running tasks,
// kills the leader with SIGKILL and measures the election, the slaves'
// re-registration and the frameworks' resubscription.
func failoverFigure(cfg config) (string, error) {
	n := cfg.n
	if n == 0 {
		n = 1000
	}
	// Connections are per peer address (a handful for any n), but
	// the master's HTTP clients and ZooKeeper want some room.
	raiseFileLimit(uint64(n + 10000))
	dir, err := os.MkdirTemp("", "gomesos-bench-failover")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	zks, err := startZK(dir + "/zk")
	if err != nil {
		return "", err
	}
	defer zks.stop()
	bin, err := buildMaster(dir)
	if err != nil {
		return "", err
	}
	url := "zk://" + zks.addr + "/mesos"
	masters := map[int]*masterProc{}
	for i := 0; i < *failoverMasters; i++ {
		wd := fmt.Sprintf("%s/master%d", dir, i)
		m, err := startMaster(bin, wd, n+1000, "--zk="+url, "--registry=in_memory",
			"--zk_session_timeout="+fmt.Sprintf("%dsecs", int(failoverZKSession.Seconds())))
		if err != nil {
			return "", err
		}
		defer func() {
			select {
			case <-m.done:
			default:
				m.kill()
			}
		}()
		masters[m.port] = m
	}
	u, err := detector.ParseURL(url)
	if err != nil {
		return "", err
	}
	zc, err := detector.Connect(u, detector.Options{Timers: walltime.Clock{}, Logger: quiet})
	if err != nil {
		return "", err
	}
	defer zc.Close()
	det := zc.Detector()
	leaders := make(chan *mesos.MasterInfo, 16)
	stopFollow := detector.Follow(det, func(l *mesos.MasterInfo) { leaders <- l })
	defer stopFollow()
	var leader *mesos.MasterInfo
	for leader == nil {
		select {
		case leader = <-leaders:
		case <-time.After(time.Minute): // wall-clock: bounds the first election
			return "", errors.New("no master was elected within a minute")
		}
	}

	progress := func(s string) { fmt.Fprintln(os.Stderr, "failover:", s) }
	frameworks := max(1, *loadFrameworks)
	c, err := loadgen.Start(loadgen.Config{
		Detector: det, Slaves: n,
		Slave:           loadgen.SlaveConfig{Resources: *loadResources, BackoffFactor: *failoverBackoff},
		Frameworks:      frameworks,
		Framework:       loadgen.FrameworkConfig{TasksPerOffer: 4, TaskResources: "cpus:1;mem:128", MaxTasks: (*failoverTasks + frameworks - 1) / frameworks},
		RegisterTimeout: 10 * time.Minute, Progress: progress,
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, ok := c.WaitRegistered(); !ok {
		return "", fmt.Errorf("only %d of %d slaves registered", c.Fleet.Counters().Registered.Load(), n)
	}
	if err := c.StartFrameworks(); err != nil {
		return "", err
	}
	c.Launch(true)
	want := frameworks * ((*failoverTasks + frameworks - 1) / frameworks)
	if !c.WaitFor(5*time.Minute, func() (bool, string) {
		r := 0
		for _, f := range c.Frameworks {
			r += f.RunningCount()
		}
		return r >= want, fmt.Sprintf("running %d/%d", r, want)
	}) {
		return "", errors.New("the tasks did not all start")
	}
	c.Launch(false)

	// Kill the leader.
	lp, err := leaderPort(leader)
	if err != nil {
		return "", err
	}
	victim := masters[lp]
	if victim == nil {
		return "", fmt.Errorf("the leader %s is none of ours", leader.GetPid())
	}
	t0 := c.Now()
	victim.kill()
	var elect time.Duration
	for elect == 0 {
		select {
		case l := <-leaders:
			if l != nil && !detector.Same(l, leader) {
				elect = c.Now().Sub(t0)
				leader = l
			}
		case <-time.After(5 * time.Minute): // wall-clock: bounds the election
			return "", errors.New("no new leader within 5 minutes")
		}
	}
	c.WaitFor(10*time.Minute, func() (bool, string) {
		k := c.Fleet.Counters().Reregistered.Load()
		return k >= int64(n), fmt.Sprintf("re-registered %d/%d", k, n)
	})
	var fwDone time.Duration
	c.WaitFor(5*time.Minute, func() (bool, string) {
		k := 0
		for _, f := range c.Frameworks {
			s := f.Stats()
			at := s.Reregistered
			if s.Registered.After(at) {
				at = s.Registered
			}
			if at.After(t0) {
				k++
				fwDone = max(fwDone, at.Sub(t0))
			}
		}
		return k == len(c.Frameworks), fmt.Sprintf("frameworks resubscribed %d/%d", k, len(c.Frameworks))
	})
	var rereg []time.Duration
	for _, st := range c.Fleet.Times(time.Minute) {
		if st.Reregistered.After(t0) {
			rereg = append(rereg, st.Reregistered.Sub(t0))
		}
	}
	sort.Slice(rereg, func(i, j int) bool { return rereg[i] < rereg[j] })
	// Give the new master a moment, then count the losses.
	walltime.Sleep(2 * time.Second)
	lost := 0 // the tasks never end by themselves: any terminal update is a loss
	for _, f := range c.Frameworks {
		for _, k := range f.Stats().Terminal {
			lost += k
		}
	}
	running := -1.0
	if lp, err := leaderPort(leader); err == nil && masters[lp] != nil {
		if snap, err := snapshot(masters[lp].addr()); err == nil {
			running = snap["master/tasks_running"]
		}
	}
	secs := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
	var p50, p99, mx time.Duration
	if len(rereg) > 0 {
		p50, p99, mx = loadgen.Percentile(rereg, 0.5), loadgen.Percentile(rereg, 0.99), rereg[len(rereg)-1]
	}
	return fmt.Sprintf("slaves=%d reregistered=%d elect_s=%s rereg_p50_s=%s rereg_p99_s=%s rereg_max_s=%s frameworks_resubscribed_s=%s tasks_lost=%d tasks_running_after=%.0f",
		n, len(rereg), secs(elect), secs(p50), secs(p99), secs(mx), secs(fwDone), lost, running), nil
}

func leaderPort(l *mesos.MasterInfo) (int, error) {
	_, port, err := net.SplitHostPort(l.GetPid()[len("master@"):])
	if err != nil {
		return 0, fmt.Errorf("leader pid %q: %w", l.GetPid(), err)
	}
	return strconv.Atoi(port)
}
