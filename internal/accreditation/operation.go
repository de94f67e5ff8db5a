package accreditation

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// OpAccreditation is the instance operation on Organization that assesses
// the provider: GET with start and end in the query, or POST with a
// Parameters body holding them. Either way the assessment is recorded (a
// MeasureReport) and answered.
const OpAccreditation = "$accreditation"

// Operations offers $accreditation to the FHIR API (rest.Operations).
type Operations struct{ s *Service }

// Operations returns the operation provider over s.
func (s *Service) Operations() *Operations { return &Operations{s: s} }

// Names lists $accreditation on Organization.
func (o *Operations) Names(typ string) []string {
	if typ != "Organization" {
		return nil
	}
	return []string{OpAccreditation}
}

// Run assesses Organization/{id} for the period asked, records the
// assessment and answers its MeasureReport. Only the operator and the
// provider's own professionals and systems (a token acting for it) may,
// with a scope to read MeasureReports; anyone else — who sees the
// Organization, a public registry entry — is refused (403).
func (o *Operations) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	if typ != "Organization" || name != OpAccreditation {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	id, _ := instance["id"].(string)
	if id == "" {
		return nil, outcome.New(outcome.NotFound, "%s runs on a provider: Organization/{id}/%s", name, name)
	}
	org := "Organization/" + id
	if err := mayAssess(c, org); err != nil {
		return nil, err
	}
	start, end, err := parseParams(query, body)
	if err != nil {
		return nil, err
	}
	p, err := ParsePeriod(start, end, o.s.now())
	if err != nil {
		return nil, err
	}
	a, err := o.s.Assess(ctx, org, p)
	if err != nil {
		return nil, err
	}
	return o.s.Record(ctx, a)
}

// mayAssess: the operator (or the platform's own code), or a token acting
// for org whose scopes let it read MeasureReports.
func mayAssess(c resource.Caller, org string) error {
	if c.Grants == nil {
		return nil
	}
	if c.Who.Org != org {
		return outcome.New(outcome.Forbidden, "only the operator and %s's own professionals and systems see its accreditation", org)
	}
	for _, ctx := range []scope.Context{scope.User, scope.System} {
		if ok, filters := c.Grants.Scopes.Allows(ctx, scope.Read, "MeasureReport"); ok && filters == nil {
			return nil
		}
	}
	return outcome.New(outcome.Forbidden, "%s needs a user/ or system/ scope granting MeasureReport read", OpAccreditation)
}

// parseParams reads start and end from the query (GET) or the Parameters
// body (POST: valueDate, valueDateTime or valueString); nothing else is
// taken.
func parseParams(query url.Values, body map[string]any) (start, end string, err error) {
	if body == nil {
		for k, vs := range query {
			switch {
			case strings.HasPrefix(k, "_"): // _format, _pretty: the API's
			case k == "start" || k == "end":
				if len(vs) > 1 {
					return "", "", outcome.At(outcome.Invalid, k, "give %s once", k)
				}
			default:
				return "", "", outcome.At(outcome.Invalid, k, "%s takes start and end, not %q", OpAccreditation, k)
			}
		}
		return query.Get("start"), query.Get("end"), nil
	}
	if len(query) > 0 {
		return "", "", outcome.New(outcome.Invalid, "POST %s takes its parameters in the body, not the query", OpAccreditation)
	}
	list, ok := body["parameter"].([]any)
	if !ok && body["parameter"] != nil {
		return "", "", outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	seen := map[string]bool{}
	for i, item := range list {
		at := fmt.Sprintf("Parameters.parameter[%d]", i)
		m, _ := item.(map[string]any)
		pname, _ := m["name"].(string)
		if pname != "start" && pname != "end" {
			return "", "", outcome.At(outcome.Invalid, at, "%s takes start and end, not %q", OpAccreditation, pname)
		}
		if seen[pname] {
			return "", "", outcome.At(outcome.Invalid, at, "give %s once", pname)
		}
		seen[pname] = true
		v := ""
		for _, k := range []string{"valueDate", "valueDateTime", "valueString"} {
			if s, ok := m[k].(string); ok {
				v = strings.TrimSpace(s)
			}
		}
		if v == "" {
			return "", "", outcome.At(outcome.Invalid, at, "%s takes a valueDate or valueDateTime", pname)
		}
		if pname == "start" {
			start = v
		} else {
			end = v
		}
	}
	return start, end, nil
}
