// Package statepb holds the records of proto package
// "mesos.internal.state": Entry, the unit the registry is stored in, and
// the replicated-log Operation.
package statepb
