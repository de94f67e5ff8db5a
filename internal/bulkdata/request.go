package bulkdata

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Level is what an export covers.
type Level string

// The export levels.
const (
	System  Level = "system"  // [base]/$export: every resource the caller may read
	Patient Level = "patient" // [base]/Patient/$export: the records of every patient the caller may read
	Group   Level = "group"   // [base]/Group/{id}/$export: the records of the group's members
)

// Request is one export: its level, and the kick-off's parameters.
type Request struct {
	Level Level
	Group string // the Group's id (Level Group)
	// Types are the resource types asked for (_type); none means every type
	// the level covers that the caller may search.
	Types []string
	// Since, when not zero, keeps only resources changed after it (_since).
	Since time.Time
	// TypeFilters are the _typeFilter queries by type: a resource of such a
	// type is exported when it matches any of them.
	TypeFilters map[string][]url.Values
}

// ndjsonFormats are the _outputFormat values meaning NDJSON.
var ndjsonFormats = []string{"application/fhir+ndjson", "application/ndjson", "ndjson"}

// ParseRequest reads a kick-off's parameters (from the query of a GET, or
// a POST's Parameters converted to values by the caller). An unknown
// type, a bad _since or _typeFilter, or an output format other than NDJSON
// is an outcome.Invalid naming the parameter; parameters this server does
// not support (patient, includeAssociatedData, _elements) are refused too,
// as the specification asks when a server cannot honour them.
func ParseRequest(level Level, group string, q url.Values) (Request, error) {
	req := Request{Level: level, Group: group, TypeFilters: map[string][]url.Values{}}
	for name, vals := range q {
		switch name {
		case "_outputFormat":
			if f := vals[0]; !slices.Contains(ndjsonFormats, f) {
				return req, outcome.At(outcome.Invalid, "_outputFormat", "only NDJSON (application/fhir+ndjson) is offered, not %q", f)
			}
		case "_type":
			for _, v := range vals {
				for t := range strings.SplitSeq(v, ",") {
					t = strings.TrimSpace(t)
					if !fhir.IsResourceType(t) {
						return req, outcome.At(outcome.Invalid, "_type", "%q is not a FHIR R4 resource type", t)
					}
					if !slices.Contains(req.Types, t) {
						req.Types = append(req.Types, t)
					}
				}
			}
		case "_since":
			t, err := time.Parse(time.RFC3339Nano, vals[0])
			if err != nil {
				return req, outcome.At(outcome.Invalid, "_since", "_since is an instant (e.g. 2026-01-01T00:00:00Z), not %q", vals[0])
			}
			req.Since = t
		case "_typeFilter":
			for _, v := range vals {
				for f := range strings.SplitSeq(v, ",") {
					typ, query, ok := strings.Cut(f, "?")
					if !ok || !fhir.IsResourceType(typ) {
						return req, outcome.At(outcome.Invalid, "_typeFilter", "a _typeFilter is Type?query, not %q", f)
					}
					vals, err := url.ParseQuery(query)
					if err != nil {
						return req, outcome.Wrap(outcome.Invalid, "_typeFilter "+f+" is not a query", err)
					}
					req.TypeFilters[typ] = append(req.TypeFilters[typ], vals)
				}
			}
		default:
			return req, outcome.At(outcome.Invalid, name, "the export parameter %q is not supported by this server", name)
		}
	}
	if len(req.Types) > 0 {
		for typ := range req.TypeFilters {
			if !slices.Contains(req.Types, typ) {
				return req, outcome.At(outcome.Invalid, "_typeFilter", "the _typeFilter on %s names a type _type leaves out", typ)
			}
		}
	}
	if level != System {
		for _, t := range req.Types {
			if !recordType(t) {
				return req, outcome.At(outcome.Invalid, "_type", "%s is not part of a patient's record; a %s-level export holds only those", t, level)
			}
		}
	}
	return req, nil
}

// recordType reports whether typ belongs to a patient's record: the Patient
// and the types of the patient compartment.
func recordType(typ string) bool {
	return typ == "Patient" || fhir.IsInPatientCompartment(typ)
}
