package resource

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/store"
)

// precheck runs the deposit check for res before its write's transaction
// opens, on the compartment it would land in as the committed records
// say, and records in prep the key that passed; put then skips the check
// when the key decided in the transaction is the same. The check reads
// through the store, outside any transaction: run inside one it holds a
// second connection while the transaction holds the first, so on a
// bounded pool (PostgreSQL) concurrent deposits could each wait for the
// other's connection for ever, and every record of a Bundle would ask
// again. passed remembers the keys that passed for the other records of
// the same write, and what the patients they refer to resolved to.
//
// A key that does not pass is not recorded: put runs the check again in
// the transaction and answers with its error, as it did before. So does
// a key the transaction decides differently (a Patient link written in
// the same Bundle). A Patient is not prechecked: the check treats the
// compartment's own Patient apart (DepositOf), and a created Patient's id
// is chosen in the transaction.
func (s *Service) precheck(ctx context.Context, c Caller, res map[string]any, prep *prepared, passed *prechecked) {
	if c.Grants == nil || s.depositCheck == nil || prep == nil {
		return
	}
	typ, _ := res["resourceType"].(string)
	if typ == "Patient" {
		return
	}
	if passed == nil {
		passed = &prechecked{}
	}
	if passed.keys.reader == nil {
		passed.keys.reader = s.store
	}
	key, err := compartmentKey(ctx, &passed.keys, res)
	base := store.BaseKey(key)
	if err != nil || base == "" {
		return
	}
	if !passed.bases[base] {
		id, _ := res["id"].(string)
		d := Deposit{Type: typ, ID: id, PatientKey: base}
		if s.depositCheck(context.WithValue(ctx, depositKey{}, d), nil, base) != nil {
			return
		}
		if passed.bases == nil {
			passed.bases = map[string]bool{}
		}
		passed.bases[base] = true
	}
	prep.checked = base
}

// prechecked is what the prechecks of one write's records share: the
// compartments that passed and the patient keys resolved.
type prechecked struct {
	bases map[string]bool
	keys  keyCache
}

// mustCheck reports whether put runs the deposit check on base: prep
// (nil when nothing was prepared) did not see it pass before the
// transaction.
func (p *prepared) mustCheck(base string) bool { return p == nil || p.checked != base }

// checkInTx runs the deposit check on d inside the write's transaction,
// reading through it, once per patient key a transaction: a record's pass
// is remembered until a Patient or Consent is written in it. The
// compartment's own Patient passes on its own terms (DepositOf), so its
// pass says nothing about the records and is not remembered.
func (s *Service) checkInTx(ctx context.Context, tx store.Tx, d Deposit) error {
	rec, _ := tx.(*recordingTx)
	if rec != nil && rec.deposits[d.PatientKey] {
		return nil
	}
	if err := s.depositCheck(context.WithValue(ctx, depositKey{}, d), tx, d.PatientKey); err != nil {
		return err
	}
	if rec != nil && d.Type != "Patient" {
		if rec.deposits == nil {
			rec.deposits = map[string]bool{}
		}
		rec.deposits[d.PatientKey] = true
	}
	return nil
}
