package rest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// accesses are the "access" parameters of an $access-history answer, each
// as its parts by name (the last value of a repeated part).
func accesses(r response) (list []map[string]any, next string) {
	params, _ := r.body["parameter"].([]any)
	for _, p := range params {
		m := p.(map[string]any)
		if m["name"] == "next" {
			next, _ = m["valueString"].(string)
			continue
		}
		parts := map[string]any{}
		for _, part := range m["part"].([]any) {
			pm := part.(map[string]any)
			for k, v := range pm {
				if k != "name" {
					parts[pm["name"].(string)] = v
				}
			}
		}
		list = append(list, parts)
	}
	return list, next
}

func eventOf(access map[string]any) string {
	return strings.TrimPrefix(access["event"].(map[string]any)["reference"].(string), "AuditEvent/")
}

// TestAccessHistory: the citizen's history says who opened their record,
// at which provider, when (Hong Kong time), what and why, with emergency
// and restricted flags, in English and Chinese; their own accesses are
// left out; nobody but the citizen (their SDM, the operator) gets it.
func TestAccessHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			w := newJournalWorld(t, b.Open(t))
			r := w.do("GET", "/fhir/Patient/p1/$access-history?_count=100", nil, "Authorization", w.citizen).must(t, http.StatusOK)
			list, next := accesses(r)
			byEvent := map[string]map[string]any{}
			for _, a := range list {
				byEvent[eventOf(a)] = a
			}
			if next != "" {
				t.Errorf("one page holds it all, yet next = %q", next)
			}
			for _, id := range []string{w.opReadOld, w.drRead, w.drSearch, w.labRead, w.fixed, w.emergency} {
				if byEvent[id] == nil {
					t.Errorf("the history lacks %s", id)
				}
			}
			if byEvent[w.selfRead] != nil || byEvent[w.opReadP2] != nil {
				t.Errorf("the history shows the citizen's own read or another's: %v", slices.Collect(mapsKeys(byEvent)))
			}
			cases := []struct {
				event  string
				en, zh string
				kind   string
				flags  [2]bool // emergency, restricted
			}{
				{w.fixed,
					"Dr Chan Tai Man at Happy Valley Clinic viewed your lab reports on 3 Nov 2019, 10:42, during a consultation",
					"陳大文醫生（快樂谷診所）於2019年11月3日10:42在診症期間查看了你的化驗報告", "professional", [2]bool{}},
				{w.emergency,
					`Dr Chan Tai Man at Happy Valley Clinic searched your allergy records on 24 Dec 2019, 23:05, for emergency treatment, using emergency access, including restricted records (reason given: "unconscious")`,
					"陳大文醫生（快樂谷診所）於2019年12月24日23:05為緊急治療搜尋了你的過敏紀錄（緊急存取）（包括受限制紀錄）（所述原因：unconscious）", "professional", [2]bool{true, true}},
			}
			for _, c := range cases {
				a := byEvent[c.event]
				if a == nil {
					continue
				}
				if a["text-en"] != c.en || a["text-zh-Hant"] != c.zh {
					t.Errorf("%s says\n  %v\n  %v\nwant\n  %s\n  %s", c.event, a["text-en"], a["text-zh-Hant"], c.en, c.zh)
				}
				if a["actor-kind"] != c.kind || a["emergency"] != c.flags[0] || a["restricted"] != c.flags[1] {
					t.Errorf("%s: kind %v emergency %v restricted %v", c.event, a["actor-kind"], a["emergency"], a["restricted"])
				}
				if org := a["organization"].(map[string]any); org["reference"] != "Organization/hvc" || org["display"] != "Happy Valley Clinic" {
					t.Errorf("%s: organization %v", c.event, org)
				}
			}
			for id, want := range map[string]string{
				w.opReadOld: "The eHealth platform operator viewed your test results and measurements on ",
				w.labRead:   "A computer system at Kowloon Lab viewed your test results and measurements on ",
				w.drSearch:  "Dr Chan Tai Man at Happy Valley Clinic searched your test results and measurements on ",
			} {
				if a := byEvent[id]; a != nil && !strings.HasPrefix(a["text-en"].(string), want) {
					t.Errorf("%s says %q, want it to start %q", id, a["text-en"], want)
				}
			}
			if a := byEvent[w.labRead]; a != nil && !strings.HasPrefix(a["text-zh-Hant"].(string), "Kowloon Lab的電腦系統於") {
				t.Errorf("the lab's read in Chinese: %v", a["text-zh-Hant"])
			}

			// One language; paging one at a time gives the same accesses once each.
			r = w.do("GET", "/fhir/Patient/p1/$access-history?lang=zh-Hant&_count=1", nil, "Authorization", w.citizen).must(t, http.StatusOK)
			page, _ := accesses(r)
			if len(page) != 1 || page[0]["text-en"] != nil || page[0]["text-zh-Hant"] == nil {
				t.Errorf("lang=zh-Hant&_count=1: %v", page)
			}
			var paged []string
			for cursor, n := "", 0; n < 50; n++ {
				r := w.do("GET", "/fhir/Patient/p1/$access-history?_count=2&_cursor="+url.QueryEscape(cursor), nil, "Authorization", w.citizen).must(t, http.StatusOK)
				page, next := accesses(r)
				for _, a := range page {
					paged = append(paged, eventOf(a))
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			var all []string
			for _, a := range list {
				all = append(all, eventOf(a))
			}
			if !slices.Equal(paged, all) {
				t.Errorf("paged history %v, want %v", paged, all)
			}

			// The operator may; a professional who can read the citizen, and
			// another citizen, get what a missing Patient gets.
			w.do("GET", "/fhir/Patient/p1/$access-history", nil).must(t, http.StatusOK)
			w.do("GET", "/fhir/Patient/p1", nil, "Authorization", w.dr).must(t, http.StatusOK)
			for _, auth := range []string{w.dr, w.other} {
				hidden := notFoundText(t, w.do("GET", "/fhir/Patient/p1/$access-history", nil, "Authorization", auth), "p1")
				absent := notFoundText(t, w.do("GET", "/fhir/Patient/nobody/$access-history", nil, "Authorization", auth), "nobody")
				if hidden != absent || hidden == "" {
					t.Errorf("access history of p1: %q, of a missing patient: %q", hidden, absent)
				}
			}
			w.do("GET", "/fhir/Patient/p1/$access-history?lang=fr", nil, "Authorization", w.citizen).must(t, http.StatusBadRequest)

			// The operator's view leaves out the citizen's own accesses too.
			r = w.do("GET", "/fhir/Patient/p1/$access-history?_count=100", nil).must(t, http.StatusOK)
			op, _ := accesses(r)
			var opEvents []string
			for _, a := range op {
				opEvents = append(opEvents, eventOf(a))
			}
			if slices.Contains(opEvents, w.selfRead) || !slices.Contains(opEvents, w.drRead) {
				t.Errorf("the operator's view of p1's history: %v (the citizen's own read is %s)", opEvents, w.selfRead)
			}

			// A parent (an SDM until the child is 16) sees the child's history;
			// a RelatedPerson who is no SDM, launched for the child, does not.
			rp := func(id, relationship string) string {
				// (as the registry records an SDM: tagged as its own; the
				// operator writes it here)
				return `{"resourceType":"RelatedPerson","id":"` + id + `","patient":{"reference":"Patient/p3"},"period":{"start":"2020-01-01","end":"2099-01-01"},
				 "meta":{"tag":[{"system":"` + resource.RegistryOriginSystem + `","code":"` + resource.RegistryOriginRegistry + `"}]},
				 "relationship":[{"coding":[{"system":"` + registry.SDMRoleSystem + `","code":"` + relationship + `"}]}]}`
			}
			w.do("PUT", "/fhir/RelatedPerson/parent", rp("parent", "parent")).must(t, http.StatusCreated)
			w.do("PUT", "/fhir/RelatedPerson/friend", strings.Replace(rp("friend", "parent"), registry.SDMRoleSystem, "http://example.org/other", 1)).must(t, http.StatusCreated)
			// One with the SDM role the registry did not record (no tag: as a
			// provider could write it) has no authority either.
			w.do("PUT", "/fhir/RelatedPerson/forged", strings.Replace(rp("forged", "parent"), resource.RegistryOriginRegistry, "someone", 1)).must(t, http.StatusCreated)
			childRead := w.entryOf(func() { w.do("GET", "/fhir/Observation/o6", nil).must(t, http.StatusOK) })
			for _, c := range []struct {
				who    string
				status int
			}{{"RelatedPerson/parent", http.StatusOK}, {"RelatedPerson/friend", http.StatusNotFound}, {"RelatedPerson/forged", http.StatusNotFound}} {
				tok := "Bearer " + w.issue(token.Claims{Subject: c.who, ClientID: "app", FHIRUser: c.who, Patient: "p3", Scope: scope.MustParse("patient/*.rs")})
				r := w.do("GET", "/fhir/Patient/p3/$access-history", nil, "Authorization", tok)
				if r.status != c.status {
					t.Errorf("%s: p3's history = %d %s", c.who, r.status, r.raw)
				}
				r = w.do("GET", "/fhir/AuditEvent/"+childRead, nil, "Authorization", tok)
				if r.status != c.status {
					t.Errorf("%s: p3's %s = %d", c.who, childRead, r.status)
				}
			}
		})
	}
}

func mapsKeys(m map[string]map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestReportAccess: reporting an access in the citizen's history opens a
// Task for the accessing provider and a confirming notice, together; an
// event not in their history is refused as unknown and writes nothing.
func TestReportAccess(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			w := newJournalWorld(t, b.Open(t))
			report := func(event, comment string) map[string]any {
				return map[string]any{"resourceType": "Parameters", "parameter": []any{
					map[string]any{"name": "event", "valueReference": map[string]any{"reference": "AuditEvent/" + event}},
					map[string]any{"name": "comment", "valueString": comment},
				}}
			}
			r := w.do("POST", "/fhir/Patient/p1/$report-access", report(w.drRead, "I have never been to this clinic"), "Authorization", w.citizen).must(t, http.StatusOK)
			var task, notice string
			for _, p := range r.body["parameter"].([]any) {
				m := p.(map[string]any)
				ref := m["valueReference"].(map[string]any)["reference"].(string)
				switch m["name"] {
				case "task":
					task = ref
				case "notice":
					notice = ref
				}
			}
			tk := w.do("GET", "/fhir/"+task, nil).must(t, http.StatusOK).body
			code := tk["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			if tk["status"] != "requested" || code["system"] != "https://ehealth.hk/fhir/CodeSystem/task-code" || code["code"] != "access-report" ||
				refOf(tk["focus"]) != "AuditEvent/"+w.drRead || refOf(tk["for"]) != "Patient/p1" || refOf(tk["owner"]) != "Organization/hvc" ||
				!strings.Contains(fmtJSON(tk["note"]), "never been to this clinic") {
				t.Errorf("the case: %v", tk)
			}
			n := w.do("GET", "/fhir/"+notice, nil).must(t, http.StatusOK).body
			if n["status"] != "preparation" || !strings.Contains(fmtJSON(n["category"]), notify.KindAccessReported) || refOf(n["subject"]) != "Patient/p1" ||
				refOf(n["about"].([]any)[0]) != task {
				t.Errorf("the notice: %v", n)
			}
			// The citizen finds their case.
			w.do("GET", "/fhir/"+task, nil, "Authorization", w.citizen).must(t, http.StatusOK)

			count := func() string {
				r := w.do("GET", "/fhir/Task?code=https://ehealth.hk/fhir/CodeSystem/task-code%7Caccess-report&_total=accurate", nil).must(t, http.StatusOK)
				return fmtJSON(r.body["total"])
			}
			before := count()
			for _, c := range []struct {
				name, auth, patient, event string
				status                     int
			}{
				{"another citizen's event", w.citizen, "p1", w.opReadP2, http.StatusNotFound},
				{"no such event", w.citizen, "p1", "j-999999", http.StatusNotFound},
				{"not a journal id", w.citizen, "p1", "abc", http.StatusNotFound},
				{"for another citizen", w.citizen, "p2", w.opReadP2, http.StatusNotFound},
				{"by a professional", w.dr, "p1", w.drRead, http.StatusNotFound},
			} {
				r := w.do("POST", "/fhir/Patient/"+c.patient+"/$report-access", report(c.event, "x"), "Authorization", c.auth)
				if r.status != c.status {
					t.Errorf("%s: %d %s", c.name, r.status, r.raw)
				}
			}
			if got := count(); got != before || before != "1" {
				t.Errorf("access-report Tasks: %s after the refused reports, %s before", got, before)
			}
			hidden := notFoundText(t, w.do("POST", "/fhir/Patient/p1/$report-access", report(w.opReadP2, ""), "Authorization", w.citizen), w.opReadP2)
			absent := notFoundText(t, w.do("POST", "/fhir/Patient/p1/$report-access", report("j-999999", ""), "Authorization", w.citizen), "j-999999")
			if hidden != absent {
				t.Errorf("reporting another's event: %q; a missing one: %q", hidden, absent)
			}
		})
	}
}

// refOf is a Reference's reference.
func refOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

// fmtJSON is v as JSON text, for "contains" checks.
func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
