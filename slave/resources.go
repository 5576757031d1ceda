package slave

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/slave/state"
)

// Checkpointed resources: the dynamic reservations and persistent volumes
// the master tells the slave of (CheckpointResourcesMessage). The slave
// writes the whole set to meta/resources/resources.info atomically before
// it takes them as its own, reads them back at start (a set that does not
// fit its --resources stops it, as in Mesos), reports them when it
// (re-)registers, and keeps one directory per persistent volume under
// <work_dir>/volumes/roles/<role>/<id>. A task or executor that uses a
// volume finds it at its container_path in the sandbox, as a symbolic
// link to that directory; the data outlives the task and the slave.

// recoverCheckpointedResources reads the checkpointed resources at start
// and checks them against the static ones.
func (s *slave) recoverCheckpointedResources() error {
	pbs, ok, err := state.ReadResources(s.cfg.Files, s.paths.ResourcesInfo())
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	ckpt := resources.FromProto(pbs)
	if _, err := resources.ApplyCheckpointed(resources.FromProto(s.info.GetResources()), ckpt); err != nil {
		return fmt.Errorf("checkpointed resources in %s are incompatible with the agent's resources (to start afresh: rm -f %s): %w",
			s.paths.ResourcesInfo(), s.paths.ResourcesInfo(), err)
	}
	for _, v := range ckpt.PersistentVolumes() {
		if err := os.MkdirAll(s.paths.Volume(v.Role, v.DiskID), 0o755); err != nil {
			return fmt.Errorf("persistent volume %s: %w", v.DiskID, err)
		}
	}
	s.checkpointed = ckpt
	return nil
}

// checkpointResources handles the master's CheckpointResourcesMessage.
func (s *slave) checkpointResources(from process.UPID, m *messages.CheckpointResourcesMessage) {
	if !s.fromMaster(from) {
		return
	}
	next := resources.FromProto(m.GetResources())
	if next.Equal(s.checkpointed) {
		s.log.Info("checkpointed resources unchanged", "resources", next.String())
		return
	}
	if _, err := resources.ApplyCheckpointed(resources.FromProto(s.info.GetResources()), next); err != nil {
		// Mesos exits here; a message from the network never stops us.
		s.log.Error("refusing checkpointed resources from the master", "err", err)
		return
	}
	if err := s.syncVolumes(s.checkpointed, next); err != nil {
		s.log.Error("cannot update persistent volumes; the checkpointed resources are left as they were", "err", err)
		return
	}
	if err := state.WriteResources(s.cfg.Files, s.paths.ResourcesInfo(), next.ToProto()); err != nil {
		s.log.Error("cannot checkpoint resources; the checkpointed resources are left as they were", "err", err)
		return
	}
	s.log.Info("checkpointed new resources", "resources", next.String(), "previous", s.checkpointed.String())
	s.checkpointed = next
}

// syncVolumes creates the directories of new persistent volumes and
// removes those of destroyed ones (the master destroys only volumes no
// task uses).
func (s *slave) syncVolumes(prev, next resources.Resources) error {
	type vol struct{ role, id string }
	keep := map[vol]bool{}
	for _, v := range next.PersistentVolumes() {
		keep[vol{v.Role, v.DiskID}] = true
		if err := os.MkdirAll(s.paths.Volume(v.Role, v.DiskID), 0o755); err != nil {
			return fmt.Errorf("create persistent volume %s: %w", v.DiskID, err)
		}
	}
	for _, v := range prev.PersistentVolumes() {
		if keep[vol{v.Role, v.DiskID}] {
			continue
		}
		s.log.Info("removing a destroyed persistent volume", "volume", v.DiskID, "role", v.Role)
		if err := os.RemoveAll(s.paths.Volume(v.Role, v.DiskID)); err != nil {
			return fmt.Errorf("remove persistent volume %s: %w", v.DiskID, err)
		}
	}
	return nil
}

// totalResources is the slave's total: its static resources with the
// checkpointed ones applied.
func (s *slave) totalResources() resources.Resources {
	static := resources.FromProto(s.info.GetResources())
	total, err := resources.ApplyCheckpointed(static, s.checkpointed)
	if err != nil {
		return static
	}
	return total
}

// volumes are the persistent volumes an executor's resources use,
// resolved to their directories; a volume whose container path would
// leave the sandbox is left out, with a log line.
func (s *slave) volumes(e *executor) []containerizer.Volume {
	var out []containerizer.Volume
	for _, v := range s.executorResources(e).PersistentVolumes() {
		rel := filepath.Clean(v.VolumePath)
		if rel == "." || !filepath.IsLocal(rel) {
			s.log.Warn("persistent volume with a container path outside the sandbox; not linked", "volume", v.DiskID, "path", v.VolumePath)
			continue
		}
		out = append(out, containerizer.Volume{
			ID: v.DiskID, HostPath: s.paths.Volume(v.Role, v.DiskID), Path: rel,
			ReadOnly: v.VolumeMode == int32(mesos.Volume_RO),
		})
	}
	return out
}

// linkVolumes makes the persistent volumes an executor's resources use
// available in its sandbox, at their container paths (symbolic links to
// the volumes' directories). A directory already there is a
// containerizer's mount point for the volume (see LaunchSpec.Volumes)
// and is left alone.
func (s *slave) linkVolumes(e *executor) {
	for _, v := range s.volumes(e) {
		link := filepath.Join(e.dir, v.Path)
		if cur, err := os.Readlink(link); err == nil && cur == v.HostPath {
			continue
		}
		if fi, err := os.Lstat(link); err == nil && fi.IsDir() {
			continue
		}
		if err := os.MkdirAll(v.HostPath, 0o755); err != nil {
			s.log.Error("cannot create a persistent volume", "volume", v.ID, "err", err)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			s.log.Error("cannot link a persistent volume", "volume", v.ID, "err", err)
			continue
		}
		if err := os.Symlink(v.HostPath, link); err != nil {
			s.log.Error("cannot link a persistent volume", "volume", v.ID, "link", link, "err", err)
		}
	}
}

// checkpointedProto is what the slave reports at (re-)registration.
func (s *slave) checkpointedProto() []*mesos.Resource { return s.checkpointed.ToProto() }

// addReservationsJSON adds to /state what Mesos's agent shows of its
// reservations: `reserved_resources` (role → summary),
// `unreserved_resources`, `reserved_resources_full` (role → resources with
// role, reservation.principal and disk info) and `checkpointed_resources`.
func (s *slave) addReservationsJSON(out jsonObj) {
	total := s.totalResources()
	reserved, full := jsonObj{}, jsonObj{}
	for role, rs := range total.ByRole() {
		reserved[role] = rs.JSONMap()
		full[role] = rs.ToJSONArray()
	}
	out["reserved_resources"] = reserved
	out["reserved_resources_full"] = full
	out["unreserved_resources"] = total.Unreserved().JSONMap()
	out["checkpointed_resources"] = s.checkpointed.ToJSONArray()
}
