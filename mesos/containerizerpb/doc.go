// Package containerizerpb holds proto package "mesos.containerizer": the
// messages of the external containerizer protocol (Launch, Update, Wait,
// Destroy, Usage, Termination, Containers).
package containerizerpb
