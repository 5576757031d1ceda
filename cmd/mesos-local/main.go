// Command mesos-local runs a local cluster in one OS process on an
// embedded default: a master on 127.0.0.1:5050 with its HTTP endpoints
// (/master/state, /metrics/snapshot, ...). Slaves join it once the slave
// exists (see NOTES.md); until then frameworks register and wait for
// offers.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
)

func main() {
	ip := flag.String("ip", "127.0.0.1", "IPv4 address to listen on")
	port := flag.Uint("port", 5050, "port to listen on")
	interval := flag.Duration("allocation_interval", time.Second, "allocation batch interval")
	flag.Parse()
	addr, err := netip.ParseAddr(*ip)
	if err != nil || !addr.Is4() || *port > 65535 {
		fmt.Fprintf(os.Stderr, "mesos-local: bad --ip %q or --port %d\n", *ip, *port)
		os.Exit(2)
	}
	rt, err := process.New(process.Options{Bind: netip.AddrPortFrom(addr, uint16(*port))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-local:", err)
		os.Exit(1)
	}
	pid, err := master.Spawn(rt, master.New(master.Config{AllocationInterval: *interval}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-local:", err)
		os.Exit(1)
	}
	slog.Info("mesos-local running", "master", pid.String(), "state", fmt.Sprintf("http://%s/master/state", rt.Addr()))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	slog.Info("shutting down")
	rt.Close()
}
