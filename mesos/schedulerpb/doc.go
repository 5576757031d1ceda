// Package schedulerpb holds the scheduler API Call and Event of proto
// package "mesos.scheduler", sent over libprocess by 1.0 drivers.
package schedulerpb
