// Package maintenancepb holds the maintenance schedule types of proto
// package "mesos.maintenance".
package maintenancepb
