package consent

import (
	"slices"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestAccess(t *testing.T) {
	on := &Policy{Deemed: []string{"Organization/ha"}, Emergency: true}
	off := &Policy{Deemed: []string{"Organization/ha"}}
	tests := []struct {
		name         string
		who          resource.Who
		want         store.Access
		emergencyOff bool
	}{
		{"operator", resource.Who{Operator: true}, store.AccessAll, false},
		{"citizen", resource.Who{FHIRUser: "Patient/9"}, store.Access{Patients: []string{"9", "9!r"}, NonPatient: true}, false},
		{"citizen launching for a child", resource.Who{FHIRUser: "Patient/9", Patient: "12"}, store.Access{Patients: []string{"9", "12", "9!r", "12!r"}, NonPatient: true}, false},
		{"substitute decision maker", resource.Who{FHIRUser: "RelatedPerson/4", Patient: "12"}, store.Access{Patients: []string{"12", "12!r"}, NonPatient: true}, false},
		{"professional", resource.Who{FHIRUser: "Practitioner/dr", Org: "Organization/clinic"}, store.Access{NonPatient: true,
			Grants:  [][]string{{"sharing/Organization/clinic", "care/Organization/clinic"}, {"restricted/Practitioner/dr"}, {"emergency/Practitioner/dr"}},
			Writers: []string{"Organization/clinic"}}, false},
		{"professional, emergency access switched off", resource.Who{FHIRUser: "Practitioner/dr", Org: "Organization/clinic"}, store.Access{NonPatient: true,
			Grants:  [][]string{{"sharing/Organization/clinic", "care/Organization/clinic"}, {"restricted/Practitioner/dr"}},
			Writers: []string{"Organization/clinic"}}, true},
		{"professional of a deemed provider", resource.Who{FHIRUser: "Practitioner/dr", Org: "Organization/ha"}, store.Access{NonPatient: true,
			Grants:  [][]string{{"care/Organization/ha"}, {"restricted/Practitioner/dr"}, {"emergency/Practitioner/dr"}},
			Writers: []string{"Organization/ha"}}, false},
		{"system of a provider", resource.Who{Org: "Organization/lab"}, store.Access{NonPatient: true, Writers: []string{"Organization/lab"}}, false},
		{"professional without a provider", resource.Who{FHIRUser: "Practitioner/dr"}, store.Access{}, false},
		{"nobody", resource.Who{}, store.Access{}, false},
	}
	for _, tt := range tests {
		p := on
		if tt.emergencyOff {
			p = off
		}
		got := p.Access(tt.who)
		if got.All != tt.want.All || got.NonPatient != tt.want.NonPatient || !slices.Equal(got.Patients, tt.want.Patients) ||
			!slices.Equal(got.Writers, tt.want.Writers) || len(got.Grants) != len(tt.want.Grants) {
			t.Errorf("%s: Access = %+v, want %+v", tt.name, got, tt.want)
			continue
		}
		for i := range got.Grants {
			if !slices.Equal(got.Grants[i], tt.want.Grants[i]) {
				t.Errorf("%s: rule %d = %v, want %v", tt.name, i, got.Grants[i], tt.want.Grants[i])
			}
		}
	}
}

func TestGrantsOfVersions(t *testing.T) {
	written := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	day := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	p := &Policy{CareAfter: 30 * 24 * time.Hour}
	tests := []struct {
		name, typ, body string
		want            []store.Grant
	}{
		{"sharing consent, open", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"sharing"}]}],
 "dateTime":"2025-05-01","provision":{"type":"permit","actor":[{"reference":{"reference":"Organization/a"}},{"reference":{"reference":"Practitioner/x"}}]}}`,
			[]store.Grant{{Grantee: "sharing/Organization/a", From: day("2025-05-01")}}},
		{"sharing consent until a date", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"sharing"}]}],
 "provision":{"period":{"start":"2025-01-01","end":"2025-12-31"},"actor":[{"reference":{"reference":"Organization/a"}}]}}`,
			[]store.Grant{{Grantee: "sharing/Organization/a", From: day("2025-01-01"), To: day("2026-01-01")}}},
		{"inactive consent", "Consent", `{"status":"inactive","category":[{"coding":[{"system":"` + CategorySystem + `","code":"sharing"}]}],
 "provision":{"actor":[{"reference":{"reference":"Organization/a"}}]}}`, nil},
		{"joining consent", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"joining"}]}],
 "provision":{"actor":[{"reference":{"reference":"Organization/a"}}]}}`, nil},
		{"denying provision", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"sharing"}]}],
 "provision":{"type":"deny","actor":[{"reference":{"reference":"Organization/a"}}]}}`, nil},
		{"encounter in progress", "Encounter", `{"status":"in-progress","serviceProvider":{"reference":"Organization/a"},"period":{"start":"2025-06-01T09:00:00+08:00"}}`,
			[]store.Grant{{Grantee: "care/Organization/a", From: time.Date(2025, 6, 1, 1, 0, 0, 0, time.UTC)}}},
		{"encounter finished", "Encounter", `{"status":"finished","serviceProvider":{"reference":"Organization/a"},"period":{"start":"2025-06-01","end":"2025-06-02"}}`,
			[]store.Grant{{Grantee: "care/Organization/a", From: day("2025-06-01"), To: day("2025-06-03").Add(30 * 24 * time.Hour)}}},
		{"encounter without a start", "Encounter", `{"status":"planned","serviceProvider":{"reference":"Organization/a"}}`,
			[]store.Grant{{Grantee: "care/Organization/a", From: written}}},
		{"cancelled encounter", "Encounter", `{"status":"cancelled","serviceProvider":{"reference":"Organization/a"}}`, nil},
		{"emergency access", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"emergency"}]}],
 "provision":{"type":"permit","period":{"start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z"},"actor":[{"reference":{"reference":"Practitioner/dr"}},{"reference":{"reference":"Organization/a"}}]}}`,
			[]store.Grant{{Grantee: "emergency/Practitioner/dr", PatientKey: "", From: day("2025-01-01"), To: day("2025-01-02")}}},
		{"restricted access, under the restricted key", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"restricted-access"}]}],
 "provision":{"type":"permit","period":{"start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z"},"actor":[{"reference":{"reference":"Practitioner/dr"}}]}}`,
			[]store.Grant{{Grantee: "restricted/Practitioner/dr", PatientKey: "9!r", From: day("2025-01-01"), To: day("2025-01-02")}}},
		{"restriction choice grants nothing", "Consent", `{"status":"active","category":[{"coding":[{"system":"` + CategorySystem + `","code":"restriction"}]}],
 "provision":{"type":"deny","actor":[{"reference":{"reference":"Organization/a"}}]}}`, nil},
		{"inactive emergency access", "Consent", `{"status":"inactive","category":[{"coding":[{"system":"` + CategorySystem + `","code":"emergency"}]}],
 "provision":{"type":"permit","actor":[{"reference":{"reference":"Practitioner/dr"}}]}}`, nil},
		{"registered relationship ends at its end", "EpisodeOfCare", `{"status":"active","type":[{"coding":[{"system":"` + EpisodeTypeSystem + `","code":"registered-relationship"}]}],
 "managingOrganization":{"reference":"Organization/b"},"period":{"start":"2025-06-01","end":"2025-06-30"}}`,
			[]store.Grant{{Grantee: "care/Organization/b", From: day("2025-06-01"), To: day("2025-07-01")}}},
		{"episode of care", "EpisodeOfCare", `{"status":"active","managingOrganization":{"reference":"Organization/b"},"period":{"start":"2025"}}`,
			[]store.Grant{{Grantee: "care/Organization/b", From: day("2025-01-01")}}},
	}
	for _, tt := range tests {
		v := store.Version{Type: tt.typ, ID: "x", PatientKey: "9", Updated: written, Body: []byte(tt.body)}
		var got []store.Grant
		var err error
		if tt.typ == "Consent" {
			got, err = consentGrants(v)
		} else {
			got, err = p.careGrants(v)
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Grantee != w.Grantee || g.PatientKey != w.PatientKey || !g.From.Equal(w.From) || !g.To.Equal(w.To) {
				t.Errorf("%s: grant %d = %+v, want %+v", tt.name, i, g, w)
			}
		}
	}
	if _, err := consentGrants(store.Version{Body: []byte(`{"status":"active","category":[{"coding":[{"system":"` + CategorySystem +
		`","code":"sharing"}]}],"provision":{"period":{"start":"yesterday"}}}`)}); err == nil {
		t.Error("a malformed period start was accepted")
	}
}
