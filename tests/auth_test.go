package tests

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

func credential(p, s string) *mesos.Credential {
	return &mesos.Credential{Principal: proto.String(p), Secret: proto.String(s)}
}

func TestFrameworkAuthentication(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"alice": "wonderland"},
	}})
	// The right secret: registered, with the principal.
	_, _, fid := c.StartFramework(cluster.FrameworkInfo("good"), scheduler.Options{Credential: credential("alice", "wonderland")})
	if fid.GetValue() == "" {
		t.Fatal("no framework id")
	}
	if snap := c.RT.Metrics().Snapshot(t.Context()); snap["master/messages_authenticate"] != 1 {
		t.Fatalf("master/messages_authenticate = %v", snap["master/messages_authenticate"])
	}

	// A wrong secret: the driver reports the refusal.
	bad := cluster.NewScheduler()
	refused := bad.NextError()
	d := scheduler.NewDriver(c.RT, bad, cluster.FrameworkInfo("bad"), c.MasterPID, scheduler.Options{Credential: credential("alice", "nope")})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if msg := cluster.Await(c, refused); msg != "Master refused authentication" {
		t.Fatalf("wrong secret: %q", msg)
	}

	// No credential at all: the master refuses the registration.
	none := cluster.NewScheduler()
	notAuthed := none.NextError()
	d2 := scheduler.NewDriver(c.RT, none, cluster.FrameworkInfo("none"), c.MasterPID, scheduler.Options{})
	if _, err := d2.Start(); err != nil {
		t.Fatal(err)
	}
	if msg := cluster.Await(c, notAuthed); msg != "Framework at "+d2.Self().String()+" is not authenticated" {
		t.Fatalf("unauthenticated framework: %q", msg)
	}

	// A principal in FrameworkInfo must match the authenticated one.
	other := cluster.NewScheduler()
	mismatch := other.NextError()
	info := cluster.FrameworkInfo("other")
	info.Principal = proto.String("bob")
	d3 := scheduler.NewDriver(c.RT, other, info, c.MasterPID, scheduler.Options{Credential: credential("alice", "wonderland")})
	if _, err := d3.Start(); err != nil {
		t.Fatal(err)
	}
	if msg := cluster.Await(c, mismatch); msg != "Framework principal 'bob' does not match authenticated principal 'alice'" {
		t.Fatalf("principal mismatch: %q", msg)
	}
}

func TestSlaveAuthentication(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		AuthenticateSlaves: true, Credentials: map[string]string{"agent": "s3cret"},
	}})
	c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.Credential = credential("agent", "s3cret") })

	// Without a credential the master shuts the slave down.
	shutdown := process.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(t.TempDir(), slaveResources, nil)
	c.Advance(time.Second)
	if m := cluster.Await(c, shutdown); m.GetMessage() != "Agent is not authenticated" {
		t.Fatalf("unauthenticated slave: %q", m.GetMessage())
	}
}
