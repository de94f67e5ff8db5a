package resource_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
)

// FuzzBundle feeds arbitrary JSON to the batch/transaction processor: it
// must answer with a response Bundle or an *outcome.Error, never panic, and
// never report an internal error for bad input.
func FuzzBundle(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:1"}},"request":{"method":"POST","url":"Observation"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/1/_history/2"}},{"request":{"method":"DELETE","url":"Patient/1"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"W10="},"request":{"method":"PATCH","url":"Patient/1"}}]}`))
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	svc := newService(f, st)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := fhir.Parse(data)
		if err != nil {
			return
		}
		resp, err := svc.Bundle(context.Background(), resource.Caller{Writer: "fuzz"}, b, resource.ReturnRepresentation)
		if err != nil {
			if outcome.KindOf(err) == outcome.Internal {
				t.Fatalf("internal error for client input: %v", err)
			}
			return
		}
		if resp["resourceType"] != "Bundle" {
			t.Fatalf("response is not a Bundle: %v", resp)
		}
	})
}
