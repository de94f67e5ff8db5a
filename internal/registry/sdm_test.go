package registry_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/registry"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, registry.HongKong)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAge(t *testing.T) {
	cases := []struct {
		birth, on string
		want      int
	}{
		{"2010-03-02", "2026-03-02", 16},
		{"2010-03-03", "2026-03-02", 15},
		{"2010-03-01", "2026-03-02", 16},
		{"2008-02-29", "2024-02-28", 15},
		{"2008-02-29", "2024-02-29", 16},
		{"2009-02-28", "2025-02-28", 16},
		{"2008-02-29", "2025-02-28", 16},
		{"2008-02-29", "2025-03-01", 17}, // 29 February turns a year older on 1 March
		{"1950-12-31", "2026-03-02", 75},
	}
	for _, c := range cases {
		if got := registry.Age(day(c.birth), day(c.on)); got != c.want {
			t.Errorf("Age(%s, %s) = %d, want %d", c.birth, c.on, got, c.want)
		}
	}
}

// TestMinor registers minors through their SDM, refuses them without one
// (or with a role that cannot act), and follows the SDM's authority to its
// end at the 16th birthday with an injected clock.
func TestMinor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		child := citizen{doc: map[string]any{"system": "http://www.immd.gov.hk/birth-certificate", "value": "K123456(0)"},
			family: "CHAN", given: "Siu Ming", chinese: "陳小明", birthDate: "2015-06-10", gender: "male"}
		r := e.do("POST", "/fhir/Patient/$register", registerBody(child, nil), "").must(t, 422)
		if !contains(r.raw, "substitute decision maker") {
			t.Errorf("refusal: %s", r.raw)
		}
		// A 15-year-old turning 16 tomorrow is still a minor.
		teen := citizen{doc: hkid("E364912(5)"), family: "LAM", given: "Ka Ho", birthDate: "2010-03-03", gender: "male"}
		e.do("POST", "/fhir/Patient/$register", registerBody(teen, nil), "").must(t, 422)
		// Sixteen today: registers alone; a parent cannot act for them.
		adult := citizen{doc: hkid("G123456(A)"), family: "LAM", given: "Ka Yan", birthDate: "2010-03-02", gender: "female"}
		e.do("POST", "/fhir/Patient/$register", registerBody(adult, parent("parent")), "").must(t, 422)
		e.register(adult, nil)
		// An adult unable to consent: a guardian registers, no end date.
		elder := citizen{doc: hkid("AB987654(3)"), family: "CHEUNG", given: "Ah Por", birthDate: "1930-01-01", gender: "female"}
		_, r = e.register(elder, parent("guardian"))
		rp := e.read("RelatedPerson", refOf(r.param("substitute-decision-maker")["valueReference"])[len("RelatedPerson/"):])
		if _, ok := registry.Authority(rp, registered.AddDate(50, 0, 0)); !ok {
			t.Error("a guardian of an adult lost authority without an end")
		}

		id, r := e.register(child, parent("parent"))
		sdmRef := refOf(r.param("substitute-decision-maker")["valueReference"])
		rp = e.read("RelatedPerson", sdmRef[len("RelatedPerson/"):])
		period := rp["period"].(map[string]any)
		if period["end"] != "2031-06-10T00:00:00+08:00" || refOf(rp["patient"]) != "Patient/"+id {
			t.Errorf("SDM: %v", rp)
		}
		consent := e.read("Consent", refOf(r.param("consent")["valueReference"])[len("Consent/"):])
		if refOf(list(consent["performer"])[0]) != sdmRef {
			t.Errorf("the joining consent's performer is %v, want the SDM", consent["performer"])
		}
		invite := e.read("CommunicationRequest", refOf(r.param("invitation")["valueReference"])[len("CommunicationRequest/"):])
		if invite["occurrenceDateTime"] != "2031-06-10T00:00:00+08:00" || refOf(invite["subject"]) != "Patient/"+id {
			t.Errorf("invitation: %v", invite)
		}
		// The authority, at moments the clock is moved to.
		for _, tc := range []struct {
			at   time.Time
			want bool
		}{
			{registered, true},
			{day("2031-06-09").Add(23*time.Hour + 59*time.Minute), true},
			{day("2031-06-10"), false},
			{day("2040-01-01"), false},
			{registered.Add(-time.Hour), false}, // before it was given
		} {
			e.clock.Set(tc.at)
			role, ok := registry.Authority(rp, e.clock.Now())
			if ok != tc.want || (ok && (role.Code != "parent" || role.Rank != 1)) {
				t.Errorf("Authority at %s = %v %v, want %v", tc.at, role, ok, tc.want)
			}
			patient, role, ok, err := e.reg.ActsFor(t.Context(), sdmRef[len("RelatedPerson/"):])
			if err != nil || ok != tc.want || (ok && (patient != id || role.Code != "parent")) {
				t.Errorf("ActsFor at %s = %s %v %v %v, want %v", tc.at, patient, role, ok, err, tc.want)
			}
		}
		rp["active"] = false
		if _, ok := registry.Authority(rp, registered); ok {
			t.Error("an inactive SDM has authority")
		}
	})
}

// TestLadder checks the SDM ladder is ranked 1..n in DOMAIN.md's order.
func TestLadder(t *testing.T) {
	want := []string{"parent", "guardian", "court-appointed", "family-member", "healthcare-provider"}
	for i, code := range want {
		r, ok := registry.RoleOf(code)
		if !ok || r.Rank != i+1 || !r.Minor {
			t.Errorf("%s: %v %v", code, r, ok)
		}
	}
	if p, _ := registry.RoleOf("parent"); p.Adult {
		t.Error("a parent acts as SDM for an adult")
	}
}

// TestSDMPicksTheChild: a parent who is a registered citizen and registers
// their child gets their own record linked to the RelatedPerson that makes
// them the SDM, so the authorization server's patient picker offers the
// child when the parent signs in as themself; a parent who is not
// registered gets nothing linked.
func TestSDMPicksTheChild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		mother := citizen{doc: hkid("D288754(2)"), family: "CHAN", given: "Mei Ling", birthDate: "1985-04-01", gender: "female"}
		motherID, _ := e.register(mother, nil)
		child := citizen{doc: map[string]any{"system": "http://www.immd.gov.hk/birth-certificate", "value": "K123456(0)"},
			family: "CHAN", given: "Siu Ming", birthDate: "2015-06-10", gender: "male"}
		childID, r := e.register(child, parent("parent")) // the parent fixture carries D288754(2)
		sdmRef := refOf(r.param("substitute-decision-maker")["valueReference"])
		own := e.read("Patient", motherID)
		found := false
		for _, l := range list(own["link"]) {
			m := l.(map[string]any)
			found = found || (refOf(m["other"]) == sdmRef && m["type"] == "seealso")
		}
		if !found {
			t.Fatalf("the mother's record does not link to %s: %v", sdmRef, own["link"])
		}
		choices, err := oauth.StoreRelationships{Store: e.st, Now: e.clock.Now}.PatientsFor(t.Context(), "Patient/"+motherID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range choices {
			ids = append(ids, c.ID)
		}
		if !slices.Contains(ids, motherID) || !slices.Contains(ids, childID) {
			t.Errorf("the mother may choose %v, want herself and %s", ids, childID)
		}
		// Still a citizen of her own: linking to a RelatedPerson does not
		// move her compartment.
		if v, err := e.st.Read(t.Context(), "Patient", motherID); err != nil || v.PatientKey != motherID {
			t.Errorf("the mother's record is filed under %q (%v)", v.PatientKey, err)
		}
	})
}
