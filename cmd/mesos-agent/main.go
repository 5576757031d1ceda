// Command mesos-agent is mesos-slave under Mesos 1.0's name; see
// cmd/mesos-slave.
package main

import (
	"os"

	"github.com/gomesos/gomesos/internal/daemon"
)

func main() {
	daemon.RunAsExecutor()
	os.Exit(daemon.SlaveMain("mesos-agent", os.Args[1:], os.Environ()))
}
