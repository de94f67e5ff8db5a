package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
)

// TestCitizenBinary: a citizen's patient/ token stores a Binary whose
// securityContext is their own record (the personal folder) — filed in
// their compartment, readable by them — and not one naming another
// citizen's record.
func TestCitizenBinary(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			for _, p := range []string{"bin1", "bin2"} {
				s.do("PUT", "/fhir/Patient/"+p, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, p)).must(t, http.StatusCreated)
				join(t, s, p)
			}
			citizen := "Bearer " + s.issue(token.Claims{Subject: "Patient/bin1", ClientID: "app", FHIRUser: "Patient/bin1", Scope: scope.MustParse("patient/*.cruds")})
			binary := func(p string) string {
				return fmt.Sprintf(`{"resourceType":"Binary","contentType":"application/pdf","data":"JVBERi0xLjQK","securityContext":{"reference":"Patient/%s"}}`, p)
			}
			id := s.do("POST", "/fhir/Binary", binary("bin1"), "Authorization", citizen).must(t, http.StatusCreated).body["id"].(string)
			s.do("GET", "/fhir/Binary/"+id, nil, "Authorization", citizen, "Accept", "application/fhir+json").must(t, http.StatusOK)
			s.do("POST", "/fhir/Binary", binary("bin2"), "Authorization", citizen).must(t, http.StatusForbidden)
			s.do("POST", "/fhir/Binary", `{"resourceType":"Binary","contentType":"application/pdf","data":"JVBERi0xLjQK"}`, "Authorization", citizen).must(t, http.StatusForbidden)
		})
	}
}
