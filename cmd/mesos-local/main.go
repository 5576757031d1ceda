// Command mesos-local runs a local cluster in one OS process: a master on
// 127.0.0.1:5050 (with the web UI at http://127.0.0.1:5050) and
// --num_slaves slaves, with work directories under a temporary directory
// (or --work_dir). Tasks with a command run through the command executor,
// which is this same binary started as mesos-executor.
//
//	go run ./cmd/mesos-local
//	go run ./cmd/mesos-execute --master=127.0.0.1:5050 --command='echo hello'
//
// Every mesos-master and mesos-slave flag passes through, written
// --master_<flag> or --slave_<flag> (--agent_<flag>), or under its own
// name when only one of the two has it, so that authentication,
// ZooKeeper or isolation can be tried in one command:
//
//	mesos-local --authenticate --credentials=/etc/mesos/credentials \
//	    --slave_credential=/etc/mesos/slave-credential --isolation=cgroups/cpu,cgroups/mem
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
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

// sets are mesos-local's own flags and the master's and slaves' flags it
// passes through.
type sets struct {
	local, master, slave *flags.FlagSet
	lf                   localFlags
	mf                   daemon.MasterFlags
	sf                   daemon.SlaveFlags
}

func newSets() *sets {
	s := &sets{
		local:  flags.New("mesos-local", "Runs a master and slaves in one process (a local cluster)."),
		master: flags.New("mesos-local (master)", ""),
		slave:  flags.New("mesos-local (slave)", ""),
	}
	fs, lf := s.local, &s.lf
	fs.String(&lf.ip, "ip", "127.0.0.1", "IPv4 address to listen on.")
	fs.Uint(&lf.port, "port", 5050, "Port of the master (and of the slaves, which share the process).")
	fs.Uint(&lf.numSlaves, "num_slaves", 1, "Number of slaves.")
	fs.OptString(&lf.workDir, "work_dir", "Directory for the master's and slaves' work directories (default: a new temporary directory, removed at exit).")
	fs.String(&lf.resources, "resources", "cpus:2;mem:2048;disk:4096;ports:[31000-32000]", "Resources of each slave.")
	fs.String(&lf.isolation, "isolation", "posix/cpu,posix/mem", "Isolators of the slaves.")
	fs.Duration(&lf.allocationInterval, "allocation_interval", time.Second, "Interval between allocation batches.")
	fs.Check("allocation_interval", flags.Positive(&lf.allocationInterval))
	fs.Duration(&lf.offerTimeout, "offer_timeout", 0, "Rescind offers not answered within this time (0: never).")
	fs.String(&lf.cluster, "cluster", "local", "Cluster name shown in the web UI.")
	lf.logging.Register(fs)
	s.mf.Register(s.master)
	s.sf.Register(s.slave, false)
	return s
}

// usage is --help: the local flags, then how the others pass through.
func (s *sets) usage() string {
	return s.local.Usage() + `
Every mesos-master and mesos-slave flag is accepted too, written
--master_<flag> or --slave_<flag> (also --agent_<flag>), or under its own
name when only one of the two daemons has it (e.g. --authenticate,
--credentials, --zk, --registry for the master; --credential,
--containerizers, --attributes for the slaves). Run mesos-master --help and
mesos-slave --help for them. Here the master's --registry defaults to
in_memory and the slaves' --switch_user to false.
`
}

// route splits the command line among the three flag sets.
func (s *sets) route(args []string) (local, masterArgs, slaveArgs []string, err error) {
	var errs []error
	for _, arg := range args {
		body, ok := strings.CutPrefix(arg, "--")
		if !ok || arg == "--" {
			local = append(local, arg)
			continue
		}
		name, value, hasValue := strings.Cut(body, "=")
		neg := ""
		if base, ok := strings.CutPrefix(name, "no-"); ok {
			neg, name = "no-", base
		}
		rebuild := func(n string) string {
			out := "--" + neg + n
			if hasValue {
				out += "=" + value
			}
			return out
		}
		inMaster, inSlave := s.master.Has(name), s.slave.Has(name)
		switch {
		case s.local.Has(name):
			local = append(local, arg)
		case strings.HasPrefix(name, "master_") && s.master.Has(strings.TrimPrefix(name, "master_")):
			masterArgs = append(masterArgs, rebuild(strings.TrimPrefix(name, "master_")))
		case strings.HasPrefix(name, "slave_") && s.slave.Has(strings.TrimPrefix(name, "slave_")) && !inMaster:
			slaveArgs = append(slaveArgs, rebuild(strings.TrimPrefix(name, "slave_")))
		case strings.HasPrefix(name, "agent_") && s.slave.Has(strings.TrimPrefix(name, "agent_")):
			slaveArgs = append(slaveArgs, rebuild(strings.TrimPrefix(name, "agent_")))
		case inMaster && inSlave:
			errs = append(errs, fmt.Errorf("--%s is a flag of both the master and the slaves: write --master_%s or --slave_%s", name, name, name))
		case inMaster:
			masterArgs = append(masterArgs, arg)
		case inSlave:
			slaveArgs = append(slaveArgs, arg)
		default:
			local = append(local, arg) // reported as unknown
		}
	}
	return local, masterArgs, slaveArgs, errors.Join(errs...)
}

// parse parses the command line (MESOS_* variables set mesos-local's own
// flags). exit says the program is done (help, version or an error).
func (s *sets) parse(args, environ []string) (exit bool, code int) {
	local, margs, sargs, err := s.route(args)
	// The master's registry stays in memory, and tasks run as the user
	// running mesos-local, unless asked otherwise.
	_ = s.master.Set("registry", "in_memory")
	_ = s.slave.Set("switch_user", "false")
	errs := []error{err}
	if perr := s.local.Parse(local, environ); perr != nil {
		switch {
		case errors.Is(perr, flags.ErrHelp):
			fmt.Print(s.usage())
			return true, 0
		case errors.Is(perr, flags.ErrVersion):
			fmt.Printf("mesos %s\n", s.local.Version)
			return true, 0
		}
		errs = append(errs, perr)
	}
	if perr := s.master.Parse(margs, nil); perr != nil {
		errs = append(errs, fmt.Errorf("master flags: %w", perr))
	}
	if perr := s.slave.Parse(sargs, nil); perr != nil {
		errs = append(errs, fmt.Errorf("slave flags: %w", perr))
	}
	if err := errors.Join(errs...); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "mesos-local:", line)
		}
		fmt.Fprintln(os.Stderr, "Run 'mesos-local --help' to list the flags.")
		return true, 1
	}
	return false, 0
}

func run(args, environ []string) int {
	s := newSets()
	if exit, code := s.parse(args, environ); exit {
		return code
	}
	if err := s.run(); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-local:", err)
		return 1
	}
	return 0
}

func (s *sets) run() error {
	lf := &s.lf
	log, closeLog, err := lf.logging.Logger("mesos-local")
	if err != nil {
		return err
	}
	defer closeLog()
	daemon.WarnIneffective(s.master, log)
	daemon.WarnIneffective(s.slave, log)
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

	// The master: its own flags, with mesos-local's where it has none.
	if !s.master.IsSet("work_dir") {
		s.mf.WorkDir = filepath.Join(work, "master")
	}
	cfg, err := s.mf.Config(s.master, log)
	if err != nil {
		return fmt.Errorf("master: %w", err)
	}
	if !s.master.IsSet("allocation_interval") {
		cfg.AllocationInterval = lf.allocationInterval
	}
	if !s.master.IsSet("offer_timeout") {
		cfg.OfferTimeout = lf.offerTimeout
	}
	if !s.master.IsSet("cluster") {
		cfg.Cluster = lf.cluster
	}
	cfg.Flags = s.values()

	rt, err := process.New(process.Options{Bind: netip.AddrPortFrom(addr, uint16(lf.port)), Logger: log})
	if err != nil {
		return err
	}
	defer rt.Close()
	daemon.Builtins(rt, log, &lf.logging)
	if err := daemon.StartRegistry(rt, &cfg); err != nil {
		return fmt.Errorf("master: %w", err)
	}
	stopElect, err := s.mf.Elect(rt, &cfg, log)
	if err != nil {
		return fmt.Errorf("master: %w", err)
	}
	defer stopElect()
	ms := master.New(cfg)
	pid, err := ms.Start(rt)
	if err != nil {
		return err
	}

	// The slaves: their own flags, with mesos-local's where they have
	// none, each in its own work directory.
	var slaves []*slave.Slave
	for i := 0; i < int(lf.numSlaves); i++ {
		sf := s.sf
		if !s.slave.IsSet("resources") {
			sf.Resources = lf.resources
		}
		if !s.slave.IsSet("isolation") {
			sf.Isolation = lf.isolation
		}
		if !s.slave.IsSet("launcher_dir") {
			sf.LauncherDir = launcher
		}
		if !s.slave.IsSet("fetcher_cache_dir") {
			sf.FetcherCacheDir = filepath.Join(work, "fetch")
		}
		sf.WorkDir = filepath.Join(work, fmt.Sprintf("slave-%d", i))
		if s.slave.IsSet("work_dir") {
			sf.WorkDir = filepath.Join(s.sf.WorkDir, fmt.Sprintf("slave-%d", i))
		}
		scfg, err := sf.Config(pid, log)
		if err != nil {
			return fmt.Errorf("slave: %w", err)
		}
		scfg.Flags = s.slave.Values()
		cz, err := slave.Containerizers(rt, scfg)
		if err != nil {
			return fmt.Errorf("slave: %w", err)
		}
		scfg.Containerizer = cz
		sl := slave.New(scfg)
		if _, err := sl.Start(rt); err != nil {
			return err
		}
		slaves = append(slaves, sl)
	}
	log.Info("mesos-local running", "master", pid.String(), "slaves", lf.numSlaves, "webui", fmt.Sprintf("http://%s/", rt.Addr()), "work_dir", work)
	fmt.Printf("mesos-local: master %s with %d slave(s); web UI at http://%s/\n", pid, lf.numSlaves, rt.Addr())

	signals := daemon.Signals()
	done := ms.Done()
	var exitErr error
	select {
	case sig := <-signals:
		slog.Info("shutting down", "signal", sig.String())
	case <-done.Done():
		if exitErr = done.Err(); exitErr != nil {
			log.Error("master exited", "reason", exitErr.Error())
		}
	}
	for _, sl := range slaves {
		sl.Stop()
	}
	for _, sl := range slaves {
		<-sl.Done().Done()
	}
	return exitErr
}

// values are the flags /master/flags shows: mesos-local's own, then the
// master's (a master flag wins a name both have).
func (s *sets) values() map[string]string {
	out := s.local.Values()
	for k, v := range s.master.Values() {
		out[k] = v
	}
	return out
}
