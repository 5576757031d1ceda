package docker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

func testDocker() *Docker {
	return &Docker{
		cfg:        Config{WorkDir: "/work", LauncherDir: "/libexec"},
		client:     NewClient("/run/test.sock"),
		containers: map[string]*dockerContainer{},
	}
}

func dockerInfo(image string) *mesos.ContainerInfo {
	return &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(), Docker: &mesos.ContainerInfo_DockerInfo{Image: proto.String(image)}}
}

func mustParse(t *testing.T, s string) resources.Resources {
	t.Helper()
	r, err := resources.Parse(s, "*")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// commandSpec is the launch of a command task in a DOCKER container, as
// the slave makes it (the task's ContainerInfo copied to its command
// executor).
func commandSpec(t *testing.T) containerizer.LaunchSpec {
	task := &mesos.TaskInfo{
		TaskId: &mesos.TaskID{Value: proto.String("t1")}, Container: dockerInfo("img"),
		Command:   &mesos.CommandInfo{Value: proto.String("echo hi > data/file")},
		Resources: mustParse(t, "cpus:1;mem:64").ToProto(),
	}
	return containerizer.LaunchSpec{
		ContainerID: "c1",
		Executor:    &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("t1")}, Container: task.Container},
		Task:        task,
		Command:     &mesos.CommandInfo{Value: proto.String("/libexec/mesos-executor")},
		Resources:   mustParse(t, "cpus:1.1;mem:96"),
		Directory:   "/sandbox",
		Env:         []string{"MESOS_SLAVE_ID=S1", "MESOS_DIRECTORY=/sandbox"},
		Volumes: []containerizer.Volume{
			{ID: "v1", HostPath: "/work/volumes/roles/r/v1", Path: "data"},
			{ID: "v2", HostPath: "/work/volumes/roles/r/v2", Path: "deep/ro", ReadOnly: true},
		},
	}
}

// executorSpec is the launch of a custom executor whose ExecutorInfo is
// DOCKER, with its first task.
func executorSpec(t *testing.T) containerizer.LaunchSpec {
	exec := &mesos.ExecutorInfo{
		ExecutorId: &mesos.ExecutorID{Value: proto.String("e1")}, Container: dockerInfo("img"),
		Command: &mesos.CommandInfo{
			Value: proto.String("$MESOS_SANDBOX/my-executor"),
			Uris:  []*mesos.CommandInfo_URI{{Value: proto.String("/build/my-executor"), Executable: proto.Bool(true)}},
		},
	}
	return containerizer.LaunchSpec{
		ContainerID: "c2",
		Executor:    exec,
		Task:        &mesos.TaskInfo{TaskId: &mesos.TaskID{Value: proto.String("t2")}, Executor: exec},
		Command:     exec.Command,
		Resources:   mustParse(t, "cpus:2;mem:256"),
		Directory:   "/sandbox",
		Env: []string{"PATH=/host/bin", "HOME=/root", "LANG=C", "MESOS_SLAVE_ID=S1", "MESOS_SLAVE_PID=slave(1)@127.0.0.1:5051",
			"MESOS_DIRECTORY=/sandbox", "MESOS_SANDBOX=/sandbox", "MESOS_EXECUTOR_ID=e1"},
	}
}

func TestPersistentVolumesAreBoundIntoTheSandboxMount(t *testing.T) {
	d := testDocker()
	cfg, err := d.containerConfig(commandSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/sandbox:/mnt/mesos/sandbox",
		"/work/volumes/roles/r/v1:/mnt/mesos/sandbox/data:rw",
		"/work/volumes/roles/r/v2:/mnt/mesos/sandbox/deep/ro:ro",
	}
	if !slices.Equal(cfg.HostConfig.Binds, want) {
		t.Fatalf("binds %q, want %q", cfg.HostConfig.Binds, want)
	}
	if cfg.Labels[labelVolumes] != "v1,v2" || cfg.Labels[labelExecutor] != "" {
		t.Fatalf("labels %v", cfg.Labels)
	}
	// The command task's container gets the task's resources only.
	if cfg.HostConfig.Memory != 64<<20 || cfg.HostConfig.CPUShares != 1024 {
		t.Fatalf("limits %d %d", cfg.HostConfig.Memory, cfg.HostConfig.CPUShares)
	}
}

func TestMountPointsReplaceTheSandboxLinks(t *testing.T) {
	sandbox, vol := t.TempDir(), t.TempDir()
	if err := os.Symlink(vol, filepath.Join(sandbox, "data")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sandbox, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vols := []containerizer.Volume{{ID: "v1", HostPath: vol, Path: "data"}, {ID: "v2", HostPath: vol, Path: "a/b"}}
	if err := mountPoints(sandbox, vols); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"data", "a/b"} {
		fi, err := os.Lstat(filepath.Join(sandbox, p))
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v %v", p, fi, err)
		}
	}
	// Twice is fine; a file in the way is not.
	if err := mountPoints(sandbox, vols); err != nil {
		t.Fatal(err)
	}
	if err := mountPoints(sandbox, []containerizer.Volume{{ID: "v3", HostPath: vol, Path: "file"}}); err == nil || !strings.Contains(err.Error(), "in the way") {
		t.Fatalf("file in the way: %v", err)
	}
}

func TestExecutorContainerConfig(t *testing.T) {
	d := testDocker()
	spec := executorSpec(t)
	cfg, err := d.containerConfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Cmd, []string{"/bin/sh", "-c", "$MESOS_SANDBOX/my-executor"}) {
		t.Fatalf("cmd %q", cfg.Cmd)
	}
	if cfg.HostConfig.NetworkMode != "host" {
		t.Fatalf("network %q", cfg.HostConfig.NetworkMode)
	}
	env := strings.Join(cfg.Env, "\n") + "\n"
	for _, want := range []string{"MESOS_SLAVE_PID=slave(1)@127.0.0.1:5051\n", "MESOS_EXECUTOR_ID=e1\n", "LANG=C\n",
		"MESOS_DIRECTORY=/mnt/mesos/sandbox\n", "MESOS_SANDBOX=/mnt/mesos/sandbox\n", "MESOS_CONTAINER_NAME=mesos-S1.c2\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	for _, bad := range []string{"PATH=", "HOME=", "MESOS_DIRECTORY=/sandbox", "MESOS_SANDBOX=/sandbox"} {
		if strings.Contains(env, bad) {
			t.Errorf("env has %q:\n%s", bad, env)
		}
	}
	// The executor's container gets the executor's and its tasks'
	// resources, and says it runs an executor.
	if cfg.HostConfig.Memory != 256<<20 || cfg.HostConfig.CPUShares != 2048 || cfg.Labels[labelExecutor] != "1" {
		t.Fatalf("limits %d %d, labels %v", cfg.HostConfig.Memory, cfg.HostConfig.CPUShares, cfg.Labels)
	}

	// On the host runs the runner, which fetches the executor's URIs.
	host := d.hostSpec(spec, "mesos-S1.c2", true)
	if host.Command.GetValue() != "/libexec/mesos-executor" || !slices.Equal(host.Command.GetArguments(), []string{"mesos-executor", RunArg}) ||
		len(host.Command.GetUris()) != 1 || host.Executor.GetContainer() != nil || host.Executor.GetCommand() != host.Command || host.Task != nil {
		t.Fatalf("host spec %v", host)
	}
	if envValue(host.Env, EnvContainer) != "mesos-S1.c2" || envValue(host.Env, EnvSocket) != "/run/test.sock" {
		t.Fatalf("host env %q", host.Env)
	}
	if spec.Executor.GetContainer() == nil || spec.Command.GetValue() != "$MESOS_SANDBOX/my-executor" {
		t.Fatal("hostSpec changed the spec it was given")
	}
}

func TestSupports(t *testing.T) {
	cmd := commandSpec(t)
	if err := supports(cmd); err != nil {
		t.Fatalf("command task: %v", err)
	}
	if err := supports(executorSpec(t)); err != nil {
		t.Fatalf("executor: %v", err)
	}
	plain := containerizer.LaunchSpec{Executor: &mesos.ExecutorInfo{}, Task: &mesos.TaskInfo{}}
	if err := supports(plain); !errors.Is(err, containerizer.ErrUnsupported) {
		t.Fatalf("no ContainerInfo: %v", err)
	}
	// An absent ContainerInfo is not DOCKER (its getter says DOCKER).
	if (&Docker{}).MayOwn(containerizer.Recovered{Executor: &mesos.ExecutorInfo{}}) {
		t.Fatal("the docker containerizer claims a recovered executor without a ContainerInfo")
	}
	if !(&Docker{}).MayOwn(containerizer.Recovered{Executor: executorSpec(t).Executor}) {
		t.Fatal("the docker containerizer does not claim a recovered executor in a DOCKER container")
	}
	// A custom executor's task with a DOCKER ContainerInfo, the executor
	// without: the executor would run on the host.
	taskOnly := executorSpec(t)
	taskOnly.Executor = proto.Clone(taskOnly.Executor).(*mesos.ExecutorInfo)
	taskOnly.Executor.Container = nil
	taskOnly.Task = &mesos.TaskInfo{Executor: taskOnly.Executor, Container: dockerInfo("img")}
	if err := supports(taskOnly); !errors.Is(err, containerizer.ErrUnsupported) || !strings.Contains(err.Error(), "ExecutorInfo") {
		t.Fatalf("task-only DOCKER: %v", err)
	}
	both := executorSpec(t)
	both.Task = &mesos.TaskInfo{Executor: both.Executor, Container: dockerInfo("img")}
	if err := supports(both); err == nil || errors.Is(err, containerizer.ErrUnsupported) {
		t.Fatalf("both DOCKER: %v", err)
	}
	bridge := executorSpec(t)
	bridge.Executor = proto.Clone(bridge.Executor).(*mesos.ExecutorInfo)
	bridge.Executor.Container.Docker.Network = mesos.ContainerInfo_DockerInfo_BRIDGE.Enum()
	if err := supports(bridge); err == nil || !strings.Contains(err.Error(), "HOST network") {
		t.Fatalf("bridge executor: %v", err)
	}
}

func TestLaunchOfAnExecutorNeedsTheLauncherDir(t *testing.T) {
	d := testDocker()
	d.cfg.LauncherDir = ""
	if _, err := d.Launch(executorSpec(t)).Get(); err == nil || !strings.Contains(err.Error(), "launcher_dir") {
		t.Fatalf("launch: %v", err)
	}
}

func TestImageExecutorConfig(t *testing.T) {
	x := &ImageExecutors{cfg: ImageExecutorsConfig{Image: "mesos:1", WorkDir: "/work"}, client: NewClient("/run/test.sock")}
	spec := containerizer.LaunchSpec{
		ContainerID: "c1", Directory: "/work/sandbox", Env: []string{"MESOS_SLAVE_ID=S1", "MESOS_DIRECTORY=/work/sandbox"},
		Command: &mesos.CommandInfo{Value: proto.String("/libexec/mesos-executor"), Shell: proto.Bool(false), Arguments: []string{"mesos-executor", RunArg}},
	}
	cfg := x.executorConfig(spec)
	if cfg.Image != "mesos:1" || cfg.WorkingDir != "/work/sandbox" || cfg.HostConfig.NetworkMode != "host" ||
		!slices.Equal(cfg.Cmd, []string{"/libexec/mesos-executor", RunArg}) || cfg.Entrypoint[0] != "/bin/sh" ||
		!slices.Equal(cfg.Env, spec.Env) || cfg.Labels[labelMesosImage] != "/work" {
		t.Fatalf("config %+v", cfg)
	}
	want := []string{"/work/sandbox:/work/sandbox", "/run/test.sock:/run/test.sock"}
	if !slices.Equal(cfg.HostConfig.Binds, want) {
		t.Fatalf("binds %q, want %q", cfg.HostConfig.Binds, want)
	}
	if _, err := NewImageExecutors(ImageExecutorsConfig{Image: "mesos:1"}); err == nil {
		t.Fatal("NewImageExecutors without a fetcher")
	}
}
