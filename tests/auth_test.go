package tests

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth/acls"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
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
	if msg := cluster.Await(c, notAuthed); msg != "Framework at "+d2.PID().String()+" is not authenticated" {
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
	shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(t.TempDir(), slaveResources, nil)
	c.Advance(time.Second)
	if m := cluster.Await(c, shutdown); m.GetMessage() != "Agent is not authenticated" {
		t.Fatalf("unauthenticated slave: %q", m.GetMessage())
	}
}

func mustACLs(t *testing.T, js string) *acls.Authorizer {
	t.Helper()
	a, err := acls.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthorization(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Credentials: map[string]string{"ops": "opspass", "dev": "devpass"},
		Authorizer: mustACLs(t, `{
			"register_frameworks": [
				{"principals": {"values": ["alice"]}, "roles": {"values": ["analytics"]}},
				{"principals": {"type": "NONE"}, "roles": {"values": ["analytics"]}}],
			"run_tasks": [{"principals": {"type": "NONE"}, "users": {"values": ["root"]}}],
			"shutdown_frameworks": [
				{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}},
				{"principals": {"type": "NONE"}, "framework_principals": {"type": "ANY"}}]}`),
	}})
	fs := c.StartFakeSlave(slaveResources)
	cluster.Await(c, fs.Registered())

	// register_frameworks: only alice may use the analytics role.
	bob := cluster.FrameworkInfo("bob")
	bob.Principal, bob.Role = proto.String("bob"), proto.String("analytics")
	refused := cluster.NewScheduler()
	refusedErr := refused.NextError()
	d0 := scheduler.NewDriver(c.RT, refused, bob, c.MasterPID, scheduler.Options{})
	if _, err := d0.Start(); err != nil {
		t.Fatal(err)
	}
	if msg := cluster.Await(c, refusedErr); msg != "Not authorized to use role 'analytics'" {
		t.Fatalf("bob in analytics: %q", msg)
	}
	alice := cluster.FrameworkInfo("alice")
	alice.Principal, alice.Role = proto.String("alice"), proto.String("analytics")
	d, s, fid := c.StartFramework(alice, scheduler.Options{})

	// run_tasks: nobody runs tasks as root.
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	update := s.NextUpdate()
	asRoot := cluster.CommandTask("root-task", o, "cpus:1;mem:64", "id")
	asRoot.Command.User = proto.String("root")
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{asRoot}, nil)
	if st := cluster.Await(c, update); st.GetState() != mesos.TaskState_TASK_ERROR || st.GetReason() != mesos.TaskStatus_REASON_TASK_UNAUTHORIZED {
		t.Fatalf("task as root: %v %v %q", st.GetState(), st.GetReason(), st.GetMessage())
	}

	// shutdown_frameworks: only ops may tear down, with its password.
	teardown := func(user, pass string) int {
		code, _ := httpStatus(t, c, http.MethodPost, "/master/teardown", url.Values{"frameworkId": {fid.GetValue()}}, user, pass)
		return code
	}
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"ops", "wrong", 401}, {"dev", "devpass", 401}, {"ops", "opspass", 200}} {
		if code := teardown(tc.user, tc.pass); code != tc.want {
			t.Fatalf("teardown as %q/%q: %d, want %d", tc.user, tc.pass, code, tc.want)
		}
	}
}
