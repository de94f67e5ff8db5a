package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
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

// openService opens the database and assembles the platform over it; the
// import and terminology commands use its resource service. Closing the
// returned closer stops the platform and closes the database.
func openService(ctx context.Context, url string) (*resource.Service, io.Closer, error) {
	p, err := openPlatform(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	return p.Service, closer{p}, nil
}

// openPlatform opens the database and assembles the platform over it.
func openPlatform(ctx context.Context, url string, log *slog.Logger, opts ...platform.Option) (*platform.Platform, error) {
	st, err := openStore(ctx, url)
	if err != nil {
		return nil, err
	}
	p, err := platform.Open(ctx, st, log, opts...)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return p, nil
}

// closer stops a platform's background jobs and closes its database.
type closer struct{ p *platform.Platform }

func (c closer) Close() error {
	c.p.Close()
	return c.p.Store.Close()
}
