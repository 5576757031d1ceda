// Package executorpb holds the v1 executor HTTP API Call and Event of
// proto package "mesos.v1.executor". Import it under another name, such
// as v1executor, next to the v0 package of the same name.
package executorpb
