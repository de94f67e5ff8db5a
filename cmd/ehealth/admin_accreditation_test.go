package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/accreditation"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// labChecker is a small real checker for the command's test: laboratory
// Observations are lab reports, others observations, Immunizations
// immunisations; a record without a source identifier is invalid; a code
// from LOINC or CVX is coded.
type labChecker struct{}

func (labChecker) Check(_ context.Context, res map[string]any) (profile.Report, error) {
	var rep profile.Report
	switch res["resourceType"] {
	case "Observation":
		rep.RecordType = profile.ObservationRecord
		if strings.Contains(jsonOf(res["category"]), `"laboratory"`) {
			rep.RecordType = profile.LabReport
		}
	case "Immunization":
		rep.RecordType = profile.Immunisation
	default:
		return rep, nil
	}
	if res["identifier"] == nil {
		rep.Issues = []outcome.Issue{{Severity: outcome.SeverityError, Code: "required", Message: "no source identifier", Expression: "identifier"}}
	}
	codes := jsonOf(res["code"]) + jsonOf(res["vaccineCode"])
	rep.Coded = strings.Contains(codes, "http://loinc.org") || strings.Contains(codes, "http://hl7.org/fhir/sid/cvx")
	return rep, nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdminAccreditation: the command assesses a provider's deposits in
// the period, prints the table and records the MeasureReport; another
// provider's deposits are not counted; an unknown provider, a bad period
// and a missing --org are refused.
func TestAdminAccreditation(t *testing.T) {
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			p, err := openPlatform(t.Context(), dbURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			write := func(writer, typ string, res map[string]any) {
				t.Helper()
				res["resourceType"] = typ
				if _, err := p.Service.Create(t.Context(), resource.Caller{Writer: writer}, typ, res); err != nil {
					t.Fatal(err)
				}
			}
			write("ehealth-admin", "Patient", map[string]any{})
			if _, _, err := p.Service.Update(t.Context(), adminCaller, "Organization", "lab", map[string]any{"resourceType": "Organization", "id": "lab", "name": "Lab"}, 0); err != nil {
				t.Fatal(err)
			}
			lab := func(system string, identified bool) map[string]any {
				o := map[string]any{"status": "final", "subject": map[string]any{"reference": "Patient/p1"},
					"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
					"code":     map[string]any{"coding": []any{map[string]any{"system": system, "code": "2345-7"}}}}
				if identified {
					o["identifier"] = []any{map[string]any{"system": "urn:lab", "value": system}}
				}
				return o
			}
			write("Organization/lab", "Observation", lab("http://loinc.org", true))
			write("Organization/lab", "Observation", lab("urn:local", true))
			write("Organization/lab", "Observation", lab("http://loinc.org", false))
			write("Organization/clinic", "Observation", lab("http://loinc.org", true))
			write("Organization/clinic", "Immunization", map[string]any{"status": "completed", "patient": map[string]any{"reference": "Patient/p1"},
				"occurrenceDateTime": "2026-01-01", "vaccineCode": map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}}}})
			closer{p}.Close()

			ehealth := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := runAdminAccreditation(t.Context(), append(args, "--db", dbURL), &out, &errOut,
					func(*platform.Platform) (accreditation.Checker, error) { return labChecker{}, nil })
				return out.String(), err
			}
			out, err := ehealth("--org", "lab", "--from", "2000-01-01", "--to", "2999-12-31")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"Organization/lab  2000-01-01 to 2999-12-31\n",
				"level: bronze (record types counted: 1), marks: lab\n",
				"lab-report   3          66.7%  66.7%\n",
				"recorded as MeasureReport/",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "immunisation") {
				t.Errorf("the clinic's immunisation counted for the lab:\n%s", out)
			}
			out, err = ehealth("--org", "Organization/lab", "--from", "2020-01-01", "--to", "2020-12-31")
			if err != nil || !strings.Contains(out, "level: none") || !strings.Contains(out, "(nothing deposited)") {
				t.Errorf("2020: %v\n%s", err, out)
			}
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"--org", "nope"}, "Organization/nope"},
				{[]string{"--org", "lab", "--from", "last year"}, "start"},
				{[]string{"--from", "2026-01-01"}, "--org is required"},
			} {
				if _, err := ehealth(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%v: %v; want an error naming %q", c.args, err, c.want)
				}
			}
			// Both assessments were kept.
			p, err = openPlatform(t.Context(), dbURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer closer{p}.Close()
			res, err := p.Service.Search(t.Context(), adminCaller, "MeasureReport", map[string][]string{"subject": {"Organization/lab"}, "_total": {"accurate"}}, resource.SearchOptions{})
			if err != nil || res.Total != 2 {
				t.Errorf("the lab's assessments: %d, %v; want 2", res.Total, err)
			}
		})
	}
}
