package csvdeposit

import (
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// SourceBase starts the systems of the identifiers a provider's records
// carry from their source.
const SourceBase = "https://ehealth.hk/fhir/source/"

// SourceSystem is the identifier system of the records a provider (org,
// the Organization's id) deposits through a CSV template: the row's
// record id is the value, so depositing a row again updates its record.
func SourceSystem(org, template string) string {
	return SourceBase + org + "/csv/" + template
}

// PatientNumberSystem is the identifier system of a provider's record
// numbers of its patients.
func PatientNumberSystem(org string) string { return SourceBase + org + "/patient" }

// bundle is the deposit transaction: nothing when the file has errors
// (unless KeepValid) or no valid row; otherwise a Patient per citizen of
// the accepted rows, created unless the provider holds one with the same
// identifier, and each record updated on its source identifier.
func (p *parser) bundle() map[string]any {
	if p.fatal || len(p.records) == 0 || p.report.Rejected > 0 && !p.opts.KeepValid {
		return nil
	}
	var entries []any
	for _, key := range p.patients.order {
		pt := p.patients.byKey[key]
		query := identifierQuery(pt.doc["system"].(string), pt.doc["value"].(string))
		if pt.number != "" {
			query = identifierQuery(PatientNumberSystem(p.org), pt.number)
		}
		entries = append(entries, map[string]any{
			"fullUrl":  p.patientURL(key),
			"resource": pt.resource(p.org),
			"request":  map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": query},
		})
	}
	system := SourceSystem(p.org, p.spec.Name)
	for _, res := range p.records {
		typ := res["resourceType"].(string)
		value := res["identifier"].([]any)[0].(map[string]any)["value"].(string)
		entries = append(entries, map[string]any{
			"fullUrl":  urn(typ + "|" + system + "|" + value),
			"resource": res,
			"request":  map[string]any{"method": "PUT", "url": typ + "?" + identifierQuery(system, value)},
		})
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

// patientURL is the fullUrl of a citizen's Patient entry.
func (p *parser) patientURL(key string) string { return urn("Patient|" + p.org + "|" + key) }

// urn is a name-based UUID, so one file always makes the same Bundle.
func urn(name string) string {
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)).String()
}

// identifierQuery is the search for one identifier, escaped
// (https://hl7.org/fhir/R4/search.html#escaping) and URL-encoded.
func identifierQuery(system, value string) string {
	return url.Values{"identifier": {searchEscape.Replace(system) + "|" + searchEscape.Replace(value)}}.Encode()
}

var searchEscape = strings.NewReplacer(`\`, `\\`, "|", `\|`, ",", `\,`, "$", `\$`)

// common sets what every record carries: its source identifier and its
// patient. subject is the element naming the patient.
func (r *row) common(res map[string]any, subject string) map[string]any {
	res["identifier"] = []any{map[string]any{"system": SourceSystem(r.p.org, r.p.spec.Name), "value": r.get("record_id")}}
	if r.cand != nil {
		res[subject] = map[string]any{"reference": r.p.patientURL(r.cand.key)}
	}
	return res
}

// org and role are references to the depositing provider and the
// professional (nil when none was given).
func (r *row) org() map[string]any { return map[string]any{"reference": r.p.opts.Organization} }

func (r *row) role() map[string]any {
	if r.p.opts.PractitionerRole == "" {
		return nil
	}
	return map[string]any{"reference": r.p.opts.PractitionerRole}
}

// author is the professional when there is one, else the provider.
func (r *row) author() map[string]any {
	if role := r.role(); role != nil {
		return role
	}
	return r.org()
}
