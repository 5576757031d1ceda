package tests

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	pb "google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/tests/cluster"
)

// otherHost is a network namespace joined to this host by a veth pair:
// to the daemons, a connection dialled from it comes from another machine
// (NsIP is not an address of this host).
type otherHost struct {
	name           string
	HostIP, NsIP   netip.Addr
	hostIf, peerIf string
}

// needNetns skips the test, loudly, where network namespaces cannot be
// made (not root, no iproute2, no CAP_NET_ADMIN); on CI (CI=true), where
// the tests run as root with iproute2 installed, it fails instead.
func needNetns(t *testing.T, why string, err error) {
	t.Helper()
	msg := fmt.Sprintf("NETWORK NAMESPACES UNAVAILABLE, the cross-host forged-pid test did not run: %s: %v", why, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// newOtherHost makes a network namespace and a veth pair with one address
// on each side (10.231.N.1 here, 10.231.N.2 there), removed when the test
// ends.
func newOtherHost(t *testing.T) *otherHost {
	t.Helper()
	if os.Geteuid() != 0 {
		needNetns(t, "not root", nil)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		needNetns(t, "no ip(8) (iproute2)", err)
	}
	n := os.Getpid() % 250
	h := &otherHost{
		name:   fmt.Sprintf("gmsec%d", os.Getpid()),
		HostIP: netip.AddrFrom4([4]byte{10, 231, byte(n), 1}),
		NsIP:   netip.AddrFrom4([4]byte{10, 231, byte(n), 2}),
		hostIf: fmt.Sprintf("gmh%d", os.Getpid()),
		peerIf: fmt.Sprintf("gmp%d", os.Getpid()),
	}
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", h.name); err != nil {
		needNetns(t, "ip netns add", err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", h.name) })
	if err := ip("link", "add", h.hostIf, "type", "veth", "peer", "name", h.peerIf); err != nil {
		needNetns(t, "veth pair", err)
	}
	t.Cleanup(func() { _ = ip("link", "del", h.hostIf) }) // takes the peer with it
	for _, args := range [][]string{
		{"link", "set", h.peerIf, "netns", h.name},
		{"addr", "add", h.HostIP.String() + "/30", "dev", h.hostIf},
		{"link", "set", h.hostIf, "up"},
		{"-n", h.name, "addr", "add", h.NsIP.String() + "/30", "dev", h.peerIf},
		{"-n", h.name, "link", "set", h.peerIf, "up"},
		{"-n", h.name, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err) // namespaces work here: this is a real failure
		}
	}
	return h
}

// Dial opens a TCP connection to addr from inside the namespace: the
// socket is made by a thread that joined the namespace (a socket stays in
// the namespace it was made in). The thread is never unlocked, so it ends
// with its goroutine instead of going back to the scheduler's pool.
func (h *otherHost) Dial(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", h.name))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		c, err := net.DialTimeout("tcp", addr.String(), cluster.Wait)
		done <- result{c, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("dial %s from namespace %s: %v", addr, h.name, r.err)
	}
	if got := netip.MustParseAddrPort(r.c.LocalAddr().String()).Addr(); got != h.NsIP {
		t.Fatalf("connection from the namespace has source %s, want %s", got, h.NsIP)
	}
	return r.c
}

// startClusterOn is cluster.Start with the runtime bound to ip: master,
// slave and framework all advertise that address.
func startClusterOn(t *testing.T, ip netip.Addr) *cluster.Cluster {
	t.Helper()
	rt, err := process.New(process.Options{Testing: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Bind: netip.AddrPortFrom(ip, 0)})
	if err != nil {
		t.Fatalf("start runtime: %v", err)
	}
	t.Cleanup(rt.Close)
	rt.Clock().Pause()
	m := master.New(master.Config{})
	pid, err := m.Start(rt)
	if err != nil {
		t.Fatalf("start master: %v", err)
	}
	c := &cluster.Cluster{T: t, RT: rt, Master: m, MasterPID: pid, Expect: processtest.Expect(t, rt)}
	c.Settle()
	return c
}

// postMessage sends msg to `to` as a raw libprocess POST over conn,
// claiming to come from `from`, and waits for the answer.
func postMessage(t *testing.T, c *cluster.Cluster, conn net.Conn, from, to process.UPID, msg pb.Message) {
	t.Helper()
	defer conn.Close()
	body, err := pb.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(cluster.Wait))
	fmt.Fprintf(conn, "POST /%s/%s HTTP/1.1\r\nLibprocess-From: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		to.ID, pb.MessageName(msg), from, len(body))
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 202") {
		t.Fatalf("POST %s: answer %q", pb.MessageName(msg), answer)
	}
	c.Settle()
}

func forgedDrops(c *cluster.Cluster) float64 {
	return c.RT.Metrics().Snapshot(context.Background())["libprocess/dropped_messages_forged_sender"]
}

// An attacker on another machine that copies the master's pid into
// Libprocess-From cannot make the slave run a command (nor re-register
// with a ping), and one that copies a framework's pid cannot make the
// master kill its task: the peer's IP is
// not the master's (the framework's). The very same bytes sent from the
// daemons' own host are obeyed, so it is the address check that refuses
// them (what it does not stop is README's "Who may send what").
func TestHostileForgedPidsFromAnotherHost(t *testing.T) {
	other := newOtherHost(t)
	c := startClusterOn(t, other.HostIP)
	_, slavePID, work := c.StartSlave(slaveResources, nil)
	d, s, fid := c.StartFramework(cluster.FrameworkInfo("victim"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("victim", o, "sleep 1000")}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("victim task: %v", st)
	}
	marker := filepath.Join(t.TempDir(), "pwned")
	run := &messages.RunTaskMessage{
		FrameworkId: fid, Framework: cluster.FrameworkInfo("victim"), Pid: pb.String(d.PID().String()),
		Task: commandTask("forged", o, "touch "+marker+"; sleep 1000"),
	}
	run.Framework.Id = fid
	forgedSandboxes := func() []string {
		return globNoLatest(filepath.Join(work, "slaves", "*", "frameworks", "*", "executors", "forged", "runs", "*"))
	}
	kill := &messages.KillTaskMessage{FrameworkId: fid, TaskId: &mesos.TaskID{Value: pb.String("victim")}}
	slaveAddr := slavePID.Addr

	// From the other host: both dropped at the transport, counted.
	killed := s.NextUpdate()
	drops := forgedDrops(c)
	postMessage(t, c, other.Dial(t, slaveAddr), c.MasterPID, slavePID, run)
	postMessage(t, c, other.Dial(t, c.MasterPID.Addr), d.PID(), c.MasterPID, kill)
	// A ping saying "not connected" would make the slave register again.
	processtest.ExpectNoFutureProtobufs[*messages.ReregisterSlaveMessage](c.Expect, slavePID, c.MasterPID)
	observer := c.MasterPID
	observer.ID = "slave-observer(1)"
	postMessage(t, c, other.Dial(t, slaveAddr), observer, slavePID, &messages.PingSlaveMessage{Connected: pb.Bool(false)})
	c.Advance(2 * time.Second) // past the re-registration backoff
	if m := forgedSandboxes(); len(m) != 0 {
		t.Fatalf("a forged RunTaskMessage from another host made an executor sandbox: %v", m)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a forged RunTaskMessage from another host ran its command")
	}
	cluster.AssertPending(c, killed)
	if got := forgedDrops(c) - drops; got != 3 {
		t.Fatalf("forged-sender drops: %v, want 3", got)
	}

	// From the host the pids live on: obeyed.
	delivered := processtest.FutureProtobuf[*messages.RunTaskMessage](c.Expect, c.MasterPID, slavePID)
	hostDial := func(addr netip.AddrPort) net.Conn {
		conn, err := (&net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(other.HostIP, 0))}).Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	postMessage(t, c, hostDial(slaveAddr), c.MasterPID, slavePID, run)
	cluster.Await(c, delivered)
	if m := forgedSandboxes(); len(m) != 1 {
		t.Fatalf("the same RunTaskMessage from the master's host made no executor sandbox: %v", m)
	}
	postMessage(t, c, hostDial(c.MasterPID.Addr), d.PID(), c.MasterPID, kill)
	for i := 0; ; i++ { // the forged task's own updates may come first
		st := cluster.Await(c, killed)
		if st.GetTaskId().GetValue() == "victim" {
			if st.GetState() != mesos.TaskState_TASK_KILLED {
				t.Fatalf("after the framework's own KillTaskMessage from its host: %v", st)
			}
			break
		}
		if i == 3 {
			t.Fatalf("no update for the victim task after its framework's KillTaskMessage (last: %v)", st)
		}
		killed = s.NextUpdate()
	}
	if got := forgedDrops(c) - drops; got != 3 {
		t.Fatalf("forged-sender drops after the host's messages: %v, want still 3", got)
	}
}
