package sqlsearch

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Visible reports whether a resource of patientKey that writer wrote is
// visible under a: by its list and NonPatient, its writers, else by its
// grant rules at its time.
func (e *Engine) Visible(ctx context.Context, db DB, a store.Access, patientKey, writer string) (bool, error) {
	if a.Allows(patientKey) || (writer != "" && slices.Contains(a.Writers, writer)) {
		return true, nil
	}
	if len(a.Grants) == 0 || patientKey == "" {
		return false, nil
	}
	b := &builder{d: e.d, access: a}
	// One row, kept when a grant rule holds: the conditions are about the
	// patient alone, so no table is scanned.
	n, err := db.Count(ctx, "SELECT count(*) FROM (SELECT 1 AS one) t WHERE "+b.grantedTo(b.arg(patientKey)), b.args)
	if err != nil {
		return false, fmt.Errorf("access grants: %w", err)
	}
	return n > 0, nil
}

// decider returns the grant decision of builders of one request under a:
// whether a patient key's grants open it now, cached. The keys of one
// patient's compartment are decided together, in one query (one round
// trip however many keys: a bit per key); keys the grants can never open
// — private keys, under which no grant is recorded — without asking.
func (e *Engine) decider(ctx context.Context, db DB, a store.Access) func(string) (bool, error) {
	decided := map[string]bool{}
	return func(key string) (bool, error) {
		if ok, seen := decided[key]; seen {
			return ok, nil
		}
		if store.IsPrivateKey(key) || len(a.Grants) == 0 {
			decided[key] = false
			return false, nil
		}
		var keys []string
		for _, k := range store.CompartmentKeys(store.BaseKey(key)) {
			if _, seen := decided[k]; !seen && !store.IsPrivateKey(k) {
				keys = append(keys, k)
			}
		}
		if !slices.Contains(keys, key) { // not one of its base's keys: decide it alone
			keys = []string{key}
		}
		b := &builder{d: e.d, access: store.Access{Grants: a.Grants, At: a.At}}
		bits := make([]string, len(keys))
		for i, k := range keys {
			bits[i] = fmt.Sprintf("(CASE WHEN %s THEN %d ELSE 0 END)", b.grantedTo(b.arg(k)), 1<<i)
		}
		n, err := db.Count(ctx, "SELECT "+strings.Join(bits, " + "), b.args)
		if err != nil {
			return false, fmt.Errorf("access grants: %w", err)
		}
		for i, k := range keys {
			decided[k] = n&(1<<i) != 0
		}
		return decided[key], nil
	}
}

// GrantSQL is the statements of the grant table, in the dialect's
// placeholders: put one grant (grantee, patient_key, source, from, to; an
// upsert) and delete a source's.
func (d *Dialect) GrantSQL() (put, deleteSource string) {
	p := d.Param
	put = "INSERT INTO access_grant (grantee, patient_key, source, valid_from_us, valid_to_us) VALUES (" +
		p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) + ", " + p(5) + ") ON CONFLICT (grantee, patient_key, source) DO UPDATE SET " +
		"valid_from_us = excluded.valid_from_us, valid_to_us = excluded.valid_to_us"
	return put, "DELETE FROM access_grant WHERE source = " + p(1)
}

// GrantArgs are the arguments of GrantSQL's put for g.
func GrantArgs(g store.Grant) []any {
	var to int64
	if !g.To.IsZero() {
		to = g.To.UnixMicro()
	}
	return []any{g.Grantee, g.PatientKey, g.Source, g.From.UnixMicro(), to}
}

// RekeySQL is the statements of RekeyCompartment, in the dialect's
// placeholders (1: from, 2: to): the index tables' rows of the
// compartment's resources first, found by rid, then the resources.
func (d *Dialect) RekeySQL() []string {
	sub := "rid IN (SELECT rid FROM resource_current WHERE patient_key = " + d.Param(1) + ")"
	var out []string
	for _, t := range Tables {
		out = append(out, "UPDATE "+t.Name+" SET patient_key = "+d.Param(2)+" WHERE "+sub)
	}
	return append(out, "UPDATE resource_current SET patient_key = "+d.Param(2)+" WHERE patient_key = "+d.Param(1))
}
