// Command keepn is a small framework that keeps -n tasks running on a
// Mesos cluster, launching a replacement whenever one ends. It is the
// example of testing a framework under the simulator: keepn_test.go runs
// the same KeepN scheduler against a thousand generated fault schedules.
//
//	go run ./examples/keepn -master 127.0.0.1:5050 -n 3 -command 'sleep 600'
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
)

func main() {
	master := flag.String("master", "127.0.0.1:5050", "the master: host:port or zk://host:port/path")
	n := flag.Int("n", 3, "how many tasks to keep running")
	command := flag.String("command", "sleep 3600", "the command each task runs")
	taskRes := flag.String("task_resources", "cpus:0.25;mem:32", "resources of each task")
	failover := flag.Duration("failover_timeout", 0, "how long the master keeps the framework's tasks while the scheduler is away")
	flag.Parse()
	if err := run(*master, *n, *command, *taskRes, failover.Seconds()); err != nil {
		fmt.Fprintln(os.Stderr, "keepn:", err)
		os.Exit(1)
	}
}

func run(master string, n int, command, taskRes string, failover float64) error {
	res, err := resources.Parse(taskRes, "*")
	if err != nil {
		return fmt.Errorf("-task_resources %q: %w", taskRes, err)
	}
	where, err := daemon.ParseMaster(master)
	if err != nil {
		return fmt.Errorf("-master %q: %w", master, err)
	}
	// The scheduler is a process in a runtime of its own, reachable by the
	// master at the address it binds.
	bind := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if where.ZK == nil {
		bind = netip.AddrPortFrom(where.PID.Addr.Addr(), 0)
	}
	rt, err := process.New(process.Options{Bind: bind})
	if err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	defer rt.Close()
	info := &mesos.FrameworkInfo{User: proto.String("root"), Name: proto.String("keepn"), FailoverTimeout: proto.Float64(failover)}
	if u := os.Getenv("USER"); u != "" {
		info.User = proto.String(u)
	}
	k := NewKeepN(n, res, command)
	d := scheduler.NewDriver(rt, k, info, where.PID, scheduler.Options{})
	if _, err := d.Start(); err != nil {
		return fmt.Errorf("start driver: %w", err)
	}
	if where.ZK != nil {
		stop, err := where.Follow(rt.Clock(), slog.Default(), d.MasterDetected)
		if err != nil {
			return fmt.Errorf("follow %s: %w", master, err)
		}
		defer stop()
	}
	// Run until interrupted; then stop without failover, so the master
	// tears the framework and its tasks down.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		_, _ = d.Stop(false)
	}()
	d.Join()
	return nil
}
