package tests

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/internal/zktest"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/walltime"
	"github.com/gomesos/gomesos/tests/cluster"
)

// heldStorage passes stores to a Storage, except that once armed it holds
// them until the test releases them.
// notingStorage completes stored with the outcome of its first store.
type notingStorage struct {
	registrar.Storage
	stored *future.Promise[future.Nothing]
}

func (n *notingStorage) Store(reg *messages.Registry) future.Future[future.Nothing] {
	f := n.Storage.Store(reg)
	f.OnAny(func(f future.Future[future.Nothing]) {
		if err := f.Err(); err != nil {
			n.stored.Fail(err) // the test then says why
			return
		}
		n.stored.Set(future.Nothing{})
	})
	return f
}

type heldStorage struct {
	registrar.Storage
	mu      sync.Mutex
	armed   bool
	waiting []func() error
	stored  []error // the results of the released stores
}

func (h *heldStorage) arm() { h.mu.Lock(); h.armed = true; h.mu.Unlock() }

func (h *heldStorage) held() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.waiting) }

func (h *heldStorage) Store(reg *messages.Registry) future.Future[future.Nothing] {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.armed {
		return h.Storage.Store(reg)
	}
	p := future.NewPromise[future.Nothing]()
	h.waiting = append(h.waiting, func() error {
		_, err := h.Storage.Store(reg).Get()
		if err != nil {
			p.Fail(err)
		} else {
			p.Set(future.Nothing{})
		}
		return err
	})
	return p.Future()
}

// release lets the held stores through and returns their errors.
func (h *heldStorage) release() []error {
	h.mu.Lock()
	w := h.waiting
	h.waiting, h.armed = nil, false
	h.mu.Unlock()
	var errs []error
	for _, store := range w {
		errs = append(errs, store())
	}
	return errs
}

// unnoticing is a contender whose leader never learns it lost its
// leadership (a master whose session expired on the server while it was
// cut off).
type unnoticing struct {
	detector.Contender
	mu      sync.Mutex
	elected future.Future[detector.Lost]
}

func (u *unnoticing) Contend(info *mesos.MasterInfo) future.Future[detector.Lost] {
	p := future.NewPromise[detector.Lost]()
	u.Contender.Contend(info).OnAny(func(f future.Future[detector.Lost]) {
		if err := f.Err(); err != nil {
			p.Fail(err)
			return
		}
		p.Set(future.NewPromise[future.Nothing]().Future()) // never lost
	})
	u.mu.Lock()
	u.elected = p.Future()
	u.mu.Unlock()
	return p.Future()
}

func (u *unnoticing) electedFuture() future.Future[detector.Lost] {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.elected
}

func zkConnect(t *testing.T, u detector.URL) *detector.Client {
	t.Helper()
	c, err := detector.Connect(u, detector.Options{SessionTimeout: 5 * time.Second, Timers: walltime.Clock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func slaveIDs(reg *messages.Registry) string {
	var ids []string
	for _, s := range reg.GetSlaves().GetSlaves() {
		ids = append(ids, s.GetInfo().GetId().GetValue())
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// The leading master loses its ZooKeeper leadership in the middle of a
// registry write, without noticing: the new leader recovers the registry
// as it was before that write, and the old leader's write, let through
// afterwards, is fenced: it changes nothing, and the old leader exits.
func TestRegistryFailoverFencesTheOldLeader(t *testing.T) {
	srv := zktest.Start(t)
	u, err := detector.ParseURL("zk://" + srv.Addr + "/test/failover")
	if err != nil {
		t.Fatal(err)
	}
	z1 := zkConnect(t, u)
	contender := &unnoticing{Contender: z1.Contender()}
	c1Noting := &notingStorage{Storage: z1.Registry(), stored: future.NewPromise[future.Nothing]()}
	storage := &heldStorage{Storage: c1Noting}
	c1 := cluster.Start(t, cluster.Options{Master: master.Config{Contender: contender, Detector: z1.Detector(), Registry: storage}})
	cluster.Await(c1, contender.electedFuture())
	// The registry is recovered once the leader has written itself into
	// it; a registration before that waits for it. As for the second
	// leader below, a failed first read is retried on the Clock.
	cluster.AwaitAdvancing(c1, c1Noting.stored.Future(), time.Second, 30*time.Second)
	c1.Settle()

	s1 := c1.StartFakeSlave(slaveResources)
	id1 := cluster.Await(c1, s1.Registered()).GetValue()
	storage.arm()
	s2 := c1.StartFakeSlave(slaveResources)
	c1.Settle()
	if storage.held() != 1 {
		t.Fatalf("%d stores held, want the second slave's", storage.held())
	}

	// The leader's node goes (its session expired on the server); a
	// standby is elected and recovers the registry.
	raw, _, err := zk.Connect([]string{srv.Addr}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	children, _, err := raw.Children(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range children {
		if strings.HasPrefix(ch, detector.NodePrefix) {
			if err := raw.Delete(u.Path+"/"+ch, -1); err != nil {
				t.Fatal(err)
			}
		}
	}
	z2 := zkConnect(t, u)
	c2Contender := &unnoticing{Contender: z2.Contender()}
	c2Storage := &notingStorage{Storage: z2.Registry(), stored: future.NewPromise[future.Nothing]()}
	c2 := cluster.Start(t, cluster.Options{Master: master.Config{Contender: c2Contender, Detector: z2.Detector(), Registry: c2Storage}})
	cluster.Await(c2, c2Contender.electedFuture())
	// The new leader writes itself into the registry once it has read it
	// (after ZooKeeper told it it leads: not something Settle sees).
	// Under load a first ZooKeeper read can fail and be retried a
	// second later on the Clock.
	cluster.AwaitAdvancing(c2, c2Storage.stored.Future(), time.Second, 30*time.Second)
	c2.Settle()
	reg, err := zkConnect(t, u).Registry().Load().Get()
	if err != nil || slaveIDs(reg) != id1 || reg.GetMaster().GetInfo().GetId() != c2.Master.Info().GetId() {
		t.Fatalf("the new leader's registry: %v %v (want slave %s, master %s)", reg, err, id1, c2.Master.Info().GetId())
	}

	// The old leader's held write goes through now: fenced.
	errs := storage.release()
	if len(errs) != 1 || !errors.Is(errs[0], registrar.ErrFenced) {
		t.Fatalf("the old leader's write: %v", errs)
	}
	done := c1.Master.Done()
	if !process.Await(c1.RT, done, cluster.Wait) || !errors.Is(done.Err(), registrar.ErrFenced) {
		t.Fatalf("the old leader: %v", done)
	}
	cluster.AssertPending(c1, s2.Registered())
	after, err := zkConnect(t, u).Registry().Load().Get()
	if err != nil || slaveIDs(after) != id1 || after.GetMaster().GetInfo().GetId() != c2.Master.Info().GetId() {
		t.Fatalf("the registry after the old leader's write: %v %v", after, err)
	}

	// The new leader writes on: the slave re-registers, another registers.
	s3 := c2.StartFakeSlave(slaveResources)
	id3 := cluster.Await(c2, s3.Registered()).GetValue()
	final, err := zkConnect(t, u).Registry().Load().Get()
	want := []string{id1, id3}
	sort.Strings(want)
	if err != nil || slaveIDs(final) != strings.Join(want, ",") {
		t.Fatalf("the new leader's writes: %v %v", final, err)
	}
}
