package rest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/rest"
	"github.com/ehealthplus/ehealth/internal/store"
)

// The consent benchmark's territory: benchPatients citizens with
// benchObservations results each, all sharing with the clinic and under
// its care.
const (
	benchPatients     = 200
	benchObservations = 20
)

// BenchmarkConsentAudit measures what the consent decision and the audit
// journal cost a professional: the same reads (Observation/{id}) and
// patient-scoped searches (Observation?patient=…&_count=10), from 8
// concurrent clients over HTTP, with the access predicate built from
// consents and care relationships and every answer recorded in the
// journal ("consent+audit"), and with both left out of the server
// ("off": no predicate, no journal). Switching them off exists only here,
// in a test build; the server has no such setting. The issue's goal is
// off/consent+audit ≥ 1/1.3 in req/s.
func BenchmarkConsentAudit(b *testing.B) {
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			st := be.Open(b)
			b.Cleanup(func() { st.Close() })
			p := platformtest.OpenShared(b, st)
			seedConsentBench(b, p.Service)
			tokens, err := token.New(st, token.Config{Issuer: testBase, Audience: testBase})
			if err != nil {
				b.Fatal(err)
			}
			auditor, err := audit.New(st, audit.Config{Source: audit.Source{Base: testBase, Name: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { auditor.Close(context.Background()) })
			raw, _, err := tokens.Issue(b.Context(), token.Claims{Subject: "dr", ClientID: "emr", FHIRUser: "Practitioner/dr",
				Org: "Organization/clinic", Purpose: "TREAT", Scope: scope.MustParse("user/*.rs")}, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			for _, v := range []struct {
				name string
				cfg  rest.Config
			}{
				// As serve runs it: also first-access notices, role views and
				// the emergency flag of the audit (the switch off, serve's
				// default).
				{"consent+audit", rest.Config{Tokens: tokens, Access: p.AccessFor, Audit: auditor, Notified: st, View: p.Roles.View, Emergency: p.InEmergency}},
				{"consent", rest.Config{Tokens: tokens, Access: p.AccessFor}},
				{"audit", rest.Config{Tokens: tokens, Access: func(resource.Who) store.Access { return store.AccessAll }, Audit: auditor}},
				{"off", rest.Config{Tokens: tokens, Access: func(resource.Who) store.Access { return store.AccessAll }}},
			} {
				b.Run(v.name, func(b *testing.B) {
					hs := httptest.NewServer(rest.New(p.Service, v.cfg, log).Handler())
					defer hs.Close()
					runConsentBench(b, hs.URL+"/fhir", raw)
				})
			}
		})
	}
}

// seedConsentBench stores the territory as the operator: per patient one
// transaction with the Patient, the clinic's consent and encounter, and
// the results.
func seedConsentBench(b *testing.B, svc *resource.Service) {
	b.Helper()
	ctx := b.Context()
	put := func(res string) map[string]any {
		m, err := fhir.Parse([]byte(res))
		if err != nil {
			b.Fatal(err)
		}
		return map[string]any{"resource": m, "request": map[string]any{"method": "PUT", "url": fmt.Sprintf("%s/%s", m["resourceType"], m["id"])}}
	}
	org := put(`{"resourceType":"Organization","id":"clinic","name":"Clinic A"}`)
	if _, err := svc.Bundle(ctx, resource.Caller{}, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{org}}, resource.ReturnMinimal); err != nil {
		b.Fatal(err)
	}
	for i := range benchPatients {
		pid := fmt.Sprintf("bp%d", i)
		entries := []any{
			put(fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"Chan","given":["Tai Man"]}]}`, pid)),
			put(sharingConsent("bc"+pid, pid, "clinic", "active", "")),
			put(careEncounter("be"+pid, pid, "clinic", "in-progress")),
		}
		for j := range benchObservations {
			entries = append(entries, put(fmt.Sprintf(`{"resourceType":"Observation","id":"bo%s-%d","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/%s"},
 "effectiveDateTime":"2024-%02d-%02dT09:00:00Z","valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
				pid, j, pid, 1+j%12, 1+j%28, 110+j)))
		}
		if _, err := svc.Bundle(ctx, resource.Caller{}, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}, resource.ReturnMinimal); err != nil {
			b.Fatal(err)
		}
	}
}

// runConsentBench sends, from 8 clients (4 per CPU on this 2-CPU
// machine; b.SetParallelism), alternately a read and a patient-scoped
// search of a random patient, and reports requests per second.
func runConsentBench(b *testing.B, base, bearer string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	get := func(url string) error {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s = %d", url, resp.StatusCode)
		}
		return nil
	}
	// Both variants must serve the same answers: check one of each first.
	if err := get(base + "/Observation/bobp0-0"); err != nil {
		b.Fatal(err)
	}
	var failed atomic.Value
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
		n := 0
		for pb.Next() {
			pid := fmt.Sprintf("bp%d", rng.IntN(benchPatients))
			url := base + "/Observation?patient=" + pid + "&_count=10&_sort=-date"
			if n%2 == 0 {
				url = fmt.Sprintf("%s/Observation/bo%s-%d", base, pid, rng.IntN(benchObservations))
			}
			n++
			if err := get(url); err != nil {
				failed.Store(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
