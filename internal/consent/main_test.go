package consent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

const testBase = "http://ehealth.test/fhir"

// clock is the operations' settable time.
type clock struct {
	mu sync.Mutex
	d  time.Duration // offset from the real time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *clock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d = d
}

// env is the FHIR API with the registry's and the consent operations over
// one backend, as serve wires them.
type env struct {
	t        *testing.T
	st       store.Store
	svc      *resource.Service
	policy   *consent.Policy
	srv      *httptest.Server
	tokens   *token.Service
	operator string
	clock    *clock
}

func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, b)) })
	}
}

func newEnv(t *testing.T, b platformtest.Backend) *env {
	t.Helper()
	st := b.Open(t)
	p := platformtest.Open(t, st)
	e := &env{t: t, st: st, svc: p.Service, policy: p.Consent, clock: &clock{}}
	reg := registry.New(p.Service, st, registry.WithAccessKeyCost(1000))
	ops := consent.NewOperations(p.Service, st, p.Consent, consent.Citizens{
		VerifyAccessKey: reg.VerifyAccessKey,
		ActsFor: func(ctx context.Context, id string) (string, bool, error) {
			patient, _, ok, err := reg.ActsFor(ctx, id)
			return patient, ok, err
		},
	}, consent.WithClock(e.clock.Now))
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = tokens
	api := rest.New(p.Service, rest.Config{Tokens: tokens, Operations: rest.OperationSet{reg, ops}, Access: p.AccessFor},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	e.operator = e.issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
	return e
}

func (e *env) issue(c token.Claims) string {
	e.t.Helper()
	issue := e.tokens.Issue
	if c.Operator {
		issue = e.tokens.IssueOperator
	}
	raw, _, err := issue(e.t.Context(), c, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// citizenToken is the app's token of a citizen (or an SDM launching for
// patient).
func (e *env) citizenToken(fhirUser, patient string) string {
	return e.issue(token.Claims{Subject: fhirUser, ClientID: "app", FHIRUser: fhirUser, Patient: patient,
		Scope: scope.MustParse("patient/*.cruds")})
}

// proToken is a professional's token at org.
func (e *env) proToken(practitioner, org string) string {
	return e.issue(token.Claims{Subject: practitioner, ClientID: "emr", FHIRUser: "Practitioner/" + practitioner,
		Org: "Organization/" + org, Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")})
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func (e *env) do(method, path string, body any, bearer string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	if bearer == "" {
		bearer = e.operator
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// diagnostics is the text of an OperationOutcome's issues.
func (r response) diagnostics() string {
	var out []string
	issues, _ := r.body["issue"].([]any)
	for _, i := range issues {
		m, _ := i.(map[string]any)
		d, _ := m["diagnostics"].(string)
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

// op posts a consent operation with Parameters built from name/value
// pairs (a value of the form "Type/id" for organization is a reference).
func (e *env) op(path, bearer string, pairs ...string) response {
	e.t.Helper()
	var ps []any
	for i := 0; i+1 < len(pairs); i += 2 {
		p := map[string]any{"name": pairs[i]}
		switch pairs[i] {
		case "organization":
			p["valueReference"] = map[string]any{"reference": pairs[i+1]}
		case "until":
			p["valueDate"] = pairs[i+1]
		case "type":
			p["valueCode"] = pairs[i+1]
		default:
			p["valueString"] = pairs[i+1]
		}
		ps = append(ps, p)
	}
	return e.do("POST", "/fhir/"+path, map[string]any{"resourceType": "Parameters", "parameter": ps}, bearer)
}

// world is the test's providers, professionals and citizens.
type world struct {
	adult, adultKey string // a registered adult and their access key
	other           string // another registered adult
	child, sdm      string // a registered child and their parent's RelatedPerson
}

// seed registers the providers and citizens.
func (e *env) seed() world {
	e.t.Helper()
	for _, r := range []string{
		`{"resourceType":"Organization","id":"clinic","name":"Harbour Clinic"}`,
		`{"resourceType":"Organization","id":"lab","name":"Kowloon Lab"}`,
		`{"resourceType":"Practitioner","id":"dr","name":[{"family":"Wong","given":["Ka Ming"]}]}`,
		`{"resourceType":"Practitioner","id":"dr2","name":[{"family":"Lee"}]}`,
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(r), &m)
		e.do("PUT", "/fhir/"+m["resourceType"].(string)+"/"+m["id"].(string), m, "").must(e.t, http.StatusCreated)
	}
	var w world
	w.adult, w.adultKey = e.register("A123456(3)", "1980-05-01", nil)
	w.other, _ = e.register("E364912(5)", "1975-01-01", nil)
	parent := map[string]any{
		"resourceType": "RelatedPerson",
		"relationship": []any{map[string]any{"coding": []any{map[string]any{"system": registry.SDMRoleSystem, "code": "parent"}}}},
		"name":         []any{map[string]any{"family": "CHAN", "given": []any{"Mei Ling"}}},
		"telecom":      []any{map[string]any{"system": "sms", "value": "+852 9876 5432"}},
	}
	var r response
	w.child, r = e.registerResponse("AB987654(3)", time.Now().AddDate(-8, 0, 0).Format(time.DateOnly), parent)
	ref, _ := paramOf(r, "substitute-decision-maker")["valueReference"].(map[string]any)
	w.sdm = strings.TrimPrefix(ref["reference"].(string), "RelatedPerson/")
	return w
}

func (e *env) register(hkid, birth string, sdm map[string]any) (string, string) {
	id, r := e.registerResponse(hkid, birth, sdm)
	return id, paramOf(r, "access-key")["valueString"].(string)
}

func (e *env) registerResponse(hkid, birth string, sdm map[string]any) (string, response) {
	e.t.Helper()
	p := map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": hkid}},
		"name": []any{map[string]any{"family": "CHAN", "given": []any{"Tai Man"}}}, "birthDate": birth, "gender": "male",
		"telecom": []any{map[string]any{"system": "sms", "value": "+852 9123 4567"}}}
	ps := []any{map[string]any{"name": "patient", "resource": p}}
	if sdm != nil {
		ps = append(ps, map[string]any{"name": "substitute-decision-maker", "resource": sdm})
	}
	r := e.do("POST", "/fhir/Patient/$register", map[string]any{"resourceType": "Parameters", "parameter": ps}, "").must(e.t, http.StatusOK)
	return paramOf(r, "patient")["resource"].(map[string]any)["id"].(string), r
}

func paramOf(r response, name string) map[string]any {
	ps, _ := r.body["parameter"].([]any)
	for _, p := range ps {
		m := p.(map[string]any)
		if m["name"] == name {
			return m
		}
	}
	return map[string]any{}
}

// notices are the notices of kind about patient, as the operator finds them.
func (e *env) notices(patient, kind string) []map[string]any {
	e.t.Helper()
	q := url.Values{"subject": {"Patient/" + patient}, "category": {notify.KindSystem + "|" + kind}, "_count": {"100"}}
	r := e.do("GET", "/fhir/Communication?"+q.Encode(), nil, "").must(e.t, http.StatusOK)
	var out []map[string]any
	entries, _ := r.body["entry"].([]any)
	for _, en := range entries {
		out = append(out, en.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the one-time code in the newest code notice about patient,
// and to whom it went.
func (e *env) lastCode(patient string) (code string, to []string) {
	e.t.Helper()
	ns := e.notices(patient, notify.KindOneTimeCode)
	if len(ns) == 0 {
		e.t.Fatalf("no one-time code was sent about Patient/%s", patient)
	}
	newest := ns[0]
	for _, n := range ns {
		if n["sent"].(string) > newest["sent"].(string) || (n["sent"] == newest["sent"] && n["meta"].(map[string]any)["lastUpdated"].(string) > newest["meta"].(map[string]any)["lastUpdated"].(string)) {
			newest = n
		}
	}
	en := newest["payload"].([]any)[0].(map[string]any)["contentString"].(string)
	for _, r := range newest["recipient"].([]any) {
		to = append(to, r.(map[string]any)["reference"].(string))
	}
	return sixDigits.FindString(en), to
}

// sees reports the status of bearer's read of typ/id.
func (e *env) sees(bearer, path string) int {
	e.t.Helper()
	return e.do("GET", "/fhir/"+path, nil, bearer).status
}

// total is the accurate total of a search by bearer.
func (e *env) total(bearer, query string) any {
	e.t.Helper()
	r := e.do("GET", "/fhir/"+query+"&_total=accurate", nil, bearer).must(e.t, http.StatusOK)
	return r.body["total"]
}

// tokenClaims is a provider system's claims.
func tokenClaims(client, org, scopes string) token.Claims {
	return token.Claims{Subject: client, ClientID: client, Org: org, Scope: scope.MustParse(scopes)}
}
