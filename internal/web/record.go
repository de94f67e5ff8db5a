package web

import (
	"slices"
	"strings"
)

// How the apps group and show a patient's records: the 11 sharable record
// types, a record as a list shows it, and the lines of its detail page —
// one classification for the citizen app and the provider portal.

// OriginSystem and OriginCitizen mark what the citizen entered or uploaded
// themself, kept apart from clinical records: meta.tag
// OriginSystem|OriginCitizen.
const (
	OriginSystem  = "https://ehealth.hk/fhir/CodeSystem/record-origin"
	OriginCitizen = "citizen"
)

// RecordKind is one of the 11 sharable record types, as the apps group
// them.
type RecordKind struct {
	Key   string   // URL segment and message key (kind.<Key>)
	Types []string // the FHIR types searched
	// Keep selects the resources of the kind among those types (nil: all).
	Keep func(Resource) bool
}

// RecordKinds are the 11 sharable record types (DOMAIN.md).
var RecordKinds = []RecordKind{
	{Key: "allergies", Types: []string{"AllergyIntolerance"}},
	{Key: "encounters", Types: []string{"Encounter", "Appointment"}},
	{Key: "medications", Types: []string{"MedicationRequest", "MedicationDispense", "MedicationStatement"}, Keep: not(IsChineseMedicine)},
	{Key: "immunisations", Types: []string{"Immunization"}},
	{Key: "certificates", Types: []string{"DocumentReference", "Composition"}},
	{Key: "observations", Types: []string{"Observation"}, Keep: not(IsLab)},
	{Key: "referrals", Types: []string{"ServiceRequest"}},
	{Key: "lab", Types: []string{"DiagnosticReport", "Observation"}, Keep: IsLab},
	{Key: "radiology", Types: []string{"DiagnosticReport"}, Keep: func(r Resource) bool { return HasCategory(r, "RAD") || HasCategory(r, "LP29684-5") }},
	{Key: "chinese-medicine", Types: []string{"MedicationRequest"}, Keep: IsChineseMedicine},
	{Key: "images", Types: []string{"ImagingStudy"}},
}

// KindOf finds the kind with key among kinds.
func KindOf(kinds []RecordKind, key string) (RecordKind, bool) {
	i := slices.IndexFunc(kinds, func(k RecordKind) bool { return k.Key == key })
	if i < 0 {
		return RecordKind{}, false
	}
	return kinds[i], true
}

// RecordType reports whether typ is a type of one of the kinds.
func RecordType(kinds []RecordKind, typ string) bool {
	return slices.ContainsFunc(kinds, func(k RecordKind) bool { return slices.Contains(k.Types, typ) })
}

func not(f func(Resource) bool) func(Resource) bool {
	return func(r Resource) bool { return !f(r) }
}

// IsLab reports whether r is a laboratory result.
func IsLab(r Resource) bool { return HasCategory(r, "laboratory") || HasCategory(r, "LAB") }

// HasCategory reports whether a category coding of r has code.
func HasCategory(r Resource, code string) bool {
	for _, cat := range List(r, "category") {
		for _, c := range List(cat, "coding") {
			if Str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// IsChineseMedicine reports whether a prescription is of Chinese medicine
// (a category coding naming it).
func IsChineseMedicine(r Resource) bool {
	for _, cat := range List(r, "category") {
		for _, c := range List(cat, "coding") {
			if code := strings.ToLower(Str(c, "code")); strings.Contains(code, "chinese") || code == "cm" || code == "tcm" {
				return true
			}
		}
	}
	return false
}

// CitizenProvided reports whether r is marked as entered or uploaded by
// the citizen.
func CitizenProvided(r Resource) bool {
	for _, t := range List(r, "meta", "tag") {
		if Str(t, "system") == OriginSystem && Str(t, "code") == OriginCitizen {
			return true
		}
	}
	return false
}

// RecordItem is a record as a list or timeline shows it.
type RecordItem struct {
	Type, ID string
	Title    string
	Date     string // the clinically relevant FHIR date or dateTime
	Status   string
	Value    string
	Updated  string // meta.lastUpdated
	Citizen  bool   // citizen-provided
}

// dateFields are where the record types keep their clinically relevant
// date, in order of preference.
var dateFields = [][]any{{"effectiveDateTime"}, {"effectivePeriod", "start"}, {"occurrenceDateTime"}, {"issued"},
	{"recordedDate"}, {"onsetDateTime"}, {"authoredOn"}, {"whenHandedOver"}, {"dateAsserted"}, {"period", "start"},
	{"start"}, {"started"}, {"date"}, {"meta", "lastUpdated"}}

// titleFields name a record, in order of preference.
var titleFields = [][]any{{"code"}, {"medicationCodeableConcept"}, {"vaccineCode"}, {"type", 0}, {"type"}, {"serviceType", 0},
	{"class"}, {"category", 0}, {"description"}, {"title"}}

// RecordItemOf summarises r for a list.
func RecordItemOf(r Resource) RecordItem {
	it := RecordItem{Type: Str(r, "resourceType"), ID: Str(r, "id"), Status: Str(r, "status"),
		Updated: Str(r, "meta", "lastUpdated"), Citizen: CitizenProvided(r), Value: ValueText(r)}
	for _, f := range dateFields {
		if s := Str(r, f...); s != "" {
			it.Date = s
			break
		}
	}
	for _, f := range titleFields {
		switch v := Get(r, f...).(type) {
		case string:
			it.Title = v
		case map[string]any:
			if it.Title = Display(v); it.Title == "" {
				it.Title = Str(v, "display")
			}
		}
		if it.Title != "" {
			break
		}
	}
	return it
}

// Fact is one line of a record's detail page: the message key of its
// label and its value.
type Fact struct{ Key, Value string }

// factFields are the elements a detail page shows when present.
var factFields = []struct {
	key  string
	path []any
}{
	{"fact.status", []any{"status"}},
	{"fact.clinical_status", []any{"clinicalStatus"}},
	{"fact.criticality", []any{"criticality"}},
	{"fact.reaction", []any{"reaction", 0, "manifestation", 0}},
	{"fact.dosage", []any{"dosageInstruction", 0, "text"}},
	{"fact.dosage", []any{"dosage", 0, "text"}},
	{"fact.dose", []any{"doseQuantity"}},
	{"fact.lot", []any{"lotNumber"}},
	{"fact.performer", []any{"performer", 0, "display"}},
	{"fact.performer", []any{"performer", 0, "actor", "display"}},
	{"fact.requester", []any{"requester", "display"}},
	{"fact.provider", []any{"serviceProvider", "display"}},
	{"fact.conclusion", []any{"conclusion"}},
	{"fact.interpretation", []any{"interpretation", 0}},
	{"fact.range", []any{"referenceRange", 0, "text"}},
	{"fact.note", []any{"note", 0, "text"}},
	{"fact.description", []any{"description"}},
}

// Facts are the lines of r's detail page, the first value of each label.
func Facts(r Resource) []Fact {
	var out []Fact
	for _, f := range factFields {
		var s string
		switch x := Get(r, f.path...).(type) {
		case string:
			s = x
		case map[string]any:
			if x["value"] != nil {
				s = strings.TrimSpace(Str(x, "value") + " " + Str(x, "unit"))
			} else {
				s = Display(x)
			}
		}
		if s != "" && !slices.ContainsFunc(out, func(o Fact) bool { return o.Key == f.key }) {
			out = append(out, Fact{f.key, s})
		}
	}
	return out
}
