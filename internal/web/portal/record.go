package portal

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// kind is one of the 11 sharable record types, as the portal groups them.
type kind struct {
	Key   string   // URL segment and message key (kind.<Key>)
	Types []string // the FHIR types searched
	// keep selects the resources of the kind among those types (nil: all).
	keep func(web.Resource) bool
}

// kinds are the 11 sharable record types (DOMAIN.md).
var kinds = []kind{
	{Key: "allergies", Types: []string{"AllergyIntolerance"}},
	{Key: "encounters", Types: []string{"Encounter", "Appointment"}},
	{Key: "medications", Types: []string{"MedicationRequest", "MedicationDispense", "MedicationStatement"}, keep: not(isChineseMedicine)},
	{Key: "immunisations", Types: []string{"Immunization"}},
	{Key: "certificates", Types: []string{"DocumentReference", "Composition"}},
	{Key: "observations", Types: []string{"Observation"}, keep: not(isLab)},
	{Key: "referrals", Types: []string{"ServiceRequest"}},
	{Key: "lab", Types: []string{"DiagnosticReport", "Observation"}, keep: isLab},
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

func isLab(r web.Resource) bool { return hasCategory(r, "laboratory") || hasCategory(r, "LAB") }

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

// isChineseMedicine reports whether a prescription is of Chinese medicine.
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

// item is a record as a list shows it.
type item struct {
	Type, ID string
	Title    string
	Date     string // a FHIR date or dateTime
	Status   string
	Value    string
	Updated  string // meta.lastUpdated
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
	it := item{Type: web.Str(r, "resourceType"), ID: web.Str(r, "id"), Status: web.Str(r, "status"), Updated: web.Str(r, "meta", "lastUpdated")}
	for _, f := range dateFields {
		if s := web.Str(r, f...); s != "" {
			it.Date = s
			break
		}
	}
	for _, f := range titleFields {
		switch v := web.Get(r, f...).(type) {
		case string:
			it.Title = v
		case map[string]any:
			it.Title = web.Display(v)
			if it.Title == "" {
				it.Title = web.Str(v, "display")
			}
		}
		if it.Title != "" {
			break
		}
	}
	it.Value = web.ValueText(r)
	return it
}

// collect searches each of k's types in the patient's record and returns
// its items, newest first. A type the role's view or the scopes leave out
// is skipped.
func collect(c *web.Ctx, patient string, k kind, count string) ([]item, error) {
	var out []item
	for _, typ := range k.Types {
		b, err := search(c, typ, url.Values{"patient": {patient}, "_count": {count}, "_sort": {"-_lastUpdated"}})
		if err != nil {
			if outcome.Is(err, outcome.Forbidden) {
				continue
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

// patientView is the patient page's data.
type patientView struct {
	ID, Name, Born, Gender string
	CanSee                 bool
	Allergies              []item
	Kinds                  []kind
	RestrictedExist        bool
	Emergency              bool
}

// patient is the patient's page: what the professional may see of the
// record, or — where consent and care do not let them — only that they
// cannot, with the way to the desk (and emergency access where offered).
func (p *portal) patient(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	v := patientView{ID: id, Kinds: kinds}
	pt, err := c.FHIR.Read(c.R.Context(), "Patient", id)
	if outcome.Is(err, outcome.NotFound) {
		v.Emergency = p.emergencyOffered()
		return c.Render("patient", v)
	}
	if err != nil {
		return err
	}
	v.CanSee = true
	v.Name, v.Born, v.Gender = web.FormatName(c.Lang, web.List(pt, "name")), web.Str(pt, "birthDate"), web.Str(pt, "gender")
	allergies, _ := kindOf("allergies")
	if v.Allergies, err = collect(c, id, allergies, "20"); err != nil {
		return err
	}
	// Only where the platform's policy offers $restricted-exists does the
	// portal learn (and say) that restricted records exist; elsewhere the
	// operation is not known, and nothing shows.
	res, err := operation(c, "Patient/"+id+"/$restricted-exists")
	switch {
	case err == nil:
		v.RestrictedExist = web.Get(param(res, "exists"), "valueBoolean") == true
	case !outcome.Is(err, outcome.NotFound):
		return err
	}
	return c.Render("patient", v)
}

// timeline lists one type's records, newest first.
func timeline(c *web.Ctx) error {
	id, err := patientID(c)
	if err != nil {
		return err
	}
	k, ok := kindOf(c.R.PathValue("kind"))
	if !ok {
		return outcome.New(outcome.NotFound, "portal: no record type %q", c.R.PathValue("kind"))
	}
	items, err := collect(c, id, k, "100")
	if err != nil {
		return err
	}
	return c.Render("timeline", map[string]any{"ID": id, "Kind": k.Key, "Items": items})
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

func facts(r web.Resource) []fact {
	var out []fact
	for _, f := range factFields {
		var s string
		switch x := web.Get(r, f.path...).(type) {
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

// recordTypes are the types a detail page shows: those of the kinds.
func recordType(typ string) bool {
	return slices.ContainsFunc(kinds, func(k kind) bool { return slices.Contains(k.Types, typ) })
}

// detail shows one record, as the API lets the professional read it.
func detail(c *web.Ctx) error {
	typ, id := c.R.PathValue("type"), c.R.PathValue("rid")
	if !recordType(typ) || !idPattern.MatchString(id) {
		return outcome.New(outcome.NotFound, "portal: no record %s/%s", typ, id)
	}
	r, err := c.FHIR.Read(c.R.Context(), typ, id)
	if err != nil {
		return err
	}
	patient := ""
	for _, f := range []string{"subject", "patient"} {
		if ref := web.Str(r, f, "reference"); strings.HasPrefix(ref, "Patient/") {
			patient = strings.TrimPrefix(ref, "Patient/")
			break
		}
	}
	return c.Render("detail", map[string]any{"Item": itemOf(r), "Facts": facts(r), "Patient": patient})
}
