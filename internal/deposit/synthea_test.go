package deposit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// api is the FHIR API with deposits over one platform, and its bearers.
type api struct {
	t                *testing.T
	url              string
	operator, clinic string
}

const testBase = "http://ehealth.test/fhir"

func newAPI(t *testing.T, be platformtest.Backend) (*api, *resource.Service) {
	t.Helper()
	st := be.Open(t)
	p := platformtest.Open(t, st)
	tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
	if err != nil {
		t.Fatal(err)
	}
	h := rest.New(p.Service, rest.Config{Tokens: tokens, Access: p.AccessFor, Operations: rest.OperationSet{p.Registry},
		Deposit: deposit.New(p.Service, p.Registry, deposit.WithChecker(p.Profiles))}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	issue := func(c token.Claims, op bool) string {
		f := tokens.Issue
		if op {
			f = tokens.IssueOperator
		}
		raw, _, err := f(t.Context(), c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + raw
	}
	a := &api{t: t, url: srv.URL,
		operator: issue(token.Claims{Subject: "operator", ClientID: "test", Scope: scope.MustParse("system/*.cruds"), Operator: true}, true),
		clinic:   issue(token.Claims{Subject: "emr", ClientID: "emr", Org: "Organization/clinic", Scope: scope.MustParse("system/*.cruds")}, false)}
	a.do("PUT", "/fhir/Organization/clinic", map[string]any{"resourceType": "Organization", "id": "clinic", "name": "Clinic A"}, a.operator, http.StatusCreated)
	return a, p.Service
}

// do sends a request with a FHIR JSON body and returns the parsed answer,
// failing (safely from any goroutine) on another status.
func (a *api) do(method, path string, body map[string]any, bearer string, status int) map[string]any {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			a.t.Error(err)
			return nil
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Error(err)
		return nil
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		a.t.Errorf("%s %s: %d, want %d: %.2000s", method, path, resp.StatusCode, status, raw)
		return nil
	}
	out, err := fhir.Parse(raw)
	if err != nil {
		a.t.Errorf("%s %s: %v", method, path, err)
	}
	return out
}

// answers are each response entry's status and location.
func answers(resp map[string]any) []string {
	entries, _ := resp["entry"].([]any)
	out := make([]string, len(entries))
	for i, e := range entries {
		r, _ := e.(map[string]any)["response"].(map[string]any)
		loc, _ := r["location"].(string)
		out[i] = fmt.Sprint(r["status"], " ", loc)
	}
	return out
}

// TestSyntheaOverHTTP: every Synthea patient in ../shared, converted,
// registered and deposited by the clinic's system client over HTTP,
// lands in the citizen's record; depositing everything again changes
// nothing: the same counts per type, every entry at the same version, no
// Provenance. (About 27,000 resources deposited twice per backend: two to
// five minutes each on two cores; -short takes every eighth patient.)
func TestSyntheaOverHTTP(t *testing.T) {
	sources := syntheaBundles(t)
	for _, be := range backends {
		t.Run(be.Name, func(t *testing.T) {
			a, svc := newAPI(t, be)
			var patients []synthea.Converted
			types := map[string]bool{"Provenance": true}
			masters := map[string]string{}
			for i, src := range sources {
				if testing.Short() && i%8 != 0 {
					continue // -short: every eighth patient
				}
				c, err := synthea.Convert(src, synthea.Options{Organization: "clinic"})
				if err != nil {
					t.Fatal(err)
				}
				patients = append(patients, c)
				reg := a.do("POST", "/fhir/Patient/$register", c.Registration, a.operator, http.StatusOK)
				for _, p := range reg["parameter"].([]any) {
					if m := p.(map[string]any); m["name"] == "patient" {
						masters[c.SyntheaID] = m["resource"].(map[string]any)["id"].(string)
					}
				}
				for _, e := range c.Deposit["entry"].([]any) {
					types[e.(map[string]any)["request"].(map[string]any)["url"].(string)] = true
				}
			}
			first := a.depositAll(patients)
			for id, got := range first {
				for i, s := range got {
					if !strings.HasPrefix(s, "201 ") {
						t.Fatalf("%s entry %d: %s", id, i, s)
					}
				}
			}
			// Each patient's records are in the citizen's record, by the clinic.
			for _, c := range patients {
				loc := strings.TrimPrefix(first[c.SyntheaID][len(first[c.SyntheaID])-1], "201 Created ")
				parts := strings.Split(loc, "/")
				v, err := svc.Read(t.Context(), resource.Caller{}, parts[0], parts[1])
				if err != nil || v.PatientKey != masters[c.SyntheaID] || v.Writer != "Organization/clinic" {
					t.Errorf("%s: %s is filed under %q by %q (%v), want the citizen %s", c.SyntheaID, loc, v.PatientKey, v.Writer, err, masters[c.SyntheaID])
				}
			}
			list := slices.Sorted(func(yield func(string) bool) {
				for k := range types {
					if !yield(k) {
						return
					}
				}
			})
			before := a.counts(list)
			for id, got := range a.depositAll(patients) {
				for i, s := range got {
					if want := strings.Replace(first[id][i], "201 Created", "200 OK", 1); s != want {
						t.Fatalf("%s entry %d deposited again: %s, want %s", id, i, s, want)
					}
				}
			}
			if after := a.counts(list); !maps.Equal(before, after) {
				t.Errorf("counts before depositing again %v, after %v", before, after)
			}
			if before["Provenance"] != "0" {
				t.Errorf("%s Provenances for deposits that amend nothing", before["Provenance"])
			}
		})
	}
}

// depositAll deposits every patient's Bundle as the clinic, four at a
// time, and returns each entry's status and location by Synthea id.
func (a *api) depositAll(patients []synthea.Converted) map[string][]string {
	var mu sync.Mutex
	out := map[string][]string{}
	work := make(chan synthea.Converted)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for p := range work {
				got := answers(a.do("POST", "/fhir", p.Deposit, a.clinic, http.StatusOK))
				mu.Lock()
				out[p.SyntheaID] = got
				mu.Unlock()
			}
		})
	}
	for _, p := range patients {
		work <- p
	}
	close(work)
	wg.Wait()
	if a.t.Failed() {
		a.t.FailNow()
	}
	return out
}

// counts are how many resources of each type the store holds.
func (a *api) counts(types []string) map[string]string {
	out := map[string]string{}
	for _, typ := range types {
		out[typ] = fmt.Sprint(a.do("GET", "/fhir/"+typ+"?_summary=count", nil, a.operator, http.StatusOK)["total"])
	}
	return out
}
