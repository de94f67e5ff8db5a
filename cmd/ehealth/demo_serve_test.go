package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// TestServeDemo: serve --demo loads the territory into an empty database
// and prints working logins — the citizens' identity documents find their
// records, the doctors and the operator have accounts; run again on the
// same database it loads nothing and writes no new version.
func TestServeDemo(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, "sqlite:"+filepath.Join(t.TempDir(), "demo.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer{p}.Close() })
	tokens, err := token.New(p.Store, token.Config{Issuer: "http://demo.test", Audience: "http://demo.test/fhir"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := demo.Config{Citizens: 150, Seed: 3}
	platformCaller := resource.Caller{Writer: "test"}
	count := func() (resources, versions int64) {
		for _, typ := range demo.Types {
			r, err := p.Service.Search(ctx, platformCaller, typ, url.Values{"_summary": {"count"}}, resource.SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			resources += r.Total
		}
		n, err := p.Service.CountHistory(ctx, platformCaller, store.HistoryQuery{Access: store.AccessAll})
		if err != nil {
			t.Fatal(err)
		}
		return resources, n
	}

	var out bytes.Buffer
	if err := serveDemo(ctx, p, tokens, cfg, "http://demo.test", &out, log); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"demo territory loaded", "citizen (65+)", "parent acting for child", "username dr.private", "username dr.public", "clinic system client     Authorization: Bearer ey", "/admin/login: username operator", "operator (API)           Authorization: Bearer ey"} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
	for _, doc := range regexp.MustCompile(`identity document ([A-Z]{1,2}[0-9]{6}\([0-9A]\))`).FindAllStringSubmatch(text, -1) {
		r, err := p.Service.Search(ctx, platformCaller, "Patient", url.Values{"identifier": {doc[1]}}, resource.SearchOptions{})
		if err != nil || len(r.Matches) != 1 {
			t.Errorf("identity document %s finds %d Patients (%v)", doc[1], len(r.Matches), err)
		}
	}
	resources, versions := count()
	if resources < int64(cfg.Citizens)*10 {
		t.Fatalf("the territory holds %d resources for %d citizens", resources, cfg.Citizens)
	}

	out.Reset()
	if err := serveDemo(ctx, p, tokens, cfg, "http://demo.test", &out, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "loaded already") || !strings.Contains(out.String(), "Demo logins") {
		t.Errorf("second start: %s", out.String())
	}
	if r, v := count(); r != resources || v != versions {
		t.Errorf("second start: %d resources and %d versions, want %d and %d", r, v, resources, versions)
	}
	if err := serveDemo(ctx, p, tokens, demo.Config{Citizens: 200, Seed: 3}, "http://demo.test", io.Discard, log); err == nil {
		t.Error("another territory was loaded over this one")
	}
}
