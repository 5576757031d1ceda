package containerizer

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/resources"
)

// recording is an out-of-tree style isolator: it records the calls it
// gets, in order.
type recording struct {
	mu    sync.Mutex
	calls []string
}

func (r *recording) add(s string) { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }

func (r *recording) Name() string { return "test/recording" }
func (r *recording) Prepare(id string, _ resources.Resources) error {
	r.add("prepare")
	return nil
}
func (r *recording) Isolate(string, int) error                       { r.add("isolate"); return nil }
func (r *recording) Watch(context.Context, string) <-chan Limitation { return nil }
func (r *recording) Update(string, resources.Resources) error        { r.add("update"); return nil }
func (r *recording) Usage(_ string, _ int, st *mesos.ResourceStatistics) error {
	r.add("usage")
	return nil
}
func (r *recording) Recover(string, int) error        { return nil }
func (r *recording) Orphans(map[string]bool) []string { return nil }
func (r *recording) Cleanup(string) error             { r.add("cleanup"); return nil }

var rec = &recording{}

func init() {
	RegisterIsolator("test/recording", func(IsolatorConfig) (Isolator, error) { return rec, nil })
}

func TestRegisteredIsolatorIsResolvedByIsolation(t *testing.T) {
	rec.mu.Lock()
	rec.calls = nil
	rec.mu.Unlock()
	c := newTestContainerizer(t, "posix/cpu,test/recording")
	if got := strings.Join(c.Isolators(), ","); got != "posix/cpu,test/recording" {
		t.Fatalf("isolators %s", got)
	}
	if _, err := get(t, c.Launch(spec(t, "c1", "true", "cpus:1;mem:64"))); err != nil {
		t.Fatal(err)
	}
	wait(t, c, "c1")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(rec.calls, ","); got != "prepare,isolate,cleanup" {
		t.Fatalf("calls %s", got)
	}
	if _, err := NewMesos(Config{Isolation: "test/nope", Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "known: cgroups/cpu, cgroups/mem, posix/cpu, posix/mem, test/params, test/recording") {
		t.Fatalf("unknown isolator: %v", err)
	}
}
