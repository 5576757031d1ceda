package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gomesos/gomesos/internal/loadgen"
	"github.com/gomesos/gomesos/process"
)

// Flags of the slaves and failover figures (-n is the number of slaves).
var (
	loadMaster        = flag.String("master", "", "slaves: a running master (host:port) instead of one started from ./cmd/mesos-master")
	loadDuration      = flag.Duration("duration", 30*time.Second, "slaves: how long frameworks launch tasks")
	loadTaskDuration  = flag.Duration("task_duration", 5*time.Second, "slaves: how long each task runs")
	loadFrameworks    = flag.Int("frameworks", 5, "slaves, failover: frameworks in the load generator")
	loadTasksPerOffer = flag.Int("tasks_per_offer", 4, "slaves: tasks launched per offer")
	loadMaxPending    = flag.Int("max_pending", 1000, "slaves: launches in flight per framework (sent, not yet running), beyond which it declines offers for 30 s, as a framework that paces itself does (0: no bound, a flood of launches)")
	loadResources     = flag.String("slave_resources", "cpus:8;mem:16384;disk:100000;ports:[31000-32000]", "slaves, failover: each emulated slave's resources")
)

func init() {
	figures = append(figures, figure{"slaves", slavesFigure}, figure{"failover", failoverFigure})
}

// slavesPerIP is how many slave connections go to one master IP (the
// ephemeral port range holds about 28,000 per address pair).
const slavesPerIP = 20000

// spreadIPs returns the loopback addresses that spread n connections.
func spreadIPs(n int) []netip.Addr {
	var ips []netip.Addr
	for i := 0; i*slavesPerIP < n; i++ {
		ips = append(ips, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
	}
	return ips
}

// slavesFigure runs -n emulated slaves (2,000 by default) against a
// master in another OS process and prints registration time, offer and
// launch rates, launch latency, and the master's RSS and CPU.
func slavesFigure(cfg config) (string, error) {
	n := cfg.n
	if n == 0 {
		n = 2000
	}
	// Connections are per peer address (a handful for any n), but
	// the master's HTTP clients and ZooKeeper want some room.
	raiseFileLimit(uint64(n + 10000))
	var masterPID process.UPID
	var mp *masterProc
	var spread []netip.Addr
	if *loadMaster != "" {
		s := *loadMaster
		if !strings.Contains(s, "@") {
			s = "master@" + s
		}
		p, err := process.ParseUPID(s)
		if err != nil {
			return "", fmt.Errorf("-master: %w", err)
		}
		masterPID = p
	} else {
		dir, err := os.MkdirTemp("", "gomesos-bench-slaves")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		bin, err := buildMaster(dir)
		if err != nil {
			return "", err
		}
		mp, err = startMaster(bin, dir, n+1000, "--registry=in_memory")
		if err != nil {
			return "", err
		}
		defer mp.kill()
		masterPID, _ = process.ParseUPID(mp.pid())
		spread = spreadIPs(n)
	}
	var cpu0 float64
	var t0 time.Time
	figs := loadgen.MasterFigures{RSSMB: -1, CPUPct: -1, AllocP99MS: -1}
	r, err := loadgen.Run(loadgen.Config{
		Master: masterPID, Slaves: n, Spread: spread,
		Slave:      loadgen.SlaveConfig{Resources: *loadResources, TaskDuration: *loadTaskDuration},
		Frameworks: *loadFrameworks,
		Framework:  loadgen.FrameworkConfig{TasksPerOffer: *loadTasksPerOffer, TaskResources: "cpus:1;mem:128", MaxPending: *loadMaxPending},
		Duration:   *loadDuration, RegisterTimeout: 10 * time.Minute,
		Progress: func(s string) { fmt.Fprintln(os.Stderr, "slaves:", s) },
		Window: func(begin bool) {
			if mp == nil {
				return
			}
			pid := mp.cmd.Process.Pid
			if begin {
				cpu0, t0 = cpuSeconds(pid), time.Now()
				return
			}
			figs.CPUPct = 100 * (cpuSeconds(pid) - cpu0) / time.Since(t0).Seconds()
			figs.RSSMB = rssOf(pid, false)
		},
	})
	if err != nil {
		return "", err
	}
	if snap, err := snapshot(masterPID.Addr.String()); err == nil {
		figs.AllocP99MS = allocP99(snap)
	}
	if err := r.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "slaves: check:", err)
	}
	return r.Line(figs), nil
}
