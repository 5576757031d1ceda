// Package daemon starts the gomesos daemons from a main of your own: it
// is what a custom mesos-master or mesos-slave, built with out-of-tree
// modules linked in, calls. A module is a Go package that registers
// itself with package modules in an init function; import it for that
// side effect and hand over to the daemon's main:
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/gomesos/gomesos/daemon"
//		_ "example.com/mymodules/estimator" // registers com_example_Estimator
//	)
//
//	func main() {
//		daemon.RunAsExecutor()
//		os.Exit(daemon.SlaveMain("mesos-slave", os.Args[1:], os.Environ()))
//	}
//
// Then --modules (Mesos's JSON) gives the module its parameters and the
// flag of its kind names it, e.g. --resource_estimator=com_example_Estimator.
// The stock binaries under cmd/ are exactly such mains with no module
// added; examples/hook and examples/estimator are worked examples. The
// flags, logging and signal handling are those of the stock binaries
// (--help lists the flags).
package daemon

import "github.com/gomesos/gomesos/internal/daemon"

// MasterMain is the whole of mesos-master: it parses args (and
// MESOS_<NAME> variables of environ), runs the master until a signal
// stops it or it ends itself, and returns the exit code. program names
// it in --help and the log.
func MasterMain(program string, args, environ []string) int {
	return daemon.MasterMain(program, args, environ)
}

// SlaveMain is the whole of mesos-slave (mesos-agent): it parses args
// (and MESOS_<NAME> variables of environ), runs the slave until a signal
// stops it, and returns the exit code. SIGTERM, SIGINT and SIGUSR1 shut
// the slave down cleanly; SIGQUIT leaves checkpointing executors running
// for a restarted slave to recover.
func SlaveMain(program string, args, environ []string) int {
	return daemon.SlaveMain(program, args, environ)
}

// RunAsExecutor must be the first call of a slave's main: when no
// mesos-executor is installed beside the binary, the slave runs the
// command executor as this same binary (under the name mesos-executor),
// and RunAsExecutor then runs it and exits. Otherwise it returns at once.
func RunAsExecutor() {
	daemon.RunAsExecutor()
}
