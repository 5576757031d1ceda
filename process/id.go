package process

import (
	"strconv"
	"sync"
)

// idGen hands out `prefix(N)` ids with a counter per prefix starting at 1.
type idGen struct {
	mu   sync.Mutex
	next map[string]int
}

func (g *idGen) generate(prefix string) string {
	g.mu.Lock()
	if g.next == nil {
		g.next = make(map[string]int)
	}
	g.next[prefix]++
	n := g.next[prefix]
	g.mu.Unlock()
	return prefix + "(" + strconv.Itoa(n) + ")"
}
