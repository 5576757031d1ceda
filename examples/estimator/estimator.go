// Package estimator is a worked example of a gomesos module of another
// kind than a hook: a resource estimator (Mesos's oversubscription) that
// offers as revocable the resources a file names, re-read at every poll,
// so that an operator or a monitoring agent can change what a slave
// oversubscribes while it runs. Like every module it is a Go package
// that registers itself in an init function; a custom slave main imports
// it for that side effect and calls the public package daemon (see
// mesos-slave/main.go here). It is then named as Mesos names a module:
//
//	mesos-slave --modules='{"libraries":[{"file":"libfile_estimator.so","modules":[
//	    {"name":"gomesos_example_FileEstimator",
//	     "parameters":[{"key":"path","value":"/etc/mesos/revocable"}]}]}]}' \
//	  --resource_estimator=gomesos_example_FileEstimator ...
//
// (a library's file is accepted and ignored: the module is linked in).
//
// Parameters: path (required) is the file, holding resources in the
// syntax of --resources (e.g. cpus:2;mem:512, unreserved only); a file
// that is missing or empty oversubscribes nothing, and one that does not
// parse fails that poll (the slave logs it and keeps its last estimate).
package estimator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/slave"
)

// Name is the module's name in --modules and --resource_estimator.
const Name = "gomesos_example_FileEstimator"

func init() {
	slave.RegisterResourceEstimator(Name, func(p modules.Parameters) (slave.ResourceEstimator, error) {
		path := p["path"]
		if path == "" {
			return nil, errors.New("the parameter path is required")
		}
		for k := range p {
			if k != "path" {
				return nil, fmt.Errorf("unknown parameter %q", k)
			}
		}
		return &File{Path: path}, nil
	})
}

// File is the estimator: Oversubscribable reads Path each time. The slave
// calls it on a process of its own (resource-estimator(N)), so the small
// read does not hold up the slave.
type File struct {
	Path string
}

// Oversubscribable implements slave.ResourceEstimator.
func (f *File) Oversubscribable() future.Future[resources.Resources] {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return future.Ready(resources.Resources(nil))
	}
	if err != nil {
		return future.Failed[resources.Resources](fmt.Errorf("%s: %w", Name, err))
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return future.Ready(resources.Resources(nil))
	}
	rs, err := resources.Parse(text, "*")
	if err != nil {
		return future.Failed[resources.Resources](fmt.Errorf("%s: %s: %w", Name, f.Path, err))
	}
	if !rs.Unreserved().Equal(rs) {
		return future.Failed[resources.Resources](fmt.Errorf("%s: %s: %v: oversubscribed resources cannot be reserved", Name, f.Path, rs))
	}
	return future.Ready(rs)
}
