package notify_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
)

const testBase = "http://ehealth.test/fhir"

// TestNoticeChannelsOperation: citizens (and their SDMs, and the
// operator) read and set how notices reach them through
// Patient/{id}/$notice-channels; another citizen's record answers as not
// found, bad channels as 400 with the parameter's path, a channel with no
// address as 422, and the choice is a new Patient version.
func TestNoticeChannelsOperation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			p := platformtest.Open(t, st)
			e := &env{t: t, st: st, svc: p.Service}
			tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
			if err != nil {
				t.Fatal(err)
			}
			api := rest.New(p.Service, rest.Config{Tokens: tokens, Operations: rest.OperationSet{notify.NewChoices(p.Service)}, Access: p.AccessFor},
				slog.New(slog.DiscardHandler))
			srv := httptest.NewServer(api.Handler())
			t.Cleanup(srv.Close)
			issue := func(c token.Claims) string {
				issue := tokens.Issue
				if c.Operator {
					issue = tokens.IssueOperator
				}
				raw, _, err := issue(t.Context(), c, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				return raw
			}

			alice := e.patient(person{mobile: mobile, email: email})
			bob := e.patient(person{mobile: "+852 9000 0002"})
			noPhone := e.patient(person{email: email})
			child := e.patient(person{})
			parent := e.relatedPerson(child, person{mobile: "+852 6000 0001"})
			// A Patient the clinic deposited, which its token may see.
			v, err := p.Service.Create(t.Context(), resource.Caller{Writer: "Organization/clinic-1"}, "Patient", map[string]any{"resourceType": "Patient"})
			if err != nil {
				t.Fatal(err)
			}
			deposited := v.ID
			citizen := func(id, scopes string) string {
				return issue(token.Claims{Subject: "Patient/" + id, ClientID: "app", FHIRUser: "Patient/" + id, Scope: scope.MustParse(scopes)})
			}
			aliceToken := citizen(alice, "patient/*.cruds")
			sdmToken := issue(token.Claims{Subject: "RelatedPerson/" + parent, ClientID: "app", FHIRUser: "RelatedPerson/" + parent,
				Patient: child, Scope: scope.MustParse("patient/*.cruds")})
			operatorToken := issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true})
			clinicToken := issue(token.Claims{Subject: "Organization/clinic-1", ClientID: "emr", Org: "Organization/clinic-1", Scope: scope.MustParse("system/*.cruds")})

			cases := []struct {
				name     string
				method   string
				patient  string
				bearer   string
				channels []any // POST: the channel parameters (a string is a valueCode, a map the whole parameter)
				status   int
				want     []string // 200: the channels answered
				where    string   // 4xx: the issue's expression
			}{
				{"citizen reads the default", "GET", alice, aliceToken, nil, 200, []string{"app"}, ""},
				{"citizen chooses sms and email", "POST", alice, aliceToken, []any{"sms", "email"}, 200, []string{"app", "sms", "email"}, ""},
				{"citizen reads the choice", "GET", alice, aliceToken, nil, 200, []string{"app", "sms", "email"}, ""},
				{"citizen cannot read another's", "GET", bob, aliceToken, nil, 404, nil, ""},
				{"citizen cannot choose for another", "POST", bob, aliceToken, []any{"sms"}, 404, nil, ""},
				{"sdm chooses for the child", "POST", child, sdmToken, []any{"app"}, 200, []string{"app"}, ""},
				{"sdm cannot choose for another", "POST", alice, sdmToken, []any{"app"}, 404, nil, ""},
				{"operator chooses for anyone", "POST", bob, operatorToken, []any{"sms"}, 200, []string{"app", "sms"}, ""},
				{"unknown channel", "POST", alice, aliceToken, []any{"sms", "fax"}, 400, nil, "Parameters.parameter[1].valueCode"},
				{"channel not a code", "POST", alice, aliceToken, []any{map[string]any{"name": "channel", "valueString": "sms"}}, 400, nil, "Parameters.parameter[0].valueCode"},
				{"unknown parameter", "POST", alice, aliceToken, []any{map[string]any{"name": "via", "valueCode": "sms"}}, 400, nil, "Parameters.parameter[0].name"},
				{"sms without a mobile number", "POST", noPhone, operatorToken, []any{"email", "sms"}, 422, nil, "Parameters.parameter[1].valueCode"},
				{"read-only app cannot choose", "POST", alice, citizen(alice, "patient/*.rs"), []any{"app"}, 403, nil, ""},
				{"a provider without access learns nothing", "POST", alice, clinicToken, []any{"app"}, 404, nil, ""},
				{"a provider that sees the record cannot choose", "POST", deposited, clinicToken, []any{"app"}, 403, nil, ""},
				{"a professional launched in the citizen's context cannot choose", "POST", deposited, issue(token.Claims{Subject: "dr", ClientID: "emr",
					FHIRUser: "Practitioner/dr", Org: "Organization/clinic-1", Patient: deposited, Scope: scope.MustParse("patient/*.cruds")}), []any{"app"}, 403, nil, ""},
				{"empty choice goes back to the default", "POST", bob, operatorToken, []any{}, 200, []string{"app"}, ""},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var body io.Reader
					if tc.method == "POST" {
						params := []any{}
						for _, c := range tc.channels {
							if s, ok := c.(string); ok {
								c = map[string]any{"name": "channel", "valueCode": s}
							}
							params = append(params, c)
						}
						raw, _ := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": params})
						body = bytes.NewReader(raw)
					}
					before := e.read("Patient", tc.patient)
					req, _ := http.NewRequest(tc.method, srv.URL+"/fhir/Patient/"+tc.patient+"/$notice-channels", body)
					req.Header.Set("Authorization", "Bearer "+tc.bearer)
					req.Header.Set("Content-Type", "application/fhir+json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					var out map[string]any
					raw, _ := io.ReadAll(resp.Body)
					json.Unmarshal(raw, &out)
					if resp.StatusCode != tc.status {
						t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
					}
					after := e.read("Patient", tc.patient)
					if tc.status != 200 {
						if out["resourceType"] != "OperationOutcome" {
							t.Errorf("answer %s, want an OperationOutcome", raw)
						}
						if tc.where != "" && !slices.ContainsFunc(list(out["issue"]), func(i any) bool {
							return slices.Contains(list(i.(map[string]any)["expression"]), any(tc.where))
						}) {
							t.Errorf("issues %s, want one at %s", raw, tc.where)
						}
						if version(after) != version(before) {
							t.Errorf("a refused request wrote Patient/%s", tc.patient)
						}
						return
					}
					var got []string
					for _, p := range list(out["parameter"]) {
						got = append(got, p.(map[string]any)["valueCode"].(string))
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("channels %v, want %v", got, tc.want)
					}
					if stored := notify.Chosen(after); !slices.Equal(stored, tc.want) {
						t.Errorf("the Patient holds %v, want %v", stored, tc.want)
					}
					if tc.method == "POST" && !slices.Equal(notify.Chosen(before), tc.want) && version(after) == version(before) {
						t.Error("a changed choice did not make a new Patient version")
					}
				})
			}
		})
	}
}

// version is a resource's meta.versionId.
func version(res map[string]any) string {
	meta, _ := res["meta"].(map[string]any)
	v, _ := meta["versionId"].(string)
	return v
}

// TestNoticeChannelsRefusesOtherPatientContext: the provider itself
// refuses a token whose patient context is another citizen, answering as
// for an unknown Patient, even when the API's read let the instance
// through (a caller whose access predicate reaches both).
func TestNoticeChannelsRefusesOtherPatientContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		alice, bob := e.patient(person{mobile: mobile}), e.patient(person{mobile: mobile})
		c := resource.Caller{Writer: "app", Grants: &resource.Grants{Scopes: scope.MustParse("patient/*.cruds"), Patient: alice}}
		body := map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "channel", "valueCode": "sms"}}}
		for _, b := range []map[string]any{nil, body} {
			_, err := notify.NewChoices(e.svc).Run(t.Context(), c, "Patient", notify.OpNoticeChannels, e.read("Patient", bob), nil, b)
			if !outcome.Is(err, outcome.NotFound) || err.Error() != "not-found: Patient/"+bob+" is not known" {
				t.Errorf("body %v: err %v, want not-found worded as for an unknown Patient", b != nil, err)
			}
		}
		if got := notify.Chosen(e.read("Patient", bob)); !slices.Equal(got, []string{"app"}) {
			t.Errorf("Patient/%s's choice became %v", bob, got)
		}
	})
}
