package sim

import (
	"testing"
	"time"

	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/resources"
)

// A scripted framework reserves, creates a volume, launches a task on
// it, keeps it across a slave crash and a master failover, then
// destroys it and unreserves, every invariant checked on the way.
func TestScriptedOperations(t *testing.T) {
	c, err := New(Config{Seed: 7}, Shape{Masters: 2, Slaves: 1, Frameworks: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(e Event) {
		t.Helper()
		c.Apply(e)
		if err := c.Advance(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	slave := func() master.SlaveSnapshot {
		t.Helper()
		v := c.View()
		if v.Master == nil || len(v.Master.Slaves) != 1 {
			t.Fatalf("no leader, or not one slave: %+v", v.Master)
		}
		return v.Master.Slaves[0]
	}
	step(Event{Kind: Reserve})
	if got := slave().Total.Reserved("web"); got.Scalar("cpus") != 1 || got.Scalar("disk") != 256 {
		t.Fatalf("reserved for web: %v, want cpus 1, disk 256", got)
	}
	step(Event{Kind: CreateVolume})
	if vols := slave().Total.PersistentVolumes(); len(vols) != 1 || vols[0].DiskID != "fw0-v1" {
		t.Fatalf("volumes: %v, want fw0-v1", vols)
	}
	step(Event{Kind: Launch, Count: 1})
	s := slave()
	if len(s.Tasks) != 1 || len(resources.FromProto(s.Tasks[0].GetResources()).PersistentVolumes()) != 1 {
		t.Fatalf("want one task on the volume, got %v", s.Tasks)
	}
	if used := s.Used.PersistentVolumes(); len(used) != 1 {
		t.Fatalf("the volume is not in use: used %v", s.Used)
	}
	step(Event{Kind: CrashSlave, Duration: 10 * time.Second})
	step(Event{Kind: CrashMaster, Duration: 10 * time.Second})
	if err := c.Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	if vols := slave().Total.PersistentVolumes(); len(vols) != 1 {
		t.Fatalf("after a slave crash and a failover the new leader holds volumes %v", vols)
	}
	step(Event{Kind: Kill})
	step(Event{Kind: DestroyVolume})
	if vols := slave().Total.PersistentVolumes(); len(vols) != 0 {
		t.Fatalf("volumes after DESTROY: %v", vols)
	}
	step(Event{Kind: Unreserve})
	if got := slave().Total.Reserved("web"); !got.IsEmpty() {
		t.Fatalf("still reserved after UNRESERVE: %v", got)
	}
	if err := c.Quiesce(); err != nil {
		t.Fatal(err)
	}
}
