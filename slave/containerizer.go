package slave

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/containerizer/composing"
	"github.com/gomesos/gomesos/containerizer/docker"
	"github.com/gomesos/gomesos/containerizer/external"
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
		Now: rt.Clock().Now, Modules: cfg.Modules, ContainerLogger: cfg.ContainerLogger,
		// The kernel polls of cgroups and process trees pace themselves
		// in real time: the kernel does not follow a paused Clock.
		Pause: walltime.Sleep,
	})
	if err != nil {
		return nil, fmt.Errorf("slave: %w", err)
	}
	return cz, nil
}

// Containerizers builds the containerizers of --containerizers (default
// "mesos"), composed in that order when there are several. As in Mesos
// 0.25, --isolation=external (deprecated there) means the external
// containerizer in place of the Mesos one.
func Containerizers(rt *process.Runtime, cfg Config) (containerizer.Containerizer, error) {
	list := cfg.Containerizers
	if list == "" {
		list = "mesos"
	}
	if cfg.Isolation == "external" {
		list = strings.Replace(list, "mesos", "external", 1)
		cfg.Isolation = ""
	}
	var named []composing.Named
	seen := make(map[string]bool)
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if seen[name] {
			return nil, fmt.Errorf("slave: --containerizers=%s names %s twice", list, name)
		}
		seen[name] = true
		var cz containerizer.Containerizer
		switch name {
		case "mesos":
			m, err := MesosContainerizer(rt, cfg)
			if err != nil {
				return nil, err
			}
			cz = m
		case "external":
			e, err := external.New(external.Config{
				Path: cfg.ContainerizerPath, WorkDir: cfg.WorkDir, LibexecDir: cfg.LauncherDir,
				DefaultImage: cfg.DefaultContainerImage, Logger: rt.Logger(), Now: rt.Clock().Now,
				// The program runs in real time: a paused Clock cannot
				// bound it.
				After: walltime.Clock{}.After,
			})
			if err != nil {
				return nil, fmt.Errorf("slave: %w", err)
			}
			cz = e
		case "docker":
			// The command executors of docker tasks, and the runners of
			// executors in containers, run on the host, in a Mesos
			// containerizer of their own (posix isolation).
			hostCfg := cfg
			hostCfg.Isolation = "posix/cpu,posix/mem"
			host, err := MesosContainerizer(rt, hostCfg)
			if err != nil {
				return nil, err
			}
			var executors containerizer.Containerizer = host
			if cfg.DockerMesosImage != "" {
				// The slave runs in a container: the host side of the
				// docker containers runs in containers of its image.
				abs, _ := filepath.Abs(cfg.WorkDir)
				executors, err = docker.NewImageExecutors(docker.ImageExecutorsConfig{
					Image: cfg.DockerMesosImage, Socket: cfg.DockerSocket, WorkDir: abs,
					Fetcher: host.Fetcher(), KillOrphans: cfg.DockerKillOrphans, Logger: rt.Logger(),
				})
				if err != nil {
					return nil, fmt.Errorf("slave: %w", err)
				}
			}
			d, err := docker.New(docker.Config{
				Socket: cfg.DockerSocket, WorkDir: cfg.WorkDir, RemoveDelay: cfg.DockerRemoveDelay,
				KillOrphans: cfg.DockerKillOrphans, StopTimeout: cfg.DockerStopTimeout, LauncherDir: cfg.LauncherDir,
				Executors: executors, After: walltime.Clock{}.After, Now: rt.Clock().Now, Logger: rt.Logger(),
			})
			if err != nil {
				return nil, fmt.Errorf("slave: %w", err)
			}
			cz = d
		default:
			return nil, fmt.Errorf("slave: --containerizers=%s: unknown containerizer %q (known: mesos, external, docker)", list, name)
		}
		named = append(named, composing.Named{Name: name, Containerizer: cz})
	}
	if len(named) == 1 {
		return named[0].Containerizer, nil
	}
	return composing.New(named)
}

// isolation names the containerizer's isolators, for /state (empty for a
// containerizer without any).
func (s *slave) isolation() string {
	if iso, ok := s.cz.(interface{ Isolators() []string }); ok {
		return strings.Join(iso.Isolators(), ",")
	}
	return ""
}
