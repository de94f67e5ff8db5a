package registry_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"testing"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// TestRegister registers a citizen with each kind of identity document and
// checks what is written: the master Patient, the joining Consent, the
// access key (its hash only), and the refusals of invalid documents.
func TestRegister(t *testing.T) {
	valid := []struct {
		name string
		doc  map[string]any
	}{
		{"hkid A123456(3)", hkid("A123456(3)")},
		{"hkid E364912(5)", hkid("E364912(5)")},
		{"hkid AB987654(3)", hkid("AB987654(3)")},
		{"hkid without parentheses", hkid("d2887542")},
		{"birth certificate", map[string]any{"system": identity.SystemBirthCertificate, "value": "Z683365(A)"}},
		{"certificate of exemption", map[string]any{"system": identity.SystemExemptionCertificate, "value": "C123456"}},
		{"passport", map[string]any{"system": identity.SystemPassportPrefix + "GBR", "value": "123456789"}},
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		for i, tc := range valid {
			t.Run(tc.name, func(t *testing.T) {
				c := citizen{doc: tc.doc, family: "CHAN", given: fmt.Sprintf("Tai Man %d", i), chinese: "陳大文", birthDate: "1980-05-17", gender: "male"}
				id, r := e.register(c, nil)
				checkRegistered(t, e, id, r)
			})
		}
		t.Run("invalid documents", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(6, 16))
			for _, number := range invalidHKIDs(rng, 20) {
				c := citizen{doc: hkid(number), family: "LEE", given: "Ka Yan", birthDate: "1990-01-01", gender: "female"}
				r := e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), "").must(t, 422)
				if contains(r.raw, number) || contains(r.raw, number[:len(number)-3]) {
					t.Errorf("the refusal echoes the number %s: %s", number, r.raw)
				}
			}
			for name, doc := range map[string]map[string]any{
				"passport without country": {"system": identity.SystemPassportPrefix, "value": "123456789"},
				"exemption bad format":     {"system": identity.SystemExemptionCertificate, "value": "X1"},
				"birth certificate digit":  {"system": identity.SystemBirthCertificate, "value": "Z683365(5)"},
			} {
				c := citizen{doc: doc, family: "LEE", given: "Ka Yan", birthDate: "1990-01-01", gender: "female"}
				if r := e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), ""); r.status != 422 {
					t.Errorf("%s: status %d, want 422: %s", name, r.status, r.raw)
				}
			}
		})
		t.Run("missing fields", func(t *testing.T) {
			base := citizen{doc: hkid("G123456(A)"), family: "WONG", given: "Siu Ming", birthDate: "1975-07-01", gender: "male"}
			cases := map[string]func(p map[string]any){
				"no document":  func(p map[string]any) { delete(p, "identifier") },
				"no name":      func(p map[string]any) { delete(p, "name") },
				"no birthDate": func(p map[string]any) { delete(p, "birthDate") },
				"bad gender":   func(p map[string]any) { p["gender"] = "m" },
				"bad email":    func(p map[string]any) { p["telecom"] = []any{map[string]any{"system": "email", "value": "nobody"}} },
				"future birth": func(p map[string]any) { p["birthDate"] = "2027-01-01" },
				"no contact":   func(p map[string]any) { delete(p, "telecom") },
			}
			for name, edit := range cases {
				p := base.patient()
				edit(p)
				body := map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "patient", "resource": p}}}
				if r := e.do("POST", "/fhir/Patient/$register", body, ""); r.status != 400 && r.status != 422 {
					t.Errorf("%s: status %d, want 400 or 422: %s", name, r.status, r.raw)
				}
			}
			// None of them registered the document.
			e.register(base, nil)
		})
	})
}

// checkRegistered checks a registration's Patient, Consent and access key.
func checkRegistered(t *testing.T, e *env, id string, r response) {
	t.Helper()
	p := e.read("Patient", id)
	if tags := fmt.Sprint(p["meta"]); !contains(tags, registry.TagMaster) {
		t.Errorf("master tag missing: %v", tags)
	}
	if len(list(p["identifier"])) != 1 || len(list(p["name"])) != 2 {
		t.Errorf("identifier or names: %v %v", p["identifier"], p["name"])
	}
	for _, n := range list(p["name"]) {
		if !contains(fmt.Sprint(n), registry.LanguageExtension) {
			t.Errorf("a name without its language: %v", n)
		}
	}
	consentID := refOf(r.param("consent")["valueReference"])[len("Consent/"):]
	consent := e.read("Consent", consentID)
	if consent["status"] != "active" || refOf(consent["patient"]) != "Patient/"+id ||
		refOf(list(consent["performer"])[0]) != "Patient/"+id || consent["provision"].(map[string]any)["type"] != "permit" {
		t.Errorf("joining consent: %v", consent)
	}
	key, _ := r.param("access-key")["valueString"].(string)
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(key) {
		t.Fatalf("access key %q", key)
	}
	if ok, err := e.reg.VerifyAccessKey(t.Context(), id, key); !ok || err != nil {
		t.Errorf("the issued key does not verify: %v", err)
	}
	wrong := fmt.Sprintf("%08d", (atoi(key)+1)%100000000)
	if ok, _ := e.reg.VerifyAccessKey(t.Context(), id, wrong); ok {
		t.Error("a wrong key verifies")
	}
	stored, err := e.st.ListKeys(t.Context(), registry.AccessKeyNS, id, 0)
	if err != nil || len(stored) != 1 || contains(string(stored[0].Value), key) {
		t.Errorf("the stored access key: %v %v", stored, err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// invalidHKIDs makes n random HKID-shaped numbers whose check digit is
// wrong.
func invalidHKIDs(rng *rand.Rand, n int) []string {
	var out []string
	for len(out) < n {
		letters := string(rune('A' + rng.IntN(26)))
		if rng.IntN(2) == 0 {
			letters += string(rune('A' + rng.IntN(26)))
		}
		number := fmt.Sprintf("%s%06d(%c)", letters, rng.IntN(1000000), "0123456789A"[rng.IntN(11)])
		if _, err := identity.Parse(identity.HKID, number, ""); errors.Is(err, identity.ErrCheckDigit) {
			out = append(out, number)
		}
	}
	return out
}

// TestRegisterDuplicate refuses a second registration of one document —
// also as a birth certificate with the HKID's number, and when two arrive
// at once — without quoting the number.
func TestRegisterDuplicate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := citizen{doc: hkid("A123456(3)"), family: "CHAN", given: "Tai Man", birthDate: "1980-05-17", gender: "male"}
		e.register(c, nil)
		for _, doc := range []map[string]any{hkid("A123456(3)"), hkid("a 123456 3"), {"system": identity.SystemBirthCertificate, "value": "A1234563"}} {
			c.doc = doc
			r := e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), "").must(t, 409)
			if contains(r.raw, "123456") {
				t.Errorf("the refusal quotes the number: %s", r.raw)
			}
		}
		// Two registrations of a new document at once: one wins.
		c.doc = hkid("E364912(5)")
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() { statuses[i] = e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), "").status })
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 409:
				conflict++
			}
		}
		if ok != 1 || conflict != len(statuses)-1 {
			t.Errorf("concurrent registrations: %v", statuses)
		}
		claims, err := e.st.ListKeys(t.Context(), registry.ClaimNS, "", 0)
		if err != nil || len(claims) != 2 {
			t.Errorf("claims: %d %v", len(claims), err)
		}
		for _, cl := range claims {
			if contains(cl.Key.Key+string(cl.Value), "364912") {
				t.Error("a claim holds the number in the clear")
			}
		}
	})
}

// TestRegisterAuthorization: a clinic's system may register, a patient
// app may not.
func TestRegisterAuthorization(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := citizen{doc: hkid("AB987654(3)"), family: "HO", given: "Wing", birthDate: "1985-02-03", gender: "female"}
		app := e.issue(tokenFor("Patient/p1", "patient/*.cruds"))
		e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), app).must(t, 403)
		e.do("POST", "/fhir/Patient/$register", registerBody(c, nil), e.clinic("system/Patient.c")).must(t, 200)
		e.do("GET", "/fhir/Patient/$register", nil, "").must(t, 405)
	})
}
