// Command mesos-local runs a local cluster in one OS process on an
// embedded default: a master on 127.0.0.1:5050 (with the web UI at
// http://127.0.0.1:5050) and --num_slaves slaves, with work directories
// under a temporary directory (or --work_dir). Tasks with a command run
// through the command executor, which is this same binary started as
// mesos-executor.
//
//	go run ./cmd/mesos-local
//	go run ./cmd/mesos-execute --master=127.0.0.1:5050 --command='echo hello'
package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/webui"
)

func main() {
	daemon.RunAsExecutor()
	os.Exit(run(os.Args[1:], os.Environ()))
}

type localFlags struct {
	ip                 string
	port               uint
	numSlaves          uint
	workDir            string
	resources          string
	isolation          string
	allocationInterval time.Duration
	offerTimeout       time.Duration
	cluster            string
	logging            daemon.Logging
}

func run(args, environ []string) int {
	fs := flags.New("mesos-local", "Runs a master and slaves in one process (a local cluster).")
	var lf localFlags
	fs.String(&lf.ip, "ip", "127.0.0.1", "IPv4 address to listen on.")
	fs.Uint(&lf.port, "port", 5050, "Port of the master (and of the slaves, which share the process).")
	fs.Uint(&lf.numSlaves, "num_slaves", 1, "Number of slaves.")
	fs.OptString(&lf.workDir, "work_dir", "Directory for the slaves' work directories (default: a new temporary directory, removed at exit).")
	fs.String(&lf.resources, "resources", "cpus:2;mem:2048;disk:4096;ports:[31000-32000]", "Resources of each slave.")
	fs.String(&lf.isolation, "isolation", "posix/cpu,posix/mem", "Isolators of the slaves.")
	fs.Duration(&lf.allocationInterval, "allocation_interval", time.Second, "Interval between allocation batches.")
	fs.Check("allocation_interval", flags.Positive(&lf.allocationInterval))
	fs.Duration(&lf.offerTimeout, "offer_timeout", 0, "Rescind offers not answered within this time (0: never).")
	fs.String(&lf.cluster, "cluster", "local", "Cluster name shown in the web UI.")
	lf.logging.Register(fs)
	if exit, code := flags.Main(fs, args, environ, os.Stdout, os.Stderr); exit {
		return code
	}
	if err := lf.run(fs); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-local:", err)
		return 1
	}
	return 0
}

func (lf *localFlags) run(fs *flags.FlagSet) error {
	log, closeLog, err := lf.logging.Logger("mesos-local")
	if err != nil {
		return err
	}
	defer closeLog()
	addr, err := netip.ParseAddr(lf.ip)
	if err != nil || !addr.Is4() {
		return fmt.Errorf("--ip: %q is not an IPv4 address", lf.ip)
	}
	if lf.port > 65535 {
		return fmt.Errorf("--port: %d is not a port", lf.port)
	}
	work := lf.workDir
	if work == "" {
		if work, err = os.MkdirTemp("", "mesos-local"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	// The command executor is this binary under the name mesos-executor.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	launcher := filepath.Join(work, "bin")
	if err := os.MkdirAll(launcher, 0o755); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(launcher, "mesos-executor"))
	if err := os.Symlink(self, filepath.Join(launcher, "mesos-executor")); err != nil {
		return err
	}
	rt, err := process.New(process.Options{Bind: netip.AddrPortFrom(addr, uint16(lf.port)), Logger: log})
	if err != nil {
		return err
	}
	defer rt.Close()
	pid, err := master.New(master.Config{
		AllocationInterval: lf.allocationInterval, OfferTimeout: lf.offerTimeout, Cluster: lf.cluster,
		Flags: fs.Values(), WebUI: webui.Handler(),
	}).Start(rt)
	if err != nil {
		return err
	}
	var slaves []*slave.Slave
	for i := 0; i < int(lf.numSlaves); i++ {
		s := slave.New(slave.Config{
			Master: pid, Resources: lf.resources, WorkDir: filepath.Join(work, fmt.Sprintf("slave-%d", i)),
			LauncherDir: launcher, Isolation: lf.isolation, Strict: true,
			FetcherCacheDir: filepath.Join(work, "fetch"),
		})
		if _, err := s.Start(rt); err != nil {
			return err
		}
		slaves = append(slaves, s)
	}
	log.Info("mesos-local running", "master", pid.String(), "slaves", lf.numSlaves, "webui", fmt.Sprintf("http://%s/", rt.Addr()), "work_dir", work)
	fmt.Printf("mesos-local: master %s with %d slave(s); web UI at http://%s/\n", pid, lf.numSlaves, rt.Addr())
	sig := <-daemon.Signals()
	slog.Info("shutting down", "signal", sig.String())
	for _, s := range slaves {
		s.Stop()
	}
	for _, s := range slaves {
		<-s.Done().Done()
	}
	return nil
}
