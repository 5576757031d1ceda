package fetcher

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// archiveKind is how a fetched file is unpacked.
type archiveKind int

const (
	notArchive archiveKind = iota
	archiveTar
	archiveTarGzip
	archiveTarBzip2
	archiveTarXz
	archiveZip
	archiveGzip // a single gzip-compressed file
)

// maxSymlinkTarget bounds the size of a zip entry read as a symlink target.
const maxSymlinkTarget = 4096

// detectArchive chooses the archive format from a file name's extension.
func detectArchive(name string) archiveKind {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return archiveTarGzip
	case strings.HasSuffix(lower, ".tar.bz2"), strings.HasSuffix(lower, ".tbz2"):
		return archiveTarBzip2
	case strings.HasSuffix(lower, ".tar.xz"), strings.HasSuffix(lower, ".txz"):
		return archiveTarXz
	case strings.HasSuffix(lower, ".tar"):
		return archiveTar
	case strings.HasSuffix(lower, ".zip"):
		return archiveZip
	case strings.HasSuffix(lower, ".gz"):
		return archiveGzip
	}
	return notArchive
}

// extract unpacks the archive at name (relative to root) into root and
// returns the paths it created or replaced, also on error.
func (f *Fetcher) extract(root *os.Root, name string, kind archiveKind) ([]string, error) {
	if kind == archiveTarXz {
		return nil, errors.New("xz-compressed archives are not supported; fetch with extract=false and unpack in the task")
	}
	file, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()

	switch kind {
	case archiveTar:
		return f.extractTar(root, file)
	case archiveTarGzip:
		zr, err := gzip.NewReader(file)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return f.extractTar(root, zr)
	case archiveTarBzip2:
		return f.extractTar(root, bzip2.NewReader(file))
	case archiveZip:
		st, err := file.Stat()
		if err != nil {
			return nil, err
		}
		zr, err := zip.NewReader(file, st.Size())
		if err != nil {
			return nil, err
		}
		return f.extractZip(root, zr)
	case archiveGzip:
		zr, err := gzip.NewReader(file)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		if len(filepath.Base(name)) <= len(".gz") {
			return nil, errors.New("cannot name the decompressed file")
		}
		out := name[:len(name)-len(".gz")]
		if _, err := f.writeAtomic(root, out, zr, 0o644); err != nil {
			return nil, err
		}
		return []string{out}, nil
	}
	return nil, fmt.Errorf("unknown archive kind %d", kind)
}

// entryPath turns an archive entry name into a path relative to the
// sandbox, rejecting absolute names and names with a ".." element.
func entryPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("archive entry with an empty name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", fmt.Errorf("archive entry %q: %w", name, ErrUnsafePath)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("archive entry %q: %w", name, ErrUnsafePath)
		}
	}
	return filepath.FromSlash(path.Clean(name)), nil
}

// checkLinkTarget rejects a symlink at rel whose target would point outside
// the sandbox.
func checkLinkTarget(rel, target string) error {
	if target == "" || filepath.IsAbs(target) || !filepath.IsLocal(filepath.Join(filepath.Dir(rel), target)) {
		return fmt.Errorf("symlink %s -> %q: %w", rel, target, ErrUnsafePath)
	}
	return nil
}

// extractTar unpacks a tar stream into root.
func (f *Fetcher) extractTar(root *os.Root, r io.Reader) ([]string, error) {
	var created []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return created, nil
		}
		if err != nil {
			return created, err
		}
		rel, dirs, err := entryParents(root, hdr.Name)
		created = append(created, dirs...)
		if err != nil {
			return created, err
		}
		if rel == "" {
			continue // the archive's root
		}
		perm := hdr.FileInfo().Mode().Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			dirs, err := mkdirAll(root, rel)
			created = append(created, dirs...)
			if err == nil {
				err = root.Chmod(rel, perm|0o700)
			}
		case tar.TypeReg:
			_, err = f.writeAtomic(root, rel, tr, perm)
			created = append(created, rel)
		case tar.TypeSymlink:
			if err = checkLinkTarget(rel, hdr.Linkname); err == nil {
				err = replaceWith(root, rel, func() error { return root.Symlink(hdr.Linkname, rel) })
				created = append(created, rel)
			}
		case tar.TypeLink:
			var old string
			if old, err = entryPath(hdr.Linkname); err == nil {
				err = replaceWith(root, rel, func() error { return root.Link(old, rel) })
				created = append(created, rel)
			}
		default:
			f.log.Warn("skipping archive entry of unsupported type", "entry", hdr.Name, "type", string(hdr.Typeflag))
		}
		if err != nil {
			return created, fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
	}
}

// entryParents checks an archive entry's name and creates its parent
// directories; rel is "" for the archive's root itself.
func entryParents(root *os.Root, name string) (rel string, created []string, err error) {
	rel, err = entryPath(name)
	if err != nil || rel == "." {
		return "", nil, err
	}
	created, err = mkdirAll(root, filepath.Dir(rel))
	if err != nil {
		return "", created, fmt.Errorf("archive entry %q: %w", name, err)
	}
	return rel, created, nil
}

// extractZip unpacks a zip archive into root.
func (f *Fetcher) extractZip(root *os.Root, zr *zip.Reader) ([]string, error) {
	var created []string
	for _, zf := range zr.File {
		rel, dirs, err := entryParents(root, zf.Name)
		created = append(created, dirs...)
		if err != nil {
			return created, err
		}
		if rel == "" {
			continue // the archive's root
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			dirs, err := mkdirAll(root, rel)
			created = append(created, dirs...)
			if err == nil {
				err = root.Chmod(rel, mode.Perm()|0o700)
			}
		case mode&fs.ModeSymlink != 0:
			err = f.zipSymlink(root, rel, zf)
			if err == nil {
				created = append(created, rel)
			}
		case mode.IsRegular():
			err = f.zipFile(root, rel, zf, mode.Perm())
			created = append(created, rel)
		default:
			f.log.Warn("skipping archive entry of unsupported type", "entry", zf.Name, "mode", mode.String())
		}
		if err != nil {
			return created, fmt.Errorf("archive entry %q: %w", zf.Name, err)
		}
	}
	return created, nil
}

func (f *Fetcher) zipFile(root *os.Root, rel string, zf *zip.File, perm fs.FileMode) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = f.writeAtomic(root, rel, rc, perm)
	return err
}

func (f *Fetcher) zipSymlink(root *os.Root, rel string, zf *zip.File) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return err
	}
	if len(b) > maxSymlinkTarget {
		return errors.New("symlink target too long")
	}
	target := string(b)
	if err := checkLinkTarget(rel, target); err != nil {
		return err
	}
	return replaceWith(root, rel, func() error { return root.Symlink(target, rel) })
}

// replaceWith removes whatever is at rel (if anything) and runs create.
func replaceWith(root *os.Root, rel string, create func() error) error {
	if err := root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return create()
}
