// Command mesos-slave (examples/hook) is mesos-slave with the example
// hook module linked in: the blank import registers it, and --modules and
// --hooks name it. Any out-of-tree module is used the same way, through
// the public package daemon.
package main

import (
	"os"

	"github.com/gomesos/gomesos/daemon"
	_ "github.com/gomesos/gomesos/examples/hook" // registers gomesos_example_Hook
)

func main() {
	daemon.RunAsExecutor()
	os.Exit(daemon.SlaveMain("mesos-slave", os.Args[1:], os.Environ()))
}
