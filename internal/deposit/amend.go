package deposit

import (
	"fmt"

	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// decide marks the entries that change a stored record — a withdrawal, or
// a re-deposit whose content differs (an amendment) — and builds the
// Provenance recorded with each. A re-deposit of the same content is an
// unchanged update: no version, no Provenance.
func (d *deposit) decide() {
	for _, it := range d.items {
		if it.err != nil || it.role == roleReason {
			continue
		}
		if it.existing == nil {
			if it.res != nil {
				delete(it.res, "id") // a new record: the server gives the id
			}
			continue
		}
		if it.method == "DELETE" {
			it.changed = true
		} else {
			it.res["id"] = it.existing.ID
			it.changed = d.newRefs(it) || !resource.SameContent(it.cur, it.res)
		}
		if it.changed {
			it.provenance = d.provenance(it)
		}
	}
}

// provenance is the Provenance recorded with a change of a stored record:
// its target the version the change makes and the citizen's record, the
// provider its agent, the reason the Bundle gave (or the default for an
// amendment), and the record's security labels, so it is exactly as
// visible as the record.
func (d *deposit) provenance(it *item) map[string]any {
	act := "UPDATE"
	if it.method == "DELETE" {
		act = "DELETE"
	}
	targets := []any{map[string]any{"reference": fmt.Sprintf("%s/%s/_history/%d", it.typ, it.id, it.existing.VersionID+1)}}
	if k := store.BaseKey(it.existing.PatientKey); k != "" && !(it.typ == "Patient" && k == it.id) {
		targets = append(targets, map[string]any{"reference": "Patient/" + k})
	}
	meta := map[string]any{"tag": []any{map[string]any{"system": resource.ProvenanceOriginSystem, "code": ProvenanceOriginDeposit}}}
	labelled := it.res
	if labelled == nil {
		labelled = it.cur
	}
	if m, _ := labelled["meta"].(map[string]any); m != nil && m["security"] != nil {
		meta["security"] = m["security"]
	}
	p := map[string]any{
		"resourceType": "Provenance",
		"meta":         meta,
		"target":       targets,
		"recorded":     resource.FormatInstant(d.s.now()),
		"activity":     map[string]any{"coding": []any{map[string]any{"system": DataOperationSystem, "code": act}}},
		"reason":       []any{map[string]any{"text": DefaultAmendmentReason}},
		"agent": []any{map[string]any{
			"type": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}}},
			"who":  map[string]any{"reference": d.org},
		}},
	}
	if it.reason != nil {
		if hasReason(it.reason.res) {
			p["reason"] = it.reason.res["reason"]
		}
		for _, k := range []string{"occurredDateTime", "occurredPeriod"} {
			if v, ok := it.reason.res[k]; ok {
				p[k] = v
			}
		}
	}
	return p
}
