package rest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// journalWorld is a server with the journal served, and the journal
// entries that real requests wrote into it.
type journalWorld struct {
	*server
	st      store.Store
	auditor *audit.Auditor
	// Tokens.
	citizen, other, dr, lab string
	// Entries, by what made them.
	opReadOld, drRead, drSearch, labRead, opReadP2, selfRead, fixed, emergency string
}

// newJournalWorld seeds a clinic (Happy Valley Clinic, bilingual), its
// doctor (Chan Tai Man / 陳大文, registered with the Medical Council), a
// lab, and citizen p1 whose record joins a provider's record l1 (linked)
// and a record p1old merged into it; then makes journal entries by real
// requests, and two at fixed times through the Auditor.
func newJournalWorld(t *testing.T, st store.Store) *journalWorld {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	p := platformtest.OpenShared(t, st)
	tokens := newTokens(t, st)
	auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditor.Close(context.Background()) })
	j := journal.New(st, p.Service, p.Registry)
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: auditor, Journal: j,
		Operations: rest.OperationSet{j}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
	s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	w := &journalWorld{server: s, st: st, auditor: auditor}

	seedClinic(t, s)
	for _, body := range []string{
		`{"resourceType":"Organization","id":"hvc","name":"Happy Valley Clinic","_name":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/translation","extension":[{"url":"lang","valueCode":"zh-Hant"},{"url":"content","valueString":"快樂谷診所"}]}]}}`,
		`{"resourceType":"Organization","id":"lab","name":"Kowloon Lab"}`,
		`{"resourceType":"Practitioner","id":"dr","identifier":[{"system":"` + registry.RegistrationSystemPrefix + `mchk","value":"M12345"}],
		  "name":[{"text":"Chan Tai Man","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/language","valueCode":"en"}]},{"text":"陳大文"}]}`,
		`{"resourceType":"PractitionerRole","id":"dr-hvc","practitioner":{"reference":"Practitioner/dr"},"organization":{"reference":"Organization/hvc"}}`,
		`{"resourceType":"DiagnosticReport","id":"lab1","status":"final","code":{"text":"CBC"},"subject":{"reference":"Patient/p1"}}`,
		`{"resourceType":"Patient","id":"p1old","name":[{"family":"Chan"}]}`,
		`{"resourceType":"Observation","id":"oldobs","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/p1old"}}`,
		sharingConsent("c1", "p1", "hvc", "active", ""),
		careEncounter("e1", "p1", "hvc", "in-progress"),
	} {
		r := s.do("POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":`+body+`,"request":{"method":"PUT","url":"`+ref(t, body)+`"}}]}`)
		r.must(t, http.StatusOK)
	}
	w.citizen = "Bearer " + s.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})
	w.other = "Bearer " + s.issue(token.Claims{Subject: "p2", ClientID: "app", FHIRUser: "Patient/p2", Scope: scope.MustParse("patient/*.rs")})
	w.dr = "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/hvc",
		Role: "PractitionerRole/dr-hvc", Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
	w.lab = "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Observation.cruds system/AuditEvent.rs")})

	// The operator reads the record that is merged later: the entry keeps its key.
	w.opReadOld = w.entryOf(func() { s.do("GET", "/fhir/Observation/oldobs", nil).must(t, 200) })
	for _, body := range []string{
		`{"resourceType":"Patient","id":"l1","name":[{"family":"Chan"}],"link":[{"other":{"reference":"Patient/p1"},"type":"refer"}]}`,
		`{"resourceType":"Patient","id":"p1old","active":false,"name":[{"family":"Chan"}],"link":[{"other":{"reference":"Patient/p1"},"type":"replaced-by"}]}`,
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Chan","given":["Tai Man"]}],"link":[{"other":{"reference":"Patient/l1"},"type":"seealso"},{"other":{"reference":"Patient/p1old"},"type":"replaces"}]}`,
	} {
		if r := s.do("PUT", "/fhir/"+ref(t, body), body); r.status != http.StatusCreated && r.status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", ref(t, body), r.status, r.raw)
		}
	}
	// The lab's deposit (at a chosen id, so through the service: a token
	// creates only at ids the server chooses).
	if _, _, err := s.svc.Update(t.Context(), resource.Caller{Writer: "Organization/lab"}, "Observation", "labobs",
		obj(t, `{"resourceType":"Observation","id":"labobs","status":"final","code":{"text":"glucose"},"subject":{"reference":"Patient/p1"}}`), 0); err != nil {
		t.Fatal(err)
	}
	w.drRead = w.entryOf(func() { s.do("GET", "/fhir/DiagnosticReport/lab1", nil, "Authorization", w.dr).must(t, 200) })
	w.drSearch = w.entryOf(func() {
		s.do("GET", "/fhir/Observation?patient=p1&code=8480-6", nil, "Authorization", w.dr).must(t, 200)
	})
	w.labRead = w.entryOf(func() { s.do("GET", "/fhir/Observation/labobs", nil, "Authorization", w.lab).must(t, 200) })
	w.opReadP2 = w.entryOf(func() { s.do("GET", "/fhir/Patient/p2", nil).must(t, 200) })
	w.selfRead = w.entryOf(func() { s.do("GET", "/fhir/Patient/p1", nil, "Authorization", w.citizen).must(t, 200) })
	drCaller := audit.Caller{FHIRUser: "Practitioner/dr", Role: "PractitionerRole/dr-hvc", Org: "Organization/hvc", ClientID: "emr", Purpose: "TREAT"}
	w.fixed = w.entryOf(func() {
		w.record(audit.Event{Interaction: audit.Read, Time: time.Date(2019, 11, 3, 2, 42, 0, 0, time.UTC),
			Resource: "DiagnosticReport/lab1/_history/1", Patients: []string{"p1"}, Caller: drCaller})
	})
	er := drCaller
	er.Purpose = "ETREAT"
	w.emergency = w.entryOf(func() {
		w.record(audit.Event{Interaction: audit.SearchType, Time: time.Date(2019, 12, 24, 15, 5, 0, 0, time.UTC),
			Query: "AllergyIntolerance?patient=p1", Patients: []string{"p1"}, Caller: er, Emergency: true, Restricted: true, Reason: "unconscious"})
	})
	return w
}

// ref is "Type/id" of a resource literal.
func ref(t *testing.T, body string) string {
	m := obj(t, body)
	return m["resourceType"].(string) + "/" + m["id"].(string)
}

func (w *journalWorld) record(e audit.Event) {
	w.t.Helper()
	if err := w.auditor.Record(w.t.Context(), e); err != nil {
		w.t.Fatal(err)
	}
}

// entryOf runs fn, which must append exactly one journal entry, and
// returns its AuditEvent id.
func (w *journalWorld) entryOf(fn func()) string {
	w.t.Helper()
	before := w.head()
	fn()
	if after := w.head(); after != before+1 {
		w.t.Fatalf("%d journal entries written, want 1", after-before)
	}
	return audit.EventID(before + 1)
}

// head is the journal's last seq.
func (w *journalWorld) head() int64 {
	w.t.Helper()
	got, err := w.st.ReadAudit(w.t.Context(), store.AuditQuery{Newest: true, Limit: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(got) == 0 {
		return 0
	}
	return got[0].Seq
}

// eventIDs lists the AuditEvent ids of a searchset.
func eventIDs(r response) []string {
	var out []string
	for _, id := range ids(r, "match") {
		out = append(out, strings.TrimPrefix(id, "AuditEvent/"))
	}
	return out
}

// notFoundText is a 404's diagnostics with the id asked for replaced, so
// two answers compare.
func notFoundText(t *testing.T, r response, id string) string {
	t.Helper()
	if r.status != http.StatusNotFound {
		t.Errorf("status %d, want 404: %s", r.status, r.raw)
	}
	issues, _ := r.body["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	m := issues[0].(map[string]any)
	return fmt.Sprint(m["code"], " ", strings.ReplaceAll(fmt.Sprint(m["diagnostics"]), id, "ID"))
}

// TestJournalVisibility: who sees which journal AuditEvents, by read and
// by search. What a caller may not see answers as a missing entry.
func TestJournalVisibility(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			w := newJournalWorld(t, b.Open(t))
			missing := audit.EventID(w.head() + 1000)
			cases := []struct {
				name       string
				auth       string
				sees, not  []string
				searchWith string // extra search parameters
			}{
				{"citizen: own keys, linked and merged", w.citizen, []string{w.opReadOld, w.drRead, w.drSearch, w.labRead, w.selfRead, w.fixed}, []string{w.opReadP2}, ""},
				{"another citizen: only their own", w.other, []string{w.opReadP2}, []string{w.opReadOld, w.drRead, w.labRead, w.selfRead}, ""},
				{"a provider's professional: its own organisation's", w.dr, []string{w.drRead, w.drSearch, w.fixed, w.emergency}, []string{w.opReadOld, w.labRead, w.opReadP2, w.selfRead}, ""},
				{"a provider's system: its own organisation's", w.lab, []string{w.labRead}, []string{w.drRead, w.opReadP2}, ""},
				{"operator: all", "", []string{w.opReadOld, w.drRead, w.labRead, w.opReadP2, w.selfRead}, nil, ""},
				{"operator by patient: every key of the record", "", []string{w.opReadOld, w.drRead, w.labRead}, []string{w.opReadP2}, "&patient=p1"},
				{"citizen naming another patient", w.citizen, nil, []string{w.opReadP2, w.drRead}, "&patient=p2"},
				{"provider by patient", w.dr, []string{w.drRead}, []string{w.labRead, w.opReadOld}, "&patient=Patient/p1"},
			}
			for _, c := range cases {
				auth := []string{}
				if c.auth != "" {
					auth = []string{"Authorization", c.auth}
				}
				r := w.do("GET", "/fhir/AuditEvent?_count=500"+c.searchWith, nil, auth...).must(t, http.StatusOK)
				got := eventIDs(r)
				if _, ok := r.body["total"]; ok {
					t.Errorf("%s: a total was given: %v", c.name, r.body["total"])
				}
				for _, id := range c.sees {
					if !slices.Contains(got, id) {
						t.Errorf("%s: search lacks %s (got %v)", c.name, id, got)
					}
					if c.searchWith == "" {
						w.do("GET", "/fhir/AuditEvent/"+id, nil, auth...).must(t, http.StatusOK)
					}
				}
				for _, id := range c.not {
					if slices.Contains(got, id) {
						t.Errorf("%s: search shows %s", c.name, id)
					}
					if c.searchWith == "" {
						hidden := notFoundText(t, w.do("GET", "/fhir/AuditEvent/"+id, nil, auth...), id)
						absent := notFoundText(t, w.do("GET", "/fhir/AuditEvent/"+missing, nil, auth...), missing)
						if hidden != absent || hidden == "" {
							t.Errorf("%s: reading hidden %s answers %q, a missing one %q", c.name, id, hidden, absent)
						}
					}
				}
			}
			// The citizen gets no session details of the professional's.
			r := w.do("GET", "/fhir/AuditEvent/"+w.drRead, nil, "Authorization", w.citizen).must(t, http.StatusOK)
			if strings.Contains(string(r.raw), `"policy"`) || r.body["id"] != w.drRead || r.header.Get("ETag") != `W/"1"` {
				t.Errorf("the citizen's view of %s: %s", w.drRead, r.raw)
			}
			w.do("GET", "/fhir/AuditEvent/"+w.drRead+"/_history/1", nil, "Authorization", w.citizen).must(t, http.StatusOK)
			w.do("GET", "/fhir/AuditEvent/"+w.drRead+"/_history/2", nil, "Authorization", w.citizen).must(t, http.StatusNotFound)
			// Dates are Hong Kong days.
			r = w.do("GET", "/fhir/AuditEvent?date=2019-11-03", nil).must(t, http.StatusOK)
			if got := eventIDs(r); !slices.Equal(got, []string{w.fixed}) {
				t.Errorf("date=2019-11-03 found %v, want [%s]", got, w.fixed)
			}
			r = w.do("GET", "/fhir/AuditEvent?date=ge2019-11-04&date=lt2020-01-01", nil).must(t, http.StatusOK)
			if got := eventIDs(r); !slices.Equal(got, []string{w.emergency}) {
				t.Errorf("date=ge2019-11-04&date=lt2020 found %v, want [%s]", got, w.emergency)
			}
			// 10:42 in Hong Kong on 3 Nov is 02:42 UTC: a UTC day does not hold it.
			r = w.do("GET", "/fhir/AuditEvent?date=2019-11-02", nil).must(t, http.StatusOK)
			if got := eventIDs(r); len(got) != 0 {
				t.Errorf("date=2019-11-02 (Hong Kong) found %v", got)
			}
			w.do("GET", "/fhir/AuditEvent?code=read", nil).must(t, http.StatusBadRequest)
			// A token with no AuditEvent scope is refused outright.
			obsOnly := "Bearer " + w.issue(token.Claims{Subject: "p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/Observation.rs")})
			w.do("GET", "/fhir/AuditEvent/"+w.drRead, nil, "Authorization", obsOnly).must(t, http.StatusForbidden)
		})
	}
}

// TestJournalPaging: following next links returns every entry once,
// newest first, however small the page.
func TestJournalPaging(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			w := newJournalWorld(t, b.Open(t))
			for _, c := range []struct {
				name, auth string
				want       func(head int64) []string
			}{
				{"operator", "", func(head int64) []string {
					var all []string
					for seq := head; seq >= 1; seq-- {
						all = append(all, audit.EventID(seq))
					}
					return all
				}},
				{"citizen", w.citizen, func(head int64) []string {
					var seqs []int64 // every entry under a key of p1's record
					for _, k := range []string{"p1", "l1", "p1old"} {
						entries, err := w.st.ReadAudit(t.Context(), store.AuditQuery{Patient: k, To: head})
						if err != nil {
							t.Fatal(err)
						}
						for _, e := range entries {
							seqs = append(seqs, e.Seq)
						}
					}
					slices.Sort(seqs)
					slices.Reverse(seqs)
					var mine []string
					for _, seq := range seqs {
						mine = append(mine, audit.EventID(seq))
					}
					return mine
				}},
			} {
				auth := []string{}
				if c.auth != "" {
					auth = []string{"Authorization", c.auth}
				}
				want := c.want(w.head())
				var got []string
				next := "/fhir/AuditEvent?_count=2"
				for pages := 0; next != "" && pages < 100; pages++ {
					r := w.do("GET", next, nil, auth...).must(t, http.StatusOK)
					got = append(got, eventIDs(r)...)
					next = strings.TrimPrefix(link(r, "next"), w.srv.URL)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: pages gave %v, want %v", c.name, got, want)
				}
			}
			w.do("GET", "/fhir/AuditEvent?_cursor=bm90LWEtc2Vx", nil).must(t, http.StatusBadRequest)
		})
	}
}

// TestJournalReadOnly: nobody writes a journal entry; AuditEvents sent by
// other systems are ordinary resources, read and searched in the store.
func TestJournalReadOnly(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			w := newJournalWorld(t, b.Open(t))
			body := `{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110110"},"recorded":"2026-01-01T00:00:00Z",
			 "agent":[{"who":{"display":"pacs"},"requestor":true}],"source":{"observer":{"display":"pacs"}}}`
			for _, c := range []struct{ method, id, body string }{
				{"PUT", w.drRead, body}, {"PUT", "j-999999", body}, {"DELETE", w.drRead, ""},
				{"PATCH", w.drRead, `{"resourceType":"Parameters","parameter":[]}`},
			} {
				var b any
				if c.body != "" {
					b = c.body
				}
				r := w.do(c.method, "/fhir/AuditEvent/"+c.id, b).must(t, http.StatusMethodNotAllowed)
				if !strings.Contains(string(r.raw), "read-only") {
					t.Errorf("%s AuditEvent/%s: %s", c.method, c.id, r.raw)
				}
			}
			created := w.do("POST", "/fhir/AuditEvent", body).must(t, http.StatusCreated)
			id := created.body["id"].(string)
			w.do("GET", "/fhir/AuditEvent/"+id, nil).must(t, http.StatusOK)
			w.do("PUT", "/fhir/AuditEvent/"+id, strings.Replace(body, "{", `{"id":"`+id+`",`, 1)).must(t, http.StatusOK)
			r := w.do("GET", "/fhir/AuditEvent?_tag="+strings.ReplaceAll(journal.ExternalTag, "|", "%7C"), nil).must(t, http.StatusOK)
			if got := eventIDs(r); slices.ContainsFunc(got, audit.IsEventID) {
				t.Errorf("the external search reached the journal: %v", got)
			}
			r = w.do("GET", "/fhir/AuditEvent?_count=500", nil).must(t, http.StatusOK)
			if got := eventIDs(r); slices.Contains(got, id) || !slices.Contains(got, w.drRead) {
				t.Errorf("the journal search: %v", got)
			}
		})
	}
}
