package rest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
)

// exportRun kicks off an export at path as auth, waits for it and returns
// the manifest and, by type, the ids of every resource its files hold
// (downloaded as auth) — checking every line is one JSON resource of the
// file's type and no id is written twice.
func exportRun(t *testing.T, s *server, auth, path string) (map[string]any, map[string][]string) {
	t.Helper()
	status := kickOff(t, s, auth, path)
	manifest := waitExport(t, s, auth, status)
	got := map[string][]string{}
	outputs, _ := manifest["output"].([]any)
	for _, o := range outputs {
		om := o.(map[string]any)
		typ := om["type"].(string)
		r := s.do("GET", fileURL(s, om["url"].(string)), nil, "Authorization", auth).must(t, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/fhir+ndjson" {
			t.Errorf("file Content-Type = %q", ct)
		}
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(r.raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var res map[string]any
			if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
				t.Fatalf("%s: a line is not JSON: %v", om["url"], err)
			}
			if res["resourceType"] != typ {
				t.Errorf("%s holds a %v", typ, res["resourceType"])
			}
			id := res["id"].(string)
			if slices.Contains(got[typ], id) {
				t.Errorf("%s/%s exported twice", typ, id)
			}
			got[typ] = append(got[typ], id)
			n++
		}
		if fmt.Sprint(om["count"]) != fmt.Sprint(n) {
			t.Errorf("%s: manifest count %v, file holds %d", typ, om["count"], n)
		}
	}
	for _, ids := range got {
		slices.Sort(ids)
	}
	return manifest, got
}

// kickOff starts an export and returns its status path.
func kickOff(t *testing.T, s *server, auth, path string) string {
	t.Helper()
	r := s.do("GET", path, nil, "Authorization", auth, "Prefer", "respond-async", "Accept", "application/fhir+json").must(t, http.StatusAccepted)
	loc := r.header.Get("Content-Location")
	if !strings.Contains(loc, "/fhir/$export-status/") {
		t.Fatalf("Content-Location = %q", loc)
	}
	return fileURL(s, loc)
}

// fileURL is the path of an absolute URL of the test server.
func fileURL(s *server, u string) string { return strings.TrimPrefix(u, s.srv.URL) }

// waitExport polls status until the export completes.
func waitExport(t *testing.T, s *server, auth, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := s.do("GET", status, nil, "Authorization", auth)
		switch r.status {
		case http.StatusAccepted:
			if r.header.Get("X-Progress") == "" {
				t.Error("202 without X-Progress")
			}
			time.Sleep(20 * time.Millisecond)
			continue
		case http.StatusOK:
			var m map[string]any
			if err := json.Unmarshal(r.raw, &m); err != nil {
				t.Fatalf("manifest: %v", err)
			}
			if m["requiresAccessToken"] != true || m["transactionTime"] == nil {
				t.Errorf("manifest = %s", r.raw)
			}
			return m
		default:
			t.Fatalf("status: %d %s", r.status, r.raw)
		}
	}
	t.Fatal("the export did not finish")
	return nil
}

// searchIDs lists the ids of every resource of typ auth's search finds.
func searchIDs(t *testing.T, s *server, auth, typ string) []string {
	t.Helper()
	var out []string
	path := "/fhir/" + typ + "?_count=1000"
	for path != "" {
		r := s.do("GET", path, nil, "Authorization", auth).must(t, http.StatusOK)
		for _, id := range ids(r, "match") {
			out = append(out, strings.TrimPrefix(id, typ+"/"))
		}
		path = ""
		links, _ := r.body["link"].([]any)
		for _, l := range links {
			if lm := l.(map[string]any); lm["relation"] == "next" {
				path = fileURL(s, lm["url"].(string))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestExport: FHIR Bulk Data export at system, Patient and Group level
// gives back every resource the caller may read and nothing else — the
// consent decision and restricted records apply as to a search — with
// _type, _typeFilter and _since; only its owner polls, downloads or
// cancels a job; downloading a file is in the exported patients' audit
// history and in nobody else's.
func TestExport(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			op := "Bearer " + s.bearer
			s.do("PUT", "/fhir/Organization/clinic", `{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`).must(t, http.StatusCreated)
			for _, p := range []string{"xa", "xb", "xc"} {
				s.do("PUT", "/fhir/Patient/"+p, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Export"}]}`, p)).must(t, http.StatusCreated)
				join(t, s, p)
				for i, code := range []string{"8480-6", "8462-4", "8867-4"} {
					s.do("PUT", fmt.Sprintf("/fhir/Observation/%s-o%d", p, i), fmt.Sprintf(`{"resourceType":"Observation","id":"%s-o%d","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","code":%q}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":"2024-01-0%dT00:00:00Z"}`, p, i, code, p, i+1)).must(t, http.StatusCreated)
				}
			}
			s.do("PUT", "/fhir/Observation/xc-r", `{"resourceType":"Observation","id":"xc-r","status":"final","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/xc"}}`).must(t, http.StatusCreated)
			for _, p := range []string{"xa", "xc"} { // xb gave the clinic nothing
				s.do("PUT", "/fhir/Consent/"+p+"-c", sharingConsent(p+"-c", p, "clinic", "active", "")).must(t, http.StatusCreated)
				s.do("PUT", "/fhir/Encounter/"+p+"-e", careEncounter(p+"-e", p, "clinic", "in-progress")).must(t, http.StatusCreated)
			}
			// The clinic's own list of patients (a Group naming several
			// patients is seen by its writer only).
			emr := "Bearer " + s.issue(token.Claims{Subject: "emr", ClientID: "emr", Org: "Organization/clinic", Scope: scope.MustParse("system/Group.cruds")})
			group := s.do("POST", "/fhir/Group", `{"resourceType":"Group","type":"person","actual":true,
 "member":[{"entity":{"reference":"Patient/xa"}},{"entity":{"reference":"Patient/xb"}}]}`, "Authorization", emr).must(t, http.StatusCreated).body["id"].(string)
			dr := "Bearer " + s.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic",
				Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
			other := "Bearer " + s.issue(token.Claims{Subject: "dr2", ClientID: "emr", FHIRUser: "Practitioner/dr2", Org: "Organization/clinic",
				Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})

			// The operator's system export holds every resource, type by type.
			_, all := exportRun(t, s, op, "/fhir/$export")
			for _, typ := range slices.Sorted(maps.Keys(all)) {
				if want := searchIDs(t, s, op, typ); !slices.Equal(all[typ], want) {
					t.Errorf("system export of %s = %v, search finds %v", typ, all[typ], want)
				}
			}
			for _, typ := range []string{"Patient", "Observation", "Consent", "Encounter", "Group", "Organization"} {
				if len(all[typ]) == 0 {
					t.Errorf("system export has no %s", typ)
				}
			}

			// The clinic's doctor: what consent and care let them see, at
			// every level — never xb, never the restricted record.
			want := map[string][]string{"Patient": {"xa", "xc"}, "Observation": {"xa-o0", "xa-o1", "xa-o2", "xc-o0", "xc-o1", "xc-o2"}}
			_, got := exportRun(t, s, dr, "/fhir/Patient/$export?_type=Patient,Observation")
			if !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("the doctor's Patient export = %v, want %v", got, want)
			}
			_, got = exportRun(t, s, dr, "/fhir/Patient/$export")
			for typ, ids := range got {
				for _, id := range ids {
					if strings.HasPrefix(id, "xb") || id == "xc-r" || id == "join-xb" {
						t.Errorf("the doctor's export holds %s/%s", typ, id)
					}
				}
			}
			if !slices.Equal(got["Observation"], want["Observation"]) {
				t.Errorf("the doctor's full Patient export's Observations = %v", got["Observation"])
			}
			_, got = exportRun(t, s, dr, "/fhir/Group/"+group+"/$export?_type=Patient,Observation")
			if want := (map[string][]string{"Patient": {"xa"}, "Observation": {"xa-o0", "xa-o1", "xa-o2"}}); !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("the doctor's Group export = %v, want %v", got, want)
			}
			_, got = exportRun(t, s, op, "/fhir/$export?_type=Observation&_typeFilter="+url.QueryEscape("Observation?code=8480-6,Observation?code=8480-6%2C8462-4"))
			if want := []string{"xa-o0", "xa-o1", "xb-o0", "xb-o1", "xc-o0", "xc-o1", "xc-r"}; !slices.Equal(got["Observation"], want) {
				t.Errorf("_typeFilter export = %v, want %v", got["Observation"], want)
			}
			m, got := exportRun(t, s, op, "/fhir/$export?_since="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
			if len(got) != 0 || len(m["output"].([]any)) != 0 {
				t.Errorf("_since in the future exported %v", got)
			}

			// Only the owner sees a job; the download is audited for the
			// patients it holds only.
			status := kickOff(t, s, dr, "/fhir/Patient/$export?_type=Observation")
			manifest := waitExport(t, s, dr, status)
			s.do("GET", status, nil, "Authorization", other).must(t, http.StatusNotFound)
			file := fileURL(s, manifest["output"].([]any)[0].(map[string]any)["url"].(string))
			s.do("GET", file, nil, "Authorization", other).must(t, http.StatusNotFound)
			journal := func(p string) int {
				r := s.do("GET", "/fhir/AuditEvent?patient=Patient/"+p+"&_count=1000", nil, "Authorization", op).must(t, http.StatusOK)
				return len(ids(r, "match"))
			}
			// Each look at the journal is itself recorded in it: one more.
			beforeA, beforeB := journal("xa"), journal("xb")
			s.do("GET", file, nil, "Authorization", dr).must(t, http.StatusOK)
			if n := journal("xa"); n != beforeA+2 {
				t.Errorf("xa's audit history grew by %d with the download, want 1", n-beforeA-1)
			}
			if n := journal("xb"); n != beforeB+1 {
				t.Errorf("xb's audit history grew by %d for an export without their records", n-beforeB-1)
			}
			s.do("DELETE", status, nil, "Authorization", other).must(t, http.StatusNotFound)
			s.do("DELETE", status, nil, "Authorization", dr).must(t, http.StatusAccepted)
			s.do("GET", status, nil, "Authorization", dr).must(t, http.StatusNotFound)

			// Bad kick-offs.
			s.do("GET", "/fhir/$export", nil, "Authorization", op).must(t, http.StatusBadRequest)
			r := s.do("GET", "/fhir/$export?_type=Nonsense", nil, "Authorization", op, "Prefer", "respond-async").must(t, http.StatusBadRequest)
			if !slices.Contains(r.expressions(), "_type") {
				t.Errorf("bad _type: %s", r.raw)
			}
			s.do("GET", "/fhir/$export?_outputFormat=text/csv", nil, "Authorization", op, "Prefer", "respond-async").must(t, http.StatusBadRequest)
			s.do("GET", "/fhir/Patient/$export?_type=Organization", nil, "Authorization", op, "Prefer", "respond-async").must(t, http.StatusBadRequest)
			s.do("GET", "/fhir/Group/xb/$export", nil, "Authorization", dr, "Prefer", "respond-async").must(t, http.StatusNotFound)
			lab := "Bearer " + s.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Observation.rs")})
			s.do("GET", "/fhir/$export?_type=Patient", nil, "Authorization", lab, "Prefer", "respond-async").must(t, http.StatusForbidden)
		})
	}
}
