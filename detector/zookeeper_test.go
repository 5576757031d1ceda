package detector

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/zktest"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
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

// wallTimers runs the ZooKeeper client's retries on wall time: the
// server is a real one.
type wallTimers struct{}

func (wallTimers) AfterFunc(d time.Duration, fn func()) func() bool {
	return time.AfterFunc(d, fn).Stop // wall-clock: retries against a real ZooKeeper
}

func connect(t *testing.T, u URL) *Client {
	t.Helper()
	c, err := Connect(u, Options{SessionTimeout: 5 * time.Second, Timers: wallTimers{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func await(t *testing.T, f future.Future[*mesos.MasterInfo]) *mesos.MasterInfo {
	t.Helper()
	if !f.Await(30 * time.Second) { // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("nothing detected within 30s")
	}
	l, err := f.Get()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestElectionAndDetection(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/mesos")
	watcher := connect(t, u)
	leaders := make(chan *mesos.MasterInfo, 16)
	defer Follow(watcher.Detector(), func(i *mesos.MasterInfo) { leaders <- i })()

	m1, m2 := connect(t, u), connect(t, u)
	c1 := m1.Contender().Contend(info("m1", "master@127.0.0.1:5050"))
	if !c1.Await(30 * time.Second) { // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("the only contender was not elected")
	}
	if _, err := c1.Get(); err != nil {
		t.Fatal(err)
	}
	if l := next(t, leaders); l.GetPid() != "master@127.0.0.1:5050" {
		t.Fatalf("detected %v", l)
	}
	c2 := m2.Contender().Contend(info("m2", "master@127.0.0.1:5051"))
	if c2.IsReady() {
		t.Fatal("a second contender was elected while the first leads")
	}
	// The leader goes away: the standby takes over.
	m1.Close()
	if !c2.Await(30 * time.Second) { // wall-clock: bounds a wait on ZooKeeper
		t.Fatal("the standby was not elected")
	}
	// (m2's node may be created after m1's went away: a moment without a
	// leader is fine.)
	l := next(t, leaders)
	if l == nil {
		l = next(t, leaders)
	}
	if l.GetPid() != "master@127.0.0.1:5051" || l.GetId() != "m2" {
		t.Fatalf("detected %v", l)
	}
}

func TestContenderWithdraws(t *testing.T) {
	srv := zktest.Start(t)
	u, _ := ParseURL("zk://" + srv.Addr + "/test/withdraw")
	watcher := connect(t, u)
	leaders := make(chan *mesos.MasterInfo, 16)
	defer Follow(watcher.Detector(), func(i *mesos.MasterInfo) { leaders <- i })()
	c := connect(t, u).Contender()
	elected := c.Contend(info("m1", "master@127.0.0.1:5050"))
	if !elected.Await(30*time.Second) || !elected.IsReady() { // wall-clock: bounds a wait on ZooKeeper
		t.Fatalf("not elected: %v", elected)
	}
	if l := next(t, leaders); l.GetId() != "m1" {
		t.Fatalf("detected %v", l)
	}
	c.Withdraw()
	lost := elected.Value()
	if !lost.Await(30*time.Second) || !lost.IsReady() { // wall-clock: bounds a wait on ZooKeeper
		t.Fatalf("leadership after withdrawing: %v", lost)
	}
	if l := next(t, leaders); l != nil {
		t.Fatalf("detected %v after the leader withdrew", l)
	}
}
