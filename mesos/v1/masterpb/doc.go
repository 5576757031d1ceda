// Package masterpb holds the master's v1 operator API (POST /api/v1):
// Call, Response and the SUBSCRIBE stream's Event of proto package
// "mesos.v1.master".
package masterpb
