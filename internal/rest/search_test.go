package rest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedClinic writes three patients and their observations.
func seedClinic(t *testing.T, s *server) {
	t.Helper()
	patients := []struct{ id, family, given, gender, birth, hkid string }{
		{"p1", "Chan", "Tai Man", "male", "1970-01-01", "A123456(3)"},
		{"p2", "Chén", "Siu Ming", "female", "1985-06-15", "E364912(5)"},
		{"p3", "Wong", "Ka Yan", "female", "2001-11-30", "D288754(2)"},
	}
	for _, p := range patients {
		body := fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":%q,"given":[%q]}],"gender":%q,"birthDate":%q,
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":%q}],"managingOrganization":{"reference":"Organization/qmh"}}`,
			p.id, p.family, p.given, p.gender, p.birth, p.hkid)
		s.do("PUT", "/fhir/Patient/"+p.id, body).must(t, http.StatusCreated)
	}
	s.do("PUT", "/fhir/Organization/qmh", `{"resourceType":"Organization","id":"qmh","name":"Queen Mary Hospital"}`).must(t, http.StatusCreated)
	for i, o := range []struct{ patient, code, date, value string }{
		{"p1", "8480-6", "2024-01-01", "120"}, {"p1", "8480-6", "2024-02-01", "135"}, {"p1", "8480-6", "2024-03-01", "128"},
		{"p1", "29463-7", "2024-03-01", "70"}, {"p2", "8480-6", "2023-12-25", "110"}, {"p3", "29463-7", "2024-04-01", "55"},
	} {
		body := fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","status":"final","code":{"coding":[{"system":"http://loinc.org","code":%q}]},
 "subject":{"reference":"Patient/%s"},"effectiveDateTime":%q,"valueQuantity":{"value":%s,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
			i+1, o.code, o.patient, o.date, o.value)
		s.do("PUT", fmt.Sprintf("/fhir/Observation/o%d", i+1), body).must(t, http.StatusCreated)
	}
}

// ids lists the ids of a searchset's entries of one search mode.
func ids(r response, mode string) []string {
	var out []string
	entries, _ := r.body["entry"].([]any)
	for _, e := range entries {
		m := e.(map[string]any)
		if m["search"].(map[string]any)["mode"] != mode {
			continue
		}
		res := m["resource"].(map[string]any)
		out = append(out, res["resourceType"].(string)+"/"+res["id"].(string))
	}
	return out
}

func link(r response, rel string) string {
	for _, l := range r.body["link"].([]any) {
		if l.(map[string]any)["relation"] == rel {
			return l.(map[string]any)["url"].(string)
		}
	}
	return ""
}

func TestSearch(t *testing.T) {
	cases := []struct {
		name, query string
		want        []string // match ids, in order when ordered is set
		ordered     bool
	}{
		{"string starts-with, accents and case", "Patient?name=chen", []string{"Patient/p2"}, false},
		{"string exact", "Patient?family:exact=Chan", []string{"Patient/p1"}, false},
		{"token", "Patient?gender=female", []string{"Patient/p2", "Patient/p3"}, false},
		{"date prefix", "Patient?birthdate=lt1980", []string{"Patient/p1"}, false},
		{"date precision", "Observation?date=2024-03", []string{"Observation/o3", "Observation/o4"}, false},
		{"reference and token", "Observation?subject=Patient/p1&code=http://loinc.org|8480-6", []string{"Observation/o1", "Observation/o2", "Observation/o3"}, false},
		{"sort descending", "Observation?patient=p1&code=8480-6&_sort=-date", []string{"Observation/o3", "Observation/o2", "Observation/o1"}, true},
		{"quantity", "Observation?value-quantity=gt125||mm[Hg]", []string{"Observation/o2", "Observation/o3"}, false},
		{"OR values", "Observation?code=29463-7,nope&_sort=date", []string{"Observation/o4", "Observation/o6"}, true},
		{"chain", "Observation?patient.name=wong", []string{"Observation/o6"}, false},
		{"reverse chain", "Patient?_has:Observation:patient:code=29463-7", []string{"Patient/p1", "Patient/p3"}, false},
		{"missing", "Observation?value-string:missing=false", nil, false},
		{"_id", "Patient?_id=p3", []string{"Patient/p3"}, false},
		{"not", "Patient?gender:not=female", []string{"Patient/p1"}, false},
	}
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.do("GET", "/fhir/"+c.query, nil).must(t, http.StatusOK)
				got := ids(r, "match")
				want := slices.Clone(c.want)
				if !c.ordered {
					slices.Sort(got)
					slices.Sort(want)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", c.query, got, want)
				}
				if fmt.Sprint(r.body["total"]) != fmt.Sprint(len(c.want)) {
					t.Errorf("%s: total %v, want %d", c.query, r.body["total"], len(c.want))
				}
			})
		}
	})
}

func TestSearchPagingIncludesAndControls(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		// Paging: pages concatenate to the whole result, no duplicates.
		r := s.do("GET", "/fhir/Observation?_sort=date&_count=2", nil).must(t, http.StatusOK)
		var all []string
		for pages := 0; ; pages++ {
			all = append(all, ids(r, "match")...)
			next := link(r, "next")
			if next == "" || pages > 10 {
				break
			}
			r = s.do("GET", strings.TrimPrefix(next, s.srv.URL), nil).must(t, http.StatusOK)
		}
		want := []string{"Observation/o5", "Observation/o1", "Observation/o2", "Observation/o3", "Observation/o4", "Observation/o6"}
		if !slices.Equal(all[:2], want[:2]) || len(all) != 6 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 6 {
			t.Errorf("pages gave %v, want the 6 observations in date order", all)
		}
		// Back from the last page by the previous links: the same order.
		if link(r, "previous") == "" || link(r, "next") != "" {
			t.Fatalf("the last page's links: previous %q, next %q", link(r, "previous"), link(r, "next"))
		}
		back := ids(r, "match")
		for pages := 0; link(r, "previous") != "" && pages < 10; pages++ {
			r = s.do("GET", strings.TrimPrefix(link(r, "previous"), s.srv.URL), nil).must(t, http.StatusOK)
			back = append(ids(r, "match"), back...)
		}
		if !slices.Equal(back, all) {
			t.Errorf("previous links gave %v, next links %v", back, all)
		}
		// _include and _revinclude.
		r = s.do("GET", "/fhir/Observation?code=29463-7&_include=Observation:patient", nil).must(t, http.StatusOK)
		inc := ids(r, "include")
		slices.Sort(inc)
		if !slices.Equal(inc, []string{"Patient/p1", "Patient/p3"}) {
			t.Errorf("_include gave %v", inc)
		}
		r = s.do("GET", "/fhir/Patient?_id=p2&_revinclude=Observation:patient&_include=Patient:organization", nil).must(t, http.StatusOK)
		inc = ids(r, "include")
		slices.Sort(inc)
		if !slices.Equal(inc, []string{"Observation/o5", "Organization/qmh"}) {
			t.Errorf("_revinclude/_include gave %v", inc)
		}
		// _summary=count: the total only.
		r = s.do("GET", "/fhir/Observation?code=8480-6&_summary=count", nil).must(t, http.StatusOK)
		if fmt.Sprint(r.body["total"]) != "4" || r.body["entry"] != nil {
			t.Errorf("_summary=count: %s", r.raw)
		}
		// Unknown parameters: reported (lenient) or refused (strict).
		r = s.do("GET", "/fhir/Patient?nonsense=1", nil).must(t, http.StatusOK)
		if !strings.Contains(string(r.raw), `"mode":"outcome"`) {
			t.Errorf("an unknown parameter was not reported: %s", r.raw)
		}
		s.do("GET", "/fhir/Patient?nonsense=1", nil, "Prefer", "handling=strict").must(t, http.StatusBadRequest)
		// POST _search keeps identity numbers out of the URL.
		r = s.do("POST", "/fhir/Patient/_search", "identifier=http://www.immd.gov.hk/hkid|D288754(2)", "Content-Type", "application/x-www-form-urlencoded").must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Patient/p3"}) {
			t.Errorf("POST _search gave %v", got)
		}
		// System-level and compartment search.
		r = s.do("GET", "/fhir?_type=Patient,Organization&_count=50", nil).must(t, http.StatusOK)
		if fmt.Sprint(r.body["total"]) != "4" {
			t.Errorf("system search total %v, want 4", r.body["total"])
		}
		r = s.do("GET", "/fhir/Patient/p1/Observation?code=8480-6", nil).must(t, http.StatusOK)
		if fmt.Sprint(r.body["total"]) != "3" {
			t.Errorf("compartment search total %v, want 3", r.body["total"])
		}
	})
}

func TestConditionalInteractions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		newcomer := `{"resourceType":"Patient","identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"G123456(A)"}],"gender":"male"}`
		cond := []string{"If-None-Exist", "identifier=http://www.immd.gov.hk/hkid|G123456(A)"}
		first := s.do("POST", "/fhir/Patient", newcomer, cond...).must(t, http.StatusCreated)
		again := s.do("POST", "/fhir/Patient", newcomer, cond...).must(t, http.StatusOK)
		if first.body["id"] != again.body["id"] {
			t.Errorf("conditional create made a second resource: %v, %v", first.body["id"], again.body["id"])
		}
		s.do("POST", "/fhir/Patient", newcomer, "If-None-Exist", "gender=female").must(t, http.StatusPreconditionFailed)

		upd := strings.Replace(newcomer, `"male"`, `"other"`, 1)
		r := s.do("PUT", "/fhir/Patient?identifier=http://www.immd.gov.hk/hkid|G123456(A)", upd).must(t, http.StatusOK)
		if r.body["id"] != first.body["id"] || r.body["gender"] != "other" {
			t.Errorf("conditional update: %s", r.raw)
		}
		s.do("PUT", "/fhir/Patient?gender=female", upd).must(t, http.StatusPreconditionFailed)
		s.do("DELETE", "/fhir/Patient?gender=female", nil).must(t, http.StatusPreconditionFailed)
		s.do("DELETE", "/fhir/Patient?identifier=http://www.immd.gov.hk/hkid|G123456(A)", nil).must(t, http.StatusNoContent)
		s.do("GET", "/fhir/Patient/"+first.body["id"].(string), nil).must(t, http.StatusGone)
		s.do("DELETE", "/fhir/Patient?identifier=http://www.immd.gov.hk/hkid|nobody", nil).must(t, http.StatusNoContent)

		// Conditional references and ifNoneExist inside a transaction.
		tx := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:0f1b2c3d-0000-4000-8000-000000000001","resource":{"resourceType":"Organization","name":"QMH again"},
  "request":{"method":"POST","url":"Organization","ifNoneExist":"_id=qmh"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"BP"},
   "subject":{"reference":"Patient?identifier=http://www.immd.gov.hk/hkid|A123456(3)"},
   "performer":[{"reference":"urn:uuid:0f1b2c3d-0000-4000-8000-000000000001"}]},
  "request":{"method":"POST","url":"Observation"}}]}`
		r = s.do("POST", "/fhir", tx).must(t, http.StatusOK)
		entries := r.body["entry"].([]any)
		if st := entries[0].(map[string]any)["response"].(map[string]any)["status"]; !strings.HasPrefix(st.(string), "200") {
			t.Errorf("ifNoneExist matching qmh gave %v", st)
		}
		obs := entries[1].(map[string]any)["resource"].(map[string]any)
		if obs["subject"].(map[string]any)["reference"] != "Patient/p1" || obs["performer"].([]any)[0].(map[string]any)["reference"] != "Organization/qmh" {
			t.Errorf("references not resolved: %v", obs)
		}
		bad := strings.Replace(tx, "A123456(3)", "nobody", 1)
		s.do("POST", "/fhir", bad).must(t, http.StatusPreconditionFailed)
	})
}

func TestPatientEverything(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		r := s.do("GET", "/fhir/Patient/p1/$everything", nil).must(t, http.StatusOK)
		got := ids(r, "match")
		slices.Sort(got)
		want := []string{"Observation/o1", "Observation/o2", "Observation/o3", "Observation/o4", "Patient/p1"}
		if !slices.Equal(got, want) {
			t.Errorf("$everything matches %v, want %v", got, want)
		}
		if inc := ids(r, "include"); !slices.Contains(inc, "Organization/qmh") {
			t.Errorf("$everything did not bring the managing organization: %v", inc)
		}
		r = s.do("GET", "/fhir/Patient/p1/$everything?_type=Observation&_count=2", nil).must(t, http.StatusOK)
		if len(ids(r, "match")) != 2 || link(r, "next") == "" {
			t.Errorf("$everything paging: %s", r.raw)
		}
		r = s.do("GET", "/fhir/Patient/p1/$everything?_since=2999-01-01", nil).must(t, http.StatusOK)
		if len(ids(r, "match")) != 0 {
			t.Errorf("_since in the future still gave %v", ids(r, "match"))
		}
		s.do("GET", "/fhir/Patient/nobody/$everything", nil).must(t, http.StatusNotFound)
	})
}

func TestCustomSearchParameterReindex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		eth := func(id, code string) string {
			return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"extension":[{"url":"http://example.org/ethnicity","valueCoding":{"system":"http://example.org/eth","code":%q}}]}`, id, code)
		}
		s.do("PUT", "/fhir/Patient/e1", eth("e1", "hakka")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/e2", eth("e2", "teochew")).must(t, http.StatusCreated)
		sp := `{"resourceType":"SearchParameter","id":"ethnicity","url":"http://example.org/SearchParameter/ethnicity","name":"ethnicity",
 "status":"active","description":"Ethnicity","code":"ethnicity","base":["Patient"],"type":"token",
 "expression":"Patient.extension('http://example.org/ethnicity').value"}`
		s.do("PUT", "/fhir/SearchParameter/ethnicity", sp).must(t, http.StatusCreated)
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := s.do("GET", "/fhir/Task/reindex-ethnicity-1", nil)
			if r.status == http.StatusOK && r.body["status"] == "completed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reindex did not complete: %d %s", r.status, r.raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := s.do("GET", "/fhir/Patient?ethnicity=hakka", nil).must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Patient/e1"}) {
			t.Errorf("custom parameter after reindex: %v", got)
		}
		// Later writes index it at once.
		s.do("PUT", "/fhir/Patient/e3", eth("e3", "hakka")).must(t, http.StatusCreated)
		r = s.do("GET", "/fhir/Patient?ethnicity=http://example.org/eth|hakka&_sort=_id", nil).must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Patient/e1", "Patient/e3"}) {
			t.Errorf("custom parameter on new writes: %v", got)
		}
		// Deleting the SearchParameter takes it away.
		s.do("DELETE", "/fhir/SearchParameter/ethnicity", nil).must(t, http.StatusNoContent)
		s.do("GET", "/fhir/Patient?ethnicity=hakka", nil, "Prefer", "handling=strict").must(t, http.StatusBadRequest)
	})
}

// TestCustomSearchParameterOnResource: a parameter on base Resource is
// indexed for every type by its reindex.
func TestCustomSearchParameterOnResource(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		s.do("PUT", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1","status":"amended","code":{"text":"bp"},"subject":{"reference":"Patient/p1"}}`).
			must(t, http.StatusOK)
		sp := `{"resourceType":"SearchParameter","id":"version","url":"http://example.org/SearchParameter/version","name":"version",
 "status":"active","description":"The version id","code":"version","base":["Resource"],"type":"token",
 "expression":"Resource.meta.versionId"}`
		s.do("PUT", "/fhir/SearchParameter/version", sp).must(t, http.StatusCreated)
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := s.do("GET", "/fhir/Task/reindex-version-1", nil)
			if r.status == http.StatusOK && r.body["status"] == "completed" {
				break
			}
			if time.Now().After(deadline) || r.body["status"] == "failed" {
				t.Fatalf("reindex did not complete: %d %s", r.status, r.raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := s.do("GET", "/fhir/Observation?version=2", nil).must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Observation/o1"}) {
			t.Errorf("Observation?version=2 = %v, want o1", got)
		}
		r = s.do("GET", "/fhir/Patient?version=1&_summary=count", nil).must(t, http.StatusOK)
		all := s.do("GET", "/fhir/Patient?_summary=count", nil).must(t, http.StatusOK)
		if r.body["total"] != all.body["total"] || fmt.Sprint(r.body["total"]) == "0" {
			t.Errorf("Patient?version=1 counts %v, want every Patient (%v)", r.body["total"], all.body["total"])
		}
	})
}

// TestIncludeIterateCycle follows :iterate includes around a cycle of
// references: each resource comes once and the walk ends.
func TestIncludeIterateCycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		link := func(id, other string) string {
			return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"link":[{"other":{"reference":"Patient/%s"},"type":"seealso"}]}`, id, other)
		}
		s.do("PUT", "/fhir/Patient/c1", link("c1", "c2")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/c2", link("c2", "c3")).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/c3", link("c3", "c1")).must(t, http.StatusCreated)
		r := s.do("GET", "/fhir/Patient?_id=c1&_include:iterate=Patient:link", nil).must(t, http.StatusOK)
		inc := ids(r, "include")
		slices.Sort(inc)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Patient/c1"}) || !slices.Equal(inc, []string{"Patient/c2", "Patient/c3"}) {
			t.Errorf("matches %v, includes %v; want c1 and includes c2, c3 once each", got, inc)
		}
		r = s.do("GET", "/fhir/Patient?_id=c1&_include=Patient:link", nil).must(t, http.StatusOK)
		if inc := ids(r, "include"); !slices.Equal(inc, []string{"Patient/c2"}) {
			t.Errorf("without :iterate: includes %v, want c2", inc)
		}
	})
}

// TestIdentityNotInURL: identity-document numbers are refused in search
// URLs (they end up in logs) and accepted in a POST _search body.
func TestIdentityNotInURL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		seedClinic(t, s)
		for _, q := range []string{
			"Patient?identifier=http://www.immd.gov.hk/hkid|E364912(5)",
			"Patient?identifier=E364912(5)",
			"Patient?identifier=|E364912(5)",
			"Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|x,http://www.immd.gov.hk/hkid|E364912(5)",
			"Observation?subject:Patient.identifier=http://www.immd.gov.hk/hkid|E364912(5)",
			"Patient?identifier=http://hl7.org/fhir/sid/passport-GBR|123456789",
			"Observation?subject:identifier=http://www.immd.gov.hk/hkid|E364912(5)",
		} {
			r := s.do("GET", "/fhir/"+q, nil)
			if r.status != http.StatusBadRequest || strings.Contains(string(r.raw), "E364912") {
				t.Errorf("GET %s = %d: %s", q, r.status, r.raw)
			}
		}
		r := s.do("GET", "/fhir/Patient?identifier=http://example.org/mrn|12345", nil).must(t, http.StatusOK)
		if len(ids(r, "match")) != 0 {
			t.Errorf("an MRN search matched %v", ids(r, "match"))
		}
		r = s.do("POST", "/fhir/Patient/_search", "identifier=http://www.immd.gov.hk/hkid|E364912(5)", "Content-Type", "application/x-www-form-urlencoded").must(t, http.StatusOK)
		if got := ids(r, "match"); !slices.Equal(got, []string{"Patient/p2"}) {
			t.Errorf("POST _search by HKID = %v, want p2", got)
		}
	})
}
