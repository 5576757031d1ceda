// Command mesos-loadgen loads a Mesos master (ours or a real Mesos) with
// emulated slaves and frameworks, all in this OS process: the slaves are
// processes of our runtime speaking the slave's messages over the wire
// (register, pings, tasks with reliable status updates, re-registration
// when the leader changes); the frameworks launch tasks as fast as offers
// allow. It prints one line of figures, as `bench slaves` does.
//
//	mesos-loadgen --master=127.0.0.1:5050 --slaves=5000 --duration=1mins
//	mesos-loadgen --master=zk://127.0.0.1:2181/mesos --slaves=10000
//
// Several instances may load one master. A master has a cap on inbound
// connections (ours: LIBPROCESS_MAX_CONNECTIONS, 10,000 by default), and
// one address pair carries about 28,000 connections to one port: use
// --spread to reach a master listening on 0.0.0.0 at several loopback
// addresses.
package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/internal/loadgen"
	"github.com/gomesos/gomesos/process/walltime"
)

func main() { os.Exit(run(os.Args[1:], os.Environ())) }

func run(args, environ []string) int {
	fs := flags.New("mesos-loadgen", "Loads a Mesos master with emulated slaves and frameworks.")
	var (
		master, ip, res, taskRes, spread string
		slaves, frameworks, perOffer     int
		maxPending                       int
		duration, taskDuration, backoff  time.Duration
		logging                          daemon.Logging
	)
	fs.String(&master, "master", "127.0.0.1:5050", "The master: host:port, master@host:port or zk://host:port[,...]/path.")
	fs.String(&ip, "ip", "127.0.0.1", "IP address the load generator listens on.")
	fs.Int(&slaves, "slaves", 1000, "Emulated slaves.")
	fs.String(&res, "resources", "cpus:8;mem:16384;disk:100000;ports:[31000-32000]", "Each slave's resources.")
	fs.Duration(&backoff, "registration_backoff_factor", time.Second, "The slaves' registration backoff factor.")
	fs.Int(&frameworks, "frameworks", 5, "Frameworks launching tasks.")
	fs.Int(&perOffer, "tasks_per_offer", 4, "Most tasks launched on one offer.")
	fs.Int(&maxPending, "max_pending", 1000, "Launches in flight per framework (sent, not yet running), beyond which it declines offers; 0: no bound.")
	fs.String(&taskRes, "task_resources", "cpus:1;mem:128", "Each task's resources.")
	fs.Duration(&duration, "duration", 30*time.Second, "How long the frameworks launch tasks once every slave registered.")
	fs.Duration(&taskDuration, "task_duration", 5*time.Second, "How long a task runs before TASK_FINISHED (0: until killed).")
	fs.OptString(&spread, "spread", "Comma-separated IPs at which the master is also reachable, to spread the slaves' connections over.")
	logging.Register(fs)
	if exit, code := flags.Main(fs, args, environ, os.Stdout, os.Stderr); exit {
		return code
	}
	log, closeLog, err := logging.Logger("mesos-loadgen")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-loadgen:", err)
		return 1
	}
	defer closeLog()
	m, err := daemon.ParseMaster(master)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-loadgen:", err)
		return 1
	}
	bind, err := netip.ParseAddr(ip)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-loadgen: --ip:", err)
		return 1
	}
	cfg := loadgen.Config{
		Master: m.PID, Bind: bind, Slaves: slaves,
		Slave:      loadgen.SlaveConfig{Resources: res, TaskDuration: taskDuration, BackoffFactor: backoff},
		Frameworks: frameworks, Framework: loadgen.FrameworkConfig{TasksPerOffer: perOffer, TaskResources: taskRes, MaxPending: maxPending},
		Duration: duration, RegisterTimeout: 10 * time.Minute, Logger: log,
		Progress: func(s string) { fmt.Fprintln(os.Stderr, "mesos-loadgen:", s) },
	}
	if spread != "" {
		for _, s := range strings.Split(spread, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				fmt.Fprintln(os.Stderr, "mesos-loadgen: --spread:", err)
				return 1
			}
			cfg.Spread = append(cfg.Spread, a)
		}
	}
	if m.ZK != nil {
		c, err := detector.Connect(*m.ZK, detector.Options{Timers: walltime.Clock{}, Logger: log})
		if err != nil {
			fmt.Fprintln(os.Stderr, "mesos-loadgen:", err)
			return 1
		}
		defer c.Close()
		cfg.Detector = c.Detector()
	}
	r, err := loadgen.Run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-loadgen:", err)
		return 1
	}
	fmt.Println("slaves " + r.Line(loadgen.MasterFigures{RSSMB: -1, CPUPct: -1, AllocP99MS: -1}))
	if err := r.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-loadgen:", err)
		return 1
	}
	return 0
}
