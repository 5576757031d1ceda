package fetcher

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// cache tracks the files in the cache directory. Every field is guarded by
// mu; file I/O happens outside the lock except for evictions.
type cache struct {
	mu      sync.Mutex
	entries map[string]*entry // by key: in-flight downloads and cached files
	lru     *list.List        // completed entries, most recently used first
	size    uint64            // bytes of cached files plus in-flight reservations
	hits    uint64
	misses  uint64
}

// entry is one cached URI. While its download runs, done is open and the
// entry is in entries but not in lru. When the download ends, the entry
// either joins lru (err nil, cached true) or leaves entries, and done is
// closed; err and cached are written before the close and read after it.
type entry struct {
	key  string
	path string
	size uint64 // bytes reserved, then the file's size
	elem *list.Element
	refs int // fetches copying from the file; an entry in use is never evicted

	done   chan struct{}
	err    error
	cached bool
}

func (c *cache) init() {
	c.entries = make(map[string]*entry)
	c.lru = list.New()
}

// cacheKey names a cache entry for a user and URI: Mesos caches the same
// URI separately for different users.
func cacheKey(user, uri string) string {
	h := sha256.New()
	io.WriteString(h, user)
	h.Write([]byte{0})
	io.WriteString(h, uri)
	return hex.EncodeToString(h.Sum(nil))
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fetchCached serves the job from the cache, downloading into the cache
// first when the URI is not there. Concurrent fetches of one URI wait for a
// single download.
func (f *Fetcher) fetchCached(ctx context.Context, j *job) error {
	c := &f.cache
	key := cacheKey(j.user, j.src.raw)
	for {
		c.mu.Lock()
		e, ok := c.entries[key]
		if !ok {
			e = &entry{key: key, path: filepath.Join(f.cacheDir, key), done: make(chan struct{})}
			c.entries[key] = e
			c.misses++
			c.mu.Unlock()
			return f.download(ctx, e, j)
		}
		select {
		case <-e.done:
			// Completed entries still in the map are cached files.
			e.refs++
			c.hits++
			c.lru.MoveToFront(e.elem)
			c.mu.Unlock()
			f.log.Debug("fetcher cache hit", "uri", redact(j.src.raw), "key", key)
			err := f.copyFromCache(ctx, e, j)
			f.release(e)
			return err
		default:
		}
		c.mu.Unlock()

		if f.onWait != nil {
			f.onWait()
		}
		f.log.Debug("waiting for concurrent download", "uri", redact(j.src.raw), "key", key)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.done:
		}
		switch {
		case e.err != nil && isContextErr(e.err) && ctx.Err() == nil:
			// The downloader gave up for its own reasons; try again.
			continue
		case e.err != nil:
			return fmt.Errorf("concurrent download failed: %w", e.err)
		case !e.cached:
			return f.fetchDirect(ctx, j)
		}
		// Cached now: loop to take it as a hit (or to download again if it
		// was evicted meanwhile).
	}
}

// download fetches e's URI into the cache and from there into the job's
// sandbox. It owns e until it closes e.done.
func (f *Fetcher) download(ctx context.Context, e *entry, j *job) error {
	rc, n, err := f.open(ctx, j.src)
	if err != nil {
		f.finish(e, err, false)
		return err
	}
	defer rc.Close()

	if n >= 0 {
		if uint64(n) > f.cacheSize || !f.reserve(e, uint64(n)) {
			f.logBypass(j, uint64(n))
			f.finish(e, nil, false)
			_, err := f.writeSandbox(j, rc)
			return err
		}
	}

	tmp, err := os.CreateTemp(f.cacheDir, e.key+".tmp-*")
	if err != nil {
		f.finish(e, err, false)
		return err
	}
	written, err := io.Copy(tmp, rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		f.finish(e, err, false)
		return err
	}

	// The size was unknown or wrong: settle the reservation on the real one.
	if uint64(written) != e.size && !f.resize(e, uint64(written)) {
		f.logBypass(j, uint64(written))
		f.finish(e, nil, false)
		defer os.Remove(tmp.Name())
		src, err := os.Open(tmp.Name())
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = f.writeSandbox(j, src)
		return err
	}

	if err := os.Rename(tmp.Name(), e.path); err != nil {
		os.Remove(tmp.Name())
		f.finish(e, err, false)
		return err
	}
	f.log.Info("cached URI", "uri", redact(j.src.raw), "key", e.key, "bytes", written)
	f.finish(e, nil, true)
	err = f.copyFromCache(ctx, e, j)
	f.release(e)
	return err
}

func (f *Fetcher) logBypass(j *job, size uint64) {
	f.log.Info("URI does not fit in the fetcher cache; fetching it without caching",
		"uri", redact(j.src.raw), "bytes", size, "cache_size", f.cacheSize)
}

// finish ends e's download. A cached entry joins the LRU list, held for the
// downloader's own copy (release drops that hold); any other entry leaves
// the cache and gives back its reservation.
func (f *Fetcher) finish(e *entry, err error, cached bool) {
	c := &f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached {
		e.refs++
		e.elem = c.lru.PushFront(e)
	} else {
		delete(c.entries, e.key)
		c.size -= e.size
		e.size = 0
	}
	e.err, e.cached = err, cached
	close(e.done)
}

// release drops one fetch's hold on a cached entry.
func (f *Fetcher) release(e *entry) {
	f.cache.mu.Lock()
	e.refs--
	f.cache.mu.Unlock()
}

// reserve sets aside size bytes for e's download, evicting unused entries
// as needed. It reports false when the bytes cannot be found.
func (f *Fetcher) reserve(e *entry, size uint64) bool {
	c := &f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !f.makeRoom(size) {
		return false
	}
	c.size += size
	e.size = size
	return true
}

// resize changes e's reservation to size bytes, evicting unused entries if
// it grows. On false the old reservation stands.
func (f *Fetcher) resize(e *entry, size uint64) bool {
	c := &f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if size <= e.size {
		c.size -= e.size - size
		e.size = size
		return true
	}
	grow := size - e.size
	if !f.makeRoom(grow) {
		return false
	}
	c.size += grow
	e.size = size
	return true
}

// makeRoom evicts least recently used entries that no fetch is copying
// until need more bytes fit in the cache. The cache lock must be held.
func (f *Fetcher) makeRoom(need uint64) bool {
	c := &f.cache
	if need > f.cacheSize {
		return false
	}
	for c.size+need > f.cacheSize {
		var victim *entry
		for el := c.lru.Back(); el != nil; el = el.Prev() {
			if en := el.Value.(*entry); en.refs == 0 {
				victim = en
				break
			}
		}
		if victim == nil {
			return false
		}
		c.lru.Remove(victim.elem)
		delete(c.entries, victim.key)
		c.size -= victim.size
		if err := os.Remove(victim.path); err != nil {
			f.log.Warn("could not remove evicted cache file", "path", victim.path, "error", err)
		}
		f.log.Info("evicted fetcher cache entry", "key", victim.key, "bytes", victim.size)
	}
	return true
}

// copyFromCache copies a cached file into the job's sandbox. It copies
// rather than links so that chmod, chown or the task itself cannot alter
// the cached content.
func (f *Fetcher) copyFromCache(ctx context.Context, e *entry, j *job) error {
	src, err := os.Open(e.path)
	if err != nil {
		return fmt.Errorf("open cached copy: %w", err)
	}
	defer src.Close()
	_, err = f.writeSandbox(j, ctxReadCloser{ctx: ctx, ReadCloser: src})
	return err
}
