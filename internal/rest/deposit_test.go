package rest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// syntheaPatients converts every Synthea patient in ../shared for the
// provider org (skipped when the data is absent).
func syntheaPatients(t *testing.T, org string) []synthea.Converted {
	t.Helper()
	files, _ := filepath.Glob("../../../shared/testdata/synthea/*/*.json.gz")
	if len(files) == 0 {
		t.Skip("../shared/testdata/synthea is not here")
	}
	var out []synthea.Converted
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := synthea.Read(file)
		file.Close()
		if err != nil {
			t.Fatal(err)
		}
		c, err := synthea.Convert(b, synthea.Options{Organization: org, Practitioner: "dr"})
		if err == synthea.ErrNoPatient {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, c)
	}
	return out
}

// providers writes the providers' registry entries the converted records
// refer to and returns the clinic's and another provider's system-client
// bearers.
func providers(t *testing.T, s *server) (clinic, other string) {
	t.Helper()
	s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
	s.do("PUT", "/fhir/Organization/other", `{"resourceType":"Organization","id":"other","name":"Clinic B"}`).must(t, http.StatusCreated)
	s.do("PUT", "/fhir/Practitioner/dr", `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Wong"}]}`).must(t, http.StatusCreated)
	sys := scope.MustParse("system/*.cruds")
	clinic = "Bearer " + s.issue(token.Claims{Subject: "emr", ClientID: "emr", Org: "Organization/clinic", Scope: sys})
	other = "Bearer " + s.issue(token.Claims{Subject: "emr2", ClientID: "emr2", Org: "Organization/other", Scope: sys})
	return clinic, other
}

// entryAnswers are the status and location of each response entry.
func entryAnswers(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, e := range r.body["entry"].([]any) {
		resp := e.(map[string]any)["response"].(map[string]any)
		loc, _ := resp["location"].(string)
		out = append(out, fmt.Sprint(resp["status"], " ", loc))
	}
	return out
}

// counts are how many resources of each type the store holds now.
func counts(t *testing.T, s *server, types []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range types {
		out[typ] = fmt.Sprint(s.do("GET", "/fhir/"+typ+"?_summary=count", nil).must(t, http.StatusOK).body["total"])
	}
	return out
}

// TestDepositSynthea: every Synthea patient, converted, registered and
// deposited by the clinic's system client over HTTP, lands in the
// citizen's record; depositing everything again changes nothing: the same
// counts per type, every entry at the same version.
func TestDepositSynthea(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			clinic, _ := providers(t, s)
			patients := syntheaPatients(t, "clinic")
			types := map[string]bool{"Provenance": true}
			first := map[string][]string{}
			masters := map[string]string{}
			for _, p := range patients {
				masters[p.SyntheaID] = registeredID(t, s.do("POST", "/fhir/Patient/$register", p.Registration).must(t, http.StatusOK).body)
				r := s.do("POST", "/fhir", p.Deposit, "Authorization", clinic).must(t, http.StatusOK)
				got := entryAnswers(t, r)
				for i, a := range got {
					if !strings.HasPrefix(a, "201 ") {
						t.Fatalf("%s entry %d: %s\n%s", p.SyntheaID, i, a, r.raw)
					}
				}
				first[p.SyntheaID] = got
				for _, e := range p.Deposit["entry"].([]any) {
					types[e.(map[string]any)["request"].(map[string]any)["url"].(string)] = true
				}
			}
			if len(patients) < 70 {
				t.Fatalf("only %d Synthea patients", len(patients))
			}
			// The records are in the citizens' records.
			one := patients[0]
			obs := firstOf(one.Deposit, "Observation")
			if obs != "" {
				loc := first[one.SyntheaID][slices.IndexFunc(one.Deposit["entry"].([]any), func(e any) bool { return e.(map[string]any)["fullUrl"] == obs })]
				id := strings.Split(strings.TrimPrefix(loc, "201 Created Observation/"), "/")[0]
				v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", id)
				if err != nil || v.PatientKey != masters[one.SyntheaID] || v.Writer != "Organization/clinic" {
					t.Errorf("the Observation is filed under %q by %q (%v), want the citizen %s by the clinic", v.PatientKey, v.Writer, err, masters[one.SyntheaID])
				}
			}
			before := counts(t, s, slices.Sorted(func(yield func(string) bool) {
				for k := range types {
					if !yield(k) {
						return
					}
				}
			}))
			for _, p := range patients {
				r := s.do("POST", "/fhir", p.Deposit, "Authorization", clinic).must(t, http.StatusOK)
				got := entryAnswers(t, r)
				for i, a := range got {
					want := strings.Replace(first[p.SyntheaID][i], "201 Created", "200 OK", 1)
					if a != want {
						t.Fatalf("%s entry %d deposited again: %s, want %s", p.SyntheaID, i, a, want)
					}
				}
			}
			after := counts(t, s, slices.Collect(func(yield func(string) bool) {
				for k := range before {
					if !yield(k) {
						return
					}
				}
			}))
			for typ, n := range before {
				if after[typ] != n {
					t.Errorf("%s: %v before depositing again, %v after", typ, n, after[typ])
				}
			}
			if before["Provenance"] != "0" {
				t.Errorf("%v Provenances recorded for deposits that amend nothing", before["Provenance"])
			}
		})
	}
}

// firstOf is the fullUrl of the first entry of typ in a Bundle.
func firstOf(b map[string]any, typ string) string {
	for _, e := range b["entry"].([]any) {
		m := e.(map[string]any)
		if m["resource"].(map[string]any)["resourceType"] == typ {
			return m["fullUrl"].(string)
		}
	}
	return ""
}
