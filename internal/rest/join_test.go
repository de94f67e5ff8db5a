package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// join makes the existing Patients master records of registered citizens,
// as $register leaves them (tagged master, an active joining Consent), so
// providers' tokens may deposit records about them. It writes as the
// operator.
func join(t *testing.T, s *server, patients ...string) {
	t.Helper()
	for _, id := range patients {
		p := s.do("GET", "/fhir/Patient/"+id, nil).must(t, http.StatusOK)
		meta, _ := p.body["meta"].(map[string]any)
		tags, _ := meta["tag"].([]any)
		meta["tag"] = append(tags, map[string]any{"system": registry.MPISystem, "code": registry.TagMaster})
		s.do("PUT", "/fhir/Patient/"+id, p.body).must(t, http.StatusOK)
		consent := fmt.Sprintf(`{"resourceType":"Consent","id":"join-%s","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":%q,"code":%q}]},{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/%s"},"dateTime":"2024-01-01T00:00:00Z","policy":[{"uri":%q}],"provision":{"type":"permit"}}`,
			id, registry.ConsentCategorySystem, registry.CategoryJoining, id, registry.JoiningPolicy)
		if _, err := fhir.Parse([]byte(consent)); err != nil {
			t.Fatal(err)
		}
		s.do("PUT", "/fhir/Consent/join-"+id, consent).must(t, http.StatusCreated)
	}
}
