package rest_test

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const patientJSON = `{"resourceType":"Patient","name":[{"family":"Chan","given":["Tai Man"]}],"gender":"male","birthDate":"1980-02-29",
 "extension":[{"url":"http://example.org/weight","valueDecimal":70.50}]}`

func TestCreateReadUpdateDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		created := s.do("POST", "/fhir/Patient", patientJSON).must(t, http.StatusCreated)
		id, _ := created.body["id"].(string)
		if id == "" {
			t.Fatalf("created resource has no id: %s", created.raw)
		}
		loc := created.header.Get("Location")
		if !strings.HasSuffix(loc, "/fhir/Patient/"+id+"/_history/1") {
			t.Errorf("Location = %q", loc)
		}
		if et := created.header.Get("ETag"); et != `W/"1"` {
			t.Errorf("ETag = %q, want W/\"1\"", et)
		}
		if !strings.Contains(string(created.raw), "70.50") {
			t.Errorf("decimal precision lost: %s", created.raw)
		}

		read := s.do("GET", "/fhir/Patient/"+id, nil).must(t, http.StatusOK)
		if read.header.Get("Last-Modified") == "" || read.header.Get("ETag") != `W/"1"` {
			t.Errorf("read headers: %v", read.header)
		}
		meta := read.body["meta"].(map[string]any)
		if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
			t.Errorf("meta = %v", meta)
		}
		s.do("GET", "/fhir/Patient/"+id, nil, "If-None-Match", `W/"1"`).must(t, http.StatusNotModified)

		upd := obj(t, patientJSON)
		upd["id"] = id
		upd["gender"] = "female"
		s.do("PUT", "/fhir/Patient/"+id, upd).must(t, http.StatusOK)
		v2 := s.do("GET", "/fhir/Patient/"+id, nil).must(t, http.StatusOK)
		if v2.body["gender"] != "female" || v2.header.Get("ETag") != `W/"2"` {
			t.Errorf("after update: %s %v", v2.raw, v2.header.Get("ETag"))
		}
		v1 := s.do("GET", "/fhir/Patient/"+id+"/_history/1", nil).must(t, http.StatusOK)
		if v1.body["gender"] != "male" {
			t.Errorf("version 1 changed: %s", v1.raw)
		}

		s.do("DELETE", "/fhir/Patient/"+id, nil).must(t, http.StatusNoContent)
		s.do("GET", "/fhir/Patient/"+id, nil).must(t, http.StatusGone)
		s.do("GET", "/fhir/Patient/"+id+"/_history/3", nil).must(t, http.StatusGone)
		s.do("GET", "/fhir/Patient/"+id+"/_history/2", nil).must(t, http.StatusOK)
		s.do("DELETE", "/fhir/Patient/"+id, nil).must(t, http.StatusNoContent)
		hist := s.do("GET", "/fhir/Patient/"+id+"/_history", nil).must(t, http.StatusOK)
		if fmt.Sprint(hist.body["total"]) != "3" {
			t.Errorf("history total = %v, want 3", hist.body["total"])
		}
		// Update after delete brings the resource back as a new version.
		s.do("PUT", "/fhir/Patient/"+id, upd).must(t, http.StatusCreated)
		s.do("GET", "/fhir/Patient/"+id, nil).must(t, http.StatusOK)
	})
}

func TestUpdateAsCreateAndIfMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		p := obj(t, patientJSON)
		p["id"] = "hk-001"
		s.do("PUT", "/fhir/Patient/hk-001", p).must(t, http.StatusCreated)
		s.do("PUT", "/fhir/Patient/hk-001", p, "If-Match", `W/"2"`).must(t, http.StatusPreconditionFailed)
		s.do("PUT", "/fhir/Patient/hk-001", p, "If-Match", `W/"1"`).must(t, http.StatusOK)
		s.do("PUT", "/fhir/Patient/other", p).must(t, http.StatusBadRequest) // id mismatch
		s.do("PUT", "/fhir/Observation/hk-001", p).must(t, http.StatusBadRequest)
	})
}

func TestConcurrentIfMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		p := obj(t, patientJSON)
		p["id"] = "race"
		s.do("PUT", "/fhir/Patient/race", p).must(t, http.StatusCreated)
		for round := 0; round < 5; round++ {
			etag := s.do("GET", "/fhir/Patient/race", nil).must(t, http.StatusOK).header.Get("ETag")
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Different content: an update that changes nothing
					// writes no version and so races with nobody.
					body := maps.Clone(p)
					body["name"] = []any{map[string]any{"family": fmt.Sprintf("Race%d-%d", round, i)}}
					statuses[i] = s.do("PUT", "/fhir/Patient/race", body, "If-Match", etag).status
				}()
			}
			wg.Wait()
			ok, failed := 0, 0
			for _, st := range statuses {
				switch st {
				case http.StatusOK:
					ok++
				case http.StatusPreconditionFailed:
					failed++
				}
			}
			if ok != 1 || failed != 1 {
				t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, statuses)
			}
		}
	})
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		p := obj(t, patientJSON)
		p["id"] = "busy"
		s.do("PUT", "/fhir/Patient/busy", p).must(t, http.StatusCreated)
		const writers = 12
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := maps.Clone(p)
				body["name"] = []any{map[string]any{"family": fmt.Sprintf("Busy%d", i)}}
				s.do("PUT", "/fhir/Patient/busy", body).must(t, http.StatusOK)
			}()
		}
		wg.Wait()
		got := s.do("GET", "/fhir/Patient/busy", nil).must(t, http.StatusOK).header.Get("ETag")
		if want := fmt.Sprintf(`W/"%d"`, writers+1); got != want {
			t.Errorf("ETag after %d concurrent updates = %s, want %s", writers, got, want)
		}
	})
}

func TestPreferAndShaping(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		min := s.do("POST", "/fhir/Patient", patientJSON, "Prefer", "return=minimal").must(t, http.StatusCreated)
		if len(min.raw) != 0 || min.header.Get("Location") == "" {
			t.Errorf("return=minimal gave body %q, Location %q", min.raw, min.header.Get("Location"))
		}
		oo := s.do("POST", "/fhir/Patient", patientJSON, "Prefer", "return=OperationOutcome").must(t, http.StatusCreated)
		if oo.body["resourceType"] != "OperationOutcome" {
			t.Errorf("return=OperationOutcome gave %s", oo.raw)
		}
		loc := min.header.Get("Location")
		id := strings.Split(loc[strings.Index(loc, "/Patient/")+len("/Patient/"):], "/")[0]

		el := s.do("GET", "/fhir/Patient/"+id+"?_elements=gender", nil).must(t, http.StatusOK)
		if _, has := el.body["name"]; has || el.body["gender"] != "male" {
			t.Errorf("_elements=gender: %s", el.raw)
		}
		if !strings.Contains(string(el.raw), "SUBSETTED") {
			t.Errorf("_elements result not tagged SUBSETTED: %s", el.raw)
		}
		sum := s.do("GET", "/fhir/Patient/"+id+"?_summary=true", nil).must(t, http.StatusOK)
		if _, has := sum.body["extension"]; has {
			t.Errorf("_summary=true kept a non-summary element: %s", sum.raw)
		}
		if sum.body["birthDate"] != "1980-02-29" {
			t.Errorf("_summary=true dropped a summary element: %s", sum.raw)
		}
		pretty := s.do("GET", "/fhir/Patient/"+id+"?_pretty=true", nil).must(t, http.StatusOK)
		if !strings.Contains(string(pretty.raw), "\n  ") {
			t.Errorf("_pretty=true not indented: %s", pretty.raw)
		}
		s.do("GET", "/fhir/Patient/"+id+"?_format=xml", nil).must(t, http.StatusNotAcceptable)
		js := s.do("GET", "/fhir/Patient/"+id, nil, "Accept", "application/json")
		if ct := js.must(t, http.StatusOK).header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Accept application/json gave %q", ct)
		}
		fh := s.do("GET", "/fhir/Patient/"+id, nil)
		if ct := fh.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
			t.Errorf("default Content-Type %q", ct)
		}
	})
}

func TestHTTPErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
		}{
			{"unknown id", "GET", "/fhir/Patient/nope", nil, nil, 404},
			{"unknown type", "GET", "/fhir/Nonsense/1", nil, nil, 404},
			{"bad version", "GET", "/fhir/Patient/nope/_history/x", nil, nil, 404},
			{"not json", "POST", "/fhir/Patient", "{not json", nil, 400},
			{"duplicate key", "POST", "/fhir/Patient", `{"resourceType":"Patient","gender":"male","gender":"female"}`, nil, 400},
			{"wrong content type", "POST", "/fhir/Patient", patientJSON, []string{"Content-Type", "text/plain"}, 415},
			{"xml content type", "POST", "/fhir/Patient", "<Patient/>", []string{"Content-Type", "application/fhir+xml"}, 415},
			{"too large", "POST", "/fhir/Patient", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + strings.Repeat("x", 2<<20) + `</div>"}}`, nil, 413},
			{"method not allowed", "PUT", "/fhir/Patient", patientJSON, nil, 405},
			{"unknown path", "GET", "/fhir/Patient/1/2/3/4", nil, nil, 404},
			{"bad if-match", "PUT", "/fhir/Patient/x", patientJSON, []string{"If-Match", "garbage"}, 400},
			{"bad _summary", "GET", "/fhir/Patient/x?_summary=count", nil, nil, 400},
			{"bad _count", "GET", "/fhir/_history?_count=-1", nil, nil, 400},
			{"bad _since", "GET", "/fhir/_history?_since=yesterday", nil, nil, 400},
			{"bundle not a bundle", "POST", "/fhir", patientJSON, nil, 400},
			{"bundle of wrong type", "POST", "/fhir", `{"resourceType":"Bundle","type":"collection"}`, nil, 400},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.do(c.method, c.path, c.body, c.headers...)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
				}
				if c.status >= 400 && r.body["resourceType"] != "OperationOutcome" {
					t.Errorf("error body is not an OperationOutcome: %s", r.raw)
				}
			})
		}
	})
}

func TestPatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		p := obj(t, patientJSON)
		p["id"] = "p1"
		s.do("PUT", "/fhir/Patient/p1", p).must(t, http.StatusCreated)
		patch := `[{"op":"replace","path":"/gender","value":"female"},{"op":"add","path":"/active","value":true}]`
		ct := []string{"Content-Type", "application/json-patch+json"}
		r := s.do("PATCH", "/fhir/Patient/p1", patch, ct...).must(t, http.StatusOK)
		if r.body["gender"] != "female" || r.body["active"] != true || r.header.Get("ETag") != `W/"2"` {
			t.Errorf("patched: %s", r.raw)
		}
		bad := `[{"op":"replace","path":"/gender","value":"woman"}]`
		s.do("PATCH", "/fhir/Patient/p1", bad, ct...).must(t, http.StatusUnprocessableEntity)
		s.do("PATCH", "/fhir/Patient/p1", `[{"op":"remove","path":"/nothing"}]`, ct...).must(t, http.StatusUnprocessableEntity)
		s.do("PATCH", "/fhir/Patient/p1", `{"op":"x"}`, ct...).must(t, http.StatusBadRequest)
		s.do("PATCH", "/fhir/Patient/p1", patch, "Content-Type", "application/json-patch+json", "If-Match", `W/"1"`).must(t, http.StatusPreconditionFailed)
		s.do("PATCH", "/fhir/Patient/p1", patch, "Content-Type", "text/plain").must(t, http.StatusUnsupportedMediaType)
		s.do("PATCH", "/fhir/Patient/p1", patch).must(t, http.StatusBadRequest) // FHIR JSON must be a Parameters
		s.do("PATCH", "/fhir/Patient/none", patch, ct...).must(t, http.StatusNotFound)
	})
}

func TestHistoryLevelsAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		// the store holds the platform's implementation guide from the start
		base := num(s.do("GET", "/fhir/_history", nil).must(t, http.StatusOK).body["total"])
		for i := range 5 {
			p := obj(t, patientJSON)
			p["id"] = fmt.Sprintf("h%d", i)
			s.do("PUT", "/fhir/Patient/"+p["id"].(string), p).must(t, http.StatusCreated)
		}
		s.do("POST", "/fhir/Organization", `{"resourceType":"Organization","name":"Queen Mary Hospital"}`).must(t, http.StatusCreated)
		sys := s.do("GET", "/fhir/_history", nil).must(t, http.StatusOK)
		if num(sys.body["total"]) != base+6 {
			t.Errorf("system history total %v, want %d", sys.body["total"], base+6)
		}
		typ := s.do("GET", "/fhir/Patient/_history?_count=2", nil).must(t, http.StatusOK)
		if fmt.Sprint(typ.body["total"]) != "5" || len(typ.body["entry"].([]any)) != 2 {
			t.Fatalf("type history page: %s", typ.raw)
		}
		seen := map[string]bool{}
		page := typ
		for pages := 0; pages < 10; pages++ {
			for _, e := range page.body["entry"].([]any) {
				seen[e.(map[string]any)["fullUrl"].(string)] = true
			}
			next := ""
			for _, l := range page.body["link"].([]any) {
				if l.(map[string]any)["relation"] == "next" {
					next = l.(map[string]any)["url"].(string)
				}
			}
			if next == "" {
				break
			}
			page = s.do("GET", next[len(s.srv.URL):], nil).must(t, http.StatusOK)
		}
		if len(seen) != 5 {
			t.Errorf("paging saw %d distinct patients, want 5", len(seen))
		}
		future := s.do("GET", "/fhir/_history?_since=2999-01-01", nil).must(t, http.StatusOK)
		if fmt.Sprint(future.body["total"]) != "0" {
			t.Errorf("_since in the future gave %v", future.body["total"])
		}
		at := s.do("GET", "/fhir/Patient/h1/_history?_at=2000", nil).must(t, http.StatusOK)
		if fmt.Sprint(at.body["total"]) != "0" {
			t.Errorf("_at before creation gave %v", at.body["total"])
		}
		s.do("GET", "/fhir/Patient/zzz/_history", nil).must(t, http.StatusNotFound)
	})
}

// num reads a JSON number (a Bundle.total), -1 when it is not one.
func num(v any) int {
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return -1
	}
	return n
}

func TestCapabilityStatement(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		r := s.do("GET", "/fhir/metadata", nil).must(t, http.StatusOK)
		if r.body["fhirVersion"] != "4.0.1" || r.body["resourceType"] != "CapabilityStatement" {
			t.Fatalf("metadata: %.200s", r.raw)
		}
		res := r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any)
		if len(res) != 146 {
			t.Errorf("CapabilityStatement lists %d resource types, want 146", len(res))
		}
	})
}

// TestUnchangedUpdate: an update that changes nothing — the same content
// sent again, whatever meta.versionId and lastUpdated it carries — writes
// no version: the current one is answered (200, its ETag), history keeps
// one; a change writes the next.
func TestUnchangedUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		p := obj(t, patientJSON)
		p["id"] = "same"
		s.do("PUT", "/fhir/Patient/same", p).must(t, http.StatusCreated)
		again := s.do("GET", "/fhir/Patient/same", nil).must(t, http.StatusOK).body // with its meta
		for _, body := range []map[string]any{p, again} {
			if r := s.do("PUT", "/fhir/Patient/same", body).must(t, http.StatusOK); r.header.Get("ETag") != `W/"1"` {
				t.Errorf("the same content again: ETag %s, want W/\"1\"", r.header.Get("ETag"))
			}
		}
		if h := s.do("GET", "/fhir/Patient/same/_history", nil).must(t, http.StatusOK); fmt.Sprint(h.body["total"]) != "1" {
			t.Errorf("history after unchanged updates: total %v, want 1", h.body["total"])
		}
		changed := maps.Clone(p)
		changed["gender"] = "other"
		if r := s.do("PUT", "/fhir/Patient/same", changed).must(t, http.StatusOK); r.header.Get("ETag") != `W/"2"` {
			t.Errorf("a change: ETag %s, want W/\"2\"", r.header.Get("ETag"))
		}
	})
}
