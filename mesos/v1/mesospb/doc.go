// Package mesospb holds the public types of the v1 HTTP API, proto
// package "mesos.v1": package mesos with "agent" in place of "slave"
// (AgentID, AgentInfo, agent_id).
package mesospb
