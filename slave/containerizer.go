package slave

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/fetcher"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/walltime"
)

// MesosContainerizer builds the Mesos containerizer the slave flags in cfg
// describe (--isolation, the cgroups and fetcher cache settings) for a
// slave on rt: usage samples are stamped with rt's Clock, and the fetcher
// cache is a directory of its own per work directory, wiped at start. The
// daemon passes it as Config.Containerizer; Spawn builds it when that is
// nil.
func MesosContainerizer(rt *process.Runtime, cfg Config) (*containerizer.Mesos, error) {
	dir := cfg.FetcherCacheDir
	if dir == "" {
		dir = fetcher.DefaultCacheDir
	}
	abs, _ := filepath.Abs(cfg.WorkDir)
	sum := sha256.Sum256([]byte(abs))
	fc, err := fetcher.New(fetcher.Config{
		CacheDir: filepath.Join(dir, "slaves", hex.EncodeToString(sum[:6])), CacheSize: cfg.FetcherCacheSize, Logger: rt.Logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("slave: fetcher: %w", err)
	}
	cz, err := containerizer.NewMesos(containerizer.Config{
		Isolation: cfg.Isolation, Logger: rt.Logger(), Fetcher: fc,
		CgroupsRoot: cfg.CgroupsRoot, CgroupsEnableCFS: cfg.CgroupsEnableCFS,
		Now: rt.Clock().Now,
		// The kernel polls of cgroups and process trees pace themselves
		// in real time: the kernel does not follow a paused Clock.
		Pause: walltime.Sleep,
	})
	if err != nil {
		return nil, fmt.Errorf("slave: %w", err)
	}
	return cz, nil
}

// isolation names the containerizer's isolators, for /state (empty for a
// containerizer without any).
func (s *slave) isolation() string {
	if iso, ok := s.cz.(interface{ Isolators() []string }); ok {
		return strings.Join(iso.Isolators(), ",")
	}
	return ""
}
