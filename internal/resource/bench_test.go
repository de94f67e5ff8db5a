package resource_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ehealthplus/ehealth/internal/resource"
)

const benchPatient = `{"resourceType":"Patient","identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}],
 "name":[{"family":"Chan","given":["Tai Man"]}],"gender":"male","birthDate":"1980-02-29",
 "address":[{"line":["1 Queen's Road"],"city":"Hong Kong"}]}`

const benchObservation = `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-02T10:00:00+08:00","valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`

var caller = resource.Caller{Writer: "bench"}

func BenchmarkCreate(b *testing.B) {
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			svc := newService(b, be.Open(b))
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Create(ctx, caller, "Patient", parse(b, benchPatient)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			svc := newService(b, be.Open(b))
			ctx := context.Background()
			ids := make([]string, 200)
			for i := range ids {
				v, err := svc.Create(ctx, caller, "Patient", parse(b, benchPatient))
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = v.ID
			}
			i := 0
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Read(ctx, caller, "Patient", ids[i%len(ids)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkTransaction100 posts 100-entry transactions: 20 Patients with 4
// Observations each, referring by urn:uuid.
func BenchmarkTransaction100(b *testing.B) {
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) {
			svc := newService(b, be.Open(b))
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				bundle := transaction100(b)
				b.StartTimer()
				if _, err := svc.Bundle(ctx, caller, bundle, resource.ReturnMinimal); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}

func transaction100(tb testing.TB) map[string]any {
	entries := make([]any, 0, 100)
	for p := range 20 {
		full := fmt.Sprintf("urn:uuid:00000000-0000-0000-0000-%012d", p)
		entries = append(entries, map[string]any{
			"fullUrl": full, "resource": parse(tb, benchPatient),
			"request": map[string]any{"method": "POST", "url": "Patient"},
		})
		for range 4 {
			obs := parse(tb, benchObservation)
			obs["subject"] = map[string]any{"reference": full}
			entries = append(entries, map[string]any{
				"resource": obs, "request": map[string]any{"method": "POST", "url": "Observation"},
			})
		}
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}
