package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/accreditation"
	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/correction"
	depositsvc "github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/ips"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// fullServer is the API as serve assembles it — consent decision, audit
// journal, journal AuditEvents, first-access notices, role views, and
// the registry, consent, notice and journal operations — over st.
func fullServer(t *testing.T, st store.Store, policy consent.Policy) *server {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	p, err := platform.Open(t.Context(), st, slog.New(slog.NewTextHandler(io.Discard, nil)), platform.WithPolicy(policy))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	tokens := newTokens(t, st)
	auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditor.Close(context.Background()) })
	j := journal.New(st, p.Service, p.Registry)
	importDir := t.TempDir()
	exports, err := bulkdata.NewJobs(p.Service, st, bulkdata.Config{Dir: t.TempDir(), ImportDir: importDir})
	if err != nil {
		t.Fatal(err)
	}
	summaries, err := ips.New(p.Service, p.Terminology.Service(), ips.Config{})
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: auditor, Journal: j, Notified: st, Export: exports,
		View: p.Roles.View, Emergency: p.InEmergency, HL7v2: &hl7v2.Options{}, Deposit: depositsvc.New(p.Service, p.Registry, depositsvc.WithChecker(p.Profiles)), Operations: rest.OperationSet{p.Terminology, p.Registry, p.ConsentOps, notify.NewChoices(p.Service), j, correction.New(p.Service, p.Registry), accreditation.New(p.Service, p.Profiles).Operations(), summaries}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st, importDir: importDir}
	s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return s
}

// grantConsent is a Consent of category (sharing, emergency,
// restricted-access) of patient to actor ("Organization/x",
// "Practitioner/y"), active, ending at end ("" never).
func grantConsent(id, category, patient, actor, end string) string {
	c := sharingConsent(id, patient, "ACTOR", "active", end)
	c = strings.Replace(c, `"code":"sharing"`, fmt.Sprintf(`"code":%q`, category), 1)
	return strings.Replace(c, "Organization/ACTOR", actor, 1)
}

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
	{"emergencyexpired", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-x", grantConsent(p+"-x", consent.CategoryEmergency, p, "Practitioner/dr", "2021-01-01")).must(s.t, http.StatusCreated)
	}},
	{"othersemergency", func(s *server, p string) {
		s.do("PUT", "/fhir/Consent/"+p+"-x", grantConsent(p+"-x", consent.CategoryEmergency, p, "Practitioner/dr2", "")).must(s.t, http.StatusCreated)
	}},
}

// leakProbes are the requests a professional could make about a patient:
// {p} is the patient's id, {o} an Observation of theirs, {d} one deleted,
// {b} a Binary whose security context is the patient, {fam} their family
// name, {code} a code only their records carry.
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
	{"GET", "/fhir/Binary/{b}", ""},
	{"GET", "/fhir/Observation?patient={p}&_total=accurate", ""},
	{"GET", "/fhir/Observation?code=urn:leak|{code}&_summary=count", ""},
	{"GET", "/fhir/Observation?code=urn:leak|{code}&_total=estimate", ""},
	{"GET", "/fhir/Patient/{p}/Observation", ""},
	{"GET", "/fhir/Patient/{p}/$everything", ""},
	{"GET", "/fhir/Patient/{p}/$summary", ""},
	{"GET", "/fhir/Observation?subject:Patient.family={fam}&_total=accurate", ""},
	{"GET", "/fhir/Patient?_has:Observation:subject:code=urn:leak|{code}&_total=accurate", ""},
	{"GET", "/fhir/Patient?family={fam}&_total=accurate", ""},
	{"GET", "/fhir/Patient?_id={p}&_revinclude=Observation:subject", ""},
	{"GET", "/fhir/Observation?_id={o}&_include=Observation:subject", ""},
	{"GET", "/fhir/Organization?_id=clinic&_revinclude=Patient:organization", ""},
	{"GET", "/fhir/Observation/_history?_count=100", ""},
	{"GET", "/fhir/_history?_count=200", ""},
	{"GET", "/fhir/AuditEvent?patient={p}", ""},
	{"GET", "/fhir/Patient/{p}/$access-history", ""},
	{"POST", "/fhir/Observation/_search", "code=urn:leak|{code}&_total=accurate"},
	{"POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[
 {"request":{"method":"GET","url":"Patient/{p}"}},{"request":{"method":"GET","url":"Observation/{o}"}},
 {"request":{"method":"GET","url":"Observation?patient={p}&_total=accurate"}},{"request":{"method":"GET","url":"Observation/{d}"}},
 {"request":{"method":"GET","url":"Binary/{b}"}}]}`},
	{"POST", "/fhir/Patient/{p}/$restricted-code", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"allergy check"}]}`},
	{"POST", "/fhir/Patient/{p}/$revoke-sharing", `{"resourceType":"Parameters","parameter":[{"name":"organization","valueReference":{"reference":"Organization/clinic"}}]}`},
	{"DELETE", "/fhir/Observation/{o}", ""},
	{"PUT", "/fhir/Observation/{o}", `{"resourceType":"Observation","id":"{o}","status":"final","code":{"coding":[{"system":"urn:leak","code":"{code}"}]},"subject":{"reference":"Patient/{p}"}}`},
	{"PATCH", "/fhir/Observation/{o}", `[{"op":"replace","path":"/status","value":"amended"}]`},
	{"DELETE", "/fhir/Observation?identifier=urn:leak|{o}", ""},
	{"PUT", "/fhir/Observation?identifier=urn:leak|{o}", `{"resourceType":"Observation","status":"final","identifier":[{"system":"urn:leak","value":"{o}"}],"code":{"coding":[{"system":"urn:leak","code":"{code}"}]},"subject":{"reference":"Patient/{p}"}}`},
	{"POST", "/fhir/Observation", `{"resourceType":"Observation","status":"final","identifier":[{"system":"urn:leak","value":"{o}"}],"code":{"coding":[{"system":"urn:leak","code":"{code}"}]},"subject":{"reference":"Patient/{p}"}}`},
}

// TestLeaks: for a professional, a citizen in any state they may not see
// — no consent, consent without care, revoked, expired consent, expired
// care, another provider's, their own emergency access expired, a
// colleague's emergency access — is indistinguishable from one who does
// not exist, and a restricted record from one that does not exist, on
// every read path (read, vread, history of every level, search with
// totals, counts, chains, _has, includes, compartment search,
// $everything, batch GETs, Binary, the journal's AuditEvents, the access
// history) and the paths that could reveal a record (update, patch and
// delete at its id, conditional update, delete and create matching it,
// the consent operations): same status, same body once the names are
// swapped. A patient the professional may see answers differently on
// every probe that names them, so the probes do reach the data.
func TestLeaks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{Emergency: true})
			s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Organization/qmh", `{"resourceType":"Organization","id":"qmh","name":"Queen Mary Hospital"}`).must(t, http.StatusCreated)
			dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
				Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")})
			// seed writes patient p's record: the Patient (joined), a result,
			// a deleted result and a Binary about them; restricted adds a
			// restricted result, for the twin comparison.
			seed := func(p string, restricted bool) {
				s.do("PUT", "/fhir/Patient/"+p, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Leak%s"}],"managingOrganization":{"reference":"Organization/clinic"}}`, p, p)).must(t, http.StatusCreated)
				join(t, s, p)
				obs := func(id, code, label string) {
					sec := ""
					if label != "" {
						sec = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},`
					}
					s.do("PUT", "/fhir/Observation/"+id, fmt.Sprintf(`{"resourceType":"Observation","id":%q,%s"status":"final","identifier":[{"system":"urn:leak","value":%q}],
 "code":{"coding":[{"system":"urn:leak","code":%q}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":"2024-01-01"}`, id, sec, id, code, p)).must(t, http.StatusCreated)
				}
				obs(p+"-o", p+"-code", "")
				obs(p+"-d", p+"-code", "")
				s.do("DELETE", "/fhir/Observation/"+p+"-d", nil).must(t, http.StatusNoContent)
				s.do("PUT", "/fhir/Binary/"+p+"-b", fmt.Sprintf(`{"resourceType":"Binary","id":"%s-b","contentType":"text/plain","data":"aGVsbG8=","securityContext":{"reference":"Patient/%s"}}`, p, p)).must(t, http.StatusCreated)
				if restricted {
					obs(p+"-r", p+"-rcode", "R")
				}
			}
			care := func(p string) {
				s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "")).must(t, http.StatusCreated)
				s.do("PUT", "/fhir/Encounter/"+p+"-e", careEncounter(p+"-e", p, "clinic", "in-progress")).must(t, http.StatusCreated)
			}
			// ask sends probe i about subject, as the professional, with
			// fill's names, and returns the answer with subject's names
			// swapped for ghost's and the volatile parts removed.
			ask := func(i int, subject, ghost string, fill *strings.Replacer) string {
				t.Helper()
				pr := leakProbes[i]
				var body any
				headers := []string{"Authorization", dr}
				switch {
				case strings.HasSuffix(pr.path, "_search"):
					body = fill.Replace(pr.body)
					headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
				case pr.method == "PATCH":
					body = pr.body
					headers = append(headers, "Content-Type", "application/json-patch+json")
				case pr.body != "":
					body = fill.Replace(pr.body)
				}
				r := s.do(pr.method, fill.Replace(pr.path), body, headers...)
				return normalizeLeak(r, subject, ghost)
			}
			patient := func(p string) *strings.Replacer {
				return strings.NewReplacer("{p}", p, "{o}", p+"-o", "{d}", p+"-d", "{b}", p+"-b", "{fam}", "Leak"+p, "{code}", p+"-code")
			}
			// A restricted record against one that does not exist, in two
			// patients the professional may see: twin-a has it, twin-b not.
			restricted := func(p string) *strings.Replacer {
				return strings.NewReplacer("{p}", p, "{o}", p+"-r", "{d}", p+"-d", "{b}", p+"-b", "{fam}", "Leak"+p, "{code}", p+"-rcode")
			}

			for _, st := range leakStates {
				seed("lk-"+st.name, false)
				st.setup(s, "lk-"+st.name)
			}
			seed("lk-joined", false) // joined, nothing to do with the clinic: the deposits' baseline
			seed("lk-seen", false)
			care("lk-seen")
			seed("twin-a", true)
			seed("twin-b", false)
			care("twin-a")
			care("twin-b")
			// A restricted access of dr's that expired, one of a colleague's.
			s.do("PUT", "/fhir/Consent/twin-a-ra", grantConsent("twin-a-ra", consent.CategoryRestrictedAccess, "twin-a", "Practitioner/dr", "2021-01-01")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Consent/twin-a-rb", grantConsent("twin-a-rb", consent.CategoryRestrictedAccess, "twin-a", "Practitioner/dr2", "")).must(t, http.StatusCreated)
			s.do("GET", "/fhir/Observation/twin-a-r", nil).must(t, http.StatusOK) // it exists

			// Writes change what later probes see: every probe is asked of
			// each subject in turn, the ghost first.
			for i, pr := range leakProbes {
				// A deposit is open to any provider for any citizen who
				// joined (the joining consent), so a create answers as for
				// a joined citizen the provider has no relationship with.
				baseline := "lk-ghost"
				if creates(pr.method, pr.path) {
					baseline = "lk-joined"
				}
				ghost := ask(i, baseline, "lk-ghost", patient(baseline))
				for _, st := range leakStates {
					if got := ask(i, "lk-"+st.name, "lk-ghost", patient("lk-"+st.name)); got != ghost {
						t.Errorf("%s %s for a patient in state %q answers differently from one who does not exist (or, for a deposit, who joined and has nothing to do with the provider):\n%s", pr.method, pr.path, st.name, diffLeak(got, ghost))
					}
				}
				if got := ask(i, "lk-seen", "lk-ghost", patient("lk-seen")); got == ghost && pr.method == "GET" && strings.Contains(pr.path, "{") &&
					!strings.Contains(pr.path, "$access-history") && !strings.Contains(pr.path, "AuditEvent") {
					t.Errorf("%s %s for a patient the professional may see answers as for none: the probe reaches nothing: %s", pr.method, pr.path, got)
				}
				if !strings.Contains(pr.path+pr.body, "{") || strings.Contains(pr.path, "_revinclude=Patient:organization") {
					continue // about every patient: the twins are both in it
				}
				twinB := ask(i, "twin-b", "twin-b", restricted("twin-b"))
				if got := ask(i, "twin-a", "twin-b", restricted("twin-a")); got != twinB {
					t.Errorf("%s %s about a restricted record answers differently from a record that does not exist:\n%s", pr.method, pr.path, diffLeak(got, twinB))
				}
			}
		})
	}
}

// creates reports whether a probe deposits a new record (a POST of a
// resource, a conditional update that matches nothing).
func creates(method, path string) bool {
	return (method == "POST" && path == "/fhir/Observation") || (method == "PUT" && strings.Contains(path, "?"))
}

// volatileLeak are the parts of an answer that differ between any two
// requests: ids and times (of bundles, of resources a probe creates).
var volatileLeak = regexp.MustCompile(`"(lastUpdated|lastModified|timestamp|id|recorded|sent|date|end)":"[^"]*"|urn:uuid:[0-9a-f-]{36}|Generated: [^<]*|/fhir/[A-Za-z]+/[0-9a-f-]{36}|AuditEvent/j-[0-9]+|_cursor=[^"&]*|"query":"[^"]*"|"value":"[0-9a-f]{16}"`)

// diffLeak shows where two answers part.
func diffLeak(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-150)
	return fmt.Sprintf(" got  …%s\n want …%s", got[from:min(len(got), i+250)], want[from:min(len(want), i+250)])
}

// normalizeLeak is r's status and body with subject's names replaced by
// ghost's and the volatile parts blanked.
func normalizeLeak(r response, subject, ghost string) string {
	raw := string(r.raw)
	if r.body != nil {
		b, _ := json.Marshal(r.body)
		raw = string(b)
	}
	raw = strings.NewReplacer(subject, ghost, "Leak"+subject, "Leak"+ghost).Replace(raw)
	return fmt.Sprintf("%d %s", r.status, volatileLeak.ReplaceAllString(raw, "…"))
}

// TestOperationsAudited: an operation's call is in the journal before its
// answer, with the patient it was about — here a citizen reading their
// access history.
func TestOperationsAudited(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			s := fullServer(t, st, consent.Policy{})
			s.do("PUT", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1"}`).must(t, http.StatusCreated)
			citizen := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})
			s.do("GET", "/fhir/Patient/p1/$access-history", nil, "Authorization", citizen).must(t, http.StatusOK)
			entries, err := st.ReadAudit(t.Context(), store.AuditQuery{Patient: "p1"})
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, e := range entries {
				if body := string(e.Body); strings.Contains(body, `"code":"operation"`) && strings.Contains(body, "Patient/p1") {
					found++
				}
			}
			if found != 1 {
				t.Errorf("the journal holds %d operation entries about p1, want 1", found)
			}
		})
	}
}

// TestAccessFlags: a professional's reads during their emergency access
// are audited as emergency accesses, and reads of an opened restricted
// record as restricted accesses, so the citizen's access history says so;
// an ordinary read is neither.
func TestAccessFlags(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			s := fullServer(t, st, consent.Policy{Emergency: true})
			s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1"}`).must(t, http.StatusCreated)
			join(t, s, "p1")
			s.do("PUT", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"BP"},"subject":{"reference":"Patient/p1"}}`).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Observation/r1", `{"resourceType":"Observation","id":"r1","status":"final","code":{"text":"HIV"},"subject":{"reference":"Patient/p1"},
 "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}`).must(t, http.StatusCreated)
			pro := func(id string) string {
				return "Bearer " + s.issue(token.Claims{Subject: id, ClientID: "emr", FHIRUser: "Practitioner/" + id, Org: "Organization/clinic",
					Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
			}
			er, ward, lab := pro("er"), pro("ward"), pro("labdr")
			s.do("GET", "/fhir/Observation/o1", nil, "Authorization", er).must(t, http.StatusNotFound)
			s.do("POST", "/fhir/Patient/p1/$emergency-access", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"unconscious in A&E"}]}`,
				"Authorization", er).must(t, http.StatusOK)
			s.do("GET", "/fhir/Observation/o1", nil, "Authorization", er).must(t, http.StatusOK)
			// ward sees p1 by consent and care; labdr has also opened the
			// restricted record.
			s.do("PUT", "/fhir/Consent/c1", sharingConsent("c1", "p1", "clinic", "active", "")).must(t, http.StatusCreated)
			s.do("PUT", "/fhir/Encounter/e1", careEncounter("e1", "p1", "clinic", "in-progress")).must(t, http.StatusCreated)
			s.do("GET", "/fhir/Observation/o1", nil, "Authorization", ward).must(t, http.StatusOK)
			s.do("PUT", "/fhir/Consent/ra", grantConsent("ra", consent.CategoryRestrictedAccess, "p1", "Practitioner/labdr", "")).must(t, http.StatusCreated)
			s.do("GET", "/fhir/Observation/r1", nil, "Authorization", lab).must(t, http.StatusOK)

			entries, err := st.ReadAudit(t.Context(), store.AuditQuery{Patient: "p1"})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range entries {
				body := string(e.Body)
				if !strings.Contains(body, `"code":"read"`) {
					continue
				}
				for _, who := range []string{"er", "ward", "labdr"} {
					if strings.Contains(body, `"Practitioner/`+who+`"`) {
						got[who] = fmt.Sprintf("emergency=%v restricted=%v", strings.Contains(body, "BTG"), strings.Contains(body, `"code":"R","display":"restricted"`))
					}
				}
			}
			want := map[string]string{"er": "emergency=true restricted=false", "ward": "emergency=false restricted=false", "labdr": "emergency=false restricted=true"}
			for who, w := range want {
				if got[who] != w {
					t.Errorf("%s's read is audited with %q, want %q", who, got[who], w)
				}
			}
			citizen := "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})
			h := s.do("GET", "/fhir/Patient/p1/$access-history", nil, "Authorization", citizen).must(t, http.StatusOK)
			if raw := string(h.raw); !strings.Contains(raw, `"name":"emergency","valueBoolean":true`) || !strings.Contains(raw, `"name":"restricted","valueBoolean":true`) {
				t.Errorf("the access history does not flag the emergency and restricted accesses: %s", raw)
			}
			// Professionals the registry cannot name are still said to be one.
			if raw := string(h.raw); !strings.Contains(raw, "A healthcare professional at Clinic A viewed") || !strings.Contains(raw, "一位醫護人員（Clinic A）") {
				t.Errorf("the access history does not say who, when the registry cannot name the professional: %s", raw)
			}
		})
	}
}
