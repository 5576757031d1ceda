// Package schedulerpb holds the v1 scheduler HTTP API Call and Event of
// proto package "mesos.v1.scheduler". Import it under another name, such
// as v1scheduler, next to the v0 package of the same name.
package schedulerpb
