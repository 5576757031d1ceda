// Package executorpb holds the executor API Call and Event of proto
// package "mesos.executor".
package executorpb
