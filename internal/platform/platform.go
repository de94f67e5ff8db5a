// Package platform assembles the FHIR services over an opened store: the
// terminology service loaded with the stored code systems, validation,
// the search registry and write-time indexer, custom SearchParameters with
// their reindex jobs, and the resource service that uses them all. The
// command and the API tests build the server the same way through it.
package platform

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ehealthplus/ehealth/internal/conformance"
	mpi "github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/terminology"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// Platform is the assembled services over one store.
type Platform struct {
	Service     *resource.Service
	Store       store.Store
	Terminology *conformance.Terminology
	Search      *conformance.SearchParameters
	// Registry registers citizens, keeps the master patient index and the
	// providers' registry; it offers its operations to rest.
	Registry *mpi.Registry
}

// Open migrates st and assembles the services over it. Close stops the
// background jobs; the caller closes st.
func Open(ctx context.Context, st store.Store, log *slog.Logger) (*Platform, error) {
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	base, err := terminology.Load()
	if err != nil {
		return nil, fmt.Errorf("load terminology: %w", err)
	}
	terms := terminology.NewService(base)
	link := conformance.NewTerminology(terms, st, log)
	n, err := link.Load(ctx)
	if err != nil {
		return nil, err
	}
	log.Debug("terminology loaded", "stored_resources", n)
	registry := search.NewRegistry()
	indexer := search.NewIndexer(registry, search.Extractor{})
	params := conformance.NewSearchParameters(registry, indexer, st, log)
	svc := resource.New(st, validate.New(terms),
		link.Observer(), params.Observer(),
		resource.WithIndexer(indexer),
		resource.WithSearch(registry, link.Codes()))
	if err := params.Start(ctx, svc); err != nil {
		params.Close()
		return nil, err
	}
	reg := mpi.New(svc, st, mpi.WithLogger(log))
	return &Platform{Service: svc, Store: st, Terminology: link, Search: params, Registry: reg}, nil
}

// Close stops the background jobs (reindexing).
func (p *Platform) Close() { p.Search.Close() }
