// Command mesos-slave (examples/estimator) is mesos-slave with the example
// file estimator linked in: the blank import registers it, --modules
// gives it its path and --resource_estimator names it.
package main

import (
	"os"

	"github.com/gomesos/gomesos/daemon"
	_ "github.com/gomesos/gomesos/examples/estimator" // registers gomesos_example_FileEstimator
)

func main() {
	daemon.RunAsExecutor()
	os.Exit(daemon.SlaveMain("mesos-slave", os.Args[1:], os.Environ()))
}
