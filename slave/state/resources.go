package state

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/gomesos/gomesos/mesos"
)

// ResourcesInfo is the slave's checkpointed resources (dynamic
// reservations and persistent volumes): meta/resources/resources.info,
// outside any slave id's directory, as in Mesos, so that they outlive a
// new slave id.
func (p Paths) ResourcesInfo() string { return filepath.Join(p.Meta(), "resources", "resources.info") }

// Volume is the directory of a persistent volume:
// <work_dir>/volumes/roles/<role>/<id>.
func (p Paths) Volume(role, id string) string {
	return filepath.Join(p.WorkDir, "volumes", "roles", role, id)
}

// WriteResources replaces path atomically with rs, one record each (an
// empty file for none).
func WriteResources(fsys FS, path string, rs []*mesos.Resource) error {
	var data []byte
	for _, r := range rs {
		b, err := record(r)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", path, err)
		}
		data = append(data, b...)
	}
	return WriteFile(fsys, path, data)
}

// ReadResources reads the resources WriteResources wrote; a missing file
// is no resources (ok false). A torn or corrupt file is an error: it is
// written atomically, so it is never legitimately partial.
func ReadResources(fsys FS, path string) (rs []*mesos.Resource, ok bool, err error) {
	data, err := fsys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read checkpointed resources: %w", err)
	}
	rs, err = DecodeMessages(path, data, func() *mesos.Resource { return &mesos.Resource{} })
	if err != nil {
		return nil, false, fmt.Errorf("read checkpointed resources: %w", err)
	}
	return rs, true, nil
}
