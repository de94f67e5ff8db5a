package portal

import (
	"strings"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/web"
)

// unregistered is a citizen of an upload the registry does not know (or
// whose name and date of birth do not agree with the document), with how
// many of their records were left out.
type unregistered struct {
	Name, Born string
	Records    int
}

// deposit is an upload's Bundle made ready for the FHIR API.
type deposit struct {
	bundle       web.Resource // nil: nothing to store
	unregistered []unregistered
}

// resolvePatients turns a csvdeposit Bundle into one the FHIR API stores
// as it is for a professional. The API runs a professional's Bundle as a
// plain transaction (provider systems' Bundles go through the deposit
// service, which matches the Patient entries to registered citizens): a
// provider's own Patient not linked to a registered citizen cannot hold
// records. So the portal matches each Patient entry itself with
// Patient/$match as the professional — its identity document, name and
// date of birth, certain matches only — and points the records at the
// citizen's master record, leaving the Patient entries out. Records of a
// citizen not found are left out too when keep (only the valid rows) is
// set; otherwise nothing is stored. Every record gets the portal's
// meta.source.
func resolvePatients(c *web.Ctx, bundle map[string]any, keep bool) (deposit, error) {
	masters := map[string]string{} // Patient fullUrl → Patient/{master}
	names := map[string]unregistered{}
	var records []map[string]any
	for _, e := range web.List(bundle, "entry") {
		entry, _ := e.(map[string]any)
		res, _ := entry["resource"].(map[string]any)
		if web.Str(res, "resourceType") != "Patient" {
			records = append(records, entry)
			continue
		}
		full := web.Str(entry, "fullUrl")
		id, err := matchCitizen(c, res)
		if err != nil {
			return deposit{}, err
		}
		if id != "" {
			masters[full] = "Patient/" + id
		} else {
			names[full] = unregistered{Name: web.FormatName(c.Lang, web.List(res, "name")), Born: web.Str(res, "birthDate")}
		}
	}
	var out deposit
	var kept []any
	for _, entry := range records {
		res, _ := entry["resource"].(map[string]any)
		if who := patientOf(res); who != "" {
			if u, missing := names[who]; missing {
				u.Records++
				names[who] = u
				continue
			}
			repoint(res, who, masters[who])
		}
		meta, _ := res["meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			res["meta"] = meta
		}
		meta["source"] = sourceURI(orgID(c))
		kept = append(kept, entry)
	}
	for _, u := range names {
		out.unregistered = append(out.unregistered, u)
	}
	if len(kept) > 0 && (keep || len(names) == 0) {
		out.bundle = web.Resource{"resourceType": "Bundle", "type": "transaction", "entry": kept}
	}
	return out, nil
}

// matchCitizen finds the registered citizen a provider's Patient entry is
// about: a certain $match on its identity documents, name and birth date;
// "" when there is none.
func matchCitizen(c *web.Ctx, p map[string]any) (string, error) {
	var docs []any
	for _, id := range web.List(p, "identifier") {
		m, _ := id.(map[string]any)
		if _, err := identity.FromIdentifier(m); err == nil {
			docs = append(docs, m)
		}
	}
	if len(docs) == 0 {
		return "", nil
	}
	query := map[string]any{"resourceType": "Patient", "identifier": docs, "name": p["name"], "birthDate": p["birthDate"]}
	res, err := operation(c, "Patient/$match", "resource", map[string]any{"resource": query},
		"onlyCertainMatches", map[string]any{"valueBoolean": true}, "count", map[string]any{"valueInteger": 1})
	if err != nil {
		return "", err
	}
	for _, e := range web.List(res, "entry") {
		if id := web.Str(e, "resource", "id"); idPattern.MatchString(id) {
			return id, nil
		}
	}
	return "", nil
}

// patientOf is the urn:uuid reference a record's subject or patient makes
// to a Patient entry of the Bundle ("" if none).
func patientOf(res map[string]any) string {
	for _, f := range []string{"subject", "patient"} {
		if r := web.Str(res, f, "reference"); strings.HasPrefix(r, "urn:uuid:") {
			return r
		}
	}
	return ""
}

// repoint replaces every reference to from in node by to.
func repoint(node any, from, to string) {
	switch x := node.(type) {
	case map[string]any:
		for k, v := range x {
			if s, ok := v.(string); ok && k == "reference" && s == from {
				x[k] = to
				continue
			}
			repoint(v, from, to)
		}
	case []any:
		for _, v := range x {
			repoint(v, from, to)
		}
	}
}
