package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ehealthplus/ehealth/internal/conformance"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// defaultDB is the database used when none is given: one SQLite file.
const defaultDB = "sqlite:ehealth.db"

// openStore opens the database a URL names: sqlite:PATH or postgres://…
func openStore(ctx context.Context, url string) (store.Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, url)
	default:
		return nil, fmt.Errorf("database %q: use sqlite:PATH or postgres://…", url)
	}
}

// platform is what the commands run on: the resource service over an
// opened, migrated store, and the terminology link.
type platform struct {
	svc         *resource.Service
	store       store.Store
	terminology *conformance.Terminology
}

// openService opens and migrates the database and builds the resource
// service with full validation against the terminology service, which is
// loaded with the stored code systems, value sets and concept maps and
// follows every later write of them.
func openService(ctx context.Context, url string) (*resource.Service, store.Store, error) {
	p, err := openPlatform(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	return p.svc, p.store, nil
}

// openPlatform is openService keeping the terminology link, for serve.
func openPlatform(ctx context.Context, url string, log *slog.Logger) (*platform, error) {
	st, err := openStore(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate %s: %w", url, err)
	}
	base, err := terminology.Load()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("load terminology: %w", err)
	}
	terms := terminology.NewService(base)
	link := conformance.NewTerminology(terms, st, log)
	n, err := link.Load(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("terminology loaded", "stored_resources", n)
	registry := search.NewRegistry()
	svc := resource.New(st, validate.New(terms), link.Observer(),
		resource.WithIndexer(search.NewIndexer(registry, search.Extractor{})),
		resource.WithSearch(registry, link.Codes()))
	return &platform{svc: svc, store: st, terminology: link}, nil
}
