package webtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProblems: the page checks catch what they are for — a missing
// message, no lang, a heavy page and serious accessibility violations —
// and pass a clean page.
func TestProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b := NewBrowser(ctx, t)
	axe := LoadAxe(ctx, t)
	heavy := strings.Repeat("x", MaxPageWeight+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/good":
			w.Write([]byte(`<!DOCTYPE html><html lang="en"><head><title>Good</title></head><body><main><h1>Good</h1><p>Fine.</p></main></body></html>`))
		case "/bad":
			w.Write([]byte(`<!DOCTYPE html><html><head><title>Bad</title></head><body><main><h1>⟦home.title⟧</h1>` +
				`<img src="/x.png"><input type="text"><p>` + heavy + `</p></main></body></html>`))
		}
	}))
	defer srv.Close()

	b.Open(srv.URL + "/good")
	if p := b.Problems(axe); len(p) > 0 {
		t.Errorf("a clean page has problems: %v", p)
	}
	b.Open(srv.URL + "/bad")
	got := strings.Join(b.Problems(axe), "\n")
	for _, want := range []string{"missing from the catalogue", "no lang attribute", "bytes of HTML", "image-alt", "label"} {
		if !strings.Contains(got, want) {
			t.Errorf("the checks missed %q:\n%s", want, got)
		}
	}
}
