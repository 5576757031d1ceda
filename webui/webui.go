// Package webui is the master's web UI: plain HTML, CSS and JavaScript
// embedded in the binary, with no build step and nothing fetched from the
// internet. It is one page with hash routes, as Mesos's UI has (#/,
// #/frameworks, #/frameworks/<id>, #/slaves, #/slaves/<id>, an executor,
// its sandbox browser and a file viewer that follows a file as it grows,
// #/offers), refreshed every two seconds from the master's
// /master/state, /metrics/snapshot and /master/roles while the tab is
// visible. Charts (allocation and tasks by state over the last hour, each
// role's and framework's dominant share) are plain SVG drawn by
// static/charts.js. A master that does not lead sends the browser to the
// leader.
//
// Slaves, executors and sandboxes are read from the slaves' own /state
// and /files endpoints, on other origins: those answer with
// Access-Control-Allow-Origin.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var assets embed.FS

// contentTypes maps the extensions of the embedded assets to their media
// types, independently of the host's mime tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
}

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// Handler returns the web UI's HTTP handler. It serves the page at "/"
// (and "/index.html") and its assets under "/static/"; any other path is
// 404 Not Found, so the handler can sit beside other routes. Only GET and
// HEAD are allowed. Responses carry an ETag and "Cache-Control: no-cache",
// so browsers revalidate and pick up a new build at once.
func Handler() http.Handler {
	h := &handler{files: map[string]*asset{}}
	err := fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.files["/"+p] = &asset{name: p, body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("webui: reading embedded assets: " + err.Error()) // cannot happen with a well-formed embed
	}
	h.index = h.files["/static/index.html"]
	return h
}

type handler struct {
	files map[string]*asset
	index *asset
}

// ServeHTTP serves the page or one of its assets.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var a *asset
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		a = h.index
	case strings.HasPrefix(p, "/static/"):
		a = h.files[path.Clean(p)]
	}
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
