package portal

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// collect searches each of k's types in the patient's record and returns
// its items, newest first. A type the role's view or the scopes leave out
// is skipped.
func collect(c *web.Ctx, patient string, k web.RecordKind, count string) ([]web.RecordItem, error) {
	var out []web.RecordItem
	for _, typ := range k.Types {
		b, err := search(c, typ, url.Values{"patient": {patient}, "_count": {count}, "_sort": {"-_lastUpdated"}})
		if err != nil {
			if outcome.Is(err, outcome.Forbidden) {
				continue
			}
			return nil, err
		}
		for _, r := range b.Matches {
			if k.Keep == nil || k.Keep(r) {
				out = append(out, web.RecordItemOf(r))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b web.RecordItem) int { return strings.Compare(b.Date, a.Date) })
	return out, nil
}

// patientView is the patient page's data.
type patientView struct {
	ID, Name, Born, Gender string
	CanSee                 bool
	Allergies              []web.RecordItem
	Kinds                  []web.RecordKind
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
	v := patientView{ID: id, Kinds: web.RecordKinds}
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
	allergies, _ := web.KindOf(web.RecordKinds, "allergies")
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
	k, ok := web.KindOf(web.RecordKinds, c.R.PathValue("kind"))
	if !ok {
		return outcome.New(outcome.NotFound, "portal: no record type %q", c.R.PathValue("kind"))
	}
	items, err := collect(c, id, k, "100")
	if err != nil {
		return err
	}
	return c.Render("timeline", map[string]any{"ID": id, "Kind": k.Key, "Items": items})
}

// detail shows one record, as the API lets the professional read it.
func detail(c *web.Ctx) error {
	typ, id := c.R.PathValue("type"), c.R.PathValue("rid")
	if !web.RecordType(web.RecordKinds, typ) || !idPattern.MatchString(id) {
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
	return c.Render("detail", map[string]any{"Item": web.RecordItemOf(r), "Facts": web.Facts(r), "Patient": patient})
}
