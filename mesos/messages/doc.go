// Package messages holds the libprocess messages of proto package
// "mesos.internal" (RegisterSlaveMessage, RunTaskMessage,
// StatusUpdateMessage, ...), the authentication exchange, the master's
// Registry and the --firewall_rules Firewall. See package mesos for the
// layout and how to regenerate.
package messages
