//go:build race

package loadgen

// raceEnabled says the tests run under the race detector.
const raceEnabled = true
