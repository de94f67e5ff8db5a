package postgres

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/internal/sqlsearch"
)

var putGrantSQL, deleteGrantsSQL = dialect.GrantSQL()

// PutGrant records a grant (see store.GrantWriter).
func (t *tx) PutGrant(ctx context.Context, g store.Grant) error {
	if _, err := t.tx.Exec(ctx, putGrantSQL, sqlsearch.GrantArgs(g)...); err != nil {
		return fmt.Errorf("postgres: put grant from %s: %w", g.Source, err)
	}
	return nil
}

// DeleteGrants removes the grants recorded from source.
func (t *tx) DeleteGrants(ctx context.Context, source string) (int64, error) {
	tag, err := t.tx.Exec(ctx, deleteGrantsSQL, source)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete grants from %s: %w", source, err)
	}
	return tag.RowsAffected(), nil
}

var rekeySQL = dialect.RekeySQL()

// RekeyCompartment files a compartment under another patient key, each
// of its keys (store.CompartmentKeys) under the matching key of to (see
// store.Tx).
func (t *tx) RekeyCompartment(ctx context.Context, from, to string) (int64, error) {
	var moved int64
	tos := store.CompartmentKeys(to)
	for k, fromKey := range store.CompartmentKeys(from) {
		n, err := t.rekey(ctx, fromKey, tos[k])
		if err != nil {
			return 0, fmt.Errorf("postgres: rekey compartment: %w", err)
		}
		moved += n
	}
	return moved, nil
}

// rekey files the rows of one key under another; it returns how many
// resources moved.
func (t *tx) rekey(ctx context.Context, from, to string) (int64, error) {
	var moved int64
	for i, q := range rekeySQL {
		tag, err := t.tx.Exec(ctx, q, from, to)
		if err != nil {
			return 0, err
		}
		if i == len(rekeySQL)-1 {
			n := tag.RowsAffected()
			moved = n
		}
	}
	return moved, nil
}
