package master

import (
	"cmp"
	"slices"
)

// The master iterates its maps in key order wherever the order could
// reach messages, logs or state (a simulation's run must be a function of
// its seed); these helpers give that order.

// sortedKeys returns m's keys in ascending order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	if len(m) == 0 {
		return nil
	}
	keys := make([]K, 0, len(m)) // sized at once: this runs per message
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortedFrameworks returns the registered frameworks by id.
func (m *master) sortedFrameworks() []*framework {
	out := make([]*framework, 0, len(m.frameworks))
	for _, id := range sortedKeys(m.frameworks) {
		out = append(out, m.frameworks[id])
	}
	return out
}

// sortedSlaves returns the registered slaves by id.
func (m *master) sortedSlaves() []*slave {
	out := make([]*slave, 0, len(m.slaves))
	for _, id := range sortedKeys(m.slaves) {
		out = append(out, m.slaves[id])
	}
	return out
}
