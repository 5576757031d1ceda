package composing_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/composing"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// only runs the containers of one ContainerInfo type (0: none) and
// records what it was asked.
type only struct {
	kind     mesos.ContainerInfo_Type
	launched []string
	known    []string
}

func (o *only) Launch(spec containerizer.LaunchSpec) future.Future[int] {
	ci := spec.Task.GetContainer()
	if (ci == nil) != (o.kind == 0) || (ci != nil && ci.GetType() != o.kind) {
		return future.Failed[int](containerizer.Unsupported("not mine"))
	}
	o.launched = append(o.launched, spec.ContainerID)
	return future.Ready(len(o.launched))
}
func (o *only) Update(string, resources.Resources) future.Future[future.Nothing] {
	return future.Ready(future.Nothing{})
}
func (o *only) Usage(id string) future.Future[*mesos.ResourceStatistics] {
	return future.Ready(&mesos.ResourceStatistics{Timestamp: proto.Float64(float64(o.kind))})
}
func (o *only) Wait(id string) future.Future[containerizer.Termination] {
	return future.Ready(containerizer.Termination{Message: o.kind.String()})
}
func (o *only) Destroy(string) future.Future[future.Nothing] { return future.Ready(future.Nothing{}) }
func (o *only) Containers() future.Future[[]string]          { return future.Ready(o.launched) }
func (o *only) Recover(known []containerizer.Recovered) future.Future[map[string]bool] {
	alive := map[string]bool{}
	for _, r := range known {
		o.known = append(o.known, r.ContainerID)
		alive[r.ContainerID] = true
	}
	return future.Ready(alive)
}

// broken fails every launch for a reason of its own.
type broken struct{ only }

func (b *broken) Launch(containerizer.LaunchSpec) future.Future[int] {
	return future.Failed[int](errors.New("disk on fire"))
}

func spec(id string, kind mesos.ContainerInfo_Type) containerizer.LaunchSpec {
	t := &mesos.TaskInfo{}
	if kind != 0 {
		t.Container = &mesos.ContainerInfo{Type: kind.Enum()}
	}
	return containerizer.LaunchSpec{ContainerID: id, Task: t}
}

func TestLaunchGoesToTheFirstThatCanRunIt(t *testing.T) {
	plain, docker := &only{}, &only{kind: mesos.ContainerInfo_DOCKER}
	c, err := composing.New([]composing.Named{{Name: "mesos", Containerizer: plain}, {Name: "docker", Containerizer: docker}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Launch(spec("a", 0)).Get(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Launch(spec("b", mesos.ContainerInfo_DOCKER)).Get(); err != nil {
		t.Fatal(err)
	}
	if len(plain.launched) != 1 || len(docker.launched) != 1 {
		t.Fatalf("plain ran %v, docker %v", plain.launched, docker.launched)
	}
	// Later calls reach the owner.
	if term, _ := c.Wait("b").Get(); term.Message != "DOCKER" {
		t.Fatalf("wait b reached %q", term.Message)
	}
	if ids, _ := c.Containers().Get(); strings.Join(ids, ",") != "a,b" {
		t.Fatalf("containers %v", ids)
	}
	if _, err := c.Launch(spec("a", 0)).Get(); err == nil {
		t.Fatal("a second launch of a succeeded")
	}
	if _, err := c.Usage("nope").Get(); err == nil {
		t.Fatal("usage of an unknown container succeeded")
	}
}

func TestLaunchNoneCanRunNamesEveryReason(t *testing.T) {
	c, _ := composing.New([]composing.Named{{Name: "mesos", Containerizer: &only{}}, {Name: "external", Containerizer: &only{}}})
	_, err := c.Launch(spec("a", mesos.ContainerInfo_DOCKER)).Get()
	if err == nil || !strings.Contains(err.Error(), "none of the enabled containerizers (mesos,external)") ||
		strings.Count(err.Error(), "not mine") != 2 {
		t.Fatalf("err %v", err)
	}
	if _, err := c.Wait("a").Get(); err == nil {
		t.Fatal("a refused container is known")
	}
}

func TestLaunchFailureIsNotARefusal(t *testing.T) {
	next := &only{}
	c, _ := composing.New([]composing.Named{{Name: "first", Containerizer: &broken{}}, {Name: "second", Containerizer: next}})
	_, err := c.Launch(spec("a", 0)).Get()
	if err == nil || !strings.Contains(err.Error(), "first containerizer: disk on fire") || len(next.launched) != 0 {
		t.Fatalf("err %v; the next ran %v", err, next.launched)
	}
}

// mayOwn owns the containers whose executor has no ContainerInfo.
type mayOwn struct{ only }

func (m *mayOwn) MayOwn(r containerizer.Recovered) bool { return r.Executor.GetContainer() == nil }

func TestRecoverOffersEachItsOwnAndRoutesToIt(t *testing.T) {
	mine, all := &mayOwn{}, &only{kind: mesos.ContainerInfo_DOCKER}
	c, _ := composing.New([]composing.Named{{Name: "mesos", Containerizer: mine}, {Name: "docker", Containerizer: all}})
	docker := &mesos.ExecutorInfo{Container: &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum()}}
	alive, err := c.Recover([]containerizer.Recovered{{ContainerID: "p", Executor: &mesos.ExecutorInfo{}}, {ContainerID: "d", Executor: docker}}).Get()
	if err != nil || !alive["p"] || !alive["d"] {
		t.Fatalf("alive %v (%v)", alive, err)
	}
	if strings.Join(mine.known, ",") != "p" || strings.Join(all.known, ",") != "p,d" {
		t.Fatalf("offered: mesos %v, docker %v", mine.known, all.known)
	}
	if term, _ := c.Wait("d").Get(); term.Message != "DOCKER" {
		t.Fatalf("wait d reached %q", term.Message)
	}
	if term, _ := c.Wait("p").Get(); term.Message != "0" && term.Message != mesos.ContainerInfo_Type(0).String() {
		t.Fatalf("wait p reached %q", term.Message)
	}
}
