package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/resource"
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

// openService opens and migrates the database and builds the resource
// service with full validation.
func openService(ctx context.Context, url string) (*resource.Service, store.Store, error) {
	st, err := openStore(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("migrate %s: %w", url, err)
	}
	terms, err := terminology.Load()
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("load terminology: %w", err)
	}
	return resource.New(st, validate.New(terms)), st, nil
}
