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

// RekeyCompartment files a compartment under another patient key (see
// store.Tx).
func (t *tx) RekeyCompartment(ctx context.Context, from, to string) (int64, error) {
	var moved int64
	for _, q := range rekeySQL {
		tag, err := t.tx.Exec(ctx, q, from, to)
		if err != nil {
			return 0, fmt.Errorf("postgres: rekey compartment: %w", err)
		}
		moved = tag.RowsAffected()
	}
	return moved, nil
}
