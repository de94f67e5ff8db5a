package rest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// TestCareByAppointmentAndReferral: besides encounters and episodes, an
// appointment booked with the provider (directly, or through one of its
// PractitionerRoles, HealthcareServices or Locations) and a referral to it
// make the care relationship that, with a sharing consent, lets its
// professionals see the citizen; cancelled, proposed, revoked or long-past
// ones do not, nor ones with another provider.
func TestCareByAppointmentAndReferral(t *testing.T) {
	cases := []struct {
		name string
		care string // the resource that may make the relationship
		sees bool
	}{
		{"appointment with the provider", `{"resourceType":"Appointment","id":"a","status":"booked","start":"2024-05-01T09:00:00Z","end":"2024-05-01T09:30:00Z",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Organization/clinic"},"status":"accepted"}]}`, false},
		{"appointment with the provider, upcoming", `{"resourceType":"Appointment","id":"a","status":"booked","start":"2099-05-01T09:00:00Z","end":"2099-05-01T09:30:00Z",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Organization/clinic"},"status":"accepted"}]}`, false},
		{"appointment today, with a doctor's role at the provider", `{"resourceType":"Appointment","id":"a","status":"booked","start":"TODAY-START","end":"TODAY-END",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"PractitionerRole/dr-clinic"},"status":"accepted"}]}`, true},
		{"appointment at the provider's location, arrived", `{"resourceType":"Appointment","id":"a","status":"arrived","start":"TODAY-START","end":"TODAY-END",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Location/room"},"status":"accepted"}]}`, true},
		{"cancelled appointment", `{"resourceType":"Appointment","id":"a","status":"cancelled","start":"TODAY-START","end":"TODAY-END",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Organization/clinic"},"status":"accepted"}]}`, false},
		{"appointment with another provider", `{"resourceType":"Appointment","id":"a","status":"booked","start":"TODAY-START","end":"TODAY-END",
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Organization/qmh"},"status":"accepted"}]}`, false},
		{"referral to the provider", `{"resourceType":"ServiceRequest","id":"a","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
 "authoredOn":"2024-05-01","performer":[{"reference":"Organization/clinic"}]}`, true},
		{"referral to a service of the provider", `{"resourceType":"ServiceRequest","id":"a","status":"active","intent":"order","subject":{"reference":"Patient/p1"},
 "performer":[{"reference":"HealthcareService/physio"}]}`, true},
		{"referral revoked", `{"resourceType":"ServiceRequest","id":"a","status":"revoked","intent":"order","subject":{"reference":"Patient/p1"},
 "performer":[{"reference":"Organization/clinic"}]}`, false},
		{"referral completed just now", `{"resourceType":"ServiceRequest","id":"a","status":"completed","intent":"order","subject":{"reference":"Patient/p1"},
 "performer":[{"reference":"Organization/clinic"}]}`, true},
	}
	// A finished appointment of 2024 is past its CareAfter; one of 2099
	// has not started: neither is care now.
	forEachBackend(t, func(t *testing.T, s *server) {
		for _, body := range []string{
			`{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`,
			`{"resourceType":"Organization","id":"qmh","name":"Queen Mary Hospital"}`,
			`{"resourceType":"PractitionerRole","id":"dr-clinic","organization":{"reference":"Organization/clinic"}}`,
			`{"resourceType":"Location","id":"room","name":"Room 1","managingOrganization":{"reference":"Organization/clinic"}}`,
			`{"resourceType":"HealthcareService","id":"physio","providedBy":{"reference":"Organization/clinic"}}`,
			`{"resourceType":"Patient","id":"p1"}`,
			sharingConsent("c1", "p1", "clinic", "active", ""),
		} {
			s.do("PUT", "/fhir/"+ref(t, body), body).must(t, http.StatusCreated)
		}
		dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
			Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
		now := time.Now().UTC()
		today := strings.NewReplacer("TODAY-START", now.Add(-time.Hour).Format(time.RFC3339), "TODAY-END", now.Add(time.Hour).Format(time.RFC3339))
		for _, tc := range cases {
			care := today.Replace(tc.care)
			typ := ref(t, care)
			s.do("PUT", "/fhir/"+typ, care).must(t, http.StatusCreated)
			want := http.StatusNotFound
			if tc.sees {
				want = http.StatusOK
			}
			if got := s.do("GET", "/fhir/Patient/p1", nil, "Authorization", dr).status; got != want {
				t.Errorf("%s: the professional's read of the citizen = %d, want %d", tc.name, got, want)
			}
			s.do("DELETE", "/fhir/"+typ, nil).must(t, http.StatusNoContent)
		}
		if got := s.do("GET", "/fhir/Patient/p1", nil, "Authorization", dr).status; got != http.StatusNotFound {
			t.Errorf("with the appointments and referrals deleted the professional still reads the citizen (%d)", got)
		}
	})
}
