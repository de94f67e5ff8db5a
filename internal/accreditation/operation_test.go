package accreditation

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
)

const testBase = "http://ehealth.test/fhir"

// api is the FHIR API with $accreditation over one backend.
type api struct {
	t      *testing.T
	srv    *httptest.Server
	tokens *token.Service
}

func (a *api) issue(c token.Claims) string {
	a.t.Helper()
	issue := a.tokens.Issue
	if c.Operator {
		issue = a.tokens.IssueOperator
	}
	raw, _, err := issue(a.t.Context(), c, time.Hour)
	if err != nil {
		a.t.Fatal(err)
	}
	return raw
}

// do sends a request with bearer and returns the status and JSON body.
func (a *api) do(method, path, bearer string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestOperation: $accreditation over HTTP assesses and records; the
// provider's own professionals and systems and the operator may, another
// provider's and a citizen may not; each assessment is kept, so the
// provider's history lists them; bad periods are the client's mistake.
func TestOperation(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			p := platformtest.Open(t, st)
			tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
			if err != nil {
				t.Fatal(err)
			}
			s := New(p.Service, testChecker{})
			h := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Operations: rest.OperationSet{s.Operations()}},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			a := &api{t: t, srv: httptest.NewServer(h.Handler()), tokens: tokens}
			t.Cleanup(a.srv.Close)
			op := a.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
			for _, org := range []string{"lab", "clinic"} {
				if _, _, err := p.Service.Update(t.Context(), resource.Caller{Writer: "ehealth-admin"}, "Organization", org,
					map[string]any{"resourceType": "Organization", "id": org, "name": org}, 0); err != nil {
					t.Fatal(err)
				}
			}
			deposit(t, p.Service, "Organization/lab", "p1", batch{profile.LabReport, 3, 3, 2})
			deposit(t, p.Service, "Organization/lab", "p1", batch{profile.ObservationRecord, 1, 0, 1})
			labPro := a.issue(token.Claims{Subject: "tech", ClientID: "lis", FHIRUser: "Practitioner/tech", Org: "Organization/lab", Scope: scope.MustParse("user/*.rs")})
			labSystem := a.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/MeasureReport.rs system/Organization.r")})
			labNoScope := a.issue(token.Claims{Subject: "lis", ClientID: "lis", Org: "Organization/lab", Scope: scope.MustParse("system/Observation.cruds system/Organization.r")})
			clinicPro := a.issue(token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr", Org: "Organization/clinic", Scope: scope.MustParse("user/*.rs")})
			citizen := a.issue(token.Claims{Subject: "Patient/p1", ClientID: "app", FHIRUser: "Patient/p1", Scope: scope.MustParse("patient/*.rs")})

			status, mr := a.do("GET", "/fhir/Organization/lab/$accreditation?start=2000-01-01&end=2999-12-31", labPro, nil)
			if status != http.StatusOK {
				t.Fatalf("the lab's professional: %d %v", status, mr)
			}
			checkReport(t, mr)
			for _, c := range []struct {
				name, bearer, method, path string
				body                       any
				status                     int
			}{
				{"the lab's system, POST", labSystem, "POST", "/fhir/Organization/lab/$accreditation",
					params("start", "2000-01-01", "end", "2999-12-31T23:59:59Z"), http.StatusOK},
				{"the operator, default period", op, "GET", "/fhir/Organization/lab/$accreditation", nil, http.StatusOK},
				{"the lab without a MeasureReport scope", labNoScope, "GET", "/fhir/Organization/lab/$accreditation", nil, http.StatusForbidden},
				{"another provider", clinicPro, "GET", "/fhir/Organization/lab/$accreditation", nil, http.StatusForbidden},
				{"a citizen", citizen, "GET", "/fhir/Organization/lab/$accreditation", nil, http.StatusForbidden},
				{"an unknown provider", op, "GET", "/fhir/Organization/nope/$accreditation", nil, http.StatusNotFound},
				{"a bad date", op, "GET", "/fhir/Organization/lab/$accreditation?start=yesterday", nil, http.StatusBadRequest},
				{"a period ending first", op, "GET", "/fhir/Organization/lab/$accreditation?start=2026-02-01&end=2026-01-01", nil, http.StatusBadRequest},
				{"an unknown parameter", op, "GET", "/fhir/Organization/lab/$accreditation?org=clinic", nil, http.StatusBadRequest},
				{"a parameter twice", op, "POST", "/fhir/Organization/lab/$accreditation", params("start", "2026-01-01", "start", "2026-01-02"), http.StatusBadRequest},
			} {
				status, body := a.do(c.method, c.path, c.bearer, c.body)
				if status != c.status {
					t.Errorf("%s: %d %v; want %d", c.name, status, body, c.status)
				}
				if status == http.StatusForbidden && !strings.Contains(jsonText(body), "accreditation") {
					t.Errorf("%s: refused by the API, not the operation: %v", c.name, body)
				}
			}
			// Three assessments were made: the history holds each.
			status, bundle := a.do("GET", "/fhir/MeasureReport?subject=Organization/lab&_total=accurate", labPro, nil)
			if status != http.StatusOK || bundle["total"] != float64(3) {
				t.Errorf("the lab's history: %d total %v; want 3", status, bundle["total"])
			}
			status, bundle = a.do("GET", "/fhir/MeasureReport?subject=Organization/clinic&_total=accurate", op, nil)
			if status != http.StatusOK || bundle["total"] != float64(0) {
				t.Errorf("the clinic's history: %d total %v; want 0", status, bundle["total"])
			}
		})
	}
}

// checkReport checks the lab's MeasureReport: bronze with the lab mark,
// lab reports 3 (all valid, 2 of 3 coded), observations 1 (none valid).
func checkReport(t *testing.T, mr map[string]any) {
	t.Helper()
	text, _ := json.Marshal(mr)
	for _, want := range []string{
		`"resourceType":"MeasureReport"`, `"status":"complete"`, `"type":"summary"`,
		`"subject":{"reference":"Organization/lab"}`, `"reporter":{"reference":"Organization/lab"}`,
		`"period":{"end":"2999-12-31","start":"2000-01-01"}`,
		`{"url":"` + LevelExtension + `","valueCoding":{"code":"bronze","display":"Bronze","system":"` + CodeSystem + `"}}`,
		`{"url":"` + MarkExtension + `","valueCoding":{"code":"lab","display":"Laboratory reports","system":"` + CodeSystem + `"}}`,
		`{"url":"` + TypesExtension + `","valueInteger":1}`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the MeasureReport lacks %s: %s", want, text)
		}
	}
	if strings.Contains(string(text), `"code":"radiology"`) {
		t.Errorf("a radiology mark without radiology: %s", text)
	}
	groups, _ := mr["group"].([]any)
	got := map[string]string{}
	for _, g := range groups {
		gm := g.(map[string]any)
		code := gm["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		var counts []string
		for _, p := range gm["population"].([]any) {
			pm := p.(map[string]any)
			counts = append(counts, pm["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)+"="+jsonText(pm["count"]))
		}
		got[code] = strings.Join(counts, " ") + " score=" + jsonText(gm["measureScore"].(map[string]any)["value"]) +
			" coded=" + jsonText(gm["extension"].([]any)[0].(map[string]any)["valueDecimal"])
	}
	want := map[string]string{
		"lab-report":  "initial-population=3 valid=3 coded=2 score=1 coded=0.6667",
		"observation": "initial-population=1 valid=0 coded=1 score=0 coded=1",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("group %s: %s; want %s", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("groups %v; want %v", got, want)
	}
	if id, _ := mr["id"].(string); id == "" {
		t.Errorf("the MeasureReport was not stored: %s", text)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// params is a Parameters body of name/valueString pairs.
func params(pairs ...string) map[string]any {
	var list []any
	for i := 0; i+1 < len(pairs); i += 2 {
		list = append(list, map[string]any{"name": pairs[i], "valueString": pairs[i+1]})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": list}
}
