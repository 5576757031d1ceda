// Command mesos-master runs a Mesos master: it registers frameworks and
// slaves, offers resources with hierarchical DRF, and serves its HTTP
// endpoints and the web UI on --ip:--port (default 5050).
//
//	mesos-master --ip=127.0.0.1 --work_dir=/var/lib/mesos
//
// Every flag may also come from a MESOS_<NAME> environment variable;
// --help lists them.
package main

import (
	"fmt"
	"os"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/daemon"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func run(args, environ []string) int {
	fs := flags.New("mesos-master", "Runs a Mesos master.")
	var addr daemon.Address
	var logging daemon.Logging
	var mf daemon.MasterFlags
	addr.Register(fs, 5050)
	logging.Register(fs)
	mf.Register(fs)
	if exit, code := flags.Main(fs, args, environ, os.Stdout, os.Stderr); exit {
		return code
	}
	log, closeLog, err := logging.Logger("mesos-master")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	defer closeLog()
	daemon.WarnIneffective(fs, log)
	cfg, err := mf.Config(fs, log)
	if err != nil {
		log.Error("bad flags", "err", err)
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	opts, err := addr.Options()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	opts.Logger = log
	rt, err := process.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	defer rt.Close()
	daemon.Builtins(rt, log, &logging)
	if logging.Dir != "" {
		// /files/read?path=/master/log, for the web UI's log link.
		slave.AttachLogAt(rt, slave.MasterLogPath, logging.File("mesos-master"))
	}
	if err := daemon.StartRegistry(rt, &cfg); err != nil {
		log.Error("cannot start the registry", "err", err)
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	stop, err := mf.Elect(rt, &cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	defer stop()
	m := master.New(cfg)
	pid, err := m.Start(rt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	log.Info("master started", "pid", pid.String(), "webui", "http://"+rt.Addr().String()+"/")
	return daemon.WaitMaster(m, log)
}
