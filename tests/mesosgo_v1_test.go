package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/tests/cluster"
)

// An unmodified mesos-go v1 HTTP scheduler client (api/v1/lib of the
// Debian package golang-github-mesos-mesos-go-dev, through
// internal/mesosgo's v1scheduler program) against our master and a real
// slave, with each of its codecs: subscribe, offers (port ranges read as
// numbers), launch, acknowledge, heartbeat, reconcile (explicit and
// implicit), decline with a filter, revive, kill, teardown.
func TestMesosGoV1Scheduler(t *testing.T) {
	for _, codec := range []string{"json", "protobuf"} {
		t.Run(codec, func(t *testing.T) { mesosGoV1(t, codec) })
	}
}

func requireMesosGoV1(t *testing.T) {
	t.Helper()
	if _, err := mesosgo.BuildV1(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mesos-go's v1 client must build on CI: %v", err)
		}
		t.Skipf("skipping v1 interop: %v", err)
	}
}

func mesosGoV1(t *testing.T, codec string) {
	requireMesosGoV1(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	_, slavePID, _ := c.StartSlave(slaveResources, nil)

	fw, err := mesosgo.StartProgram(mesosgo.V1SchedulerProgram, "-master="+c.RT.Addr().String(), "-codec="+codec, "-user=test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Stop)
	const bound = 45 * time.Second
	find := func(prefix string) []string {
		t.Helper()
		line, err := fw.Find(prefix, bound)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(line)
	}
	command := func(line, ok string) {
		t.Helper()
		if err := fw.Command(line); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(find("CALL "+ok+" "), " "); got != "CALL "+ok+" ok" {
			t.Fatalf("%s: %s", line, got)
		}
	}

	acked := func() {
		t.Helper()
		if got := strings.Join(find("CALL ACKNOWLEDGE "), " "); got != "CALL ACKNOWLEDGE ok" {
			t.Fatal(got)
		}
	}

	sub := find("SUBSCRIBED ")
	fid := sub[1]
	if !strings.HasPrefix(fid, c.Master.Info().GetId()+"-") || sub[2] != "15" {
		t.Fatalf("subscribed as %v", sub)
	}

	c.Advance(time.Second)
	offer := find("OFFER ")
	if got := strings.Join(offer[3:], " "); got != "cpus=2 disk=1024 mem=1024 ports=31000-32000" {
		t.Fatalf("offer as mesos-go read it: %q", got)
	}

	ack := processtest.FutureProtobuf[*messages.StatusUpdateAcknowledgementMessage](c.Expect, c.MasterPID, slavePID)
	command("launch t1 sleep 1000", "ACCEPT")
	if u := find("UPDATE t1 "); u[2] != "TASK_RUNNING" {
		t.Fatalf("update %v", u)
	}
	acked()
	if m := cluster.Await(c, ack); m.GetTaskId().GetValue() != "t1" || len(m.GetUuid()) != 16 {
		t.Fatalf("acknowledgement reaching the slave: %v", m)
	}

	c.Advance(15 * time.Second)
	find("HEARTBEAT")

	command("reconcile t1", "RECONCILE")
	if u := find("UPDATE t1 "); u[2] != "TASK_RUNNING" {
		t.Fatalf("explicit reconciliation: %v", u)
	}
	command("reconcile", "RECONCILE")
	if u := find("UPDATE t1 "); u[2] != "TASK_RUNNING" {
		t.Fatalf("implicit reconciliation: %v", u)
	}

	// What is left of the slave is offered again; declined for 100 s, it
	// is not offered at the next allocations, until REVIVE.
	c.Advance(time.Second)
	left := find("OFFER ")
	if !strings.Contains(strings.Join(left, " "), "cpus=1.5 disk=1024 mem=960 ports=31001-32000") {
		t.Fatalf("second offer %v", left)
	}
	command("decline 100", "DECLINE")
	c.Advance(time.Second)
	c.Advance(time.Second)
	if n := outstandingOffers(t, c); n != 0 {
		t.Fatalf("%v offers outstanding after DECLINE with a 100 s filter", n)
	}
	command("revive", "REVIVE")
	c.Advance(time.Second)
	if again := find("OFFER "); again[1] == left[1] {
		t.Fatalf("offer after revive %v", again)
	}

	command("kill t1", "KILL")
	if u := find("UPDATE t1 "); u[2] != "TASK_KILLED" {
		t.Fatalf("after KILL: %v", u)
	}
	acked()

	exited := c.Expect.FutureExited(process.Any, c.MasterPID)
	command("teardown", "TEARDOWN")
	cluster.Await(c, exited)
	find("STREAM ended")
	c.Settle()
	_, state := get(t, c, "/master/state")
	var st struct {
		Frameworks          []struct{ ID string } `json:"frameworks"`
		CompletedFrameworks []struct{ ID string } `json:"completed_frameworks"`
	}
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Frameworks) != 0 || len(st.CompletedFrameworks) != 1 || st.CompletedFrameworks[0].ID != fid {
		t.Fatalf("after TEARDOWN: %s", state)
	}
	if lines := fw.Kept(); len(lines) > 0 {
		t.Logf("lines not looked at: %q", lines)
	}
}

// outstandingOffers reads master/outstanding_offers from /metrics/snapshot.
func outstandingOffers(t *testing.T, c *cluster.Cluster) float64 {
	t.Helper()
	_, body := get(t, c, "/metrics/snapshot")
	var m map[string]float64
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(fmt.Errorf("metrics %s: %w", body, err))
	}
	return m["master/outstanding_offers"]
}

// mesos-go's v1 client pointed at a standby master follows its 307 to
// the leader and subscribes there.
func TestMesosGoV1FollowsRedirect(t *testing.T) {
	requireMesosGoV1(t)
	g := detector.NewGroup()
	leader := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Contender: g.Contender(), Detector: g.Detector()}})
	standby := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{Contender: g.Contender(), Detector: g.Detector()}})
	leader.Settle()
	standby.Settle()
	fw, err := mesosgo.StartProgram(mesosgo.V1SchedulerProgram, "-master="+standby.RT.Addr().String(), "-user=test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Stop)
	line, err := fw.Find("SUBSCRIBED ", 45*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.Fields(line)[1], leader.Master.Info().GetId()+"-") {
		t.Fatalf("subscribed as %q, leader %s", line, leader.Master.Info().GetId())
	}
}

// mesos-go's v1 client with HTTP Basic credentials (httpcli.BasicAuth)
// subscribes to a master that authenticates frameworks; with a wrong
// secret its SUBSCRIBE fails (401).
func TestMesosGoV1Authenticates(t *testing.T) {
	requireMesosGoV1(t)
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"alice": "wonderland"},
	}})
	for _, tc := range []struct{ secret, want string }{
		{"nope", "SUBSCRIBE error"},
		{"wonderland", "SUBSCRIBED "},
	} {
		fw, err := mesosgo.StartProgram(mesosgo.V1SchedulerProgram, "-master="+c.RT.Addr().String(), "-user=test", "-principal=alice", "-secret="+tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fw.Stop)
		line, err := fw.Find(tc.want, 45*time.Second)
		if err != nil {
			t.Fatalf("secret %q: %v", tc.secret, err)
		}
		t.Logf("secret %q: %s", tc.secret, line)
	}
	c.Settle()
	_, state := get(t, c, "/master/state")
	if !strings.Contains(string(state), `"principal":"alice"`) {
		t.Fatalf("no framework of principal alice: %s", state)
	}
}
