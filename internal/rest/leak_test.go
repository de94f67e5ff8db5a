package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// leakState is one way a citizen can be out of a professional's sight,
// with what puts them there.
type leakState struct {
	name string
	// setup writes, as the operator, what puts patient p in this state
	// for the clinic's professional.
	setup func(s *server, p string)
}

// leakStates are the states in which the clinic's professional may not see
// a citizen.
var leakStates = []leakState{
	{"none", func(*server, string) {}},
	{"nocare", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "")).must(s.t, http.StatusCreated)
	}},
	{"revoked", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "")).must(s.t, http.StatusCreated)
		s.do("PUT", "/fhir/Encounter/"+p+"-e", careEncounter(p+"-e", p, "clinic", "in-progress")).must(s.t, http.StatusCreated)
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "inactive", "")).must(s.t, http.StatusOK)
	}},
	{"expiredconsent", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "2021-01-01")).must(s.t, http.StatusCreated)
		s.do("PUT", "/fhir/Encounter/"+p+"-e", careEncounter(p+"-e", p, "clinic", "in-progress")).must(s.t, http.StatusCreated)
	}},
	{"expiredcare", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "")).must(s.t, http.StatusCreated)
		enc := strings.Replace(careEncounter(p+"-e", p, "clinic", "finished"), `"start":"2024-01-01T09:00:00Z"`, `"start":"2020-01-01T09:00:00Z","end":"2020-01-02T09:00:00Z"`, 1)
		s.do("PUT", "/fhir/Encounter/"+p+"-e", enc).must(s.t, http.StatusCreated)
	}},
	{"otherprovider", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "qmh", "active", "")).must(s.t, http.StatusCreated)
		s.do("PUT", "/fhir/Encounter/"+p+"-e", careEncounter(p+"-e", p, "qmh", "in-progress")).must(s.t, http.StatusCreated)
	}},
}

// leakProbes are the requests a professional could make about a patient:
// {p} is the patient's id, {o} an Observation of theirs, {d} one deleted,
// {fam} their family name, {code} a code only their records carry.
var leakProbes = []struct {
	method, path, body string
}{
	{"GET", "/fhir/Patient/{p}", ""},
	{"GET", "/fhir/Patient/{p}/_history", ""},
	{"GET", "/fhir/Patient/{p}/_history/1", ""},
	{"GET", "/fhir/Observation/{o}", ""},
	{"GET", "/fhir/Observation/{o}/_history/1", ""},
	{"GET", "/fhir/Observation/{o}/_history", ""},
	{"GET", "/fhir/Observation/{d}", ""},
	{"GET", "/fhir/Observation/{d}/_history/1", ""},
	{"GET", "/fhir/Observation?patient={p}&_total=accurate", ""},
	{"GET", "/fhir/Observation?code=urn:leak|{code}&_summary=count", ""},
	{"GET", "/fhir/Observation?code=urn:leak|{code}&_total=estimate", ""},
	{"GET", "/fhir/Patient/{p}/Observation", ""},
	{"GET", "/fhir/Patient/{p}/$everything", ""},
	{"GET", "/fhir/Observation?subject:Patient.family={fam}&_total=accurate", ""},
	{"GET", "/fhir/Patient?_has:Observation:subject:code=urn:leak|{code}&_total=accurate", ""},
	{"GET", "/fhir/Patient?family={fam}&_total=accurate", ""},
	{"GET", "/fhir/Patient?_id={p}&_revinclude=Observation:subject", ""},
	{"GET", "/fhir/Observation?_id={o}&_include=Observation:subject", ""},
	{"GET", "/fhir/Organization?_id=clinic&_revinclude=Patient:organization", ""},
	{"POST", "/fhir/Observation/_search", "code=urn:leak|{code}&_total=accurate"},
	{"POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[
 {"request":{"method":"GET","url":"Patient/{p}"}},{"request":{"method":"GET","url":"Observation/{o}"}},
 {"request":{"method":"GET","url":"Observation?patient={p}&_total=accurate"}},{"request":{"method":"GET","url":"Observation/{d}"}}]}`},
	{"DELETE", "/fhir/Observation/{o}", ""},
	{"PUT", "/fhir/Observation/{o}", `{"resourceType":"Observation","id":"{o}","status":"final","code":{"coding":[{"system":"urn:leak","code":"{code}"}]},"subject":{"reference":"Patient/{p}"}}`},
	{"DELETE", "/fhir/Observation?identifier=urn:leak|{o}", ""},
}

// TestLeaks: for a professional, a citizen in any state they may not see
// is indistinguishable from one who does not exist — on every read path
// (read, vread, history, search with totals, counts, chains, _has,
// includes, compartment search, $everything, batch GETs) and the write
// paths that could reveal a record (update at its id, delete, conditional
// delete): same status, same body once the ids are swapped. A patient the
// professional may see answers differently on every probe, so the probes
// do reach the data.
func TestLeaks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Organization/qmh", `{"resourceType":"Organization","id":"qmh","name":"Queen Mary Hospital"}`).must(t, http.StatusCreated)
		dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
			Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")})
		seed := func(state string) {
			p := "lk-" + state
			s.do("PUT", "/fhir/Patient/"+p, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Leak%s"}],"managingOrganization":{"reference":"Organization/clinic"}}`, p, state)).must(t, http.StatusCreated)
			for _, o := range []string{p + "-o", p + "-d"} {
				s.do("PUT", "/fhir/Observation/"+o, fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","identifier":[{"system":"urn:leak","value":%q}],
 "code":{"coding":[{"system":"urn:leak","code":"%s-code"}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":"2024-01-01"}`, o, o, p, p)).must(t, http.StatusCreated)
			}
			s.do("DELETE", "/fhir/Observation/"+p+"-d", nil).must(t, http.StatusNoContent)
		}
		// ask sends a probe about the patient of state, as the professional,
		// and returns what it answered with the state's names swapped for
		// the ghost's and the volatile parts removed.
		ask := func(probe int, state string) string {
			t.Helper()
			pr := leakProbes[probe]
			fill := func(x string) string {
				p := "lk-" + state
				return strings.NewReplacer("{p}", p, "{o}", p+"-o", "{d}", p+"-d", "{fam}", "Leak"+state, "{code}", p+"-code").Replace(x)
			}
			var body any
			headers := []string{"Authorization", dr}
			if pr.body != "" {
				body = fill(pr.body)
				if strings.HasSuffix(pr.path, "_search") {
					headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
				}
			}
			r := s.do(pr.method, fill(pr.path), body, headers...)
			return normalizeLeak(r, state)
		}
		for _, st := range leakStates {
			seed(st.name)
			st.setup(s, "lk-"+st.name)
		}
		seed("seen")
		s.do("PUT", "/fhir/Consent/lk-seen-c", sharingConsent("lk-seen-c", "lk-seen", "clinic", "active", "")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Encounter/lk-seen-e", careEncounter("lk-seen-e", "lk-seen", "clinic", "in-progress")).must(t, http.StatusCreated)

		// Writes change what later probes see: each state asks every probe
		// in order, the ghost first (a write to it creates nothing).
		for i, pr := range leakProbes {
			ghost := ask(i, "ghost")
			for _, st := range leakStates {
				if got := ask(i, st.name); got != ghost {
					t.Errorf("%s %s for a patient in state %q answers differently from one who does not exist:\n got  %s\n want %s", pr.method, pr.path, st.name, got, ghost)
				}
			}
			if pr.method == "GET" || pr.method == "POST" {
				if got := ask(i, "seen"); got == ghost {
					t.Errorf("%s %s for a patient the professional may see answers as for none: the probe reaches nothing: %s", pr.method, pr.path, got)
				}
			}
		}
	})
}

// volatileLeak are the parts of an answer that differ between any two
// requests: bundle ids and times, and request ids.
var volatileLeak = regexp.MustCompile(`"(lastUpdated|timestamp|id)":"[^"]*"`)

// normalizeLeak is r's status and body with state's names replaced by the
// ghost's and the volatile parts blanked.
func normalizeLeak(r response, state string) string {
	raw := string(r.raw)
	if r.body != nil {
		b, _ := json.Marshal(r.body)
		raw = string(b)
	}
	raw = strings.NewReplacer("lk-"+state, "lk-ghost", "Leak"+state, "Leakghost").Replace(raw)
	return fmt.Sprintf("%d %s", r.status, volatileLeak.ReplaceAllString(raw, `"$1":"…"`))
}
