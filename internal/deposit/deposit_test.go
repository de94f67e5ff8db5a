package deposit_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// loincProfile is a small real profile check for the tests: an
// Observation's first code is LOINC (an error otherwise), and a missing
// performer, which the profile marks mustSupport, is reported.
type loincProfile struct{}

const observationProfile = "https://ehealth.hk/fhir/StructureDefinition/test-observation"

func (loincProfile) Check(_ context.Context, res map[string]any) (profile.Report, error) {
	if res["resourceType"] != "Observation" {
		return profile.Report{Coded: true}, nil
	}
	rep := profile.Report{RecordType: profile.ObservationRecord, Profile: observationProfile, Coded: true}
	code, _ := res["code"].(map[string]any)
	codings, _ := code["coding"].([]any)
	if len(codings) == 0 || codings[0].(map[string]any)["system"] != "http://loinc.org" {
		rep.Coded = false
		rep.Issues = append(rep.Issues, outcome.Issue{Severity: outcome.SeverityError, Code: "code-invalid",
			Message: "obs-loinc: Observation.code is coded in LOINC (" + observationProfile + ")", Expression: "Observation.code.coding[0].system"})
	}
	if res["performer"] == nil {
		rep.Issues = append(rep.Issues, outcome.Issue{Severity: outcome.SeverityInformation, Code: "informational",
			Message: "mustSupport element Observation.performer is absent", Expression: "Observation.performer"})
	}
	return rep, nil
}

// TestProfiles: every deposited resource is checked; an error refuses the
// entry with its path and the profile rule (the whole transaction; the
// entry alone in a batch), information comes back in the entry's
// outcome, and meta.profile names the profile checked.
func TestProfiles(t *testing.T) {
	bundles := syntheaBundles(t)
	for _, be := range backends {
		t.Run(be.Name, func(t *testing.T) {
			p, dep := newDeposit(t, be.Open(t), deposit.WithChecker(loincProfile{}))
			smallest := bundles[0]
			for _, b := range bundles {
				if len(b["entry"].([]any)) < len(smallest["entry"].([]any)) {
					smallest = b
				}
			}
			conv, err := synthea.Convert(smallest, synthea.Options{Organization: "clinic"})
			if err != nil {
				t.Fatal(err)
			}
			register(t, p, conv)
			obs := -1
			for i, e := range conv.Deposit["entry"].([]any) {
				if e.(map[string]any)["resource"].(map[string]any)["resourceType"] == "Observation" {
					obs = i
					break
				}
			}
			tampered := func(typ string) map[string]any {
				b := copyBundle(t, conv.Deposit)
				b["type"] = typ
				res := b["entry"].([]any)[obs].(map[string]any)["resource"].(map[string]any)
				res["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "27113001"}}}
				return b
			}
			_, err = dep.Deposit(t.Context(), clinic(), tampered("transaction"))
			var oe *outcome.Error
			if !outcomeAs(err, &oe) || oe.Kind != outcome.Unprocessable || !hasIssue(oe.Issues, "Bundle.entry["+strconv.Itoa(obs)+"].resource.code.coding[0].system", "obs-loinc") {
				t.Fatalf("a non-LOINC Observation in a transaction: %v", err)
			}
			if n := count(t, p.Service, "Observation"); n != 0 {
				t.Fatalf("the refused transaction stored %d Observations", n)
			}
			resp, err := dep.Deposit(t.Context(), clinic(), tampered("batch"))
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range resp["entry"].([]any) {
				r := e.(map[string]any)["response"].(map[string]any)
				status := r["status"].(string)
				switch {
				case i == obs && (!strings.HasPrefix(status, "422") || !strings.Contains(mustJSON(t, r["outcome"]), "obs-loinc")):
					t.Errorf("the batch's bad entry: %s %s", status, mustJSON(t, r["outcome"]))
				case i != obs && !strings.HasPrefix(status, "201"):
					t.Errorf("batch entry %d: %s %s", i, status, mustJSON(t, r["outcome"]))
				}
			}
			resp, err = dep.Deposit(t.Context(), clinic(), copyBundle(t, conv.Deposit))
			if err != nil {
				t.Fatal(err)
			}
			other := -1
			for i, e := range conv.Deposit["entry"].([]any) {
				if i != obs && e.(map[string]any)["resource"].(map[string]any)["resourceType"] == "Observation" {
					other = i
					break
				}
			}
			r := resp["entry"].([]any)[other].(map[string]any)["response"].(map[string]any)
			if !strings.Contains(mustJSON(t, r["outcome"]), "Observation.performer") {
				t.Errorf("the mustSupport information is not in the response: %v", r)
			}
			loc := r["location"].(string)
			v, err := p.Service.Read(t.Context(), resource.Caller{}, "Observation", strings.Split(loc, "/")[1])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(v.Body), observationProfile) {
				t.Errorf("meta.profile is not set: %s", v.Body)
			}
		})
	}
}

// TestNotASystemClient: only providers' system clients deposit.
func TestNotASystemClient(t *testing.T) {
	_, dep := newDeposit(t, backends[0].Open(t))
	c := clinic()
	c.Who.FHIRUser = "Practitioner/dr"
	_, err := dep.Deposit(t.Context(), c, map[string]any{"resourceType": "Bundle", "type": "transaction"})
	if !outcome.Is(err, outcome.Forbidden) {
		t.Errorf("a professional's token: %v", err)
	}
}

func copyBundle(t *testing.T, b map[string]any) map[string]any {
	t.Helper()
	out, err := fhir.Parse([]byte(mustJSON(t, b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func outcomeAs(err error, oe **outcome.Error) bool { return errors.As(err, oe) }

func hasIssue(issues []outcome.Issue, expr, says string) bool {
	for _, is := range issues {
		if is.Expression == expr && strings.Contains(is.Message, says) {
			return true
		}
	}
	return false
}

// count is how many current resources of typ the store holds.
func count(t *testing.T, svc *resource.Service, typ string) int64 {
	t.Helper()
	res, err := svc.Search(t.Context(), resource.Caller{}, typ, map[string][]string{"_summary": {"count"}, "_total": {"accurate"}}, resource.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}
