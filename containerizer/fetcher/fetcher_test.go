package fetcher

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gomesos/gomesos/mesos"
	"google.golang.org/protobuf/proto"
)

// fileServer serves in-memory files and counts the requests for each path.
type fileServer struct {
	*httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	counts map[string]int
}

func newFileServer(t *testing.T, files map[string][]byte) *fileServer {
	t.Helper()
	s := &fileServer{files: files, counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		body, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fileServer) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[p]
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func newFetcher(t *testing.T, cacheSize uint64) *Fetcher {
	t.Helper()
	f, err := New(Config{
		CacheDir:  filepath.Join(t.TempDir(), "fetch"),
		CacheSize: cacheSize,
		Logger:    testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type uriOpt func(*mesos.CommandInfo_URI)

func executable() uriOpt { return func(u *mesos.CommandInfo_URI) { u.Executable = proto.Bool(true) } }
func noExtract() uriOpt  { return func(u *mesos.CommandInfo_URI) { u.Extract = proto.Bool(false) } }
func cached() uriOpt     { return func(u *mesos.CommandInfo_URI) { u.Cache = proto.Bool(true) } }
func outputFile(name string) uriOpt {
	return func(u *mesos.CommandInfo_URI) { u.OutputFile = proto.String(name) }
}

func uri(value string, opts ...uriOpt) *mesos.CommandInfo_URI {
	u := &mesos.CommandInfo_URI{Value: proto.String(value)}
	for _, o := range opts {
		o(u)
	}
	return u
}

func fetch(t *testing.T, f *Fetcher, sandbox string, uris ...*mesos.CommandInfo_URI) error {
	t.Helper()
	return f.Fetch(context.Background(), uris, sandbox, "")
}

func mustFetch(t *testing.T, f *Fetcher, sandbox string, uris ...*mesos.CommandInfo_URI) {
	t.Helper()
	if err := fetch(t, f, sandbox, uris...); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
}

func assertFile(t *testing.T, p string, want string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	if string(got) != want {
		t.Fatalf("%s = %q, want %q", p, got, want)
	}
	if mode != 0 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Fatalf("%s mode = %v, want %v", p, st.Mode().Perm(), mode)
		}
	}
}

// listDir returns the names in dir, to check nothing stray was left.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// tarEntry describes one entry of a test archive.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func buildTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func buildZip(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.typ == tar.TypeDir:
			hdr.SetMode(fs.ModeDir | 0o755)
		case e.typ == tar.TypeSymlink:
			hdr.SetMode(fs.ModeSymlink | 0o777)
		default:
			mode := fs.FileMode(e.mode)
			if mode == 0 {
				mode = 0o644
			}
			hdr.SetMode(mode)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		body := e.body
		if e.typ == tar.TypeSymlink {
			body = e.link
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchHTTP(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/dir/hello.txt": []byte("hello world")})
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	mustFetch(t, f, sandbox, uri(srv.URL+"/dir/hello.txt"))
	assertFile(t, filepath.Join(sandbox, "hello.txt"), "hello world", 0o644)
	if got := listDir(t, sandbox); len(got) != 1 {
		t.Fatalf("sandbox holds %v, want only hello.txt", got)
	}
	if hits, misses, size := f.CacheStats(); hits != 0 || misses != 0 || size != 0 {
		t.Fatalf("uncached fetch touched the cache: hits=%d misses=%d size=%d", hits, misses, size)
	}
}

func TestFetchSequentialMany(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/a": []byte("A"), "/b": []byte("B")})
	local := filepath.Join(t.TempDir(), "c")
	os.WriteFile(local, []byte("C"), 0o600)
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	mustFetch(t, f, sandbox, uri(srv.URL+"/a"), uri(srv.URL+"/b"), uri(local))
	assertFile(t, filepath.Join(sandbox, "a"), "A", 0o644)
	assertFile(t, filepath.Join(sandbox, "b"), "B", 0o644)
	assertFile(t, filepath.Join(sandbox, "c"), "C", 0o644)
}

func TestFetchLocalPathAndFileURI(t *testing.T) {
	src := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(src, []byte("local bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, 0)

	plain := t.TempDir()
	mustFetch(t, f, plain, uri(src))
	assertFile(t, filepath.Join(plain, "data.bin"), "local bytes", 0o644)

	viaURI := t.TempDir()
	mustFetch(t, f, viaURI, uri("file://"+src))
	assertFile(t, filepath.Join(viaURI, "data.bin"), "local bytes", 0o644)

	err := fetch(t, f, t.TempDir(), uri(filepath.Join(t.TempDir(), "missing")))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing local file: got %v, want ErrNotExist", err)
	}
	err = fetch(t, f, t.TempDir(), uri(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory source: got %v", err)
	}
	err = fetch(t, f, t.TempDir(), uri("file://otherhost/etc/hosts"))
	if err == nil || !strings.Contains(err.Error(), "otherhost") {
		t.Fatalf("remote file URI: got %v", err)
	}
}

func TestFetchRelativePath(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "fw"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, "fw", "tool"), []byte("tool"), 0o600)

	f, err := New(Config{CacheDir: filepath.Join(t.TempDir(), "c"), FrameworksHome: home, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	sandbox := t.TempDir()
	mustFetch(t, f, sandbox, uri("fw/tool"))
	assertFile(t, filepath.Join(sandbox, "tool"), "tool", 0o644)

	noHome := newFetcher(t, 0)
	err = fetch(t, noHome, t.TempDir(), uri("fw/tool"))
	if err == nil || !strings.Contains(err.Error(), "fw/tool") || !strings.Contains(err.Error(), "frameworks home") {
		t.Fatalf("relative path without frameworks home: got %v", err)
	}
}

func TestOutputFile(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/x/y/original.txt": []byte("renamed")})
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	mustFetch(t, f, sandbox,
		uri(srv.URL+"/x/y/original.txt", outputFile("new.txt")),
		uri(srv.URL+"/x/y/original.txt", outputFile("sub/dir/nested.txt")))
	assertFile(t, filepath.Join(sandbox, "new.txt"), "renamed", 0o644)
	assertFile(t, filepath.Join(sandbox, "sub", "dir", "nested.txt"), "renamed", 0o644)
	if _, err := os.Stat(filepath.Join(sandbox, "original.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("original name also written: %v", err)
	}

	for _, bad := range []string{"../escape.txt", "/etc/escape.txt", "a/../../escape.txt"} {
		err := fetch(t, f, sandbox, uri(srv.URL+"/x/y/original.txt", outputFile(bad)))
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("output_file %q: got %v, want ErrUnsafePath", bad, err)
		}
	}

	// With no output_file, a URI without a file name cannot be fetched.
	err := fetch(t, f, sandbox, uri(srv.URL+"/"))
	if err == nil || !strings.Contains(err.Error(), "output_file") {
		t.Fatalf("URI without a base name: got %v", err)
	}
}

func TestExecutable(t *testing.T) {
	tgz := gzipBytes(t, buildTar(t, []tarEntry{{name: "inside.txt", body: "x"}}))
	srv := newFileServer(t, map[string][]byte{
		"/bin/run.sh":   []byte("#!/bin/sh\necho hi\n"),
		"/bin/tool.tgz": tgz,
	})
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	mustFetch(t, f, sandbox, uri(srv.URL+"/bin/run.sh", executable()), uri(srv.URL+"/bin/tool.tgz", executable()))
	assertFile(t, filepath.Join(sandbox, "run.sh"), "#!/bin/sh\necho hi\n", 0o755)
	assertFile(t, filepath.Join(sandbox, "tool.tgz"), string(tgz), 0o755)
	if _, err := os.Stat(filepath.Join(sandbox, "inside.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("executable archive was extracted: %v", err)
	}
}

func TestExtract(t *testing.T) {
	entries := []tarEntry{
		{name: "app/", typ: tar.TypeDir},
		{name: "app/bin/start", body: "#!/bin/sh\n", mode: 0o755},
		{name: "app/README", body: "readme"},
		{name: "app/link", typ: tar.TypeSymlink, link: "README"},
	}
	plainTar := buildTar(t, entries)
	tarWithHardLink := buildTar(t, append(entries, tarEntry{name: "app/hard", typ: tar.TypeLink, link: "app/README"}))
	archives := map[string][]byte{
		"/a.tgz":    gzipBytes(t, plainTar),
		"/a.tar.gz": gzipBytes(t, plainTar),
		"/a.tar":    tarWithHardLink,
		"/a.zip":    buildZip(t, entries),
		"/notes.gz": gzipBytes(t, []byte("decompressed notes")),
	}
	if bz, err := exec.LookPath("bzip2"); err == nil {
		cmd := exec.Command(bz, "-c")
		cmd.Stdin = bytes.NewReader(plainTar)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		archives["/a.tar.bz2"] = out
		archives["/a.tbz2"] = out
	}
	srv := newFileServer(t, archives)
	f := newFetcher(t, 0)

	for name, body := range archives {
		t.Run(strings.TrimPrefix(name, "/"), func(t *testing.T) {
			sandbox := t.TempDir()
			mustFetch(t, f, sandbox, uri(srv.URL+name))
			// Mesos keeps the archive next to its contents.
			assertFile(t, filepath.Join(sandbox, filepath.Base(name)), string(body), 0o644)
			if name == "/notes.gz" {
				assertFile(t, filepath.Join(sandbox, "notes"), "decompressed notes", 0o644)
				return
			}
			assertFile(t, filepath.Join(sandbox, "app", "bin", "start"), "#!/bin/sh\n", 0o755)
			assertFile(t, filepath.Join(sandbox, "app", "README"), "readme", 0o644)
			target, err := os.Readlink(filepath.Join(sandbox, "app", "link"))
			if err != nil || target != "README" {
				t.Fatalf("symlink: %q, %v", target, err)
			}
			if name == "/a.tar" {
				assertFile(t, filepath.Join(sandbox, "app", "hard"), "readme", 0)
			}
		})
	}

	t.Run("extract=false", func(t *testing.T) {
		sandbox := t.TempDir()
		mustFetch(t, f, sandbox, uri(srv.URL+"/a.tgz", noExtract()))
		if got := listDir(t, sandbox); len(got) != 1 || got[0] != "a.tgz" {
			t.Fatalf("sandbox holds %v, want only a.tgz", got)
		}
	})

	t.Run("xz", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"/a.tar.xz": []byte("not really xz")})
		err := fetch(t, f, t.TempDir(), uri(srv.URL+"/a.tar.xz"))
		if err == nil || !strings.Contains(err.Error(), "xz") {
			t.Fatalf("xz archive: got %v", err)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"/bad.tgz": []byte("garbage")})
		err := fetch(t, f, t.TempDir(), uri(srv.URL+"/bad.tgz"))
		if err == nil || !strings.Contains(err.Error(), "extract bad.tgz") {
			t.Fatalf("corrupt archive: got %v", err)
		}
	})
}

func TestExtractRejectsTraversal(t *testing.T) {
	cases := map[string][]byte{
		"/dotdot.tar":      buildTar(t, []tarEntry{{name: "ok.txt", body: "ok"}, {name: "../evil.txt", body: "evil"}}),
		"/nested.tgz":      gzipBytes(t, buildTar(t, []tarEntry{{name: "a/../../evil.txt", body: "evil"}})),
		"/absolute.tar":    buildTar(t, []tarEntry{{name: "/tmp/evil.txt", body: "evil"}}),
		"/symlink.tar":     buildTar(t, []tarEntry{{name: "out", typ: tar.TypeSymlink, link: "../.."}}),
		"/abslink.tar":     buildTar(t, []tarEntry{{name: "out", typ: tar.TypeSymlink, link: "/etc"}}),
		"/hardlink.tar":    buildTar(t, []tarEntry{{name: "h", typ: tar.TypeLink, link: "../evil.txt"}}),
		"/dotdot.zip":      buildZip(t, []tarEntry{{name: "../evil.txt", body: "evil"}}),
		"/zipsymlink.zip":  buildZip(t, []tarEntry{{name: "out", typ: tar.TypeSymlink, link: "../../etc"}}),
		"/zipabsolute.zip": buildZip(t, []tarEntry{{name: "/evil.txt", body: "evil"}}),
	}
	srv := newFileServer(t, cases)
	f := newFetcher(t, 0)
	for name := range cases {
		t.Run(strings.TrimPrefix(name, "/"), func(t *testing.T) {
			parent := t.TempDir()
			sandbox := filepath.Join(parent, "sandbox")
			if err := os.Mkdir(sandbox, 0o755); err != nil {
				t.Fatal(err)
			}
			err := fetch(t, f, sandbox, uri(srv.URL+name))
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("got %v, want ErrUnsafePath", err)
			}
			if !strings.Contains(err.Error(), srv.URL+name) {
				t.Fatalf("error %q does not name the URI", err)
			}
			if got := listDir(t, parent); len(got) != 1 {
				t.Fatalf("files written outside the sandbox: %v", got)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{})
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	err := fetch(t, f, sandbox, uri(srv.URL+"/missing.tgz"))
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/missing.tgz") {
		t.Fatalf("404: got %v", err)
	}
	if got := listDir(t, sandbox); len(got) != 0 {
		t.Fatalf("sandbox not empty after a failed fetch: %v", got)
	}
}

func TestTruncatedDownloadLeavesNoFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("only a little"))
		// Returning early makes the server close the connection mid-body.
	}))
	defer srv.Close()
	for _, opts := range [][]uriOpt{nil, {cached()}} {
		f := newFetcher(t, 0)
		sandbox := t.TempDir()
		err := fetch(t, f, sandbox, uri(srv.URL+"/file", opts...))
		if err == nil {
			t.Fatal("truncated download succeeded")
		}
		if got := listDir(t, sandbox); len(got) != 0 {
			t.Fatalf("sandbox not empty after a failed fetch: %v", got)
		}
		if got := listDir(t, f.cacheDir); len(got) != 0 {
			t.Fatalf("cache not empty after a failed fetch: %v", got)
		}
		if _, _, size := f.CacheStats(); size != 0 {
			t.Fatalf("cache size %d after a failed fetch", size)
		}
	}
}

func TestUnsupportedScheme(t *testing.T) {
	f := newFetcher(t, 0)
	for _, u := range []string{"hdfs://namenode/path/file", "s3://bucket/key", "ftp://host/file", "S3N://bucket/key"} {
		err := fetch(t, f, t.TempDir(), uri(u))
		if !errors.Is(err, ErrUnsupportedScheme) {
			t.Errorf("%s: got %v, want ErrUnsupportedScheme", u, err)
			continue
		}
		scheme := strings.ToLower(u[:strings.Index(u, ":")])
		if !strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), strconv.Quote(scheme)) {
			t.Errorf("%s: error %q should name the URI and the scheme", u, err)
		}
	}
}

func TestFetchStopsAtFirstFailure(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/a": []byte("A"), "/c": []byte("C")})
	f := newFetcher(t, 0)
	sandbox := t.TempDir()
	err := fetch(t, f, sandbox, uri(srv.URL+"/a"), uri(srv.URL+"/b"), uri(srv.URL+"/c"))
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/b") {
		t.Fatalf("got %v, want an error naming /b", err)
	}
	if srv.count("/c") != 0 {
		t.Fatal("fetch continued after a failure")
	}
}

func TestRedactsPassword(t *testing.T) {
	f := newFetcher(t, 0)
	err := fetch(t, f, t.TempDir(), uri("s3://key:secret@bucket/obj"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}

func TestChown(t *testing.T) {
	f := newFetcher(t, 0)
	src := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(src, []byte("x"), 0o600)

	err := f.Fetch(context.Background(), []*mesos.CommandInfo_URI{uri(src)}, t.TempDir(), "no-such-user-gomesos")
	if err == nil || !strings.Contains(err.Error(), "no-such-user-gomesos") {
		t.Fatalf("unknown user: got %v", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	tgz := filepath.Join(t.TempDir(), "t.tgz")
	os.WriteFile(tgz, gzipBytes(t, buildTar(t, []tarEntry{{name: "d/e.txt", body: "e"}})), 0o600)
	sandbox := t.TempDir()
	err = f.Fetch(context.Background(), []*mesos.CommandInfo_URI{uri(src, outputFile("sub/f.txt")), uri(tgz)}, sandbox, "nobody")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sub", "sub/f.txt", "t.tgz", "d", "d/e.txt"} {
		st, err := os.Lstat(filepath.Join(sandbox, p))
		if err != nil {
			t.Fatal(err)
		}
		if uid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid)); uid != nobody.Uid {
			t.Errorf("%s owned by uid %s, want %s", p, uid, nobody.Uid)
		}
	}
}

func TestNewWipesCacheDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fetch")
	if err := os.MkdirAll(filepath.Join(dir, "old", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "stale"), []byte("stale"), 0o644)
	if _, err := New(Config{CacheDir: dir, Logger: testLogger(t)}); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("cache dir not wiped: %v", got)
	}
	if _, err := New(Config{CacheDir: "/"}); err == nil {
		t.Fatal("New accepted / as the cache directory")
	}
}

func TestContextCancelled(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/a": []byte("A")})
	f := newFetcher(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sandbox := t.TempDir()
	err := f.Fetch(ctx, []*mesos.CommandInfo_URI{uri(srv.URL + "/a")}, sandbox, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := listDir(t, sandbox); len(got) != 0 {
		t.Fatalf("sandbox not empty: %v", got)
	}
}
