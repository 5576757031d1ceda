// Command mesos-local runs a local cluster in one OS process on an
// embedded default: a master on 127.0.0.1:5050 and --num_slaves slaves
// (work directories under a temporary directory). Tasks with a command run
// through the command executor, which is this same binary started as
// mesos-executor.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
)

func main() {
	if filepath.Base(os.Args[0]) == "mesos-executor" {
		os.Exit(executor.RunCommandExecutor())
	}
	ip := flag.String("ip", "127.0.0.1", "IPv4 address to listen on")
	port := flag.Uint("port", 5050, "port to listen on")
	numSlaves := flag.Int("num_slaves", 1, "number of slaves")
	res := flag.String("resources", "cpus:2;mem:2048;disk:4096;ports:[31000-32000]", "resources of each slave")
	interval := flag.Duration("allocation_interval", time.Second, "allocation batch interval")
	flag.Parse()
	addr, err := netip.ParseAddr(*ip)
	if err != nil || !addr.Is4() || *port > 65535 || *numSlaves < 0 {
		fmt.Fprintf(os.Stderr, "mesos-local: bad --ip %q, --port %d or --num_slaves %d\n", *ip, *port, *numSlaves)
		os.Exit(2)
	}
	if err := run(netip.AddrPortFrom(addr, uint16(*port)), *numSlaves, *res, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-local:", err)
		os.Exit(1)
	}
}

func run(bind netip.AddrPort, numSlaves int, res string, interval time.Duration) error {
	work, err := os.MkdirTemp("", "mesos-local")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// The command executor is this binary under the name mesos-executor.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	launcher := filepath.Join(work, "bin")
	if err := os.MkdirAll(launcher, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(self, filepath.Join(launcher, "mesos-executor")); err != nil {
		return err
	}
	rt, err := process.New(process.Options{Bind: bind})
	if err != nil {
		return err
	}
	defer rt.Close()
	pid, err := master.Spawn(rt, master.New(master.Config{AllocationInterval: interval}))
	if err != nil {
		return err
	}
	for i := 0; i < numSlaves; i++ {
		dir := filepath.Join(work, fmt.Sprintf("slave-%d", i))
		if _, err := slave.Spawn(rt, slave.New(slave.Config{Master: pid, Resources: res, WorkDir: dir, LauncherDir: launcher})); err != nil {
			return err
		}
	}
	slog.Info("mesos-local running", "master", pid.String(), "slaves", numSlaves, "state", fmt.Sprintf("http://%s/master/state", rt.Addr()))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	slog.Info("shutting down")
	return nil
}
