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
	"os"

	"github.com/gomesos/gomesos/internal/daemon"
)

func main() {
	os.Exit(daemon.MasterMain("mesos-master", os.Args[1:], os.Environ()))
}
