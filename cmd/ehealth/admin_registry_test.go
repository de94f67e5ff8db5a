package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAdminProviders registers two providers and one professional at
// both (one Practitioner, two roles), suspends a provider — which then
// takes no professional — and reinstates it; a pharmacist is registered
// with their profession; bad kinds, councils, roles and professions (an
// unknown one, one of another council) are refused.
func TestAdminProviders(t *testing.T) {
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			ehealth := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append(append([]string{"admin"}, args...), "--db", dbURL), &out, &errOut)
				return strings.TrimSpace(out.String()), err
			}
			hospital, err := ehealth("provider", "add", "--name", "Queen Mary Hospital", "--kind", "hospital")
			if err != nil || !strings.HasPrefix(hospital, "Organization/") {
				t.Fatalf("provider add: %q %v", hospital, err)
			}
			clinic, err := ehealth("provider", "add", "--name", "Wan Chai CM Clinic", "--kind", "cm-clinic")
			if err != nil {
				t.Fatal(err)
			}
			first, err := ehealth("professional", "add", "--name", "CHAN Tai Man", "--council", "mchk", "--registration", "M12345", "--org", hospital)
			if err != nil {
				t.Fatal(err)
			}
			second, err := ehealth("professional", "add", "--name", "CHAN Tai Man", "--council", "mchk", "--registration", "M12345",
				"--org", clinic, "--role", "healthcare-professional", "--role", "user-administrator")
			if err != nil {
				t.Fatal(err)
			}
			p1, r1, _ := strings.Cut(first, "\t")
			p2, r2, _ := strings.Cut(second, "\t")
			if p1 != p2 || r1 == r2 || !strings.HasPrefix(p1, "Practitioner/") || !strings.HasPrefix(r2, "PractitionerRole/") {
				t.Errorf("one professional at two providers: %q and %q", first, second)
			}
			if out, err := ehealth("provider", "suspend", "--org", clinic); err != nil || out != clinic+" suspended" {
				t.Fatalf("suspend: %q %v", out, err)
			}
			if _, err := ehealth("professional", "add", "--name", "LEE Ka Yan", "--council", "nchk", "--registration", "N1", "--org", clinic); err == nil ||
				!strings.Contains(err.Error(), "not an active provider") {
				t.Errorf("a professional added at a suspended provider: %v", err)
			}
			if _, err := ehealth("provider", "reinstate", "--org", clinic); err != nil {
				t.Fatal(err)
			}
			if _, err := ehealth("professional", "add", "--name", "LEE Ka Yan", "--council", "nchk", "--registration", "N1", "--org", clinic); err != nil {
				t.Errorf("after reinstatement: %v", err)
			}
			if out, err := ehealth("professional", "add", "--name", "HO Wing", "--council", "ppbhk", "--registration", "P1", "--org", hospital, "--profession", "pharmacist"); err != nil ||
				!strings.Contains(out, "PractitionerRole/") {
				t.Errorf("a pharmacist: %q %v", out, err)
			}
			for _, bad := range [][]string{
				{"provider", "add", "--name", "X", "--kind", "spa"},
				{"professional", "add", "--name", "X", "--council", "nope", "--registration", "1", "--org", hospital},
				{"professional", "add", "--name", "X", "--council", "mchk", "--registration", "1", "--org", hospital, "--role", "boss"},
				{"professional", "add", "--name", "X", "--council", "mchk", "--registration", "1", "--org", "Organization/ghost"},
				{"provider", "suspend", "--org", "Organization/ghost"},
				{"professional", "add", "--name", "X", "--council", "ppbhk", "--registration", "P9", "--org", hospital, "--profession", "alchemist"},
				{"professional", "add", "--name", "X", "--council", "mchk", "--registration", "P9", "--org", hospital, "--profession", "pharmacist"},
			} {
				if _, err := ehealth(bad...); err == nil {
					t.Errorf("accepted %v", bad)
				}
			}
		})
	}
}
