package detector

import (
	"sync"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
)

// Group is an election held in memory: the contenders and detectors made
// from one Group share it, as masters, slaves and schedulers share a
// ZooKeeper group. The earliest candidate still contending leads; when it
// withdraws or expires the next one is elected. Futures complete on the
// goroutine that changed the group, after the group's lock is released,
// so a simulation driving the group from one goroutine sees one order.
type Group struct {
	mu      sync.Mutex
	members []*candidate // in the order they contended
	leader  *candidate
	state   leaderState
}

type candidate struct {
	info    *mesos.MasterInfo
	elected *future.Promise[Lost]
	lost    *future.Promise[future.Nothing]
}

// NewGroup returns an empty election (no leader).
func NewGroup() *Group {
	g := &Group{}
	g.state.set(nil)()
	return g
}

// Contender returns a new contender in g.
func (g *Group) Contender() *GroupContender { return &GroupContender{g: g} }

// Detector returns a detector of g's leader.
func (g *Group) Detector() Detector { return groupDetector{g} }

// Leader returns the current leader (nil: none).
func (g *Group) Leader() *mesos.MasterInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leader == nil {
		return nil
	}
	return clone(g.leader.info)
}

type groupDetector struct{ g *Group }

func (d groupDetector) Detect(previous *mesos.MasterInfo) future.Future[*mesos.MasterInfo] {
	return d.g.state.detect(previous)
}

// join adds c and returns the completions due.
func (g *Group) join(c *candidate) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members = append(g.members, c)
	return g.electLocked()
}

// leave removes c (err nil: withdrawn) and returns the completions due.
func (g *Group) leave(c *candidate, err error) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, m := range g.members {
		if m == c {
			g.members = append(g.members[:i:i], g.members[i+1:]...)
			break
		}
	}
	wasLeader := g.leader == c
	elect := g.electLocked()
	return func() {
		if err == nil {
			c.lost.Set(future.Nothing{})
		} else {
			c.lost.Fail(err)
		}
		if !wasLeader {
			if err == nil {
				err = ErrLost
			}
			c.elected.Fail(err)
		}
		elect()
	}
}

// electLocked makes the earliest member lead if it does not already.
func (g *Group) electLocked() func() {
	var first *candidate
	if len(g.members) > 0 {
		first = g.members[0]
	}
	if first == g.leader {
		return func() {}
	}
	g.leader = first
	var info *mesos.MasterInfo
	if first != nil {
		info = first.info
	}
	detected := g.state.set(info)
	return func() {
		if first != nil {
			first.elected.Set(first.lost.Future())
		}
		detected()
	}
}

// GroupContender is a contender in a Group; Expire simulates a lost
// ZooKeeper session.
type GroupContender struct {
	g *Group

	mu      sync.Mutex
	current *candidate
}

// Contend enters info into the group; see Contender.
func (c *GroupContender) Contend(info *mesos.MasterInfo) future.Future[Lost] {
	c.end(nil)
	cand := &candidate{info: clone(info), elected: future.NewPromise[Lost](), lost: future.NewPromise[future.Nothing]()}
	c.mu.Lock()
	c.current = cand
	c.mu.Unlock()
	c.g.join(cand)()
	return cand.elected.Future()
}

// Withdraw ends the candidacy; see Contender.
func (c *GroupContender) Withdraw() { c.end(nil) }

// Expire ends the candidacy as a lost session would: its futures fail
// with ErrLost, and the next candidate is elected.
func (c *GroupContender) Expire() { c.end(ErrLost) }

func (c *GroupContender) end(err error) {
	c.mu.Lock()
	cand := c.current
	c.current = nil
	c.mu.Unlock()
	if cand != nil {
		c.g.leave(cand, err)()
	}
}

// Standalone is the election of a single master, without ZooKeeper: its
// contender is elected at once, and its detector reports the master that
// contended or was appointed.
type Standalone struct {
	state leaderState

	mu   sync.Mutex
	lost *future.Promise[future.Nothing]
}

// NewStandalone returns a standalone election led by leader (nil: no
// leader until one contends or is appointed).
func NewStandalone(leader *mesos.MasterInfo) *Standalone {
	s := &Standalone{}
	s.state.set(leader)()
	return s
}

// Appoint makes leader the detected master (nil: none).
func (s *Standalone) Appoint(leader *mesos.MasterInfo) { s.state.set(leader)() }

// Contend elects info at once and appoints it.
func (s *Standalone) Contend(info *mesos.MasterInfo) future.Future[Lost] {
	s.Withdraw()
	lost := future.NewPromise[future.Nothing]()
	s.mu.Lock()
	s.lost = lost
	s.mu.Unlock()
	s.Appoint(info)
	return future.Ready(lost.Future())
}

// Withdraw ends the leadership of the master that contended.
func (s *Standalone) Withdraw() {
	s.mu.Lock()
	lost := s.lost
	s.lost = nil
	s.mu.Unlock()
	if lost != nil {
		lost.Set(future.Nothing{})
	}
}

// Detect reports the appointed master; see Detector.
func (s *Standalone) Detect(previous *mesos.MasterInfo) future.Future[*mesos.MasterInfo] {
	return s.state.detect(previous)
}
