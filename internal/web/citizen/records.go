package citizen

import (
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// kinds are the 11 sharable record types as the citizen app lists them:
// the citizen's own entries and uploads are kept apart (self-recorded
// readings, the personal folder), not among the clinical certificates and
// observations.
var kinds = func() []web.RecordKind {
	out := slices.Clone(web.RecordKinds)
	for i, k := range out {
		if k.Key == "certificates" || k.Key == "observations" {
			keep := k.Keep
			out[i].Keep = func(r web.Resource) bool { return !web.CitizenProvided(r) && (keep == nil || keep(r)) }
		}
	}
	return out
}()

// collect searches each of k's types in the patient's record and returns
// its items, newest first.
func collect(c *web.Ctx, k web.RecordKind, count string) ([]web.RecordItem, error) {
	var out []web.RecordItem
	for _, typ := range k.Types {
		b, err := search(c, typ, url.Values{"_count": {count}, "_sort": {"-_lastUpdated"}})
		if err != nil {
			if outcome.Is(err, outcome.Forbidden) {
				continue // a type the scopes or role view do not cover
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

// records lists the 11 types.
func records(c *web.Ctx) error {
	return c.Render("records", map[string]any{"Kinds": kinds})
}

// timeline lists one type's records, newest first.
func timeline(c *web.Ctx) error {
	k, ok := web.KindOf(kinds, c.R.PathValue("kind"))
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
	if !web.RecordType(kinds, typ) {
		return outcome.New(outcome.NotFound, "citizen: no record type %q", typ)
	}
	r, err := c.FHIR.Read(c.R.Context(), typ, id)
	if err != nil {
		return err
	}
	return c.Render("detail", map[string]any{"Item": web.RecordItemOf(r), "Facts": web.Facts(r)})
}
