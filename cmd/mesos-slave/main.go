// Command mesos-slave runs a Mesos slave: it registers with --master,
// launches executors in containers under --work_dir, checkpoints, and
// recovers its executors after a restart.
//
//	mesos-slave --master=127.0.0.1:5050 --work_dir=/var/lib/mesos
//
// mesos-agent is the same program under Mesos 1.0's name. --help lists
// the flags; each may also come from MESOS_<NAME>.
package main

import (
	"os"

	"github.com/gomesos/gomesos/internal/daemon"
)

func main() {
	daemon.RunAsExecutor()
	os.Exit(daemon.SlaveMain("mesos-slave", os.Args[1:], os.Environ()))
}
