package bench

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTypeID(t *testing.T) {
	tests := map[string]string{
		"Observation/abc/_history/1":                       "Observation/abc",
		"http://127.0.0.1:1/fhir/Encounter/x-1/_history/2": "Encounter/x-1",
		"Patient/p1":   "Patient/p1",
		"nothing":      "",
		"":             "",
		"Condition/c/": "Condition/c",
	}
	for in, want := range tests {
		if got := typeID(in); got != want {
			t.Errorf("typeID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDepositBundle checks the deposit's shape: a transaction of new
// resources for the patient, the Observations pointing at the Encounter
// by its urn:uuid.
func TestDepositBundle(t *testing.T) {
	b, err := DepositBundle("p1", "Organization/o1", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
			Request  struct{ Method, URL string }
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	if bundle.Type != "transaction" || len(bundle.Entry) != DepositResources {
		t.Fatalf("bundle type %q with %d entries, want a transaction of %d", bundle.Type, len(bundle.Entry), DepositResources)
	}
	enc := bundle.Entry[0].FullURL
	seen := map[string]bool{}
	for i, e := range bundle.Entry {
		if e.Request.Method != "POST" || e.Request.URL != e.Resource["resourceType"] || seen[e.FullURL] {
			t.Errorf("entry %d: %s %s, fullUrl %s: want a POST of its type with its own fullUrl", i, e.Request.Method, e.Request.URL, e.FullURL)
		}
		seen[e.FullURL] = true
		if subj, _ := e.Resource["subject"].(map[string]any); subj["reference"] != "Patient/p1" {
			t.Errorf("entry %d: subject %v, want Patient/p1", i, subj)
		}
		if i > 0 {
			if ref, _ := e.Resource["encounter"].(map[string]any); ref["reference"] != enc {
				t.Errorf("entry %d: encounter %v, want %s", i, ref, enc)
			}
		}
	}
}
