// Package fetcher downloads the URIs listed in a CommandInfo into a
// container's sandbox before the executor or task starts.
//
// A Fetcher plays the part of the slave's fetcher actor together with the
// external mesos-fetcher helper: it resolves each URI, copies or downloads
// its content into the sandbox, makes it executable or extracts it as the
// URI asks, hands ownership to the task's user, and keeps an optional
// size-bounded cache of downloads shared by every fetch it performs.
//
// Supported sources are http://, https://, file:// and local paths. Any
// other scheme (hdfs://, s3://, ftp://, ...) is rejected with an error
// wrapping ErrUnsupportedScheme.
package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gomesos/gomesos/mesos"
)

// DefaultCacheDir is the cache directory used when Config.CacheDir is
// empty; it matches the default of the slave's --fetcher_cache_dir flag.
const DefaultCacheDir = "/tmp/mesos/fetch"

// DefaultCacheSize is the cache bound used when Config.CacheSize is zero;
// it matches the default of the slave's --fetcher_cache_size flag (2GB).
const DefaultCacheSize uint64 = 2 << 30

// ErrUnsupportedScheme is wrapped by the error Fetch returns for a URI whose
// scheme this fetcher cannot retrieve.
var ErrUnsupportedScheme = errors.New("unsupported URI scheme")

// ErrUnsafePath is wrapped by the error Fetch returns when an output_file or
// an archive entry would place a file outside the sandbox.
var ErrUnsafePath = errors.New("path escapes the sandbox")

// Config configures a Fetcher. The zero value is usable.
type Config struct {
	// CacheDir is the directory holding cached downloads (the slave's
	// --fetcher_cache_dir; DefaultCacheDir when empty). It belongs to the
	// Fetcher alone: New deletes everything already in it.
	CacheDir string

	// CacheSize bounds the total bytes kept in CacheDir (the slave's
	// --fetcher_cache_size; DefaultCacheSize when zero).
	CacheSize uint64

	// FrameworksHome is the directory that relative URI paths are resolved
	// against (the slave's --frameworks_home). When it is empty, a relative
	// URI is an error.
	FrameworksHome string

	// HTTPClient performs http:// and https:// downloads. A client with no
	// timeout is used when nil; Fetch's context bounds each download.
	HTTPClient *http.Client

	// Logger receives progress and cache events; slog.Default() when nil.
	Logger *slog.Logger
}

// Fetcher fetches CommandInfo URIs into sandboxes. It is safe for
// concurrent use: fetches into different sandboxes run in parallel and
// share one cache.
type Fetcher struct {
	cacheDir       string
	cacheSize      uint64
	frameworksHome string
	client         *http.Client
	log            *slog.Logger

	cache cache

	tmpSeq atomic.Uint64

	// onWait, when set (by tests), is called each time a fetch starts
	// waiting for another fetch's download of the same URI.
	onWait func()
}

// New returns a Fetcher configured by cfg. Like the Mesos slave, which
// cleans its fetcher cache on start, New removes CacheDir and everything in
// it, then creates it again empty: cached files never outlive the Fetcher
// that downloaded them.
func New(cfg Config) (*Fetcher, error) {
	dir := cfg.CacheDir
	if dir == "" {
		dir = DefaultCacheDir
	}
	dir = filepath.Clean(dir)
	if dir == string(filepath.Separator) || dir == "." {
		return nil, fmt.Errorf("fetcher: refusing to use %q as the cache directory: it is wiped on start", cfg.CacheDir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("fetcher: clean cache directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fetcher: create cache directory %s: %w", dir, err)
	}
	size := cfg.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	f := &Fetcher{
		cacheDir:       dir,
		cacheSize:      size,
		frameworksHome: cfg.FrameworksHome,
		client:         client,
		log:            logger.With("component", "fetcher"),
	}
	f.cache.init()
	return f, nil
}

// Fetch retrieves every URI, one after the other, into the sandbox
// directory, which must exist. It stops at the first failure and returns an
// error naming that URI; files already fetched stay in the sandbox, but a
// failed download never leaves a partial file behind.
//
// Each URI is stored under its output_file, or else under the base name of
// its path. An executable URI is given mode 0755 and never extracted; other
// URIs with extract set (the default) that name a .tar, .tar.gz, .tgz,
// .tar.bz2, .tbz2, .zip or .gz file are unpacked into the sandbox, and the
// archive is kept; .tar.xz and .txz files fail, as the standard library has
// no xz decoder. The archive format is read from the destination name. A URI with cache set is served from the Fetcher's cache,
// keyed by user and URI.
//
// When user is not empty it must name an existing account; if the process
// runs as root, every file and directory Fetch creates is then chowned to
// that user.
func (f *Fetcher) Fetch(ctx context.Context, uris []*mesos.CommandInfo_URI, sandbox string, user string) error {
	owner, err := lookupOwner(user)
	if err != nil {
		return fmt.Errorf("fetch into %s: %w", sandbox, err)
	}
	root, err := os.OpenRoot(sandbox)
	if err != nil {
		return fmt.Errorf("fetch into %s: open sandbox: %w", sandbox, err)
	}
	defer root.Close()

	for _, uri := range uris {
		if uri == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fetch %s: %w", redact(uri.GetValue()), err)
		}
		if err := f.fetchOne(ctx, root, uri, user, owner); err != nil {
			return fmt.Errorf("fetch %s: %w", redact(uri.GetValue()), err)
		}
	}
	return nil
}

// CacheStats reports cache hits (fetches served from a cached copy,
// including those that waited for a concurrent download), misses (fetches
// of a cacheable URI that downloaded it) and the bytes currently held or
// reserved in the cache.
func (f *Fetcher) CacheStats() (hits, misses uint64, size uint64) {
	f.cache.mu.Lock()
	defer f.cache.mu.Unlock()
	return f.cache.hits, f.cache.misses, f.cache.size
}

// job is one URI being fetched into one sandbox.
type job struct {
	src   source
	root  *os.Root // the sandbox
	name  string   // destination, relative to the sandbox
	user  string
	mode  fs.FileMode
	owner *owner
}

func (f *Fetcher) fetchOne(ctx context.Context, root *os.Root, uri *mesos.CommandInfo_URI, user string, own *owner) error {
	src, err := f.parseSource(uri.GetValue())
	if err != nil {
		return err
	}
	name, err := outputName(uri, src)
	if err != nil {
		return err
	}
	created, err := mkdirAll(root, filepath.Dir(name))
	if err != nil {
		return fmt.Errorf("create parent directory of %s: %w", name, err)
	}
	j := &job{src: src, root: root, name: name, user: user, mode: 0o644, owner: own}
	if uri.GetExecutable() {
		j.mode = 0o755
	}

	f.log.Info("fetching URI", "uri", redact(src.raw), "sandbox", root.Name(), "file", name, "cache", uri.GetCache())
	if uri.GetCache() {
		err = f.fetchCached(ctx, j)
	} else {
		err = f.fetchDirect(ctx, j)
	}
	if err != nil {
		return err
	}
	created = append(created, name)

	if !uri.GetExecutable() && uri.GetExtract() {
		kind := detectArchive(name)
		if kind != notArchive {
			extracted, err := f.extract(root, name, kind)
			created = append(created, extracted...)
			if err != nil {
				return fmt.Errorf("extract %s: %w", name, err)
			}
			f.log.Info("extracted archive", "file", name, "sandbox", root.Name(), "entries", len(extracted))
		}
	}

	if own != nil {
		for _, p := range created {
			if err := root.Lchown(p, own.uid, own.gid); err != nil {
				return fmt.Errorf("chown %s to %s: %w", p, user, err)
			}
		}
	}
	return nil
}

// fetchDirect retrieves the job's source straight into the sandbox.
func (f *Fetcher) fetchDirect(ctx context.Context, j *job) error {
	rc, _, err := f.open(ctx, j.src)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = f.writeSandbox(j, rc)
	return err
}

// writeSandbox writes r to the job's destination through a temporary file
// in the same directory, renamed into place only once complete.
func (f *Fetcher) writeSandbox(j *job, r io.Reader) (int64, error) {
	return f.writeAtomic(j.root, j.name, r, j.mode)
}

func (f *Fetcher) writeAtomic(root *os.Root, name string, r io.Reader, mode fs.FileMode) (int64, error) {
	dir, base := filepath.Split(name)
	if len(base) > 64 {
		base = base[:64] // keep the temporary name within NAME_MAX
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.fetch-%d-%d.tmp", base, os.Getpid(), f.tmpSeq.Add(1)))
	fh, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(fh, r)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Chmod(tmp, mode)
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return n, err
	}
	return n, nil
}

// source is a parsed URI value: url is set for http(s), path for local
// files (plain paths and file:// URIs).
type source struct {
	raw  string
	url  *url.URL
	path string
}

var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

func (f *Fetcher) parseSource(value string) (source, error) {
	if value == "" {
		return source{}, errors.New("empty URI")
	}
	m := schemeRE.FindStringSubmatch(value)
	if m == nil {
		p := value
		if !filepath.IsAbs(p) {
			if f.frameworksHome == "" {
				return source{}, errors.New("relative path given but no frameworks home is configured; use an absolute path or a URI")
			}
			p = filepath.Join(f.frameworksHome, p)
		}
		return source{raw: value, path: filepath.Clean(p)}, nil
	}
	scheme := strings.ToLower(m[1])
	switch scheme {
	case "http", "https":
		u, err := url.Parse(value)
		if err != nil {
			return source{}, fmt.Errorf("parse URI: %w", err)
		}
		if u.Host == "" {
			return source{}, errors.New("URI has no host")
		}
		return source{raw: value, url: u}, nil
	case "file":
		u, err := url.Parse(value)
		if err != nil {
			return source{}, fmt.Errorf("parse URI: %w", err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return source{}, fmt.Errorf("file URI names remote host %q", u.Host)
		}
		if !path.IsAbs(u.Path) {
			return source{}, errors.New("file URI needs an absolute path")
		}
		return source{raw: value, path: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	default:
		return source{}, fmt.Errorf("%w %q (supported: http, https, file and local paths)", ErrUnsupportedScheme, scheme)
	}
}

// outputName is the destination of a URI relative to the sandbox.
func outputName(uri *mesos.CommandInfo_URI, src source) (string, error) {
	if out := uri.GetOutputFile(); out != "" {
		if filepath.IsAbs(out) || !filepath.IsLocal(out) {
			return "", fmt.Errorf("output_file %q: %w", out, ErrUnsafePath)
		}
		return filepath.Clean(out), nil
	}
	var base string
	if src.url != nil {
		base = path.Base(src.url.Path)
	} else {
		base = filepath.Base(src.path)
	}
	if base == "" || base == "." || base == "/" || base == ".." {
		return "", errors.New("cannot derive a file name from the URI; set output_file")
	}
	return base, nil
}

// open starts reading a source and reports its size, or -1 when unknown.
func (f *Fetcher) open(ctx context.Context, src source) (io.ReadCloser, int64, error) {
	if src.url == nil {
		file, err := os.Open(src.path)
		if err != nil {
			return nil, 0, err
		}
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, 0, err
		}
		if !st.Mode().IsRegular() {
			file.Close()
			return nil, 0, fmt.Errorf("%s is not a regular file", src.path)
		}
		return ctxReadCloser{ctx: ctx, ReadCloser: file}, st.Size(), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.url.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("GET %s: unexpected HTTP status %s", src.url.Redacted(), resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// ctxReadCloser stops a local copy once its context is done.
type ctxReadCloser struct {
	ctx context.Context
	io.ReadCloser
}

func (c ctxReadCloser) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.ReadCloser.Read(p)
}

// redact hides any password in a URI before it is logged or returned.
func redact(value string) string {
	if u, err := url.Parse(value); err == nil && u.User != nil {
		return u.Redacted()
	}
	return value
}

type owner struct{ uid, gid int }

// lookupOwner resolves the user fetched files belong to. It returns nil
// when there is no user or the process cannot chown (it is not root).
func lookupOwner(name string) (*owner, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	if os.Geteuid() != 0 {
		return nil, nil
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user %q has non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user %q has non-numeric gid %q", name, u.Gid)
	}
	return &owner{uid: uid, gid: gid}, nil
}

// mkdirAll creates dir and its missing parents inside root and returns the
// directories it created, parents first.
func mkdirAll(root *os.Root, dir string) ([]string, error) {
	if dir == "" || dir == "." {
		return nil, nil
	}
	st, err := root.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return nil, fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	created, err := mkdirAll(root, filepath.Dir(dir))
	if err != nil {
		return created, err
	}
	if err := root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return created, err
	}
	return append(created, dir), nil
}
