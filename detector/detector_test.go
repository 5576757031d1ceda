package detector

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/zktest"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

func TestParseURL(t *testing.T) {
	u, err := ParseURL("zk://bob:secret@h1:2181,h2/mesos/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Servers) != 2 || u.Servers[1] != "h2:2181" || u.Path != "/mesos/prod" || u.User != "bob" || u.Password != "secret" {
		t.Fatalf("%+v", u)
	}
	for _, bad := range []string{"h1:2181/mesos", "zk://h1:2181", "zk:///mesos", "zk://:x@h/m"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func info(id, pid string) *mesos.MasterInfo {
	return &mesos.MasterInfo{Id: proto.String(id), Ip: proto.Uint32(16777343), Port: proto.Uint32(5050), Pid: proto.String(pid), Hostname: proto.String("h")}
}

// next waits for the detector's next report.
func next(t *testing.T, ch <-chan *mesos.MasterInfo) *mesos.MasterInfo {
	t.Helper()
	select {
	case i := <-ch:
		return i
	case <-time.After(30 * time.Second): // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("no leader change reported within 30s")
		return nil
	}
}

func TestElectionAndDetection(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/mesos")
	connect := func() *Client {
		c, err := Connect(u, 5*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	watcher := connect()
	leaders := make(chan *mesos.MasterInfo, 16)
	watcher.Detect(func(i *mesos.MasterInfo) { leaders <- i })
	if l := next(t, leaders); l != nil {
		t.Fatalf("leader before any master: %v", l)
	}

	m1, m2 := connect(), connect()
	c1, err := m1.Contend(info("m1", "master@127.0.0.1:5050"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c1.Elected:
	case <-time.After(30 * time.Second): // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("the only contender was not elected")
	}
	if l := next(t, leaders); l.GetPid() != "master@127.0.0.1:5050" {
		t.Fatalf("detected %v", l)
	}
	c2, err := m2.Contend(info("m2", "master@127.0.0.1:5051"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c2.Elected:
		t.Fatal("a second contender was elected while the first leads")
	default:
	}
	// The leader goes away: the standby takes over.
	m1.Close()
	select {
	case <-c2.Elected:
	case <-time.After(30 * time.Second): // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("the standby was not elected")
	}
	if l := next(t, leaders); l.GetPid() != "master@127.0.0.1:5051" || l.GetId() != "m2" {
		t.Fatalf("detected %v", l)
	}
}

func TestRegistryZnode(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/registry")
	c, err := Connect(u, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := c.Registry()
	if reg, err := r.Load(); reg != nil || err != nil {
		t.Fatalf("empty registry: %v %v", reg, err)
	}
	want := &messages.Registry{Slaves: &messages.Registry_Slaves{Slaves: []*messages.Registry_Slave{
		{Info: &mesos.SlaveInfo{Hostname: proto.String("h"), Id: &mesos.SlaveID{Value: proto.String("S1")}}},
	}}}
	for i := 0; i < 2; i++ { // create, then replace
		if err := r.Save(want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Load()
	if err != nil || !proto.Equal(got, want) {
		t.Fatalf("loaded %v %v", got, err)
	}
	// Detectors ignore the registry node.
	leaders := make(chan *mesos.MasterInfo, 4)
	c.Detect(func(i *mesos.MasterInfo) { leaders <- i })
	if l := next(t, leaders); l != nil {
		t.Fatalf("the registry node was taken for a master: %v", l)
	}
}
