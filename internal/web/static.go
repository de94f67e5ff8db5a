package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// StaticPath is where the static files are served. Each name carries a
// hash of the content, so they are cached for a year and a new version is
// a new URL.
const StaticPath = "/web/static/"

//go:embed static/*.css static/*.js
var staticFS embed.FS

// asset is one static file, ready to serve.
type asset struct {
	name  string // hashed, e.g. app.3f2a9c1b.css
	ctype string
	body  []byte
	gz    []byte // gzip-compressed, nil when that is no smaller
}

// assets are the static files by their plain and hashed names.
type assets struct {
	byPlain  map[string]*asset
	byHashed map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{byPlain: map[string]*asset{}, byHashed: map[string]*asset{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		body, err := fs.ReadFile(staticFS, "static/"+e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		x := &asset{name: strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:4]) + ext,
			ctype: mime.TypeByExtension(ext), body: body}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("web: compress %s: %w", e.Name(), err)
		}
		if buf.Len() < len(body) {
			x.gz = buf.Bytes()
		}
		a.byPlain[e.Name()] = x
		a.byHashed[x.name] = x
	}
	return a, nil
}

// url returns the URL of a static file by its plain name; an unknown name
// is a programming error that the template tests catch.
func (a *assets) url(name string) (string, error) {
	x, ok := a.byPlain[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return StaticPath + x.name, nil
}

// ServeHTTP serves a static file by its hashed name, gzip-compressed when
// the browser takes it.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, ok := a.byHashed[strings.TrimPrefix(r.URL.Path, StaticPath)]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", x.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := x.body
	if x.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = x.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}
