package tests

// The Docker containerizer on a real Docker Engine (scripts/install-test-
// deps.sh installs docker.io and busybox-static and starts dockerd). The
// test image is imported, through the Engine API, from a directory tree
// holding the static busybox and its links: no registry, no network.
// Without a daemon these tests skip with a loud reason, and fail when
// CI=true.

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/docker"
	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

// testImage is the busybox image the docker tests import.
const testImage = "gomesos-busybox:test"

var (
	imageOnce sync.Once
	imageErr  error
)

// requireDocker skips (or, on CI, fails) the test when the Docker Engine
// does not answer, and imports the test image once.
func requireDocker(t *testing.T) *docker.Client {
	t.Helper()
	c := docker.NewClient(docker.DefaultSocket)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Docker Engine must run on CI (scripts/install-test-deps.sh starts dockerd): %v", err)
		}
		t.Skipf("DOCKER TESTS SKIPPED: no Docker Engine at %s (run scripts/install-test-deps.sh as root): %v", docker.DefaultSocket, err)
	}
	imageOnce.Do(func() { imageErr = importBusybox(c) })
	if imageErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot build the test image: %v", imageErr)
		}
		t.Skipf("DOCKER TESTS SKIPPED: cannot build the test image: %v", imageErr)
	}
	return c
}

// importBusybox imports testImage from a tar of /bin/busybox (static)
// and a link per applet, as `docker import` of such a directory would.
func importBusybox(c *docker.Client) error { return importImage(c, testImage, nil) }

// importImage imports image: busybox as importBusybox has it, and the
// files of extra (path in the image → content, executable).
func importImage(c *docker.Client, image string, extra map[string][]byte) error {
	const bin = "/bin/busybox"
	f, err := elf.Open(bin)
	if err != nil {
		return err
	}
	static := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			static = false
		}
	}
	f.Close()
	if !static {
		return &os.PathError{Op: "import", Path: bin, Err: os.ErrInvalid} // not busybox-static
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "tmp/", "mnt/", "mnt/mesos/", "mnt/mesos/sandbox/", "proc/", "sys/", "dev/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(data))}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	for _, applet := range []string{"sh", "echo", "cat", "sleep", "touch", "ls", "id", "env", "true", "false", "wc", "head"} {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}); err != nil {
			return err
		}
	}
	written := map[string]bool{"bin": true, "tmp": true, "mnt": true, "mnt/mesos": true, "mnt/mesos/sandbox": true, "proc": true, "sys": true, "dev": true, "etc": true}
	for name, content := range extra {
		var parents []string
		for d := filepath.Dir(name); d != "." && d != "/" && !written[d]; d = filepath.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			written[d] = true
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content))}); err != nil {
			return err
		}
		if _, err := tw.Write(content); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.Import(ctx, image, &buf)
}

func dockerCommandTask(id string, o *mesos.Offer, res, command string) *mesos.TaskInfo {
	t := cluster.CommandTask(id, o, res, command)
	t.Container = &mesos.ContainerInfo{
		Type:   mesos.ContainerInfo_DOCKER.Enum(),
		Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(testImage)},
	}
	return t
}

// finalUpdate waits for the task's first update that is not
// TASK_RUNNING.
func finalUpdate(t *testing.T, c *cluster.Cluster, sched *cluster.Scheduler, id string) *mesos.TaskStatus {
	t.Helper()
	for {
		st := awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
		if st.GetTaskId().GetValue() == id && st.GetState() != mesos.TaskState_TASK_RUNNING {
			return st
		}
	}
}

func TestDockerContainerizerRunsFailsAndKillsTasks(t *testing.T) {
	client := requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := c.StartSlave(slaveResources, func(cfg *slave.Config) {
		cfg.Containerizers = "mesos,docker"
		cfg.DockerKillOrphans = true
	})
	abs, _ := filepath.Abs(work)
	t.Cleanup(func() {
		list, _ := client.List(context.Background(), "org.gomesos.slave_work_dir="+abs)
		for _, ct := range list {
			_ = client.Remove(context.Background(), strings.TrimPrefix(ct.Names[0], "/"))
		}
	})
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]

	// A task runs in the image, with its cgroup limits, the sandbox
	// mounted, and its output in the sandbox.
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{
		dockerCommandTask("hello", o, "cpus:0.5;mem:64",
			"echo hello from docker; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares; echo sandbox=$MESOS_SANDBOX; touch $MESOS_SANDBOX/made-inside; echo to-stderr >&2"),
		dockerCommandTask("fails", o, "cpus:0.5;mem:64", "exit 3"),
		dockerCommandTask("sleeper", o, "cpus:0.5;mem:64", "sleep 1000"),
	}, nil)
	got := map[string]*mesos.TaskStatus{}
	runningSleeper := false
	for len(got) < 2 || !runningSleeper {
		st := awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
		if st.GetState() == mesos.TaskState_TASK_RUNNING {
			runningSleeper = runningSleeper || st.GetTaskId().GetValue() == "sleeper"
			continue
		}
		got[st.GetTaskId().GetValue()] = st
	}
	if st := got["hello"]; st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("hello: %v %q", st.GetState(), st.GetMessage())
	}
	if st := got["fails"]; st.GetState() != mesos.TaskState_TASK_FAILED || !strings.Contains(st.GetMessage(), "status 3") {
		t.Fatalf("fails: %v %q", st.GetState(), st.GetMessage())
	}
	sandbox := sandboxOf(t, work, "hello")
	out, _ := os.ReadFile(filepath.Join(sandbox, "stdout"))
	for _, want := range []string{"hello from docker", "67108864", "512", "sandbox=/mnt/mesos/sandbox"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr")); !strings.Contains(string(errOut), "to-stderr") {
		t.Errorf("stderr lacks the task's stderr:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(sandbox, "made-inside")); err != nil {
		t.Errorf("the sandbox is not mounted in the container: %v", err)
	}

	// Kill: the container stops and the task is killed.
	killed := sched.NextUpdate()
	_, _ = d.KillTask(&mesos.TaskID{Value: proto.String("sleeper")})
	if st := awaitWall[*mesos.TaskStatus](t, c, killed); st.GetState() != mesos.TaskState_TASK_KILLED {
		t.Fatalf("kill: %v %q", st.GetState(), st.GetMessage())
	}
	awaitNoContainersLabelled(t, client, "org.gomesos.slave_work_dir="+abs, "containers left after their tasks ended (--docker_remove_delay=0)")
}

func TestDockerContainerizerBadImageFailsTheTask(t *testing.T) {
	requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.Containerizers = "docker,mesos" })
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	task := dockerCommandTask("bad", o, "cpus:0.5;mem:64", "true")
	task.Container.Docker.Image = proto.String("localhost:1/gomesos-no-such-image:none")
	plain := commandTask("plain", o, "echo plain")
	plain.Resources = mustResources("cpus:0.5;mem:64")
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task, plain}, nil)
	if st := finalUpdate(t, c, sched, "bad"); st.GetState() != mesos.TaskState_TASK_FAILED ||
		!strings.Contains(st.GetMessage(), "docker containerizer") || !strings.Contains(st.GetMessage(), "gomesos-no-such-image") {
		t.Fatalf("bad image: %v %q", st.GetState(), st.GetMessage())
	}
}

func TestBinariesMesosExecuteDockerImage(t *testing.T) {
	requireDocker(t)
	c, _ := startBinClusterWith(t, nil, []string{"--containerizers=mesos,docker", "--docker_remove_delay=0s"})
	ok := c.execute(t, "--name=indocker", "--docker_image="+testImage, "--command=cat /proc/1/cgroup >/dev/null && echo hello from the image", "--resources=cpus:0.5;mem:64")
	ok.line(t, "TASK_RUNNING for task indocker")
	ok.line(t, "TASK_FINISHED for task indocker")
	if code := ok.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, c.work, "indocker"), "stdout"))
	if !strings.Contains(string(out), "hello from the image") {
		t.Fatalf("stdout %q", out)
	}
	// Without docker among the containerizers, the same task fails and
	// says why.
	c2, _ := startBinClusterWith(t, nil, nil)
	bad := c2.execute(t, "--name=nodocker", "--docker_image="+testImage, "--command=true", "--resources=cpus:0.5;mem:64")
	bad.line(t, "TASK_FAILED for task nodocker")
}

func TestBinariesExternalContainerizer(t *testing.T) {
	c, _ := startBinClusterWith(t, nil, []string{"--containerizers=external", "--containerizer_path=" + referenceECP(t)})
	ok := c.execute(t, "--name=ext", "--command=echo hello through the program", "--resources=cpus:0.5;mem:64")
	ok.line(t, "TASK_RUNNING for task ext")
	ok.line(t, "TASK_FINISHED for task ext")
	if code := ok.exitCode(t); code != 0 {
		t.Fatalf("mesos-execute exited %d", code)
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, c.work, "ext"), "stdout"))
	if !strings.Contains(string(out), "hello through the program") {
		t.Fatalf("stdout %q", out)
	}
}

func TestDockerContainerizerRecoversAfterSlaveRestart(t *testing.T) {
	client := requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs, _ := filepath.Abs(work)
	t.Cleanup(func() {
		list, _ := client.List(context.Background(), "org.gomesos.slave_work_dir="+abs)
		for _, ct := range list {
			_ = client.Remove(context.Background(), strings.TrimPrefix(ct.Names[0], "/"))
		}
	})
	mod := func(cfg *slave.Config) { cfg.Containerizers = "mesos,docker" }
	s1, _ := c.SpawnSlave(work, slaveResources, mod)
	c.Advance(time.Second)
	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{
		dockerCommandTask("t1", o, "cpus:0.5;mem:64", "while [ ! -f $MESOS_SANDBOX/go ]; do sleep 0.05; done; echo finished"),
	}, nil)
	if st := awaitWall[*mesos.TaskStatus](t, c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v %q", st.GetState(), st.GetMessage())
	}
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)

	// A new slave on the same work directory takes the executor and its
	// container back.
	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, mod)
	cluster.Await(c, reregistered)
	c.Advance(time.Second) // registration backoff
	cluster.Await(c, slaveBack)
	// The container keeps running (the runner may still be starting it:
	// the Engine takes its time in real time).
	deadline := time.Now().Add(30 * time.Second) // wall-clock: bounds a wait on the Docker Engine
	for {
		list, err := client.List(context.Background(), "org.gomesos.slave_work_dir="+abs)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].State == "running" {
			break
		}
		if len(list) != 1 || list[0].State != "created" || time.Now().After(deadline) {
			t.Fatalf("docker containers after the restart: %+v", list)
		}
		time.Sleep(50 * time.Millisecond) // wall-clock: the Engine starts containers in real time
	}
	finished := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "t1"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("after the restart: %v %q", st.GetState(), st.GetMessage())
	}
}

func TestMesosGoFrameworkLaunchesDockerTask(t *testing.T) {
	requireMesosGo(t)
	requireDocker(t)
	c, _ := startBinClusterWith(t, nil, []string{"--containerizers=mesos,docker", "--docker_remove_delay=0s"})
	fw, err := mesosgo.StartProgram(mesosgo.FrameworkProgram, "-master="+c.master, "-docker_image="+testImage,
		"-command=echo hello from a mesos-go docker task")
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Stop()
	for _, want := range []string{"STATUS t1 TASK_RUNNING", "STATUS t1 TASK_FINISHED"} {
		if line, err := fw.Line("STATUS ", 60*time.Second); err != nil || line != want {
			t.Fatalf("got %q (%v), want %q", line, err, want)
		}
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, c.work, "t1"), "stdout"))
	if !strings.Contains(string(out), "hello from a mesos-go docker task") {
		t.Fatalf("stdout %q", out)
	}
}

func TestDockerContainerizerVolumesNetworkAndParameters(t *testing.T) {
	requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	_, _, work := c.StartSlave(slaveResources, func(cfg *slave.Config) { cfg.Containerizers = "docker,mesos" })
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "file"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	task := dockerCommandTask("vol", o, "cpus:0.5;mem:64", "cat /data/file; echo FOO=$FOO; ls /sys/class/net; touch /data/ro 2>/dev/null || echo read-only")
	task.Container.Volumes = []*mesos.Volume{{ContainerPath: proto.String("/data"), HostPath: proto.String(host), Mode: mesos.Volume_RO.Enum()}}
	task.Container.Docker.Network = mesos.ContainerInfo_DockerInfo_NONE.Enum()
	task.Container.Docker.Parameters = []*mesos.Parameter{{Key: proto.String("env"), Value: proto.String("FOO=bar")}}
	bad := dockerCommandTask("badparam", o, "cpus:0.5;mem:64", "true")
	bad.Container.Docker.Parameters = []*mesos.Parameter{{Key: proto.String("cap-add"), Value: proto.String("ALL")}}
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task, bad}, nil)
	got := map[string]*mesos.TaskStatus{}
	for len(got) < 2 {
		st := awaitWall[*mesos.TaskStatus](t, c, sched.NextUpdate())
		if st.GetState() != mesos.TaskState_TASK_RUNNING {
			got[st.GetTaskId().GetValue()] = st
		}
	}
	if st := got["vol"]; st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("vol: %v %q", st.GetState(), st.GetMessage())
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, work, "vol"), "stdout"))
	for _, want := range []string{"from the host", "FOO=bar", "lo\n", "read-only"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "eth0") {
		t.Errorf("network NONE has eth0:\n%s", out)
	}
	if st := got["badparam"]; st.GetState() != mesos.TaskState_TASK_FAILED || !strings.Contains(st.GetMessage(), `docker parameter "cap-add" is not supported`) {
		t.Fatalf("badparam: %v %q", st.GetState(), st.GetMessage())
	}
}
