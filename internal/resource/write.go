package resource

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// maxRaceRetries bounds how often an unconditional update is retried when a
// concurrent writer got in first.
const maxRaceRetries = 8

// Create stores res as a new resource with a server-assigned id
// (https://hl7.org/fhir/R4/http.html#create). Any id in res is replaced.
func (s *Service) Create(ctx context.Context, c Caller, typ string, res map[string]any) (store.Version, error) {
	id := s.newID()
	prep, err := s.prepare(ctx, typ, id, false, res)
	if err != nil {
		return store.Version{}, err
	}
	s.precheck(ctx, c, res, prep, nil)
	var v store.Version
	err = s.write(ctx, func(tx store.Tx) error {
		var err error
		v, err = s.create(ctx, tx, c, typ, id, res, prep)
		return err
	})
	return v, err
}

// Update stores res as the new current version of typ/id, creating it when
// it does not exist (update-as-create with a client-assigned id, for the
// operator and the platform's own callers only: to a token an id never
// used is "not known", exactly like one it may not see). ifMatch > 0
// requires the current version to be ifMatch (412 otherwise). created reports
// whether the resource was new.
func (s *Service) Update(ctx context.Context, c Caller, typ, id string, res map[string]any, ifMatch int64) (v store.Version, created bool, err error) {
	prep, err := s.prepare(ctx, typ, id, true, res)
	if err != nil {
		return store.Version{}, false, err
	}
	s.precheck(ctx, c, res, prep, nil)
	for attempt := 0; ; attempt++ {
		err = s.write(ctx, func(tx store.Tx) error {
			v, created, err = s.update(ctx, tx, c, typ, id, res, ifMatch, prep)
			return err
		})
		if ifMatch > 0 || !outcome.Is(err, outcome.Conflict) || attempt >= maxRaceRetries {
			return v, created, err
		}
	}
}

// Delete marks typ/id deleted (https://hl7.org/fhir/R4/http.html#delete);
// history keeps every version. Deleting a deleted resource changes nothing
// and succeeds.
func (s *Service) Delete(ctx context.Context, c Caller, typ, id string, ifMatch int64) (v store.Version, err error) {
	for attempt := 0; ; attempt++ {
		err = s.write(ctx, func(tx store.Tx) error {
			v, err = s.delete(ctx, tx, c, typ, id, ifMatch)
			return err
		})
		if ifMatch > 0 || !outcome.Is(err, outcome.Conflict) || attempt >= maxRaceRetries {
			return v, err
		}
	}
}

// PatchFormat is the kind of patch document.
type PatchFormat int

// The patch formats (https://hl7.org/fhir/R4/http.html#patch).
const (
	JSONPatch     PatchFormat = iota // RFC 6902, application/json-patch+json
	FHIRPathPatch                    // a Parameters resource (https://hl7.org/fhir/R4/fhirpatch.html)
)

// Patch applies a patch document to the current version of typ/id and
// stores the result as a new version after validation
// (https://hl7.org/fhir/R4/http.html#patch).
func (s *Service) Patch(ctx context.Context, c Caller, typ, id string, patch []byte, format PatchFormat, ifMatch int64) (v store.Version, err error) {
	for attempt := 0; ; attempt++ {
		err = s.write(ctx, func(tx store.Tx) error {
			v, err = s.patch(ctx, tx, c, typ, id, patch, format, ifMatch)
			return err
		})
		if ifMatch > 0 || !outcome.Is(err, outcome.Conflict) || attempt >= maxRaceRetries {
			return v, err
		}
	}
}

// create stores res at id; prep, when not nil, is its validation and index
// done by the caller outside the transaction, so a single-writer store is
// not held up.
func (s *Service) create(ctx context.Context, tx store.Tx, c Caller, typ, id string, res map[string]any, prep *prepared) (store.Version, error) {
	if err := checkBody(typ, "", res); err != nil {
		return store.Version{}, err
	}
	res["id"] = id
	if err := mayWriteAt(typ, id); err != nil {
		return store.Version{}, err
	}
	p, err := c.permits(scope.InteractionCreate, typ)
	if err != nil {
		return store.Version{}, err
	}
	if err := s.mayWrite(ctx, c, p, res); err != nil {
		return store.Version{}, err
	}
	if err := mayCreateOrigin(c, res); err != nil {
		return store.Version{}, err
	}
	return s.put(ctx, tx, c, res, store.MethodCreate, 0, prep)
}

func (s *Service) update(ctx context.Context, tx store.Tx, c Caller, typ, id string, res map[string]any, ifMatch int64, prep *prepared) (store.Version, bool, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, false, err
	}
	if err := checkID(id); err != nil {
		return store.Version{}, false, err
	}
	if err := checkBody(typ, id, res); err != nil {
		return store.Version{}, false, err
	}
	if err := mayWriteAt(typ, id); err != nil {
		return store.Version{}, false, err
	}
	p, err := c.permits(scope.InteractionUpdate, typ)
	if err != nil {
		return store.Version{}, false, err
	}
	curV, err := tx.Read(ctx, typ, id)
	if err != nil && !outcome.Is(err, outcome.NotFound) {
		return store.Version{}, false, err
	}
	cur, deleted := curV.VersionID, curV.Deleted
	if cur > 0 {
		if err := s.mayChange(ctx, c, p, curV); err != nil {
			return store.Version{}, false, err
		}
		if err := mayChangeOrigin(c, curV); err != nil {
			return store.Version{}, false, err
		}
	} else if c.Grants != nil {
		// Update-as-create is the operator's and the platform's: a token
		// creates with POST. Otherwise an id that is taken by a record the
		// caller may not see (404) and a free one (201) would answer
		// differently, and so reveal the hidden record.
		return store.Version{}, false, notKnown(typ, id)
	}
	if err := checkIfMatch(typ, id, cur, ifMatch); err != nil {
		return store.Version{}, false, err
	}
	// A resource that does not exist, or was deleted, is created anew; its
	// version ids carry on from the history.
	created := cur == 0 || deleted
	method := store.MethodUpdate
	if created {
		method = store.MethodCreate
		if _, err := c.permits(scope.InteractionCreate, typ); err != nil {
			return store.Version{}, false, err
		}
	}
	if err := s.mayWrite(ctx, c, p, res); err != nil {
		return store.Version{}, false, err
	}
	if err := mayCreateOrigin(c, res); err != nil {
		return store.Version{}, false, err
	}
	v, err := s.put(ctx, tx, c, res, method, cur, prep)
	if err != nil && ifMatch > 0 && outcome.Is(err, outcome.Conflict) {
		return v, false, preconditionFailed(typ, id, ifMatch)
	}
	return v, created, err
}

func (s *Service) delete(ctx context.Context, tx store.Tx, c Caller, typ, id string, ifMatch int64) (store.Version, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, err
	}
	if err := mayWriteAt(typ, id); err != nil {
		return store.Version{}, err
	}
	p, err := c.permits(scope.InteractionDelete, typ)
	if err != nil {
		return store.Version{}, err
	}
	cur, err := tx.Read(ctx, typ, id)
	if err != nil {
		return store.Version{}, err
	}
	if err := s.mayChange(ctx, c, p, cur); err != nil {
		return store.Version{}, err
	}
	if err := mayChangeOrigin(c, cur); err != nil {
		return store.Version{}, err
	}
	if err := checkIfMatch(typ, id, cur.VersionID, ifMatch); err != nil {
		return store.Version{}, err
	}
	if cur.Deleted {
		return cur, nil
	}
	v := &store.Version{
		Type: typ, ID: id, VersionID: cur.VersionID + 1, Updated: s.stamp(),
		Deleted: true, Method: store.MethodDelete, Writer: c.Writer, PatientKey: cur.PatientKey,
	}
	if err := tx.Put(ctx, v, cur.VersionID); err != nil {
		if ifMatch > 0 && outcome.Is(err, outcome.Conflict) {
			return store.Version{}, preconditionFailed(typ, id, ifMatch)
		}
		return store.Version{}, err
	}
	return *v, nil
}

func (s *Service) patch(ctx context.Context, tx store.Tx, c Caller, typ, id string, patch []byte, format PatchFormat, ifMatch int64) (store.Version, error) {
	if err := checkType(typ); err != nil {
		return store.Version{}, err
	}
	if err := mayWriteAt(typ, id); err != nil {
		return store.Version{}, err
	}
	p, err := c.permits(scope.InteractionPatch, typ)
	if err != nil {
		return store.Version{}, err
	}
	cur, err := tx.Read(ctx, typ, id)
	if err != nil {
		return store.Version{}, err
	}
	if err := s.mayChange(ctx, c, p, cur); err != nil {
		return store.Version{}, err
	}
	if err := mayChangeOrigin(c, cur); err != nil {
		return store.Version{}, err
	}
	if cur.Deleted {
		return store.Version{}, goneError(typ, id, cur.VersionID)
	}
	if err := checkIfMatch(typ, id, cur.VersionID, ifMatch); err != nil {
		return store.Version{}, err
	}
	res, err := applyPatch(ctx, cur, patch, format)
	if err != nil {
		return store.Version{}, err
	}
	if err := checkBody(typ, id, res); err != nil {
		return store.Version{}, err
	}
	if err := s.mayWrite(ctx, c, p, res); err != nil {
		return store.Version{}, err
	}
	if err := mayCreateOrigin(c, res); err != nil {
		return store.Version{}, err
	}
	v, err := s.put(ctx, tx, c, res, store.MethodPatch, cur.VersionID, nil)
	if err != nil && ifMatch > 0 && outcome.Is(err, outcome.Conflict) {
		return v, preconditionFailed(typ, id, ifMatch)
	}
	return v, err
}

// put validates and indexes res (unless prep holds that work, done outside
// the transaction), stamps its meta and appends it as version expect+1.
func (s *Service) put(ctx context.Context, tx store.Tx, c Caller, res map[string]any, method store.Method, expect int64, prep *prepared) (store.Version, error) {
	if prep == nil {
		var err error
		typ, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if prep, err = s.prepareChecked(ctx, typ, id, res); err != nil {
			return store.Version{}, err
		}
	}
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	key, err := s.versionKey(ctx, tx, typ, res, prep)
	if err != nil {
		return store.Version{}, fmt.Errorf("compartment of %s/%s: %w", typ, id, err)
	}
	if base := store.BaseKey(key); base != "" && c.Grants != nil && s.depositCheck != nil && prep.mustCheck(base) {
		if err := s.checkInTx(ctx, tx, Deposit{Type: typ, ID: id, PatientKey: base}); err != nil {
			return store.Version{}, err
		}
	}
	if method == store.MethodUpdate {
		if cur, same, err := unchanged(ctx, tx, typ, id, expect, key, c.Writer, res); err != nil || same {
			return cur, err
		}
	}
	v := &store.Version{
		Type: typ, ID: id, VersionID: expect + 1, Updated: s.stamp(),
		Method: method, Writer: c.Writer, PatientKey: key,
	}
	setMeta(res, v.VersionID, v.Updated)
	v.Index = prep.index
	body, err := fhir.Marshal(res)
	if err != nil {
		return store.Version{}, outcome.Wrap(outcome.Internal, fmt.Sprintf("encode %s/%s", typ, id), err)
	}
	v.Body = body
	if err := tx.Put(ctx, v, expect); err != nil {
		return store.Version{}, err
	}
	if typ == "Patient" && key != "" && key != id {
		// Linked or merged: what was filed under this record moves to the
		// record it now defers to.
		if _, err := tx.RekeyCompartment(ctx, id, key); err != nil {
			return store.Version{}, err
		}
	}
	return *v, nil
}

// versionKey is the patient key a version of res is filed under, decided
// in the write's transaction: its compartment (compartmentKey), restricted
// when it carries a restricted label or matches a restriction of its
// patient (restrictKey). A label added there changes the resource, so its
// index rows in prep are computed again.
func (s *Service) versionKey(ctx context.Context, tx store.Tx, typ string, res map[string]any, prep *prepared) (string, error) {
	key, err := compartmentKey(ctx, tx, res)
	if err != nil {
		return "", err
	}
	key, relabelled, err := s.restrictKey(ctx, tx, typ, res, key)
	if err != nil || !relabelled || s.indexer == nil {
		return key, err
	}
	entries, _, err := s.indexer.Index(ctx, res, patientKey(res))
	if err != nil {
		return "", outcome.Wrap(outcome.Internal, "index "+typ, err)
	}
	prep.index = entries
	return key, nil
}

// prepared is the work on a resource done before its transaction opens:
// validation passed, and its search index rows.
type prepared struct {
	index []search.Entry
	// checked is the compartment (base patient key) the deposit check
	// passed for before the transaction (precheck); "" for none.
	checked string
}

// prepare checks res is a valid resource of typ to be stored at id (the
// client's id when clientID, on update; the server's otherwise) and
// computes its index rows, before any transaction opens.
func (s *Service) prepare(ctx context.Context, typ, id string, clientID bool, res map[string]any) (*prepared, error) {
	if clientID {
		if err := checkID(id); err != nil {
			return nil, err
		}
		if err := checkBody(typ, id, res); err != nil {
			return nil, err
		}
	} else {
		if err := checkBody(typ, "", res); err != nil {
			return nil, err
		}
		res["id"] = id
	}
	return s.prepareChecked(ctx, typ, id, res)
}

// prepareChecked validates and indexes res, whose type and id are checked.
func (s *Service) prepareChecked(ctx context.Context, typ, id string, res map[string]any) (*prepared, error) {
	markOrigin(res)
	if err := s.validator.Validate(res); err != nil {
		return nil, err
	}
	p := &prepared{}
	if s.indexer != nil {
		entries, _, err := s.indexer.Index(ctx, res, patientKey(res))
		if err != nil {
			return nil, outcome.Wrap(outcome.Internal, fmt.Sprintf("index %s/%s", typ, id), err)
		}
		p.index = entries
	}
	return p, nil
}

func checkIfMatch(typ, id string, current, ifMatch int64) error {
	if ifMatch > 0 && current != ifMatch {
		return preconditionFailed(typ, id, ifMatch)
	}
	return nil
}

func preconditionFailed(typ, id string, ifMatch int64) error {
	return outcome.New(outcome.PreconditionFailed, "%s/%s is not at version %d (If-Match)", typ, id, ifMatch)
}

// setMeta records the version id and time in res.meta, keeping the client's
// other meta elements (profile, security, tag, source).
func setMeta(res map[string]any, versionID int64, updated time.Time) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = fmt.Sprint(versionID)
	meta["lastUpdated"] = FormatInstant(updated)
}

// FormatInstant formats t as a FHIR instant with millisecond precision or
// more where the time carries it.
func FormatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// patientKey is the patient compartment a resource's rows belong to: the
// first patient it refers to through the compartment definition.
func patientKey(res map[string]any) string {
	if refs := fhir.PatientRefs(res); len(refs) > 0 {
		return refs[0]
	}
	return ""
}

// unchanged reports whether an update of typ/id to res would store what
// its current version (expect) already holds — same content apart from
// meta.versionId and meta.lastUpdated, same compartment key, same writer
// — and returns that version: no new version is written (a deposit sent
// again, a re-sent lab message, change nothing). The update is still
// recorded for the audit, as an update that left the version current.
func unchanged(ctx context.Context, tx store.Tx, typ, id string, expect int64, key, writer string, res map[string]any) (store.Version, bool, error) {
	cur, err := tx.Read(ctx, typ, id)
	if err != nil || cur.Deleted || cur.VersionID != expect || cur.PatientKey != key || cur.Writer != writer {
		return store.Version{}, false, nil
	}
	stored, err := fhir.Parse(cur.Body)
	if err != nil {
		return store.Version{}, false, nil
	}
	if !SameContent(stored, res) {
		return store.Version{}, false, nil
	}
	if rec, ok := tx.(*recordingTx); ok {
		noop := cur
		noop.Method = store.MethodUpdate
		rec.done = append(rec.done, Done{Version: noop})
	}
	return cur, true, nil
}

// SameContent reports whether a stored resource and a new one hold the
// same content, meta.versionId and meta.lastUpdated aside: an update to
// the same content stores no version (unchanged).
func SameContent(stored, res map[string]any) bool {
	a, errA := fhir.Marshal(withoutVersionMeta(stored))
	b, errB := fhir.Marshal(withoutVersionMeta(res))
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// withoutVersionMeta is a shallow copy of res without meta.versionId and
// meta.lastUpdated (and without meta when nothing else is in it).
func withoutVersionMeta(res map[string]any) map[string]any {
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		return out
	}
	m := make(map[string]any, len(meta))
	for k, v := range meta {
		if k != "versionId" && k != "lastUpdated" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		delete(out, "meta")
	} else {
		out["meta"] = m
	}
	return out
}
