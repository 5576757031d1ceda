package fetcher

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomesos/gomesos/mesos"
)

func assertStats(t *testing.T, f *Fetcher, hits, misses, size uint64) {
	t.Helper()
	h, m, s := f.CacheStats()
	if h != hits || m != misses || s != size {
		t.Fatalf("CacheStats = hits %d misses %d size %d, want %d %d %d", h, m, s, hits, misses, size)
	}
}

func TestCacheHitDoesNotDownloadAgain(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/pkg/app.tgz": gzipBytes(t, buildTar(t, []tarEntry{{name: "app.txt", body: "app"}}))})
	f := newFetcher(t, 0)
	u := uri(srv.URL+"/pkg/app.tgz", cached())
	size := uint64(len(srv.files["/pkg/app.tgz"]))

	first := t.TempDir()
	mustFetch(t, f, first, u)
	assertStats(t, f, 0, 1, size)

	second := t.TempDir()
	mustFetch(t, f, second, u)
	if n := srv.count("/pkg/app.tgz"); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	assertStats(t, f, 1, 1, size)
	for _, sb := range []string{first, second} {
		assertFile(t, filepath.Join(sb, "app.tgz"), string(srv.files["/pkg/app.tgz"]), 0o644)
		assertFile(t, filepath.Join(sb, "app.txt"), "app", 0o644)
	}

	// A sandbox copy is independent of the cached one.
	os.WriteFile(filepath.Join(first, "app.tgz"), []byte("scribbled"), 0o644)
	third := t.TempDir()
	mustFetch(t, f, third, uri(srv.URL+"/pkg/app.tgz", cached(), executable(), outputFile("renamed")))
	assertFile(t, filepath.Join(third, "renamed"), string(srv.files["/pkg/app.tgz"]), 0o755)
	if n := srv.count("/pkg/app.tgz"); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}

	// A local file is cached the same way.
	local := filepath.Join(t.TempDir(), "local.bin")
	os.WriteFile(local, []byte("v1"), 0o644)
	mustFetch(t, f, t.TempDir(), uri(local, cached()))
	os.WriteFile(local, []byte("v2"), 0o644)
	sb := t.TempDir()
	mustFetch(t, f, sb, uri(local, cached()))
	assertFile(t, filepath.Join(sb, "local.bin"), "v1", 0o644)
}

func TestCacheKeyedByUser(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{"/f": []byte("data")})
	f := newFetcher(t, 0)
	u := uri(srv.URL+"/f", cached())
	ctx := context.Background()
	for _, user := range []string{"", "root", "", "root"} {
		if err := f.Fetch(ctx, []*mesos.CommandInfo_URI{u}, t.TempDir(), user); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count("/f"); n != 2 {
		t.Fatalf("server saw %d requests, want one per user", n)
	}
	assertStats(t, f, 2, 2, 8)
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ten := func(c byte) []byte { return []byte(strings.Repeat(string(c), 10)) }
	srv := newFileServer(t, map[string][]byte{"/a": ten('a'), "/b": ten('b'), "/c": ten('c'), "/d": ten('d')})
	f := newFetcher(t, 30)
	get := func(p string) {
		t.Helper()
		sb := t.TempDir()
		mustFetch(t, f, sb, uri(srv.URL+p, cached()))
		assertFile(t, filepath.Join(sb, p[1:]), string(srv.files[p]), 0)
	}
	counts := func() [4]int {
		return [4]int{srv.count("/a"), srv.count("/b"), srv.count("/c"), srv.count("/d")}
	}

	get("/a")
	get("/b")
	get("/c") // cache full: a b c
	get("/a") // hit; b is now least recently used
	if got := counts(); got != [4]int{1, 1, 1, 0} {
		t.Fatalf("requests %v", got)
	}
	assertStats(t, f, 1, 3, 30)

	get("/d") // evicts b
	assertStats(t, f, 1, 4, 30)
	get("/a") // still cached
	get("/c") // still cached
	if got := counts(); got != [4]int{1, 1, 1, 1} {
		t.Fatalf("requests %v", got)
	}
	get("/b") // evicted: downloads again, evicting d (LRU after a and c were used)
	if got := counts(); got != [4]int{1, 2, 1, 1} {
		t.Fatalf("requests %v", got)
	}
	get("/d") // evicted: downloads again, evicting a (order was b c a)
	if got := counts(); got != [4]int{1, 2, 1, 2} {
		t.Fatalf("requests %v", got)
	}
	get("/c") // still cached
	get("/a") // evicted: downloads again, evicting b (order was c d b)
	get("/c")
	get("/d")
	if got := counts(); got != [4]int{2, 2, 1, 2} {
		t.Fatalf("requests %v", got)
	}
	_, _, size := f.CacheStats()
	if size != 30 {
		t.Fatalf("cache size %d, want 30", size)
	}
	var onDisk int64
	for _, name := range listDir(t, f.cacheDir) {
		st, err := os.Stat(filepath.Join(f.cacheDir, name))
		if err != nil {
			t.Fatal(err)
		}
		onDisk += st.Size()
	}
	if onDisk != 30 {
		t.Fatalf("cache directory holds %d bytes, want 30", onDisk)
	}
}

func TestCacheOversizeBypassesCache(t *testing.T) {
	big := []byte(strings.Repeat("x", 100))
	srv := newFileServer(t, map[string][]byte{"/big": big})
	// A server that does not announce the length: the size is only known
	// once the download is done.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(big[:50])
		w.(http.Flusher).Flush()
		w.Write(big[50:])
	}))
	defer chunked.Close()

	for _, u := range []string{srv.URL + "/big", chunked.URL + "/big"} {
		f := newFetcher(t, 64)
		for range 2 {
			sb := t.TempDir()
			mustFetch(t, f, sb, uri(u, cached()))
			assertFile(t, filepath.Join(sb, "big"), string(big), 0o644)
		}
		assertStats(t, f, 0, 2, 0)
		if got := listDir(t, f.cacheDir); len(got) != 0 {
			t.Fatalf("cache directory holds %v", got)
		}
	}
	if n := srv.count("/big"); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}

func TestCacheUnknownLengthFits(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte("part1-"))
		w.(http.Flusher).Flush()
		w.Write([]byte("part2"))
	}))
	defer srv.Close()
	f := newFetcher(t, 64)
	for range 2 {
		sb := t.TempDir()
		mustFetch(t, f, sb, uri(srv.URL+"/s.txt", cached()))
		assertFile(t, filepath.Join(sb, "s.txt"), "part1-part2", 0o644)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	assertStats(t, f, 1, 1, 11)
}

func TestCacheFailedDownloadIsRetried(t *testing.T) {
	srv := newFileServer(t, map[string][]byte{})
	f := newFetcher(t, 0)
	for range 2 {
		if err := fetch(t, f, t.TempDir(), uri(srv.URL+"/gone", cached())); err == nil {
			t.Fatal("fetch of a missing URI succeeded")
		}
	}
	if n := srv.count("/gone"); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
	assertStats(t, f, 0, 2, 0)
}

func TestCacheConcurrentFetchesDownloadOnce(t *testing.T) {
	const fetchers = 8
	var requests atomic.Int32
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte("shared payload"))
	}))
	defer srv.Close()

	f := newFetcher(t, 0)
	waiting := make(chan struct{}, fetchers)
	f.onWait = func() { waiting <- struct{}{} }

	u := uri(srv.URL+"/shared.bin", cached())
	sandboxes := make([]string, fetchers)
	errs := make([]error, fetchers)
	var wg sync.WaitGroup
	run := func(i int) {
		sandboxes[i] = t.TempDir()
		wg.Go(func() {
			errs[i] = f.Fetch(context.Background(), []*mesos.CommandInfo_URI{u}, sandboxes[i], "")
		})
	}

	run(0)
	<-started // the first fetch is downloading and holds the response
	for i := 1; i < fetchers; i++ {
		run(i)
	}
	for i := 1; i < fetchers; i++ {
		<-waiting // every other fetch is waiting for that download
	}
	close(release)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		assertFile(t, filepath.Join(sandboxes[i], "shared.bin"), "shared payload", 0o644)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
	assertStats(t, f, fetchers-1, 1, uint64(len("shared payload")))
}

func TestCacheWaiterRetriesAfterDownloaderCancelled(t *testing.T) {
	var requests atomic.Int32
	started := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			started <- struct{}{}
			<-r.Context().Done() // hang until the first fetch gives up
			return
		}
		w.Write([]byte("second try"))
	}))
	defer srv.Close()

	f := newFetcher(t, 0)
	waiting := make(chan struct{}, 1)
	f.onWait = func() { waiting <- struct{}{} }
	u := uri(srv.URL+"/f", cached())

	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- f.Fetch(ctx, []*mesos.CommandInfo_URI{u}, t.TempDir(), "")
	}()
	<-started

	sb := t.TempDir()
	secondErr := make(chan error, 1)
	go func() {
		secondErr <- f.Fetch(context.Background(), []*mesos.CommandInfo_URI{u}, sb, "")
	}()
	<-waiting
	cancel()

	if err := <-firstErr; err == nil {
		t.Fatal("cancelled fetch succeeded")
	}
	if err := <-secondErr; err != nil {
		t.Fatalf("waiting fetch: %v", err)
	}
	assertFile(t, filepath.Join(sb, "f"), "second try", 0o644)
	assertStats(t, f, 0, 2, uint64(len("second try")))
}
