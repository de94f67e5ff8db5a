package citizen

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// Origin marks what the citizen entered or uploaded themself, kept apart
// from clinical records: meta.tag OriginSystem|citizen.
const (
	OriginSystem  = "https://ehealth.hk/fhir/CodeSystem/record-origin"
	OriginCitizen = "citizen"
)

// kind is one of the 11 sharable record types, as the app groups them.
type kind struct {
	Key   string   // URL segment and message key (kind.<Key>)
	Types []string // the FHIR types searched
	// keep selects the resources of the kind among those types ("" for all).
	keep func(web.Resource) bool
}

// kinds are the 11 sharable record types (DOMAIN.md).
var kinds = []kind{
	{Key: "allergies", Types: []string{"AllergyIntolerance"}},
	{Key: "encounters", Types: []string{"Encounter", "Appointment"}},
	{Key: "medications", Types: []string{"MedicationRequest", "MedicationDispense", "MedicationStatement"}, keep: not(isChineseMedicine)},
	{Key: "immunisations", Types: []string{"Immunization"}},
	{Key: "certificates", Types: []string{"DocumentReference", "Composition"}, keep: not(isCitizen)},
	{Key: "observations", Types: []string{"Observation"}, keep: func(r web.Resource) bool { return !isCitizen(r) && !hasCategory(r, "laboratory") }},
	{Key: "referrals", Types: []string{"ServiceRequest"}},
	{Key: "lab", Types: []string{"DiagnosticReport", "Observation"}, keep: func(r web.Resource) bool {
		return hasCategory(r, "laboratory") || hasCategory(r, "LAB")
	}},
	{Key: "radiology", Types: []string{"DiagnosticReport"}, keep: func(r web.Resource) bool { return hasCategory(r, "RAD") || hasCategory(r, "LP29684-5") }},
	{Key: "chinese-medicine", Types: []string{"MedicationRequest"}, keep: isChineseMedicine},
	{Key: "images", Types: []string{"ImagingStudy"}},
}

func kindOf(key string) (kind, bool) {
	i := slices.IndexFunc(kinds, func(k kind) bool { return k.Key == key })
	if i < 0 {
		return kind{}, false
	}
	return kinds[i], true
}

func not(f func(web.Resource) bool) func(web.Resource) bool {
	return func(r web.Resource) bool { return !f(r) }
}

// hasCategory reports whether a category coding of r has code.
func hasCategory(r web.Resource, code string) bool {
	for _, cat := range web.List(r, "category") {
		for _, c := range web.List(cat, "coding") {
			if web.Str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// isChineseMedicine reports whether a prescription is of Chinese
// medicine (a category coding or text naming it).
func isChineseMedicine(r web.Resource) bool {
	for _, cat := range web.List(r, "category") {
		for _, c := range web.List(cat, "coding") {
			if code := strings.ToLower(web.Str(c, "code")); strings.Contains(code, "chinese") || code == "cm" || code == "tcm" {
				return true
			}
		}
	}
	return false
}

// isCitizen reports whether r is citizen-provided.
func isCitizen(r web.Resource) bool {
	for _, t := range web.List(r, "meta", "tag") {
		if web.Str(t, "system") == OriginSystem && web.Str(t, "code") == OriginCitizen {
			return true
		}
	}
	return false
}

// item is a record as a timeline shows it.
type item struct {
	Type, ID string
	Title    string
	Date     string // a FHIR date or dateTime
	Status   string
	Value    string
	Citizen  bool
}

// dateFields are where the record types keep their clinically relevant
// date, in order of preference.
var dateFields = [][]any{{"effectiveDateTime"}, {"effectivePeriod", "start"}, {"occurrenceDateTime"}, {"issued"},
	{"recordedDate"}, {"onsetDateTime"}, {"authoredOn"}, {"whenHandedOver"}, {"dateAsserted"}, {"period", "start"},
	{"start"}, {"started"}, {"date"}, {"meta", "lastUpdated"}}

// titleFields name a record.
var titleFields = [][]any{{"code"}, {"medicationCodeableConcept"}, {"vaccineCode"}, {"type", 0}, {"type"}, {"serviceType", 0},
	{"class"}, {"category", 0}, {"description"}, {"title"}}

func itemOf(r web.Resource) item {
	it := item{Type: web.Str(r, "resourceType"), ID: web.Str(r, "id"), Status: web.Str(r, "status"), Citizen: isCitizen(r)}
	for _, f := range dateFields {
		if s := web.Str(r, f...); s != "" {
			it.Date = s
			break
		}
	}
	for _, f := range titleFields {
		v := web.Get(r, f...)
		if s, ok := v.(string); ok && s != "" {
			it.Title = s
			break
		}
		if m, ok := v.(map[string]any); ok {
			if s := web.Display(m); s != "" {
				it.Title = s
				break
			}
			if s := web.Str(m, "display"); s != "" {
				it.Title = s
				break
			}
		}
	}
	it.Value = web.ValueText(r)
	return it
}

// collect searches each of k's types in the patient's record and returns
// its items, newest first.
func collect(c *web.Ctx, k kind, count string) ([]item, error) {
	var out []item
	for _, typ := range k.Types {
		b, err := search(c, typ, url.Values{"_count": {count}, "_sort": {"-_lastUpdated"}})
		if err != nil {
			if outcome.Is(err, outcome.Forbidden) {
				continue // a type the scopes or role view do not cover
			}
			return nil, err
		}
		for _, r := range b.Matches {
			if k.keep == nil || k.keep(r) {
				out = append(out, itemOf(r))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b item) int { return strings.Compare(b.Date, a.Date) })
	return out, nil
}

// records lists the 11 types.
func records(c *web.Ctx) error {
	return c.Render("records", map[string]any{"Kinds": kinds})
}

// timeline lists one type's records, newest first.
func timeline(c *web.Ctx) error {
	k, ok := kindOf(c.R.PathValue("kind"))
	if !ok {
		return outcome.New(outcome.NotFound, "citizen: no record type %q", c.R.PathValue("kind"))
	}
	items, err := collect(c, k, "100")
	if err != nil {
		return err
	}
	return c.Render("timeline", map[string]any{"Kind": k.Key, "Items": items})
}

// detail shows one record.
func detail(c *web.Ctx) error {
	typ, id := c.R.PathValue("type"), c.R.PathValue("id")
	if !slices.ContainsFunc(kinds, func(k kind) bool { return slices.Contains(k.Types, typ) }) {
		return outcome.New(outcome.NotFound, "citizen: no record type %q", typ)
	}
	r, err := c.FHIR.Read(c.R.Context(), typ, id)
	if err != nil {
		return err
	}
	return c.Render("detail", map[string]any{"Item": itemOf(r), "Facts": facts(r)})
}

// fact is one line of a record's detail.
type fact struct{ Key, Value string }

// factFields are the elements a detail page shows when present, with the
// message key of their label.
var factFields = []struct {
	key  string
	path []any
}{
	{"fact.status", []any{"status"}},
	{"fact.clinical_status", []any{"clinicalStatus"}},
	{"fact.criticality", []any{"criticality"}},
	{"fact.reaction", []any{"reaction", 0, "manifestation", 0}},
	{"fact.dosage", []any{"dosageInstruction", 0, "text"}},
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

func facts(r web.Resource) []fact {
	var out []fact
	for _, f := range factFields {
		v := web.Get(r, f.path...)
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case map[string]any:
			if x["value"] != nil {
				s = strings.TrimSpace(web.Str(x, "value") + " " + web.Str(x, "unit"))
			} else {
				s = web.Display(x)
			}
		}
		if s != "" && !slices.ContainsFunc(out, func(o fact) bool { return o.Key == f.key }) {
			out = append(out, fact{f.key, s})
		}
	}
	return out
}
