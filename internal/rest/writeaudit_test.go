package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// auditEnv is an audited API over one store: servers built with different
// auditors share the store, the platform and the token keys.
type auditEnv struct {
	t       *testing.T
	st      store.Store
	auditor *audit.Auditor
	serve   func(a rest.Auditor, notified store.Keyed) *server
}

func newAuditEnv(t *testing.T, b platformtest.Backend) *auditEnv {
	st := b.Open(t)
	t.Cleanup(func() { st.Close() })
	p := platformtest.OpenShared(t, st)
	tokens := newTokens(t, st)
	auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditor.Close(context.Background()) })
	serve := func(a rest.Auditor, notified store.Keyed) *server {
		api := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: a, Notified: notified},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		hs := httptest.NewServer(api.Handler())
		t.Cleanup(hs.Close)
		s := &server{t: t, svc: p.Service, srv: hs, tokens: tokens, keys: st}
		s.bearer = s.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
		return s
	}
	return &auditEnv{t: t, st: st, auditor: auditor, serve: serve}
}

// journalEntry is what a test checks of an audit entry.
type journalEntry struct {
	seq         int64
	action      string // C R U D E
	interaction string // AuditEvent.subtype: create, read, history-type …
	what        string // the resource entity ("Observation/x/_history/1")
	patients    []string
	body        string
}

// head is the seq of the journal's last entry.
func (e *auditEnv) head() int64 {
	e.t.Helper()
	last, err := e.st.ReadAudit(e.t.Context(), store.AuditQuery{Newest: true, Limit: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(last) == 0 {
		return 0
	}
	return last[0].Seq
}

// since returns the entries after seq that name who (e.g. "Practitioner/dr").
func (e *auditEnv) since(seq int64, who string) []journalEntry {
	e.t.Helper()
	entries, err := e.st.ReadAudit(e.t.Context(), store.AuditQuery{From: seq + 1})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []journalEntry
	for _, en := range entries {
		if !strings.Contains(string(en.Body), who) {
			continue
		}
		var ev struct {
			Action  string `json:"action"`
			Subtype []struct {
				Code string `json:"code"`
			} `json:"subtype"`
			Entity []struct {
				What struct {
					Reference string `json:"reference"`
				} `json:"what"`
				Role struct {
					Code string `json:"code"`
				} `json:"role"`
			} `json:"entity"`
		}
		if err := json.Unmarshal(en.Body, &ev); err != nil {
			e.t.Fatal(err)
		}
		j := journalEntry{seq: en.Seq, action: ev.Action, interaction: ev.Subtype[0].Code, patients: en.Patients, body: string(en.Body)}
		for _, x := range ev.Entity {
			if x.Role.Code == "4" {
				j.what = x.What.Reference
			}
		}
		out = append(out, j)
	}
	return out
}

// summary is "action interaction patient" per entry, sorted.
func summary(entries []journalEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.action+" "+e.interaction+" "+strings.Join(e.patients, ","))
	}
	slices.Sort(out)
	return out
}

func observation(id, patient string) string {
	idPart := ""
	if id != "" {
		idPart = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{"resourceType":"Observation",%s"status":"final","identifier":[{"system":"urn:test","value":"id-%s"}],
 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/%s"}}`, idPart, id, patient)
}

// TestAuditedWrites: every write a professional makes — create, update,
// patch, delete, the conditional ones, each transaction and batch entry —
// leaves exactly one BALP entry per patient with the right action, naming
// the professional, their role, provider and purpose of use; batch GETs
// and history are recorded as reads. A journal that cannot append refuses
// the write and nothing is stored.
func TestAuditedWrites(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			e := newAuditEnv(t, b)
			s := e.serve(e.auditor, nil)
			seedClinic(t, s)
			join(t, s, "p1", "p2")
			for _, p := range []string{"p1", "p2"} {
				s.do("PUT", "/fhir/Consent/share-"+p, sharingConsent("share-"+p, p, "qmh", "active", "")).must(t, http.StatusCreated)
				s.do("PUT", "/fhir/Encounter/visit-"+p, careEncounter("visit-"+p, p, "qmh", "in-progress")).must(t, http.StatusCreated)
			}
			dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/qmh",
				Role: "PractitionerRole/dr-qmh", Purpose: "TREAT", Scope: scope.MustParse("user/*.cruds")})
			as := []string{"Authorization", dr}
			patch := []string{"Authorization", dr, "Content-Type", "application/json-patch+json"}
			tx := func(typ string, entries ...string) string {
				return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
			}
			steps := []struct {
				name         string
				method, path string
				body         string
				headers      []string
				status       int
				want         []string // summary of the professional's new entries
			}{
				{"create", "POST", "/fhir/Observation", observation("", "p1"), as, 201, []string{"C create p1"}},
				{"update-as-create is the operator's: a token's PUT at a free id is not known", "PUT", "/fhir/Observation/w0", observation("w0", "p1"), as, 404, nil},
				{"update", "PUT", "/fhir/Observation/w1", strings.Replace(observation("w1", "p1"), "final", "amended", 1), as, 200, []string{"U update p1"}},
				{"update changing nothing: no version, still recorded", "PUT", "/fhir/Observation/w1", strings.Replace(observation("w1", "p1"), "final", "amended", 1), as, 200, []string{"U update p1"}},
				{"patch", "PATCH", "/fhir/Observation/w1", `[{"op":"replace","path":"/status","value":"corrected"}]`, patch, 200, []string{"U patch p1"}},
				{"delete", "DELETE", "/fhir/Observation/w1", "", as, 204, []string{"D delete p1"}},
				{"delete of a deleted resource writes nothing", "DELETE", "/fhir/Observation/w1", "", as, 204, nil},
				{"conditional create", "POST", "/fhir/Observation", observation("c1", "p2"), append(as, "If-None-Exist", "identifier=urn:test|id-c1"), 201, []string{"C create p2"}},
				{"conditional create finding it: a read", "POST", "/fhir/Observation", observation("c1", "p2"), append(as, "If-None-Exist", "identifier=urn:test|id-c1"), 200, []string{"R read p2"}},
				{"conditional update", "PUT", "/fhir/Observation?identifier=urn:test|id-c1", strings.Replace(observation("", "p2"), "id-", "id-c1", 1), as, 200, []string{"U update p2"}},
				{"conditional delete", "DELETE", "/fhir/Observation?identifier=urn:test|id-c1", "", as, 204, []string{"D delete p2"}},
				{"transaction of three entries", "POST", "/fhir", tx("transaction",
					`{"request":{"method":"POST","url":"Observation"},"resource":`+observation("", "p1")+`}`,
					`{"request":{"method":"POST","url":"Observation"},"resource":`+observation("", "p2")+`}`,
					`{"request":{"method":"PUT","url":"Observation?identifier=urn:test|id-t3"},"resource":`+strings.Replace(observation("", "p1"), `"id-"`, `"id-t3"`, 1)+`}`),
					as, 200, []string{"C create p1", "C create p1", "C create p2"}},
				{"batch with a GET entry", "POST", "/fhir", tx("batch",
					`{"request":{"method":"PUT","url":"Observation?identifier=urn:test|id-t3"},"resource":`+strings.Replace(strings.Replace(observation("", "p1"), `"id-"`, `"id-t3"`, 1), "final", "amended", 1)+`}`,
					`{"request":{"method":"GET","url":"Patient/p2"}}`,
					`{"request":{"method":"GET","url":"Patient/p3"}}`),
					as, 200, []string{"R read p2", "U update p1"}},
				{"instance history", "GET", "/fhir/Observation/w1/_history", "", as, 200, []string{"R history-instance p1"}},
				{"type history: one entry per patient served", "GET", "/fhir/Encounter/_history", "", as, 200, []string{"R history-type p1", "R history-type p2"}},
				{"system history", "GET", "/fhir/_history?_count=1", "", as, 200, []string{"R history-system p1"}},
			}
			// The professional's provider deposited w1 (tokens create only
			// with POST, at an id the server chooses).
			if _, _, err := s.svc.Update(t.Context(), resource.Caller{Writer: "Organization/qmh"}, "Observation", "w1", obj(t, observation("w1", "p1")), 0); err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				before := e.head()
				r := s.do(st.method, st.path, st.body, st.headers...)
				if r.status != st.status {
					t.Errorf("%s: %s %s = %d, want %d: %s", st.name, st.method, st.path, r.status, st.status, r.raw)
					continue
				}
				entries := e.since(before, "Practitioner/dr")
				if got := summary(entries); !slices.Equal(got, st.want) {
					t.Errorf("%s: journal %v, want %v", st.name, got, st.want)
				}
				for _, en := range entries {
					for _, want := range []string{"TREAT", "Organization/qmh", "PractitionerRole/dr-qmh", `"code":"emr"`, "127.0.0.1"} {
						if !strings.Contains(en.body, want) && !(want == `"code":"emr"` && strings.Contains(en.body, `"value":"emr"`)) {
							t.Errorf("%s: entry %d lacks %s: %s", st.name, en.seq, want, en.body)
						}
					}
					if en.action != "R" && !strings.HasPrefix(en.what, "Observation/") {
						t.Errorf("%s: entry %d names %q as the resource written", st.name, en.seq, en.what)
					}
				}
			}

			// A journal that cannot append refuses the write: nothing is
			// stored, and a batch's GET entry fails on its own.
			broken := e.serve(brokenAppender{e.auditor}, nil)
			count := func() string {
				r := s.do("GET", "/fhir/Observation?_summary=count", nil).must(t, http.StatusOK)
				return fmt.Sprint(r.body["total"])
			}
			n := count()
			before := e.head()
			for _, w := range []struct{ method, path, body string }{
				{"POST", "/fhir/Observation", observation("", "p1")},
				{"PUT", "/fhir/Observation?identifier=urn:test|id-t3", strings.Replace(strings.Replace(observation("", "p1"), `"id-"`, `"id-t3"`, 1), "final", "cancelled", 1)},
				{"DELETE", "/fhir/Observation?identifier=urn:test|id-t3", ""},
				{"POST", "/fhir", tx("transaction", `{"request":{"method":"POST","url":"Observation"},"resource":`+observation("", "p1")+`}`,
					`{"request":{"method":"POST","url":"Observation"},"resource":`+observation("", "p2")+`}`)},
			} {
				if r := broken.do(w.method, w.path, w.body, as...); r.status != http.StatusServiceUnavailable {
					t.Errorf("%s %s with a failing journal = %d, want 503: %s", w.method, w.path, r.status, r.raw)
				}
			}
			if got := count(); got != n {
				t.Errorf("a failed audit left writes behind: %s Observations, was %s", got, n)
			}
			if v := s.do("GET", "/fhir/Observation?identifier=urn:test|id-t3", nil).must(t, http.StatusOK); !strings.Contains(string(v.raw), `"status":"amended"`) {
				t.Errorf("Observation t3 changed though its audit failed: %s", v.raw)
			}
			r := broken.do("POST", "/fhir", tx("batch", `{"request":{"method":"GET","url":"Patient/p1"}}`), as...).must(t, http.StatusOK)
			entry := r.body["entry"].([]any)[0].(map[string]any)
			if status := entry["response"].(map[string]any)["status"]; !strings.HasPrefix(fmt.Sprint(status), "503") || entry["resource"] != nil {
				t.Errorf("a batch GET with a failing journal answered %v", entry)
			}
			if got := e.since(before, "Practitioner/dr"); len(got) != 0 {
				t.Errorf("the failing journal recorded %v", summary(got))
			}
		})
	}
}

// brokenAppender records reads through the real auditor, but every append
// inside a write's transaction fails in the store: an entry without a body
// is refused by the journal itself.
type brokenAppender struct{ *audit.Auditor }

func (brokenAppender) RecordTx(ctx context.Context, tx store.AuditAppender, _ audit.Event) error {
	return tx.AppendAudit(ctx, []store.AuditEntry{{Patients: []string{"p1"}}})
}
