package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pb "google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/recordio"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// fakeSandbox makes a directory of an executor run's sandbox shape under a
// slave's work directory that no executor of the slave owns.
func fakeSandbox(t *testing.T, work string) string {
	t.Helper()
	dir := filepath.Join(work, "slaves", "S0", "frameworks", "F0", "executors", "E0", "runs", "C0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// liveTask is a real slave running one task in a real executor.
type liveTask struct {
	Slave   *slave.Slave
	Driver  *scheduler.Driver
	Sched   *cluster.Scheduler
	FID     *mesos.FrameworkID
	Sandbox string // the executor's sandbox, attached by the slave
}

// liveSandbox starts a real slave (adjusted by mod) and a framework whose
// task "sandboxed" (a real command executor) runs until killed.
func liveSandbox(t *testing.T, c *cluster.Cluster, mod func(*slave.Config)) liveTask {
	t.Helper()
	sl, _, work := c.StartSlave(slaveResources, mod)
	d, s, fid := c.StartFramework(cluster.FrameworkInfo("sandboxed"), scheduler.Options{})
	offers := s.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := s.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("sandboxed", o, "exec sleep 1000")}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("sandboxed task: %v", st)
	}
	return liveTask{Slave: sl, Driver: d, Sched: s, FID: fid, Sandbox: sandboxOf(t, work, "sandboxed")}
}

// filesQuery is a /files request for path with extra query parameters.
func filesQuery(verb, path, extra string) string {
	q := "/files/" + verb + "?path=" + url.QueryEscape(path)
	if extra != "" {
		q += "&" + extra
	}
	return q
}

// A task that swaps a directory of its sandbox for a symbolic link to a
// directory outside (while requests run) never gets /files to serve what
// is outside.
func TestHostileFilesSymlinkSwapNeverLeaks(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	sandbox := liveSandbox(t, c, nil).Sandbox
	sub := filepath.Join(sandbox, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "f"), []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, "f"), []byte("SECRET-CONTENT"), 0o644); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the task: swap sub for a link to secret and back
		defer wg.Done()
		real := filepath.Join(sandbox, "sub.real")
		for !stop.Load() {
			if err := os.Rename(sub, real); err != nil {
				t.Error(err)
				return
			}
			if err := os.Symlink(secret, sub); err != nil {
				t.Error(err)
				return
			}
			_ = os.Remove(sub)
			if err := os.Rename(real, sub); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	base := "http://" + c.RT.Addr().String()
	var served, leaked atomic.Int64
	deadline := time.Now().Add(2 * time.Second) // wall-clock: bounding a race loop
	var clients sync.WaitGroup
	for i := 0; i < 4; i++ {
		clients.Add(1)
		go func() {
			defer clients.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for n := 0; time.Now().Before(deadline); n++ { // wall-clock: bounding a race loop
				verb, extra := "read", "offset=0"
				switch n % 3 {
				case 1:
					verb, extra = "download", ""
				case 2:
					verb, extra = "browse", ""
				}
				p := filepath.Join(sub, "f")
				if verb == "browse" {
					p = sub
				}
				resp, err := client.Get(base + filesQuery(verb, p, extra))
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				// The secret file is the only one of 14 bytes.
				if strings.Contains(string(body), "SECRET") || strings.Contains(string(body), `"size":14`) {
					leaked.Add(1)
				}
				if resp.StatusCode == 200 {
					served.Add(1)
				}
			}
		}()
	}
	clients.Wait()
	stop.Store(true)
	wg.Wait()
	if leaked.Load() != 0 {
		t.Fatalf("%d responses leaked the file outside the sandbox", leaked.Load())
	}
	if served.Load() == 0 {
		t.Fatal("no request was served while the sandbox changed")
	}
	t.Logf("%d requests served, none leaked", served.Load())
}

// A FIFO in a sandbox is refused at once instead of blocking the request
// (and a thread) on its open.
func TestHostileFilesFIFORefused(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	sandbox := liveSandbox(t, c, nil).Sandbox
	fifo := filepath.Join(sandbox, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{filesQuery("read", fifo, "offset=0"), filesQuery("download", fifo, "")} {
		if code, body := get(t, c, q); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, code, body)
		}
	}
	if code, body := get(t, c, filesQuery("browse", sandbox, "")); code != 200 || !strings.Contains(string(body), "fifo") {
		t.Errorf("browse of the sandbox: %d %s", code, body)
	}
}

// Only executor sandboxes (and the slave's log) are exposed: not the
// checkpoints in meta/, not the work directory, not a `..` out of a
// sandbox.
func TestHostileFilesOnlySandboxes(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	sandbox := liveSandbox(t, c, nil).Sandbox
	if err := os.WriteFile(filepath.Join(sandbox, "note"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := workDirOf(sandbox)
	stale := fakeSandbox(t, work)
	if err := os.WriteFile(filepath.Join(stale, "note"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(work, "meta")
	info := globNoLatest(filepath.Join(meta, "slaves", "*", "slave.info"))
	if len(info) != 1 {
		t.Fatalf("slave.info: %v", info)
	}
	for _, q := range []string{
		filesQuery("browse", meta, ""),
		filesQuery("browse", work, ""),
		filesQuery("browse", filepath.Join(work, "slaves"), ""),
		filesQuery("browse", filepath.Join(sandbox, ".."), ""),
		filesQuery("read", info[0], "offset=0"),
		filesQuery("download", info[0], ""),
		filesQuery("read", filepath.Join(sandbox, "..", "..", "..", "..", "..", "..", "..", "..", "meta", "boot_id"), "offset=0"),
		filesQuery("read", "/etc/passwd", "offset=0"),
		filesQuery("browse", stale, ""), // the shape of a sandbox, but no executor's
		filesQuery("read", filepath.Join(stale, "note"), "offset=0"),
	} {
		if code, body := get(t, c, q); code != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", q, code, body)
		}
	}
	if code, body := get(t, c, filesQuery("read", filepath.Join(sandbox, "note"), "offset=0")); code != 200 || !strings.Contains(string(body), "hello") {
		t.Errorf("read in the sandbox: %d %s", code, body)
	}
	// The slave's log file, when it has one, at /slave/log.
	logFile := filepath.Join(t.TempDir(), "mesos-slave.log")
	if err := os.WriteFile(logFile, []byte("a log line"), 0o644); err != nil {
		t.Fatal(err)
	}
	slave.AttachLog(c.RT, logFile)
	if code, body := get(t, c, filesQuery("read", slave.LogPath, "offset=0")); code != 200 || !strings.Contains(string(body), "a log line") {
		t.Errorf("read of the slave's log: %d %s", code, body)
	}
}

// workDirOf is the work directory holding an executor run's sandbox
// (slaves/<s>/frameworks/<f>/executors/<e>/runs/<c> below it).
func workDirOf(sandbox string) string {
	for range 8 {
		sandbox = filepath.Dir(sandbox)
	}
	return sandbox
}

// An executor's sandbox is served from its launch until the garbage
// collector removes it (also after the executor ended, as in Mesos), and
// not after: a directory made again at the same path is not served.
func TestHostileFilesSandboxDetachedOnGC(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	live := liveSandbox(t, c, func(cfg *slave.Config) { cfg.GCDelay = time.Minute })
	sandbox := live.Sandbox
	note := filepath.Join(sandbox, "note")
	if err := os.WriteFile(note, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func() int {
		code, _ := get(t, c, filesQuery("read", note, "offset=0"))
		return code
	}
	if code := read(); code != 200 {
		t.Fatalf("a running executor's sandbox: %d", code)
	}
	killed := live.Sched.NextUpdate()
	exited := live.Slave.ExecutorTerminated(live.FID.GetValue(), "sandboxed")
	_, _ = live.Driver.KillTask(&mesos.TaskID{Value: pb.String("sandboxed")})
	if st := cluster.Await(c, killed); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("kill: %v", st)
	}
	cluster.Await(c, exited)
	if code := read(); code != 200 {
		t.Fatalf("a finished executor's sandbox before garbage collection: %d", code)
	}
	c.Advance(time.Minute)
	if _, err := os.Stat(sandbox); !os.IsNotExist(err) {
		t.Fatalf("sandbox not garbage collected: %v", err)
	}
	if err := os.MkdirAll(sandbox, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(note, []byte("again"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := read(); code != http.StatusNotFound {
		t.Fatalf("a garbage-collected sandbox made again: %d, want 404", code)
	}
}

// offset and length must be numbers, at least -1.
func TestHostileFilesBadOffsets(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	sandbox := liveSandbox(t, c, nil).Sandbox
	f := filepath.Join(sandbox, "note")
	if err := os.WriteFile(f, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"offset=-5", "offset=x", "offset=1e3", "offset=0&length=-7", "offset=0&length=ten", "offset=99999999999999999999"} {
		if code, body := get(t, c, filesQuery("read", f, extra)); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", extra, code, body)
		}
	}
	code, body := get(t, c, filesQuery("read", f, "offset=1&length=3"))
	if want := fmt.Sprintf(`{"data":"ell","offset":%d}`, 1); code != 200 || strings.TrimSpace(string(body)) != want {
		t.Errorf("read: %d %s, want %s", code, body, want)
	}
}

// A slave that restarts close to its ping timeout (4 of 5 pings missed)
// and re-registers starts with a clean record: it is not removed at the
// next ping.
func TestHostileReregistrationResetsMissedPings(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	fs := c.StartFakeSlave(slaveResources)
	id := cluster.Await(c, fs.Registered())
	processtest.DropProtobufs[*messages.PongSlaveMessage](c.Expect, fs.Self(), process.Any)
	for i := 0; i < 5; i++ { // 4 pings missed: the next would remove it
		c.Advance(15 * time.Second)
	}
	shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, fs.Self())
	reregistered := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, fs.Self())
	info := pb.Clone(fs.Info).(*mesos.SlaveInfo)
	info.Id = id
	if err := c.RT.Send(fs.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{Slave: info}); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, reregistered)
	c.Advance(15 * time.Second)
	c.Advance(15 * time.Second)
	cluster.AssertPending(c, shutdown)
}

// Re-registration with a slave id the master never issued and the
// registry does not hold, or one that would be a path, is refused with a
// ShutdownMessage.
func TestHostileReregistrationWithForgedSlaveID(t *testing.T) {
	store := registrar.File{Path: filepath.Join(t.TempDir(), "registry")}
	c := cluster.Start(t, cluster.Options{Master: master.Config{Registry: store}})
	real := c.StartFakeSlave(slaveResources)
	id := cluster.Await(c, real.Registered()).GetValue()
	masterID := id[:strings.LastIndex(id, "-S")]
	for _, forged := range []string{"../../etc", "a/b", masterID + "-S99", "0f0f0f0f-1111-4222-8333-444444444444-S0"} {
		fake := c.StartFakeSlave(slaveResources)
		shutdown := processtest.FutureProtobuf[*messages.ShutdownMessage](c.Expect, c.MasterPID, fake.Self())
		cluster.Await(c, fake.Registered()) // its own process writes Info until then
		info := pb.Clone(fake.Info).(*mesos.SlaveInfo)
		info.Id = &mesos.SlaveID{Value: pb.String(forged)}
		if err := c.RT.Send(fake.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{Slave: info}); err != nil {
			t.Fatal(err)
		}
		if m := cluster.Await(c, shutdown); !strings.Contains(m.GetMessage(), "unknown id") {
			t.Errorf("%s: shutdown %q", forged, m.GetMessage())
		}
	}
	// The real one re-registers fine.
	again := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, real.Self())
	info := pb.Clone(real.Info).(*mesos.SlaveInfo)
	info.Id = &mesos.SlaveID{Value: pb.String(id)}
	if err := c.RT.Send(real.Self(), c.MasterPID, &messages.ReregisterSlaveMessage{Slave: info}); err != nil {
		t.Fatal(err)
	}
	cluster.Await(c, again)
}

// v1Post posts a v1 scheduler call (JSON), edited by edit (headers,
// credentials), and returns the response; a 200 (SUBSCRIBE) keeps its
// stream open until the test ends.
func v1Post(t *testing.T, c *cluster.Cluster, body string, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/scheduler", c.RT.Addr()), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if edit != nil {
		edit(req)
	}
	pr := future.NewPromise[*http.Response]()
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.Fail(err)
			return
		}
		pr.Set(resp)
	}()
	resp := cluster.Await(c, pr.Future())
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// withStream and withBasic are v1Post edits.
func withStream(id string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Mesos-Stream-Id", id) }
}

func withBasic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// libprocessFrameworkWithTask starts a libprocess framework (our driver)
// with one running task on a fake slave.
func libprocessFrameworkWithTask(t *testing.T, c *cluster.Cluster, opts scheduler.Options) (*cluster.FakeSlave, string) {
	t.Helper()
	fs := c.StartFakeSlave(slaveResources)
	cluster.Await(c, fs.Registered())
	d, s, fid := c.StartFramework(cluster.FrameworkInfo("libprocess"), opts)
	launchOne(t, c, d, s, "t1")
	return fs, fid.GetValue()
}

// A v1 KILL for a framework registered over libprocess is refused, with
// or without a stream id: it cannot be driven through the v1 API.
func TestHostileV1KillForLibprocessFramework(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	fs, fid := libprocessFrameworkWithTask(t, c, scheduler.Options{})
	kill := processtest.FutureProtobuf[*messages.KillTaskMessage](c.Expect, c.MasterPID, fs.Self())
	call := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"KILL","kill":{"task_id":{"value":"t1"}}}`, fid)
	for _, edit := range []func(*http.Request){nil, withStream("guessed")} {
		if resp := v1Post(t, c, call, edit); resp.StatusCode != http.StatusForbidden {
			t.Errorf("KILL for a libprocess framework: %d, want 403", resp.StatusCode)
		}
	}
	cluster.AssertPending(c, kill)
	if n := c.Master.TaskCount(); n != 1 {
		t.Fatalf("master holds %d tasks, want 1", n)
	}
}

// A v1 TEARDOWN for a framework registered over libprocess is refused:
// the framework stays, its task too.
func TestHostileV1TeardownForLibprocessFramework(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	fs, fid := libprocessFrameworkWithTask(t, c, scheduler.Options{})
	shutdown := processtest.FutureProtobuf[*messages.ShutdownFrameworkMessage](c.Expect, c.MasterPID, fs.Self())
	call := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"TEARDOWN"}`, fid)
	if resp := v1Post(t, c, call, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("TEARDOWN for a libprocess framework: %d, want 403", resp.StatusCode)
	}
	cluster.AssertPending(c, shutdown)
	if n := c.Master.TaskCount(); n != 1 {
		t.Fatalf("master holds %d tasks, want 1", n)
	}
}

// With --authenticate, a v1 SUBSCRIBE needs HTTP Basic credentials from
// --credentials (401 with WWW-Authenticate otherwise) whose principal is
// framework_info.principal (403 otherwise); a subscribed framework gets no
// offers before.
func TestHostileV1SubscribeNeedsCredentials(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"alice": "wonderland", "bob": "builder"},
	}})
	fs := c.StartFakeSlave(slaveResources)
	cluster.Await(c, fs.Registered())
	subscribe := `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1","principal":"alice"}}}`
	for name, edit := range map[string]func(*http.Request){
		"none":     nil,
		"wrong":    withBasic("alice", "nope"),
		"stranger": withBasic("mallory", "x"),
	} {
		resp := v1Post(t, c, subscribe, edit)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s credentials: %d %v, want 401 with WWW-Authenticate", name, resp.StatusCode, resp.Header)
		}
	}
	if resp := v1Post(t, c, subscribe, withBasic("bob", "builder")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("principal mismatch: %d, want 403", resp.StatusCode)
	}
	c.Advance(time.Second)
	_, state := get(t, c, "/master/state")
	if strings.Contains(string(state), `"name":"v1"`) {
		t.Fatalf("a refused subscription registered: %s", state)
	}
	resp := v1Post(t, c, subscribe, func(r *http.Request) {
		r.SetBasicAuth("alice", "wonderland")
		r.Header.Set("Accept", "application/json")
	})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Mesos-Stream-Id") == "" {
		t.Fatalf("alice's SUBSCRIBE: %d %v", resp.StatusCode, resp.Header)
	}
}

// With --authenticate, an anonymous v1 KILL (or one with another
// principal's credentials) does not kill an authenticated framework's
// task.
func TestHostileV1AnonymousKill(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"alice": "wonderland", "bob": "builder"},
	}})
	fs, fid := libprocessFrameworkWithTask(t, c, scheduler.Options{Credential: credential("alice", "wonderland")})
	kill := processtest.FutureProtobuf[*messages.KillTaskMessage](c.Expect, c.MasterPID, fs.Self())
	call := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"KILL","kill":{"task_id":{"value":"t1"}}}`, fid)
	if resp := v1Post(t, c, call, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous KILL: %d, want 401", resp.StatusCode)
	}
	if resp := v1Post(t, c, call, withBasic("bob", "builder")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob's KILL of alice's task: %d, want 403", resp.StatusCode)
	}
	cluster.AssertPending(c, kill)
	if n := c.Master.TaskCount(); n != 1 {
		t.Fatalf("master holds %d tasks, want 1", n)
	}
}

// firstEvent reads the first event other than a heartbeat from a v1
// stream (JSON).
func firstEvent(t *testing.T, c *cluster.Cluster, resp *http.Response) map[string]any {
	t.Helper()
	pr := future.NewPromise[map[string]any]()
	go func() {
		r := recordio.NewReader(resp.Body, 4<<20)
		for {
			rec, err := r.ReadRecord()
			if err != nil {
				pr.Fail(err)
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(rec, &ev); err != nil {
				pr.Fail(err)
				return
			}
			if ev["type"] != "HEARTBEAT" {
				pr.Set(ev)
				return
			}
		}
	}()
	return cluster.Await(c, pr.Future())
}

// With --authenticate, another principal cannot take a framework over by
// subscribing (force) with its id: the subscription ends with an ERROR
// event and the framework keeps its scheduler and task.
func TestHostileV1TakeoverByAnotherPrincipal(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"alice": "wonderland", "bob": "builder"},
	}})
	_, fid := libprocessFrameworkWithTask(t, c, scheduler.Options{Credential: credential("alice", "wonderland")})
	// force (in the protobuf codec) takes over a connected framework.
	info := cluster.FrameworkInfo("mallory")
	info.Principal, info.Id = pb.String("bob"), &mesos.FrameworkID{Value: pb.String(fid)}
	takeover, err := pb.Marshal(&schedulerpb.Call{
		FrameworkId: info.Id, Type: schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: info, Force: pb.Bool(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := v1Post(t, c, string(takeover), func(r *http.Request) {
		r.SetBasicAuth("bob", "builder")
		r.Header.Set("Content-Type", "application/x-protobuf")
		r.Header.Set("Accept", "application/json")
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bob's SUBSCRIBE: %d", resp.StatusCode)
	}
	if ev := firstEvent(t, c, resp); ev["type"] != "ERROR" {
		t.Fatalf("bob's subscription got %v, want an ERROR event", ev)
	}
	_, state := get(t, c, "/master/state")
	if strings.Contains(string(state), "mallory") || c.Master.TaskCount() != 1 {
		t.Fatalf("framework taken over: %s", state)
	}
}

// A SUBSCRIBE carrying a Mesos-Stream-Id is refused (400), as by Mesos.
func TestHostileV1SubscribeWithStreamID(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	resp := v1Post(t, c, `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"v1"}}}`, withStream("anything"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("SUBSCRIBE with a stream id: %d, want 400", resp.StatusCode)
	}
}

// frameworkState is a framework's entry in /master/state (found false
// when the master no longer has it).
type frameworkState struct {
	ID        string `json:"id"`
	Active    bool   `json:"active"`
	Connected bool   `json:"connected"`
	Tasks     []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"tasks"`
	Offers []json.RawMessage `json:"offers"`
}

func frameworkInState(t *testing.T, c *cluster.Cluster, fid string) (frameworkState, bool) {
	t.Helper()
	code, body := get(t, c, "/master/state")
	var st struct {
		Frameworks []frameworkState `json:"frameworks"`
	}
	if err := json.Unmarshal(body, &st); err != nil || code != 200 {
		t.Fatalf("/master/state %d: %v", code, err)
	}
	for _, f := range st.Frameworks {
		if f.ID == fid {
			return f, true
		}
	}
	return frameworkState{}, false
}

// frameworkWithTaskAndOffer registers a framework (failover timeout one
// minute) with a running task on a fake slave and an outstanding offer
// for the rest of the slave.
func frameworkWithTaskAndOffer(t *testing.T, c *cluster.Cluster) (*scheduler.Driver, *cluster.Scheduler, string) {
	t.Helper()
	fs := c.StartFakeSlave(slaveResources)
	cluster.Await(c, fs.Registered())
	info := cluster.FrameworkInfo("aborting")
	info.FailoverTimeout = pb.Float64(60)
	d, s, fid := c.StartFramework(info, scheduler.Options{})
	launchOne(t, c, d, s, "t1")
	offers := s.NextOffers()
	c.Advance(6 * time.Second) // the rest of the offer was declined for 5 s
	cluster.Await(c, offers)
	if f, _ := frameworkInState(t, c, fid.GetValue()); len(f.Offers) != 1 || !f.Active {
		t.Fatalf("before: %+v", f)
	}
	return d, s, fid.GetValue()
}

// Aborting the driver deactivates the framework at the master, as Mesos's
// driver does: its offer is rescinded and no more come, its task keeps
// running, and it is removed only when its failover timeout passes.
func TestDriverAbortDeactivatesFramework(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	d, _, fid := frameworkWithTaskAndOffer(t, c)
	deactivate := processtest.FutureProtobuf[*messages.DeactivateFrameworkMessage](c.Expect, d.PID(), c.MasterPID)
	processtest.ExpectNoFutureProtobufs[*messages.ResourceOffersMessage](c.Expect, c.MasterPID, d.PID())
	if st, err := d.Abort(); err != nil || st != mesos.Status_DRIVER_ABORTED {
		t.Fatalf("abort: %v %v", st, err)
	}
	if m := cluster.Await(c, deactivate); m.GetFrameworkId().GetValue() != fid {
		t.Fatalf("deactivate message: %v", m)
	}
	c.Advance(5 * time.Second) // allocation rounds: nothing offered
	f, ok := frameworkInState(t, c, fid)
	if !ok || f.Active || len(f.Offers) != 0 || len(f.Tasks) != 1 || f.Tasks[0].State != "TASK_RUNNING" {
		t.Fatalf("after abort (offer rescinded, task kept): %v %+v", ok, f)
	}
	shutdown := processtest.FutureProtobuf[*messages.ShutdownFrameworkMessage](c.Expect, c.MasterPID, process.Any)
	c.Advance(time.Minute)
	cluster.Await(c, shutdown)
	if _, ok := frameworkInState(t, c, fid); ok {
		t.Fatal("framework still registered after its failover timeout")
	}
}

// The master deactivates a framework on a DeactivateFrameworkMessage from
// the framework's pid (the scheduler still connected: its offer is
// rescinded, no more come, its task runs on), and ignores one from any
// other pid.
func TestDeactivateFrameworkMessageFromItsPidOnly(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	d, s, fid := frameworkWithTaskAndOffer(t, c)
	conn := func() net.Conn {
		conn, err := net.Dial("tcp", c.MasterPID.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	msg := &messages.DeactivateFrameworkMessage{FrameworkId: &mesos.FrameworkID{Value: pb.String(fid)}}
	other := d.PID()
	other.ID = "scheduler(999)"
	postMessage(t, c, conn(), other, c.MasterPID, msg)
	if f, _ := frameworkInState(t, c, fid); !f.Active || len(f.Offers) != 1 {
		t.Fatalf("deactivated by another pid: %+v", f)
	}
	rescinded := s.NextRescinded()
	postMessage(t, c, conn(), d.PID(), c.MasterPID, msg)
	cluster.Await(c, rescinded)
	processtest.ExpectNoFutureProtobufs[*messages.ResourceOffersMessage](c.Expect, c.MasterPID, d.PID())
	c.Advance(5 * time.Second)
	f, ok := frameworkInState(t, c, fid)
	if !ok || f.Active || !f.Connected || len(f.Offers) != 0 || len(f.Tasks) != 1 || f.Tasks[0].State != "TASK_RUNNING" {
		t.Fatalf("after DeactivateFrameworkMessage: %v %+v", ok, f)
	}
}

// A PingSlaveMessage is obeyed only from the master's runtime: one from
// another process of this host (a pid the runtime check lets through) does
// not make the slave register again; the master's does.
func TestHostilePingFromAnotherPidIgnored(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	_, slavePID, _ := startSlave(t, c)
	conn := func() net.Conn {
		conn, err := net.Dial("tcp", slavePID.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	ping := &messages.PingSlaveMessage{Connected: pb.Bool(false)}
	stranger, err := process.ParseUPID("slave-observer(1)@127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	processtest.ExpectNoFutureProtobufs[*messages.ReregisterSlaveMessage](c.Expect, slavePID, c.MasterPID)
	postMessage(t, c, conn(), stranger, slavePID, ping)
	c.Advance(2 * time.Second) // past the re-registration backoff
	c.Expect.Remove()

	reregistered := processtest.FutureProtobuf[*messages.ReregisterSlaveMessage](c.Expect, slavePID, c.MasterPID)
	observer := c.MasterPID
	observer.ID = "slave-observer(1)"
	postMessage(t, c, conn(), observer, slavePID, ping)
	c.Advance(2 * time.Second)
	cluster.Await(c, reregistered)
}

// With authentication, a principal is bound to a pid at the address the
// authentication comes from: an authenticatee cannot authenticate (nor
// thereby revoke) a pid on another host.
func TestHostileAuthenticateForAnotherHostsPid(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true, Master: master.Config{
		Authenticate: true, Credentials: map[string]string{"eve": "secret"},
	}})
	authenticatee := c.MasterPID
	authenticatee.ID = "authenticatee(9)"
	conn := func() net.Conn {
		conn, err := net.Dial("tcp", c.MasterPID.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	processtest.ExpectNoFutureProtobufs[*messages.AuthenticationMechanismsMessage](c.Expect, process.Any, authenticatee, processtest.Sending())
	postMessage(t, c, conn(), authenticatee, c.MasterPID, &messages.AuthenticateMessage{Pid: pb.String("scheduler(1)@192.0.2.7:5050")})
	c.Expect.Remove()

	mechanisms := processtest.FutureProtobuf[*messages.AuthenticationMechanismsMessage](c.Expect, process.Any, authenticatee, processtest.Sending())
	subject := c.MasterPID
	subject.ID = "scheduler(9)"
	postMessage(t, c, conn(), authenticatee, c.MasterPID, &messages.AuthenticateMessage{Pid: pb.String(subject.String())})
	cluster.Await(c, mechanisms)
}

// A slave that died in the middle of appending to a task's task.updates
// (a torn last record) recovers in strict mode: the partial record is cut
// off, the executor and its task are taken back, and the task's later
// update gets through. The recovered executor's sandbox is served again.
func TestHostileTornTaskUpdatesRecovered(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	s1, _, work := c.StartSlave(slaveResources, nil)
	d, sched, _ := startFramework(t, c, checkpointingFramework("torn"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{commandTask("t1", o, waitForGo)}, nil)
	if st := cluster.Await(c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v", st.GetState())
	}
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)

	updates := globNoLatest(filepath.Join(work, "meta", "slaves", "*", "frameworks", "*", "executors", "t1", "runs", "*", "tasks", "t1", "task.updates"))
	if len(updates) != 1 {
		t.Fatalf("task.updates: %v", updates)
	}
	whole, err := os.Stat(updates[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(updates[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2}) // a record of 200 bytes, 2 of them written
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, nil) // Strict: true
	cluster.Await(c, reregistered)
	c.Settle()
	c.Advance(time.Second) // registration backoff
	cluster.Await(c, slaveBack)
	if fi, err := os.Stat(updates[0]); err != nil || fi.Size() < whole.Size() {
		t.Fatalf("task.updates after recovery: %v %v (was %d bytes)", fi, err, whole.Size())
	}
	sandbox := sandboxOf(t, work, "t1")
	if code, body := get(t, c, filesQuery("browse", sandbox, "")); code != 200 {
		t.Fatalf("the recovered executor's sandbox: %d %s", code, body)
	}

	finished := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := cluster.Await(c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("after recovery: %v %q", st.GetState(), st.GetMessage())
	}
}

// Only a task's executor reports its state, only an executor speaks for
// itself to its framework, and only the master or the framework's
// scheduler speaks to its executors: forged ones from another pid of
// this host (the runtime's address check lets them through) are dropped.
func TestHostileForgedExecutorMessages(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	live := liveSandbox(t, c, nil)
	slavePID := live.Slave.PID()
	stranger, err := process.ParseUPID("executor(1)@127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	conn := func() net.Conn {
		conn, err := net.Dial("tcp", slavePID.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	fid := live.FID
	eid := &mesos.ExecutorID{Value: pb.String("sandboxed")}
	tid := &mesos.TaskID{Value: pb.String("sandboxed")}
	uuid := mesos.NewUUID(c.RT.RandBytes)
	processtest.ExpectNoFutureProtobufs[*messages.StatusUpdateMessage](c.Expect, slavePID, c.MasterPID)
	processtest.ExpectNoFutureProtobufs[*messages.ExecutorToFrameworkMessage](c.Expect, slavePID, live.Driver.PID())
	processtest.ExpectNoFutureProtobufs[*messages.FrameworkToExecutorMessage](c.Expect, slavePID, process.Any, processtest.Sending())
	postMessage(t, c, conn(), stranger, slavePID, &messages.StatusUpdateMessage{
		Update: &messages.StatusUpdate{
			FrameworkId: fid, ExecutorId: eid, Uuid: uuid[:], Timestamp: pb.Float64(1),
			Status: &mesos.TaskStatus{TaskId: tid, State: mesos.TaskState_TASK_FINISHED.Enum()},
		},
		Pid: pb.String(stranger.String()),
	})
	postMessage(t, c, conn(), stranger, slavePID, &messages.ExecutorToFrameworkMessage{
		SlaveId: &mesos.SlaveID{Value: pb.String("x")}, FrameworkId: fid, ExecutorId: eid, Data: []byte("forged"),
	})
	postMessage(t, c, conn(), stranger, slavePID, &messages.FrameworkToExecutorMessage{
		SlaveId: &mesos.SlaveID{Value: pb.String("x")}, FrameworkId: fid, ExecutorId: eid, Data: []byte("forged"),
	})
	c.Advance(time.Second)
	code, body := get(t, c, "/slave(1)/state")
	if code != 200 || !strings.Contains(string(body), `"state":"TASK_RUNNING"`) || strings.Contains(string(body), "TASK_FINISHED") {
		t.Fatalf("slave state after a forged update: %d %s", code, body)
	}
	c.Expect.Remove() // the slave's shutdown at the end fails the task
}

// The master takes a slave's status updates and executor exits only from
// that slave's pid: forged ones naming a real slave id (published in
// /master/state) from another pid neither change the task nor reach the
// framework.
func TestHostileForgedSlaveMessagesToMaster(t *testing.T) {
	c := cluster.Start(t, cluster.Options{Network: true})
	fs := c.StartFakeSlave(slaveResources)
	cluster.Await(c, fs.Registered())
	d, s, fid := c.StartFramework(cluster.FrameworkInfo("victim"), scheduler.Options{})
	launchOne(t, c, d, s, "t1")
	stranger, err := process.ParseUPID("slave(1)@127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	conn := func() net.Conn {
		conn, err := net.Dial("tcp", c.MasterPID.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	uuid := mesos.NewUUID(c.RT.RandBytes)
	eid := &mesos.ExecutorID{Value: pb.String("t1")}
	processtest.ExpectNoFutureProtobufs[*messages.StatusUpdateMessage](c.Expect, c.MasterPID, d.PID())
	processtest.ExpectNoFutureProtobufs[*messages.ExitedExecutorMessage](c.Expect, c.MasterPID, d.PID())
	processtest.ExpectNoFutureProtobufs[*messages.ExecutorToFrameworkMessage](c.Expect, c.MasterPID, d.PID())
	postMessage(t, c, conn(), stranger, c.MasterPID, &messages.StatusUpdateMessage{
		Update: &messages.StatusUpdate{
			FrameworkId: fid, SlaveId: fs.ID, ExecutorId: eid, Uuid: uuid[:], Timestamp: pb.Float64(1),
			Status: &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: pb.String("t1")}, State: mesos.TaskState_TASK_FINISHED.Enum()},
		},
		Pid: pb.String(stranger.String()),
	})
	postMessage(t, c, conn(), stranger, c.MasterPID, &messages.ExitedExecutorMessage{SlaveId: fs.ID, FrameworkId: fid, ExecutorId: eid, Status: pb.Int32(0)})
	postMessage(t, c, conn(), stranger, c.MasterPID, &messages.ExecutorToFrameworkMessage{SlaveId: fs.ID, FrameworkId: fid, ExecutorId: eid, Data: []byte("forged")})
	c.Advance(time.Second)
	f, ok := frameworkInState(t, c, fid.GetValue())
	if !ok || len(f.Tasks) != 1 || f.Tasks[0].State != "TASK_RUNNING" {
		t.Fatalf("after forged slave messages: %v %+v", ok, f)
	}
	if n := c.RT.Metrics().Snapshot(t.Context())["master/invalid_status_updates"]; n != 1 {
		t.Fatalf("master/invalid_status_updates = %v, want 1", n)
	}
	c.Expect.Remove()
}
