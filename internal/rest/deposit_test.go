package rest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
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
