package slave

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// The disk-usage policy: with the disk 85% full and 10% headroom, a
// sandbox may only be 5% of --gc_delay old.
func TestGCShortensDelayWhenTheDiskFills(t *testing.T) {
	rt, err := process.New(process.Options{NoNetwork: true, Testing: true, Bind: netip.MustParseAddrPort("127.0.0.1:5051")})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	rt.Clock().Pause()
	master, _ := process.ParseUPID("master@127.0.0.1:5050")
	work := t.TempDir()
	h := New(Config{Master: master, WorkDir: work, Resources: "cpus:1;mem:64;disk:64;ports:[1-2]",
		GCDelay: time.Hour, DiskWatchInterval: time.Minute, FetcherCacheDir: t.TempDir()})
	if _, err := h.Start(rt); err != nil {
		t.Fatal(err)
	}
	s := h.s
	dir := filepath.Join(work, "old-sandbox")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := process.Dispatch(rt, s.Self(), func() future.Nothing {
		s.gc.diskUsage = func() (float64, error) { return 0.85, nil }
		s.gc.schedule(dir)
		return future.Nothing{}
	})
	if !process.Await(rt, f, 10*time.Second) { // wall-clock: bounds the test
		t.Fatal("dispatch did not run")
	}
	advance := func(d time.Duration) {
		rt.Clock().Advance(d)
		rt.Clock().Settle()
	}
	advance(2 * time.Minute)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("removed at 2 min: %v", err)
	}
	advance(time.Minute) // 3 min = 5% of an hour
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("still there at 3 min: %v", err)
	}
}
