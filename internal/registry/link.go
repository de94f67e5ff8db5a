package registry

import (
	"context"
	"slices"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// runLink serves POST Patient/{id}/$link (an empty Parameters): links a
// provider's own Patient record to its citizen's master record.
func (r *Registry) runLink(ctx context.Context, c resource.Caller, instance, body map[string]any) (map[string]any, error) {
	if !staff(c, scope.Update, "Patient") {
		return nil, outcome.New(outcome.Forbidden, "$link needs the operator or a provider's token with user/ or system/ Patient update (u)")
	}
	if _, err := parseParams(body); err != nil {
		return nil, err
	}
	id, _ := instance["id"].(string)
	master, err := r.Link(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return parameters("master", map[string]any{"valueReference": ref("Patient", master)}), nil
}

// Link links the provider's Patient localID to the master Patient of the
// same citizen, found by the identity document on the local record and
// confirmed by its birth date and a name: the local record gets a link of
// type "refer" to the master (it is not the main source of the citizen's
// data) and the master one of type "seealso" back
// (https://hl7.org/fhir/R4/patient.html#links), in one transaction. It
// returns the master's id; linking a linked record again changes nothing.
func (r *Registry) Link(ctx context.Context, c resource.Caller, localID string) (string, error) {
	var masterID string
	err := retried(func() error {
		local, err := r.read(ctx, "Patient", localID)
		if err != nil {
			return err
		}
		master, err := r.masterFor(ctx, local.res)
		if err != nil {
			return err
		}
		masterID = master.v.ID
		if others := linked(local.res, "refer"); len(others) > 0 && others[0] != masterID {
			return outcome.New(outcome.Conflict, "Patient/%s is linked to another master record; the operator merges or corrects them", localID)
		}
		var writes []write
		if linkTo(local.res, masterID) == "" {
			addLink(local.res, masterID, "refer")
			writes = append(writes, write{typ: "Patient", id: localID, res: local.res, ifMatch: local.v.VersionID})
		}
		if linkTo(master.res, localID) == "" {
			addLink(master.res, localID, "seealso")
			writes = append(writes, write{typ: "Patient", id: masterID, res: master.res, ifMatch: master.v.VersionID})
		}
		if len(writes) == 0 {
			return nil
		}
		_, err = r.transact(ctx, c, writes)
		return err
	})
	if err == nil {
		r.log.Info("provider record linked", "patient", localID, "master", masterID, "by", c.Writer)
	}
	return masterID, err
}

// masterFor finds the master record of the citizen a provider's Patient
// is about: the identity document finds it, the birth date and a name in
// the same script must agree. Its answers never quote the master's data.
func (r *Registry) masterFor(ctx context.Context, local map[string]any) (found, error) {
	if hasTag(local, TagMaster) {
		return found{}, outcome.New(outcome.Unprocessable, "a master record is not linked to another master; $merge joins two masters")
	}
	docs, err := documents(r.parser, local, "Patient")
	if err != nil {
		return found{}, err
	}
	if len(docs) == 0 {
		return found{}, outcome.At(outcome.Unprocessable, "Patient.identifier", "the record needs the citizen's identity document to be linked")
	}
	for _, doc := range docs {
		held, err := r.holder(ctx, doc)
		if err != nil {
			return found{}, err
		}
		if held.Patient == "" {
			continue
		}
		master, err := r.read(ctx, "Patient", held.Patient)
		if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
			continue
		}
		if err != nil {
			return found{}, err
		}
		if !matchable(master.res) {
			return found{}, outcome.New(outcome.Unprocessable, "the citizen with this identity document is not taking part in eHealth")
		}
		full, _ := nameAgreement(local, master.res)
		if local["birthDate"] != master.res["birthDate"] || !full {
			return found{}, outcome.New(outcome.Unprocessable, "the record's birth date or name differ from the registered citizen's with this identity document; check them with the citizen")
		}
		return master, nil
	}
	return found{}, outcome.New(outcome.Unprocessable, "no registered citizen has the record's identity document")
}

// MasterOf finds the registered citizen a provider's record of a patient
// is about, as $link does: by the identity document, with the birth date
// and a name agreeing. ok is false — with the reason in err, an
// outcome.Unprocessable — when no registered citizen matches; other
// errors are failures. A deposit uses it to file a new local record under
// the citizen (a "refer" link) in the deposit's own transaction.
func (r *Registry) MasterOf(ctx context.Context, patient map[string]any) (masterID string, ok bool, err error) {
	m, err := r.masterFor(ctx, patient)
	if outcome.Is(err, outcome.Unprocessable) {
		return "", false, err
	}
	if err != nil {
		return "", false, err
	}
	return m.v.ID, true, nil
}

// Compartments returns the patient keys of a citizen's record: the master
// Patient id, the ids of the providers' records linked to it, and the ids
// of the records merged into it (a "replaces" link answered by
// "replaced-by"). A merge re-points the source's resources to the target
// but not what records what happened — Provenance, and the audit journal's
// entries, which keep the key they were written under — so whoever reads
// a citizen's history reads all of these keys together.
func (r *Registry) Compartments(ctx context.Context, masterID string) ([]string, error) {
	p, err := r.read(ctx, "Patient", masterID)
	if err != nil {
		return nil, err
	}
	out := []string{masterID}
	for _, back := range []struct{ there, here string }{{"seealso", "refer"}, {"replaces", "replaced-by"}} {
		for _, id := range linked(p.res, back.there) {
			other, err := r.read(ctx, "Patient", id)
			if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if linkTo(other.res, masterID) == back.here && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}
