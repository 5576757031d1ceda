// Package agentpb holds the agent's (slave's) v1 operator API (POST
// /api/v1): Call and Response of proto package "mesos.v1.agent".
package agentpb
