//go:build simmutation

package master

// mutationFreeTerminalTwice: see mutation.go. This build has the bug.
const mutationFreeTerminalTwice = true
