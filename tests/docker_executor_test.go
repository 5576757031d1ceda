package tests

// Persistent volumes in Docker containers and custom executors in images
// (the Docker executor), on a real Docker Engine (see docker_test.go).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/docker"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/tests/cluster"
)

var (
	dockerExecutorOnce sync.Once
	dockerExecutorPath string
	dockerExecutorErr  error
)

// dockerExecutor builds tests/dockerexecutor statically, once per test
// binary, so that it runs in the busybox image (which has no libc).
func dockerExecutor(t *testing.T) string {
	t.Helper()
	dockerExecutorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gomesos-dockerexecutor")
		if err != nil {
			dockerExecutorErr = err
			return
		}
		dockerExecutorPath = filepath.Join(dir, "dockerexecutor")
		cmd := exec.Command("go", "build", "-o", dockerExecutorPath, "github.com/gomesos/gomesos/tests/dockerexecutor")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			dockerExecutorErr = fmt.Errorf("build the docker test executor: %v\n%s", err, out)
		}
	})
	if dockerExecutorErr != nil {
		t.Fatal(dockerExecutorErr)
	}
	return dockerExecutorPath
}

// removeContainersOf removes, when the test ends, the docker containers
// of the slave on work (those of --docker_mesos_image too).
func removeContainersOf(t *testing.T, client *docker.Client, work string) string {
	abs, _ := filepath.Abs(work)
	t.Cleanup(func() {
		for _, label := range []string{"org.gomesos.slave_work_dir", "org.gomesos.mesos_image_work_dir"} {
			list, _ := client.List(context.Background(), label+"="+abs)
			for _, ct := range list {
				_ = client.Remove(context.Background(), strings.TrimPrefix(ct.Names[0], "/"))
			}
		}
	})
	return abs
}

// awaitNoContainers waits (bounded, in real time: the Engine removes
// containers in real time) until the slave on abs has no containers.
func awaitNoContainers(t *testing.T, client *docker.Client, abs string) {
	t.Helper()
	awaitNoContainersLabelled(t, client, "org.gomesos.slave_work_dir="+abs, "containers left after their executors ended (--docker_remove_delay=0)")
}

// awaitNoContainersLabelled waits until no container has the label filter
// (key=value), failing with what after 30 s.
func awaitNoContainersLabelled(t *testing.T, client *docker.Client, filter, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // wall-clock: bounds a wait on the Docker Engine
	for {
		list, err := client.List(context.Background(), filter)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %+v", what, list)
		}
		time.Sleep(50 * time.Millisecond) // wall-clock: the Engine removes containers in real time
	}
}

// A docker command task that uses a persistent volume finds it bind
// mounted at its container_path under /mnt/mesos/sandbox: what it writes
// there is in the volume's directory on the host.
func TestDockerTaskWritesToPersistentVolume(t *testing.T) {
	client := requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs := removeContainersOf(t, client, work)
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, "cpus:2;mem:1024;disk:1024", func(cfg *slave.Config) { cfg.Containerizers = "mesos,docker" })
	c.Advance(time.Second)
	cluster.Await(c, registered)
	info := cluster.FrameworkInfo("volumes")
	info.Role, info.Principal = proto.String("r"), proto.String("p")
	d, sched, _ := startFramework(t, c, info, scheduler.Options{})
	o := nextOffer(t, c, sched)
	taskRes := jsonResources(t, taskOnReservedJSON).Plus(jsonResources(t, volumeJSON))
	task := volumeTask("writer", o, taskRes,
		"echo hello from the container > $MESOS_SANDBOX/data/file && ls -ld $MESOS_SANDBOX/data && grep ' /mnt/mesos/sandbox/data ' /proc/self/mountinfo")
	task.Container = &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(), Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(testImage)}}
	_, _ = d.AcceptOffers([]*mesos.OfferID{o.GetId()}, []*mesos.Offer_Operation{
		reserveOp(jsonResources(t, reservedJSON)), createOp(jsonResources(t, volumeJSON)), launchOp(task),
	}, &mesos.Filters{RefuseSeconds: proto.Float64(1)})
	st := finalUpdate(t, c, sched, "writer")
	sandbox := sandboxOf(t, work, "writer")
	out, _ := os.ReadFile(filepath.Join(sandbox, "stdout"))
	errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
	if st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("writer: %v %q\nstdout:\n%s\nstderr:\n%s", st.GetState(), st.GetMessage(), out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(work, "volumes", "roles", "r", "v1", "file")); err != nil || string(b) != "hello from the container\n" {
		t.Fatalf("the volume's file on the host: %q, %v", b, err)
	}
	// Inside, the volume is a directory with a mount of its own (not the
	// slave's link, which would dangle there).
	if !strings.Contains(string(out), "drwx") || !strings.Contains(string(out), " /mnt/mesos/sandbox/data ") {
		t.Fatalf("stdout:\n%s", out)
	}
	// On the host the sandbox holds the empty mount point: the bind
	// stays inside the container.
	if ents, err := os.ReadDir(filepath.Join(sandbox, "data")); err != nil || len(ents) != 0 {
		t.Fatalf("the sandbox's mount point on the host: %v %v", ents, err)
	}
	awaitNoContainers(t, client, abs)
}

// dockerExecutorInfo is a custom executor that runs in the busybox image:
// the static test executor, fetched into the sandbox.
func dockerExecutorInfo(t *testing.T, id string) *mesos.ExecutorInfo {
	return &mesos.ExecutorInfo{
		ExecutorId: &mesos.ExecutorID{Value: proto.String(id)},
		Name:       proto.String("docker test executor"),
		Container:  &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(), Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(testImage)}},
		Command: &mesos.CommandInfo{
			Value: proto.String("exec ./dockerexecutor"),
			Uris:  []*mesos.CommandInfo_URI{{Value: proto.String(dockerExecutor(t)), Executable: proto.Bool(true)}},
		},
		Resources: mustResources("cpus:0.1;mem:32"),
	}
}

// A custom executor whose ExecutorInfo has a DOCKER ContainerInfo runs in
// a container of its image, registers with the slave (over the host
// network), and runs its tasks there, with the sandbox at
// /mnt/mesos/sandbox; the container lives as long as the executor.
func TestDockerCustomExecutorRunsInItsImage(t *testing.T) {
	client := requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs := removeContainersOf(t, client, work)
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, func(cfg *slave.Config) { cfg.Containerizers = "mesos,docker" })
	c.Advance(time.Second)
	cluster.Await(c, registered)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]

	ex := dockerExecutorInfo(t, "dexec")
	task := &mesos.TaskInfo{
		Name: proto.String("t1"), TaskId: &mesos.TaskID{Value: proto.String("t1")}, SlaveId: o.GetSlaveId(),
		Resources: mustResources("cpus:0.5;mem:64"), Executor: ex,
		Data: []byte(`{ echo "directory=$MESOS_DIRECTORY"; echo "sandbox=$MESOS_SANDBOX"; echo "name=$MESOS_CONTAINER_NAME"; pwd; } > $MESOS_SANDBOX/from-executor`),
	}
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
	if st := awaitWall[*mesos.TaskStatus](t, c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("t1: %v %q", st.GetState(), st.GetMessage())
	}
	st := finalUpdate(t, c, sched, "t1")
	sandbox := sandboxOf(t, work, "dexec")
	errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
	if st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("t1: %v %q\nexecutor's stderr:\n%s", st.GetState(), st.GetMessage(), errOut)
	}
	got, _ := os.ReadFile(filepath.Join(sandbox, "from-executor"))
	for _, want := range []string{"directory=/mnt/mesos/sandbox\n", "sandbox=/mnt/mesos/sandbox\n", "name=mesos-", "\n/mnt/mesos/sandbox\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("the task's output lacks %q:\n%s", want, got)
		}
	}
	// The executor's output is in the sandbox (the runner copies the
	// container's log), and its container runs, marked as an executor's.
	if !strings.Contains(string(errOut), "REGISTERED dexec") {
		t.Errorf("executor's stderr:\n%s", errOut)
	}
	list, err := client.List(context.Background(), "org.gomesos.executor=1")
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, ct := range list {
		if ct.Labels["org.gomesos.slave_work_dir"] == abs && ct.State == "running" {
			mine++
		}
	}
	if mine != 1 {
		t.Fatalf("running executor containers of this slave: %+v", list)
	}

	// The framework goes: the slave shuts the executor down, its
	// container stops, and the executor's end is its container's.
	exited := processtest.FutureProtobuf[*messages.ExitedExecutorMessage](c.Expect, process.Any, c.MasterPID)
	_, _ = d.Stop(false)
	if m := awaitWall[*messages.ExitedExecutorMessage](t, c, exited); m.GetExecutorId().GetValue() != "dexec" || m.GetStatus() != 0 {
		errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
		t.Fatalf("executor exited: %v\nexecutor's stderr:\n%s", m, errOut)
	}
	awaitNoContainers(t, client, abs)
}

// An executor in a docker container survives a slave restart: the new
// slave adopts its runner and its container, the executor re-registers,
// and its task finishes afterwards.
func TestDockerCustomExecutorRecoversAfterSlaveRestart(t *testing.T) {
	client := requireDocker(t)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs := removeContainersOf(t, client, work)
	mod := func(cfg *slave.Config) { cfg.Containerizers = "mesos,docker" }
	s1, _ := c.SpawnSlave(work, slaveResources, mod)
	c.Advance(time.Second)
	d, sched, _ := startFramework(t, c, checkpointingFramework("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	task := &mesos.TaskInfo{
		Name: proto.String("t1"), TaskId: &mesos.TaskID{Value: proto.String("t1")}, SlaveId: o.GetSlaveId(),
		Resources: mustResources("cpus:0.5;mem:64"), Executor: dockerExecutorInfo(t, "dexec"),
		Data: []byte(`while [ ! -f $MESOS_SANDBOX/go ]; do sleep 0.05; done; echo finished`),
	}
	running := sched.NextUpdate()
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
	if st := awaitWall[*mesos.TaskStatus](t, c, running); st.GetState() != mesos.TaskState_TASK_RUNNING {
		t.Fatalf("first update %v %q", st.GetState(), st.GetMessage())
	}
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)

	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, mod)
	if m := awaitWall[*messages.ReregisterExecutorMessage](t, c, reregistered); m.GetExecutorId().GetValue() != "dexec" {
		t.Fatalf("re-registered %v", m)
	}
	c.Advance(time.Second) // registration backoff
	cluster.Await(c, slaveBack)
	list, err := client.List(context.Background(), "org.gomesos.slave_work_dir="+abs)
	if err != nil || len(list) != 1 || list[0].State != "running" || list[0].Labels["org.gomesos.executor"] != "1" {
		t.Fatalf("docker containers after the restart: %+v %v", list, err)
	}
	finished := sched.NextUpdate()
	sandbox := sandboxOf(t, work, "dexec")
	if err := os.WriteFile(filepath.Join(sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
		t.Fatalf("after the restart: %v %q\nexecutor's stderr:\n%s", st.GetState(), st.GetMessage(), errOut)
	}
	exited := processtest.FutureProtobuf[*messages.ExitedExecutorMessage](c.Expect, process.Any, c.MasterPID)
	_, _ = d.Stop(false)
	awaitWall[*messages.ExitedExecutorMessage](t, c, exited)
	awaitNoContainers(t, client, abs)
}

var (
	mesosImageOnce sync.Once
	mesosImage     string
	mesosImageErr  error
)

// importMesosImage imports, once per test binary, the image of the
// --docker_mesos_image tests: busybox and a static mesos-executor at the
// path the test slaves' --launcher_dir gives, as in the image a slave
// would run in. The launcher directory is a temporary one of the test
// binary, so its name tags the image: test binaries running at once do
// not overwrite each other's.
func importMesosImage(t *testing.T, client *docker.Client) {
	t.Helper()
	mesosImageOnce.Do(func() {
		launcher, err := cluster.LauncherDir()
		if err != nil {
			mesosImageErr = err
			return
		}
		mesosImage = "gomesos-mesos:" + strings.ToLower(filepath.Base(launcher))
		dir, err := os.MkdirTemp("", "gomesos-static")
		if err != nil {
			mesosImageErr = err
			return
		}
		defer os.RemoveAll(dir)
		static := filepath.Join(dir, "mesos-executor")
		cmd := exec.Command("go", "build", "-o", static, "github.com/gomesos/gomesos/cmd/mesos-executor")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			mesosImageErr = fmt.Errorf("build a static mesos-executor: %v\n%s", err, out)
			return
		}
		bin, err := os.ReadFile(static)
		if err != nil {
			mesosImageErr = err
			return
		}
		mesosImageErr = importImage(client, mesosImage, map[string][]byte{strings.TrimPrefix(filepath.Join(launcher, "mesos-executor"), "/"): bin})
	})
	if mesosImageErr != nil {
		t.Fatal(mesosImageErr)
	}
}

// With --docker_mesos_image the command executor of a docker task runs
// in a container of that image, not as the slave's child: it outlives
// the slave, the new slave adopts it through the Engine, and the task
// finishes afterwards.
func TestDockerMesosImageRunsTheCommandExecutorInAContainer(t *testing.T) {
	client := requireDocker(t)
	importMesosImage(t, client)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs := removeContainersOf(t, client, work)
	mod := func(cfg *slave.Config) {
		cfg.Containerizers = "mesos,docker"
		cfg.DockerMesosImage = mesosImage
	}
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
		sandbox := sandboxOf(t, work, "t1")
		errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
		t.Fatalf("first update %v %q\nstderr:\n%s", st.GetState(), st.GetMessage(), errOut)
	}
	executors, err := client.List(context.Background(), "org.gomesos.mesos_image_work_dir="+abs)
	if err != nil || len(executors) != 1 || executors[0].State != "running" || !strings.HasSuffix(executors[0].Names[0], ".executor") {
		t.Fatalf("the command executor's container: %+v %v", executors, err)
	}
	c.Settle()
	s1.Detach()
	waitDone(t, c, s1)

	reregistered := processtest.FutureProtobuf[*messages.ReregisterExecutorMessage](c.Expect, process.Any, process.Any)
	slaveBack := processtest.FutureProtobuf[*messages.SlaveReregisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, mod)
	awaitWall[*messages.ReregisterExecutorMessage](t, c, reregistered)
	c.Advance(time.Second) // registration backoff
	cluster.Await(c, slaveBack)
	finished := sched.NextUpdate()
	if err := os.WriteFile(filepath.Join(sandboxOf(t, work, "t1"), "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := awaitWall[*mesos.TaskStatus](t, c, finished); st.GetState() != mesos.TaskState_TASK_FINISHED {
		t.Fatalf("after the restart: %v %q", st.GetState(), st.GetMessage())
	}
	out, _ := os.ReadFile(filepath.Join(sandboxOf(t, work, "t1"), "stdout"))
	if !strings.Contains(string(out), "finished") {
		t.Fatalf("stdout %q", out)
	}
	awaitNoContainers(t, client, abs)
	awaitNoContainersLabelled(t, client, "org.gomesos.mesos_image_work_dir="+abs, "executor containers left after the executor ended")
}

// With --docker_mesos_image, the runner of a custom executor in an image
// runs in a container of the slave's image too (it fetches the executor
// into the sandbox, starts the executor's container and lives as long as
// it does).
func TestDockerMesosImageRunsAnExecutorsRunnerInAContainer(t *testing.T) {
	client := requireDocker(t)
	importMesosImage(t, client)
	c := cluster.Start(t, cluster.Options{Network: true})
	work := t.TempDir()
	abs := removeContainersOf(t, client, work)
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	c.SpawnSlave(work, slaveResources, func(cfg *slave.Config) {
		cfg.Containerizers = "mesos,docker"
		cfg.DockerMesosImage = mesosImage
	})
	c.Advance(time.Second)
	cluster.Await(c, registered)
	d, sched, _ := startFramework(t, c, cluster.FrameworkInfo("f1"), scheduler.Options{})
	offers := sched.NextOffers()
	c.Advance(time.Second)
	o := cluster.Await(c, offers)[0]
	task := &mesos.TaskInfo{
		Name: proto.String("t1"), TaskId: &mesos.TaskID{Value: proto.String("t1")}, SlaveId: o.GetSlaveId(),
		Resources: mustResources("cpus:0.5;mem:64"), Executor: dockerExecutorInfo(t, "dexec"),
		Data: []byte(`echo "directory=$MESOS_DIRECTORY" > $MESOS_SANDBOX/from-executor`),
	}
	_, _ = d.LaunchTasks([]*mesos.OfferID{o.GetId()}, []*mesos.TaskInfo{task}, nil)
	st := finalUpdate(t, c, sched, "t1")
	sandbox := sandboxOf(t, work, "dexec")
	if st.GetState() != mesos.TaskState_TASK_FINISHED {
		errOut, _ := os.ReadFile(filepath.Join(sandbox, "stderr"))
		t.Fatalf("t1: %v %q\nstderr:\n%s", st.GetState(), st.GetMessage(), errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(sandbox, "from-executor")); string(got) != "directory=/mnt/mesos/sandbox\n" {
		t.Fatalf("the task's output %q", got)
	}
	runners, err := client.List(context.Background(), "org.gomesos.mesos_image_work_dir="+abs)
	if err != nil || len(runners) != 1 || runners[0].State != "running" {
		t.Fatalf("the runner's container: %+v %v", runners, err)
	}
	exited := processtest.FutureProtobuf[*messages.ExitedExecutorMessage](c.Expect, process.Any, c.MasterPID)
	_, _ = d.Stop(false)
	if m := awaitWall[*messages.ExitedExecutorMessage](t, c, exited); m.GetStatus() != 0 {
		t.Fatalf("executor exited: %v", m)
	}
	awaitNoContainers(t, client, abs)
}
