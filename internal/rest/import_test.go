package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
)

// importParams is an $import kick-off's Parameters for inputs (type, url).
func importParams(inputs ...[2]string) map[string]any {
	ps := []any{map[string]any{"name": "inputFormat", "valueCode": "application/fhir+ndjson"},
		map[string]any{"name": "inputSource", "valueUri": "https://source.example"}}
	for _, in := range inputs {
		ps = append(ps, map[string]any{"name": "input", "part": []any{
			map[string]any{"name": "type", "valueCode": in[0]}, map[string]any{"name": "url", "valueUri": in[1]}}})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": ps}
}

// runImport kicks off an import and waits for its result.
func runImport(t *testing.T, s *server, params map[string]any) map[string]any {
	t.Helper()
	r := s.do("POST", "/fhir/$import", params, "Prefer", "respond-async").must(t, http.StatusAccepted)
	status := fileURL(s, r.header.Get("Content-Location"))
	if !strings.Contains(status, "/$import-status/") {
		t.Fatalf("Content-Location = %q", status)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r = s.do("GET", status, nil)
		if r.status == http.StatusAccepted {
			continue
		}
		r.must(t, http.StatusOK)
		var m map[string]any
		if err := json.Unmarshal(r.raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Fatal("the import did not finish")
	return nil
}

// TestImport: the operator's $import loads NDJSON from a file: URL in the
// import directory and from an http URL, reports each input's count and
// its refused lines, and run again writes nothing twice; anyone else is
// refused, as are inputs outside the import directory.
func TestImport(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			var patients, obs strings.Builder
			for i := range 30 {
				fmt.Fprintf(&patients, `{"resourceType":"Patient","id":"imp%d","name":[{"family":"Import"}]}`+"\n", i)
				fmt.Fprintf(&obs, `{"resourceType":"Observation","id":"imp-o%d","status":"final","code":{"text":"BP"},"subject":{"reference":"Patient/imp%d"}}`+"\n", i, i)
			}
			obs.WriteString(`{"resourceType":"Observation","id":"bad","status":"nonsense","code":{"text":"BP"}}` + "\n")
			file := filepath.Join(s.importDir, "Patient.ndjson")
			if err := os.WriteFile(file, []byte(patients.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+ndjson")
				fmt.Fprint(w, obs.String())
			}))
			defer src.Close()
			params := importParams([2]string{"Patient", "file://" + file}, [2]string{"Observation", src.URL + "/Observation.ndjson"})
			for run := range 2 {
				m := runImport(t, s, params)
				out := m["output"].([]any)
				if len(out) != 2 || fmt.Sprint(out[0].(map[string]any)["count"]) != "30" || fmt.Sprint(out[1].(map[string]any)["count"]) != "30" {
					t.Errorf("run %d: output %v", run, out)
				}
				errs := m["error"].([]any)
				if len(errs) != 1 || fmt.Sprint(errs[0].(map[string]any)["count"]) != "1" || !strings.Contains(fmt.Sprint(errs[0]), "line 31") {
					t.Errorf("run %d: error %v", run, errs)
				}
				for _, ref := range []string{"Patient/imp7", "Observation/imp-o29"} {
					if v := s.do("GET", "/fhir/"+ref, nil).must(t, http.StatusOK).body["meta"].(map[string]any)["versionId"]; v != "1" {
						t.Errorf("run %d: %s is at version %v", run, ref, v)
					}
				}
			}
			dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic", Scope: scope.MustParse("user/*.cruds")})
			s.do("POST", "/fhir/$import", params, "Prefer", "respond-async", "Authorization", dr).must(t, http.StatusForbidden)
			s.do("POST", "/fhir/$import", params).must(t, http.StatusBadRequest) // not async
			outside := filepath.Join(t.TempDir(), "Patient.ndjson")
			os.WriteFile(outside, []byte(patients.String()), 0o600)
			for _, bad := range []string{"file://" + outside, "file://" + s.importDir + "/../x.ndjson", "ftp://example.org/x.ndjson"} {
				r := s.do("POST", "/fhir/$import", importParams([2]string{"Patient", bad}), "Prefer", "respond-async").must(t, http.StatusBadRequest)
				if !strings.Contains(string(r.raw), "Parameters.parameter[2]") {
					t.Errorf("%s: %s", bad, r.raw)
				}
			}
			s.do("POST", "/fhir/$import", importParams([2]string{"Nonsense", "file://" + file}), "Prefer", "respond-async").must(t, http.StatusBadRequest)
		})
	}
}
