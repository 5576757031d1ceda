//go:build !simmutation

package master

// mutationFreeTerminalTwice, on only in builds tagged simmutation, brings
// back a bug the simulator found (removing a framework gave back the
// resources of its terminal tasks a second time), so that a test can
// show the simulator's invariants catch it.
const mutationFreeTerminalTwice = false
