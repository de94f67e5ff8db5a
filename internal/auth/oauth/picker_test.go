package oauth

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// family writes a mother who acts for her son (Patient.link to a
// RelatedPerson of the son's) and for a daughter through a RelatedPerson
// whose period has ended.
func family(e *env) {
	e.put("Patient", "mother", map[string]any{"name": []any{map[string]any{"text": "Wong Mei Ling"}, map[string]any{"text": "黃美玲"}},
		"link": []any{
			map[string]any{"other": ref("RelatedPerson/rp-son"), "type": "seealso"},
			map[string]any{"other": ref("RelatedPerson/rp-daughter"), "type": "seealso"},
		}})
	e.put("Patient", "son", map[string]any{"name": []any{map[string]any{"given": []any{"Siu Ming"}, "family": "Lee"}}})
	e.put("Patient", "daughter", map[string]any{"name": []any{map[string]any{"text": "Lee Ka Yan"}}})
	e.put("RelatedPerson", "rp-son", map[string]any{"patient": ref("Patient/son"),
		"relationship": []any{map[string]any{"coding": []any{map[string]any{"code": "MTH", "display": "mother"}}}}})
	e.put("RelatedPerson", "rp-daughter", map[string]any{"patient": ref("Patient/daughter"), "period": map[string]any{"end": "2020-01-01"}})
}

var pendingField = regexp.MustCompile(`name="pending" value="([^"]+)"`)

// TestPatientPicker: a person who acts for others chooses the patient on a
// bilingual page; the choice is bound to their sign-in and used once.
func TestPatientPicker(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		family(e)
		cookie := e.signIn(Who{FHIRUser: "Patient/mother", Method: "passkey"})
		verifier, challenge := pkce()
		q := authRequest(challenge, "launch/patient patient/*.rs")
		page := e.authorize(q, cookie)
		if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
			t.Fatalf("want the picker, got %d %s", page.status, page.raw)
		}
		for _, s := range []string{"Choose a patient", "選擇病人", "Wong Mei Ling / 黃美玲", "Siu Ming Lee", "mother", "Health Diary", `value="son"`} {
			if !strings.Contains(page.raw, s) {
				t.Errorf("the picker lacks %q", s)
			}
		}
		if strings.Contains(page.raw, "daughter") {
			t.Error("the picker offers a patient whose RelatedPerson period has ended")
		}
		if !strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Error("the picker has no Content-Security-Policy")
		}
		choose := func(page reply, patient string, cookie string, extra ...string) reply {
			m := pendingField.FindStringSubmatch(page.raw)
			if m == nil {
				t.Fatalf("no pending id in the picker")
			}
			f := url.Values{"pending": {m[1]}, "patient": {patient}}
			for i := 0; i+1 < len(extra); i += 2 {
				f.Set(extra[i], extra[i+1])
			}
			return e.do("POST", PathAuthorize, f, map[string]string{"Cookie": cookie})
		}
		p := redirectParams(t, choose(page, "son", cookie))
		tok := e.post(PathToken, exchangeCode(p.Get("code"), verifier))
		if tok.str("patient") != "son" || e.verify(tok.str("access_token")).FHIRUser != "Patient/mother" {
			t.Fatalf("token after choosing: %s", tok.raw)
		}
		// The same pending id again: refused, on a page.
		if r := choose(page, "son", cookie); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("a used choice: %d %s", r.status, r.header.Get("Location"))
		}
		// A patient not offered.
		if p := redirectParams(t, choose(e.authorize(q, cookie), "daughter", cookie)); p.Get("error") != "access_denied" {
			t.Errorf("a patient not offered: %v", p)
		}
		// Cancel.
		if p := redirectParams(t, choose(e.authorize(q, cookie), "son", cookie, "cancel", "1")); p.Get("error") != "access_denied" {
			t.Errorf("cancel: %v", p)
		}
		// Another person's session cannot answer the mother's picker.
		other := e.signIn(citizen)
		if r := choose(e.authorize(q, cookie), "son", other); r.status != http.StatusBadRequest {
			t.Errorf("another session's answer: %d %s", r.status, r.header.Get("Location"))
		}
		// The son (a RelatedPerson user) acting for... the RelatedPerson signs in as itself.
		rp := e.signIn(Who{FHIRUser: "RelatedPerson/rp-son", Method: "otp"})
		verifier, challenge = pkce()
		tok = e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs"), rp), verifier))
		if tok.str("patient") != "son" {
			t.Errorf("a RelatedPerson's launch: %s", tok.raw)
		}
		// A practitioner has no patient of their own for a standalone patient launch.
		dr := e.signIn(Who{FHIRUser: "Practitioner/dr-chan", Org: "Organization/clinic-1", Method: "password+totp"})
		if p := redirectParams(t, e.authorize(authRequest(challenge, "launch/patient patient/*.rs"), dr)); p.Get("error") != "access_denied" {
			t.Errorf("a practitioner's standalone patient launch: %v", p)
		}
	})
}
