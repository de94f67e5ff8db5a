package rest_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const txBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"Wong"}]},
  "request":{"method":"POST","url":"Patient"}},
 {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Observation","status":"final",
   "code":{"text":"BP"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},"valueQuantity":{"value":120.0,"unit":"mm[Hg]"}},
  "request":{"method":"POST","url":"Observation"}},
 {"resource":{"resourceType":"Organization","id":"qmh","name":"Queen Mary Hospital"},"request":{"method":"PUT","url":"Organization/qmh"}},
 {"request":{"method":"GET","url":"Organization/qmh"}}
]}`

func TestTransactionResolvesReferences(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		r := s.do("POST", "/fhir", txBundle).must(t, http.StatusOK)
		if r.body["type"] != "transaction-response" {
			t.Fatalf("type %v", r.body["type"])
		}
		entries := r.body["entry"].([]any)
		if len(entries) != 4 {
			t.Fatalf("%d response entries, want 4", len(entries))
		}
		status := func(i int) string {
			return entries[i].(map[string]any)["response"].(map[string]any)["status"].(string)
		}
		for i, want := range []string{"201", "201", "201", "200"} {
			if !strings.HasPrefix(status(i), want) {
				t.Errorf("entry %d status %q, want %s", i, status(i), want)
			}
		}
		loc := entries[0].(map[string]any)["response"].(map[string]any)["location"].(string)
		patientRef := strings.Join(strings.Split(loc, "/")[:2], "/")
		obsLoc := entries[1].(map[string]any)["response"].(map[string]any)["location"].(string)
		obs := s.do("GET", "/fhir/"+strings.Join(strings.Split(obsLoc, "/")[:2], "/"), nil).must(t, http.StatusOK)
		if got := obs.body["subject"].(map[string]any)["reference"]; got != patientRef {
			t.Errorf("Observation.subject = %v, want %s", got, patientRef)
		}
		if !strings.Contains(string(obs.raw), "120.0") {
			t.Errorf("decimal 120.0 lost its precision: %s", obs.raw)
		}
		// The GET ran after the PUT inside the same transaction.
		got := entries[3].(map[string]any)["resource"].(map[string]any)
		if got["name"] != "Queen Mary Hospital" {
			t.Errorf("GET entry read %v", got)
		}
	})
}

func TestTransactionAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		before := s.do("GET", "/fhir/_history", nil).must(t, http.StatusOK).body["total"]
		failing := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Organization","id":"a","name":"A"},"request":{"method":"PUT","url":"Organization/a"}},
 {"resource":{"resourceType":"Organization","id":"b","name":"B"},"request":{"method":"PUT","url":"Organization/b"}},
 {"request":{"method":"DELETE","url":"Organization/missing"}}]}`
		r := s.do("POST", "/fhir", failing)
		if r.status != http.StatusNotFound || r.body["resourceType"] != "OperationOutcome" {
			t.Fatalf("failing transaction: %d %s", r.status, r.raw)
		}
		invalid := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Organization","id":"a","name":"A"},"request":{"method":"PUT","url":"Organization/a"}},
 {"resource":{"resourceType":"Patient","birthDate":"1980-13-45"},"request":{"method":"POST","url":"Patient"}}]}`
		r = s.do("POST", "/fhir", invalid)
		if r.status != http.StatusBadRequest {
			t.Fatalf("invalid transaction: %d %s", r.status, r.raw)
		}
		if ex := r.expressions(); len(ex) == 0 || ex[0] != "Bundle.entry[1].resource.birthDate" {
			t.Errorf("expressions %v, want Bundle.entry[1].resource.birthDate", ex)
		}
		// A failure inside the database transaction (the second PUT's If-Match
		// is wrong) after the first PUT was written.
		s.do("PUT", "/fhir/Organization/c", `{"resourceType":"Organization","id":"c","name":"C"}`).must(t, http.StatusCreated)
		late := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Organization","id":"a","name":"A"},"request":{"method":"PUT","url":"Organization/a"}},
 {"resource":{"resourceType":"Organization","id":"c","name":"C2"},"request":{"method":"PUT","url":"Organization/c","ifMatch":"W/\"7\""}}]}`
		s.do("POST", "/fhir", late).must(t, http.StatusPreconditionFailed)
		s.do("GET", "/fhir/Organization/a", nil).must(t, http.StatusNotFound)
		s.do("GET", "/fhir/Organization/b", nil).must(t, http.StatusNotFound)
		after := s.do("GET", "/fhir/_history", nil).must(t, http.StatusOK).body["total"]
		// the store holds the platform's implementation guide from the start
		if b, a := num(before), num(after); a != b+1 {
			t.Errorf("system history total went from %v to %v, want one more (only Organization/c)", before, after)
		}
	})
}

func TestBatchEntriesIndependent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		batch := `{"resourceType":"Bundle","type":"batch","entry":[
 {"resource":{"resourceType":"Organization","id":"ok","name":"OK"},"request":{"method":"PUT","url":"Organization/ok"}},
 {"resource":{"resourceType":"Patient","gender":"woman"},"request":{"method":"POST","url":"Patient"}},
 {"request":{"method":"GET","url":"Patient/none"}},
 {"request":{"method":"GET","url":"Organization/ok"}}]}`
		r := s.do("POST", "/fhir/", batch).must(t, http.StatusOK)
		entries := r.body["entry"].([]any)
		want := []string{"201", "422", "404", "200"}
		for i, w := range want {
			resp := entries[i].(map[string]any)["response"].(map[string]any)
			if st := resp["status"].(string); !strings.HasPrefix(st, w) {
				t.Errorf("entry %d: status %q, want %s", i, st, w)
			}
			if w[0] != '2' && resp["outcome"] == nil {
				t.Errorf("entry %d: failed without an outcome", i)
			}
		}
		s.do("GET", "/fhir/Organization/ok", nil).must(t, http.StatusOK)
	})
}

func TestTransactionProcessingOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		s.do("PUT", "/fhir/Organization/old", `{"resourceType":"Organization","id":"old","name":"Old"}`).must(t, http.StatusCreated)
		// GET listed first still runs last, and sees the DELETE listed after it.
		tx := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"request":{"method":"GET","url":"Organization/new"}},
 {"resource":{"resourceType":"Organization","id":"new","name":"New"},"request":{"method":"PUT","url":"Organization/new"}},
 {"request":{"method":"DELETE","url":"Organization/old"}}]}`
		r := s.do("POST", "/fhir", tx).must(t, http.StatusOK)
		first := r.body["entry"].([]any)[0].(map[string]any)
		if first["resource"].(map[string]any)["name"] != "New" {
			t.Errorf("GET entry did not run after the PUT: %v", first)
		}
		s.do("GET", "/fhir/Organization/old", nil).must(t, http.StatusGone)
	})
}

func TestSyntheaTransaction(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/testdata/synthea/smart-sample/*_*-*.json.gz")
	if len(files) == 0 {
		t.Skip("../shared/testdata/synthea not present")
	}
	forEachBackendLimit(t, 64<<20, func(t *testing.T, s *server) {
		for _, f := range append([]string{providerBundle(t)}, files[:2]...) {
			body := gunzip(t, f)
			r := s.do("POST", "/fhir", body, "Prefer", "return=minimal")
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %.2000s", filepath.Base(f), r.status, r.raw)
			}
			for i, e := range r.body["entry"].([]any) {
				if st := e.(map[string]any)["response"].(map[string]any)["status"].(string); !strings.HasPrefix(st, "201") {
					t.Fatalf("%s entry %d: %s", filepath.Base(f), i, st)
				}
			}
		}
	})
}

func providerBundle(t *testing.T) string {
	files, _ := filepath.Glob("../../../shared/testdata/synthea/smart-sample/hospitalInformation*.json.gz")
	if len(files) == 0 {
		t.Skip("no Synthea provider bundle")
	}
	return files[0]
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTransactionRejectsTwoChangesToOneResource(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		tx := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Organization","id":"x","name":"A"},"request":{"method":"PUT","url":"Organization/x"}},
 {"request":{"method":"DELETE","url":"Organization/x"}}]}`
		r := s.do("POST", "/fhir", tx).must(t, http.StatusBadRequest)
		if ex := r.expressions(); len(ex) != 1 || ex[0] != "Bundle.entry[1].request.url" {
			t.Errorf("expressions %v", ex)
		}
		s.do("GET", "/fhir/Organization/x", nil).must(t, http.StatusNotFound)
		unresolved := `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:2b4e3c9a-0d7f-4e0e-9a55-000000000001"}},"request":{"method":"POST","url":"Observation"}}]}`
		r = s.do("POST", "/fhir", unresolved).must(t, http.StatusBadRequest)
		if ex := r.expressions(); len(ex) != 1 || ex[0] != "Bundle.entry[0].resource.subject.reference" {
			t.Errorf("unresolved urn:uuid: expressions %v", ex)
		}
	})
}
