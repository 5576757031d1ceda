package detector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/zktest"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

// elect connects to u and waits until the client's contender leads.
func elect(t *testing.T, u URL, id string) *Client {
	t.Helper()
	c := connect(t, u)
	f := c.Contender().Contend(info(id, "master@127.0.0.1:5050"))
	if !f.Await(30*time.Second) || !f.IsReady() { // wall-clock: bounds a wait on ZooKeeper
		t.Fatalf("%s not elected: %v", id, f)
	}
	return c
}

func syntheticSlave(i int) *messages.Registry_Slave {
	scalar := func(name string, v float64) *mesos.Resource {
		return &mesos.Resource{Name: proto.String(name), Type: mesos.Value_SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: proto.Float64(v)}, Role: proto.String("*")}
	}
	return &messages.Registry_Slave{Info: &mesos.SlaveInfo{
		Hostname:  proto.String(fmt.Sprintf("host-%05d.example.com", i)),
		Port:      proto.Int32(5051),
		Id:        &mesos.SlaveID{Value: proto.String(fmt.Sprintf("2b8f4c1e-6a3d-4f0e-9c55-7d1a2e3f4b5c-S%d", i))},
		Resources: []*mesos.Resource{scalar("cpus", 16), scalar("mem", 65536), scalar("disk", 1<<20)},
	}}
}

func registryOf(master string, slaves int) *messages.Registry {
	reg := &messages.Registry{
		Master: &messages.Registry_Master{Info: info(master, "master@127.0.0.1:5050")},
		Slaves: &messages.Registry_Slaves{},
	}
	for i := 0; i < slaves; i++ {
		reg.Slaves.Slaves = append(reg.Slaves.Slaves, syntheticSlave(i))
	}
	return reg
}

// rootHeader reads the registry root's chunk list.
func rootHeader(t *testing.T, c *Client) header {
	t.Helper()
	data, _, err := c.conn.Get(c.url.Path + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func chunkNames(t *testing.T, c *Client) []string {
	t.Helper()
	children, _, err := c.conn.Children(c.url.Path + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	return children
}

func TestRegistryStoresAndLoads(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/registry")
	c := elect(t, u, "m1")
	r := c.Registry()
	if reg, err := r.Load().Get(); reg != nil || err != nil {
		t.Fatalf("empty registry: %v %v", reg, err)
	}
	want := registryOf("m1", 1)
	for i := 0; i < 2; i++ { // create, then replace
		if _, err := r.Store(want).Get(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := connect(t, u).Registry().Load().Get()
	if err != nil || !proto.Equal(got, want) {
		t.Fatalf("loaded %v %v", got, err)
	}
	// Detectors ignore the registry node.
	detected := c.Detector().Detect(info("none", "master@127.0.0.1:1"))
	if l := await(t, detected); l.GetId() != "m1" {
		t.Fatalf("detected %v", l)
	}
}

// 50,000 slaves (about 10 times ZooKeeper's 1 MB limit on a znode) are
// stored in chunks; admitting one more rewrites only the last chunk.
func TestRegistryFiftyThousandSlaves(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/big")
	c := elect(t, u, "m1")
	r := c.Registry()
	if _, err := r.Load().Get(); err != nil {
		t.Fatal(err)
	}
	reg := registryOf("m1", 50000)
	if size := proto.Size(reg); size < 5<<20 {
		t.Fatalf("the registry has only %d bytes", size)
	}
	if _, err := r.Store(reg).Get(); err != nil {
		t.Fatal(err)
	}
	before := rootHeader(t, c)
	if len(before.Chunks) < 10 {
		t.Fatalf("%d chunks", len(before.Chunks))
	}
	for i, n := range before.Sizes {
		if n > DefaultChunkSize {
			t.Fatalf("chunk %d has %d bytes", i, n)
		}
	}
	reg.Slaves.Slaves = append(reg.Slaves.Slaves, syntheticSlave(50000))
	if _, err := r.Store(reg).Get(); err != nil {
		t.Fatal(err)
	}
	after := rootHeader(t, c)
	n := len(after.Chunks)
	if n != len(before.Chunks) || strings.Join(after.Chunks[:n-1], ",") != strings.Join(before.Chunks[:n-1], ",") || after.Chunks[n-1] == before.Chunks[n-1] {
		t.Fatalf("chunks before %v, after %v: want only the last one rewritten", before.Chunks, after.Chunks)
	}
	if left := chunkNames(t, c); len(left) != n {
		t.Fatalf("%d chunk znodes for %d chunks: the replaced one was not deleted", len(left), n)
	}
	got, err := connect(t, u).Registry().Load().Get()
	if err != nil || !sameEncoding(got, reg) {
		t.Fatalf("loaded %d slaves (%v), want %d", len(got.GetSlaves().GetSlaves()), err, len(reg.Slaves.Slaves))
	}
}

// sameEncoding compares registries by their deterministic encodings
// (cheaper than proto.Equal for 50,000 slaves under the race detector).
func sameEncoding(a, b *messages.Registry) bool {
	opts := proto.MarshalOptions{Deterministic: true}
	x, err1 := opts.Marshal(a)
	y, err2 := opts.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// A store fails with ErrFenced, and changes nothing, when the writer is
// not elected, when its leadership node is gone, and when another writer
// stored since it read the registry.
func TestRegistryWritesAreFenced(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/fenced")
	leader := elect(t, u, "m1")
	r := leader.Registry()
	if _, err := r.Load().Get(); err != nil {
		t.Fatal(err)
	}
	want := registryOf("m1", 3)
	if _, err := r.Store(want).Get(); err != nil {
		t.Fatal(err)
	}
	standby := connect(t, u)
	if _, err := standby.Registry().Store(registryOf("m2", 0)).Get(); !errors.Is(err, ErrFenced) {
		t.Fatalf("a store without leading: %v", err)
	}

	// Another writer (a second Registry of the leader) stores: r's read
	// is stale.
	other := leader.Registry()
	if _, err := other.Load().Get(); err != nil {
		t.Fatal(err)
	}
	want = registryOf("m1", 4)
	if _, err := other.Store(want).Get(); err != nil {
		t.Fatal(err)
	}
	chunks := len(chunkNames(t, leader))
	if _, err := r.Store(registryOf("m1", 5)).Get(); !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("a store over a stale version: %v", err)
	}
	if n := len(chunkNames(t, leader)); n != chunks {
		t.Fatalf("a fenced store left chunks: %d, then %d", chunks, n)
	}

	// The leadership node is gone, and the client has not noticed yet.
	leader.setLeading(u.Path + "/" + NodePrefix + "9999999999")
	if _, err := other.Store(registryOf("m1", 6)).Get(); !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("a store after losing the leadership node: %v", err)
	}
	got, err := connect(t, u).Registry().Load().Get()
	if err != nil || !proto.Equal(got, want) {
		t.Fatalf("loaded %v %v", got, err)
	}
}

// A new leader takes over a registry an older version stored whole, and
// deletes chunks no version can use.
func TestRegistryMigratesAndSweeps(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/migrate")
	c := elect(t, u, "m1")
	old := registryOf("m0", 2)
	data, _ := proto.Marshal(old)
	if err := c.ensurePath(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.conn.Create(u.Path+"/registry", data, zk.FlagPersistent, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// A chunk a deposed writer left behind.
	if _, err := c.conn.Create(u.Path+"/registry/"+chunkPrefix, []byte("garbage"), zk.FlagPersistent|zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	r := c.Registry()
	got, err := r.Load().Get()
	if err != nil || !proto.Equal(got, old) {
		t.Fatalf("loaded %v %v", got, err)
	}
	want := registryOf("m1", 2)
	if _, err := r.Store(want).Get(); err != nil {
		t.Fatal(err)
	}
	if got, err := connect(t, u).Registry().Load().Get(); err != nil || !proto.Equal(got, want) {
		t.Fatalf("loaded %v %v", got, err)
	}
	h := rootHeader(t, c)
	if n := len(chunkNames(t, c)); n != len(h.Chunks) {
		b, _ := json.Marshal(h)
		t.Fatalf("%d chunk znodes, %s", n, b)
	}
}

// A commit whose answer was lost (the connection dropped) is looked up
// by the next store: if it took, the next store writes over it instead
// of being fenced.
func TestRegistryCommitWithLostAnswer(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/lost")
	c := elect(t, u, "m1")
	r := c.Registry()
	if _, err := r.Load().Get(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Store(registryOf("m1", 1)).Get(); err != nil {
		t.Fatal(err)
	}
	// Make as if the next commit's answer were lost: it took, but r
	// still knows the version before it.
	before := r.version
	if _, err := r.Store(registryOf("m1", 2)).Get(); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.conn.Get(u.Path + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := split(registryOf("m1", 2), DefaultChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	r.unsure = &attempt{data: data, names: r.current, chunks: chunks}
	r.version = before
	want := registryOf("m1", 3)
	if _, err := r.Store(want).Get(); err != nil {
		t.Fatalf("a store after a commit whose answer was lost: %v", err)
	}
	if got, err := connect(t, u).Registry().Load().Get(); err != nil || !proto.Equal(got, want) {
		t.Fatalf("loaded %v %v", got, err)
	}
}
