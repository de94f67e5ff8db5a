package ips

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/store"
)

// emptyReasonSystem is the code system of a section's emptyReason.
const emptyReasonSystem = "http://terminology.hl7.org/CodeSystem/list-empty-reason"

// authorID is the id of the Device the platform signs its summaries as
// (Composition.author): the same in every summary, carried in the
// document, never stored.
const authorID = "9c0e6f4e-2b1a-4d7c-8e5f-3a6b1c2d4e5f"

// Document is a built summary: the document Bundle, the stored versions
// it holds (for the audit) and what a person reads of it (for the PDF).
type Document struct {
	Bundle map[string]any
	Served []store.Version
	// what the summary was built from, to read it again in another
	// language (the PDF without a CJK font)
	view    view
	rec     *record
	patient map[string]any
	placed  []placed
	now     time.Time
}

// placed is one section's entries as chosen from the record.
type placed struct {
	section section
	entries []entry
	// withheld: the caller may read none of the section's types.
	withheld bool
}

// place puts the caller's records into sections, in the sections' order;
// a section without entries is kept only when the IPS requires it.
func place(rec *record) []placed {
	byCode := map[string][]entry{}
	for _, typ := range recordTypes() {
		for _, e := range rec.matches[typ] {
			if code := sectionOf(e.res); code != "" {
				byCode[code] = append(byCode[code], e)
			}
		}
	}
	var out []placed
	for _, s := range sections {
		p := placed{section: s, entries: withoutMembers(byCode[s.Code])}
		if len(p.entries) == 0 && !s.Required {
			continue
		}
		p.withheld = len(p.entries) == 0
		for _, t := range s.Types {
			p.withheld = p.withheld && rec.withheld[t]
		}
		out = append(out, p)
	}
	return out
}

// withoutMembers leaves out of a section's entries those another entry
// groups — an Observation a panel has as member, a DiagnosticReport's
// result — as the IPS examples list a panel and not its members again;
// the members are in the document as resources the panel references.
func withoutMembers(entries []entry) []entry {
	grouped := map[string]bool{}
	for _, e := range entries {
		for _, k := range []string{"hasMember", "result"} {
			list, _ := e.res[k].([]any)
			for _, r := range list {
				m, _ := r.(map[string]any)
				if ref, _ := m["reference"].(string); ref != "" {
					grouped[ref] = true
				}
			}
		}
	}
	var out []entry
	for _, e := range entries {
		if !grouped[refOf(e.res)] {
			out = append(out, e)
		}
	}
	return out
}

// build writes the document Bundle of rec in lang at now, its stored
// entries' fullUrls under base (https://hl7.org/fhir/R4/documents.html):
// the Composition first, then the Patient, the sections' entries, the
// resources they reference that the caller may read, and the platform's
// Device as author.
func (s *Service) build(rec *record, lang, base string, now time.Time) (Document, error) {
	patient, err := decoded(rec.patient)
	if err != nil {
		return Document{}, err
	}
	ps := place(rec)
	r := reader{lang: lang, terms: s.terms, included: rec.byRef}
	v := s.read(r, patient.res, ps, now)
	doc := Document{view: v, rec: rec, patient: patient.res, placed: ps, now: now}
	entries := []any{nil} // the Composition goes first
	seen := map[string]bool{}
	add := func(e entry) {
		ref := refOf(e.res)
		if seen[ref] {
			return
		}
		seen[ref] = true
		entries = append(entries, map[string]any{"fullUrl": base + "/" + ref, "resource": e.res})
		doc.Served = append(doc.Served, e.version)
	}
	add(patient)
	var secs []any
	restricted := store.IsRestrictedKey(rec.patient.PatientKey)
	for i, p := range ps {
		secs = append(secs, sectionElement(lang, p, v.Sections[i]))
		for _, e := range p.entries {
			add(e)
			restricted = restricted || store.IsRestrictedKey(e.version.PatientKey)
		}
	}
	for _, ref := range referencesOf(entries[1:]) {
		if e, ok := rec.byRef[ref]; ok {
			add(e)
			restricted = restricted || store.IsRestrictedKey(e.version.PatientKey)
		}
	}
	compID, bundleID := uuid.NewString(), uuid.NewString()
	comp := composition(compID, lang, refOf(patient.res), v, secs, now)
	if restricted {
		comp["confidentiality"] = "R"
	}
	entries[0] = map[string]any{"fullUrl": "urn:uuid:" + compID, "resource": comp}
	entries = append(entries, map[string]any{"fullUrl": "urn:uuid:" + authorID, "resource": s.author()})
	doc.Bundle = map[string]any{
		"resourceType": "Bundle",
		"id":           bundleID,
		"meta":         map[string]any{"profile": []any{BundleProfile}},
		"language":     lang,
		"identifier":   map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + bundleID},
		"type":         "document",
		"timestamp":    now.Format(time.RFC3339),
		"entry":        entries,
	}
	return doc, nil
}

// read is what a person reads of the summary in r's language.
func (s *Service) read(r reader, patient map[string]any, ps []placed, now time.Time) view {
	v := view{Lang: r.lang, Title: word(r.lang, "title"), Patient: patientName(patient, r.lang), Generated: r.when(now.Format(time.RFC3339))}
	if b, _ := patient["birthDate"].(string); b != "" {
		v.Born = r.when(b)
	}
	if g, _ := patient["gender"].(string); g != "" {
		v.Gender = word(r.lang, g)
	}
	for _, p := range ps {
		sv := sectionView{Title: word(r.lang, p.section.Code),
			Columns: []string{word(r.lang, "item-"+p.section.Code), word(r.lang, "details"), word(r.lang, "status"), word(r.lang, "date")}}
		for _, e := range p.entries {
			sv.Rows = append(sv.Rows, r.row(e.res))
		}
		sv.Empty = word(r.lang, "empty")
		if p.withheld {
			sv.Empty = word(r.lang, "withheld")
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}

// sectionElement is Composition.section for p: entries by reference, or
// the emptyReason (unavailable, or withheld when the caller may read none
// of the section's types) — never both (cmp-2).
func sectionElement(lang string, p placed, sv sectionView) map[string]any {
	out := map[string]any{
		"title": sv.Title,
		"code":  map[string]any{"coding": []any{map[string]any{"system": LOINC, "code": p.section.Code, "display": p.section.Display}}},
		"text":  map[string]any{"status": "generated", "div": sectionNarrative(lang, sv)},
	}
	if len(p.entries) > 0 {
		var refs []any
		for _, e := range p.entries {
			refs = append(refs, map[string]any{"reference": refOf(e.res)})
		}
		out["entry"] = refs
		return out
	}
	code, display := "unavailable", "Unavailable"
	if p.withheld {
		code, display = "withheld", "Information Withheld"
	}
	out["emptyReason"] = map[string]any{
		"coding": []any{map[string]any{"system": emptyReasonSystem, "code": code, "display": display}},
		"text":   sv.Empty,
	}
	return out
}

// composition is the document's Composition
// (http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips).
func composition(id, lang, patientRef string, v view, secs []any, now time.Time) map[string]any {
	return map[string]any{
		"resourceType": "Composition",
		"id":           id,
		"meta":         map[string]any{"profile": []any{CompositionProfile}},
		"language":     lang,
		"text":         map[string]any{"status": "generated", "div": headerNarrative(v)},
		"identifier":   map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + id},
		"status":       "final",
		"type": map[string]any{"coding": []any{map[string]any{
			"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}}},
		"subject":         map[string]any{"reference": patientRef},
		"date":            now.Format(time.RFC3339),
		"author":          []any{map[string]any{"reference": "urn:uuid:" + authorID, "display": "eHealth+"}},
		"title":           v.Title,
		"confidentiality": "N",
		"event": []any{map[string]any{
			"code":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActClass", "code": "PCPR"}}}},
			"period": map[string]any{"end": now.Format(time.RFC3339)},
		}},
		"section": secs,
	}
}

// author is the Device the platform signs its summaries as.
func (s *Service) author() map[string]any {
	d := map[string]any{
		"resourceType": "Device",
		"id":           authorID,
		"text": map[string]any{"status": "generated",
			"div": div(English, "<p>"+text(s.cfg.Name)+"</p>")},
		"deviceName": []any{map[string]any{"name": s.cfg.Name, "type": "user-friendly-name"}},
	}
	if s.cfg.Version != "" {
		d["version"] = []any{map[string]any{"value": s.cfg.Version}}
	}
	return d
}

// referencesOf lists, once each and sorted, the "Type/id" references the
// resources of Bundle entries make.
func referencesOf(entries []any) []string {
	seen := map[string]bool{}
	var walk func(any)
	walk = func(n any) {
		switch v := n.(type) {
		case map[string]any:
			if ref, ok := v["reference"].(string); ok && isRelative(ref) {
				seen[ref] = true
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	for _, e := range entries {
		walk(e.(map[string]any)["resource"])
	}
	return slices.Sorted(maps.Keys(seen))
}

// isRelative reports whether ref is a plain "Type/id".
func isRelative(ref string) bool {
	typ, id, ok := strings.Cut(ref, "/")
	return ok && typ != "" && id != "" && !strings.ContainsAny(id, "/:#")
}
