package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/consent"
	depositsvc "github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// smallest is the converted Synthea patient with the fewest entries.
func smallest(t *testing.T, org string) synthea.Converted {
	t.Helper()
	all := syntheaPatients(t, org)
	best := all[0]
	for _, c := range all[1:] {
		if len(c.Deposit["entry"].([]any)) < len(best.Deposit["entry"].([]any)) {
			best = c
		}
	}
	return best
}

// clone copies a Bundle through JSON.
func clone(t *testing.T, b map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return obj(t, string(data))
}

// entryOf is the index of the first entry of typ.
func entryOf(b map[string]any, typ string) int {
	for i, e := range b["entry"].([]any) {
		if e.(map[string]any)["resource"].(map[string]any)["resourceType"] == typ {
			return i
		}
	}
	return -1
}

func resourceAt(b map[string]any, i int) map[string]any {
	return b["entry"].([]any)[i].(map[string]any)["resource"].(map[string]any)
}

// TestDepositRefused: tampered copies of a converted Synthea patient are
// refused with the entry's path and reason, and nothing is stored: a
// code the base validator refuses, a record without its subject, a
// source identifier in another provider's namespace, a citizen who never
// registered, and one who withdrew. In a batch the bad entry fails alone.
func TestDepositRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			clinic, _ := providers(t, s)
			p := smallest(t, "clinic")
			obs := entryOf(p.Deposit, "Observation")
			stored := func() string {
				return fmt.Sprint(s.do("GET", "/fhir/Observation?_summary=count", nil).must(t, http.StatusOK).body["total"],
					s.do("GET", "/fhir/Patient?_summary=count", nil).must(t, http.StatusOK).body["total"])
			}
			refused := func(name string, bundle map[string]any, status int, path, says string) {
				t.Helper()
				before := stored()
				r := s.do("POST", "/fhir", bundle, "Authorization", clinic)
				if r.status != status || !contains(r.expressions(), path) || !strings.Contains(string(r.raw), says) {
					t.Errorf("%s: %d %v, want %d at %s saying %q\n%s", name, r.status, r.expressions(), status, path, says, r.raw)
				}
				if after := stored(); after != before {
					t.Errorf("%s: stored %s, before %s", name, after, before)
				}
			}
			// Never registered.
			refused("never registered", clone(t, p.Deposit), http.StatusUnprocessableEntity, "Bundle.entry[0].resource", "no registered citizen")
			master := registeredID(t, s.do("POST", "/fhir/Patient/$register", p.Registration).must(t, http.StatusOK).body)

			bad := clone(t, p.Deposit)
			resourceAt(bad, obs)["status"] = "finalised"
			refused("bad code", bad, http.StatusUnprocessableEntity, fmt.Sprintf("Bundle.entry[%d].resource.status", obs), "finalised")

			bad = clone(t, p.Deposit)
			delete(resourceAt(bad, obs), "subject")
			refused("no subject", bad, http.StatusUnprocessableEntity, fmt.Sprintf("Bundle.entry[%d].resource.subject", obs), "names its patient")

			bad = clone(t, p.Deposit)
			ids := resourceAt(bad, obs)["identifier"].([]any)
			ids[len(ids)-1].(map[string]any)["system"] = depositsvc.Namespace("other") + "synthea"
			refused("another provider's identifier", bad, http.StatusForbidden, fmt.Sprintf("Bundle.entry[%d].resource.identifier[%d].system", obs, len(ids)-1), "another provider")

			bad = clone(t, p.Deposit)
			delete(resourceAt(bad, obs), "identifier")
			refused("no source identifier", bad, http.StatusUnprocessableEntity, fmt.Sprintf("Bundle.entry[%d].resource.identifier", obs), "source-system identifier")

			// A batch: the bad Observation fails alone.
			batch := clone(t, p.Deposit)
			batch["type"] = "batch"
			resourceAt(batch, obs)["status"] = "finalised"
			r := s.do("POST", "/fhir", batch, "Authorization", clinic).must(t, http.StatusOK)
			for i, a := range entryAnswers(t, r) {
				if want := i != obs; strings.HasPrefix(a, "201") != want {
					t.Errorf("batch entry %d: %s", i, a)
				}
			}
			// Withdrawn: nothing more is accepted.
			s.do("POST", "/fhir/Patient/"+master+"/$withdraw", `{"resourceType":"Parameters"}`).must(t, http.StatusOK)
			refused("withdrawn", clone(t, p.Deposit), http.StatusUnprocessableEntity, "Bundle.entry[0].resource", "not taking part")
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDepositAmendWithdraw: a re-deposit that changes a record makes a
// new version and a Provenance with the reason given (or the default);
// a withdrawal needs its reason, deletes the record and keeps its
// history; another provider can neither change nor delete the record.
func TestDepositAmendWithdraw(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			clinic, other := providers(t, s)
			p := smallest(t, "clinic")
			master := registeredID(t, s.do("POST", "/fhir/Patient/$register", p.Registration).must(t, http.StatusOK).body)
			first := entryAnswers(t, s.do("POST", "/fhir", clone(t, p.Deposit), "Authorization", clinic).must(t, http.StatusOK))
			obs := entryOf(p.Deposit, "Observation")
			id := strings.Split(strings.TrimPrefix(first[obs], "201 Created Observation/"), "/")[0]
			full := p.Deposit["entry"].([]any)[obs].(map[string]any)["fullUrl"].(string)

			// Amended, with a reason.
			amended := clone(t, p.Deposit)
			resourceAt(amended, obs)["status"] = "amended"
			amended["entry"] = append(amended["entry"].([]any), map[string]any{
				"resource": map[string]any{"resourceType": "Provenance", "target": []any{map[string]any{"reference": full}}, "recorded": "2026-01-01T00:00:00Z",
					"activity": map[string]any{"coding": []any{map[string]any{"system": depositsvc.DataOperationSystem, "code": "UPDATE"}}},
					"reason":   []any{map[string]any{"text": "wrong unit corrected"}},
					"agent":    []any{map[string]any{"who": map[string]any{"reference": "Organization/clinic"}}}},
				"request": map[string]any{"method": "POST", "url": "Provenance"}})
			got := entryAnswers(t, s.do("POST", "/fhir", amended, "Authorization", clinic).must(t, http.StatusOK))
			if want := fmt.Sprintf("200 OK Observation/%s/_history/2", id); got[obs] != want {
				t.Errorf("the amended Observation: %s, want %s", got[obs], want)
			}
			for i, a := range got[:len(got)-1] {
				if i != obs && a != strings.Replace(first[i], "201 Created", "200 OK", 1) {
					t.Errorf("entry %d changed: %s", i, a)
				}
			}
			prov := s.do("GET", "/fhir/Provenance?target=Observation/"+id+"/_history/2", nil).must(t, http.StatusOK)
			if raw := string(prov.raw); !strings.Contains(raw, "wrong unit corrected") || !strings.Contains(raw, `"Organization/clinic"`) || !strings.Contains(raw, "Patient/"+master) {
				t.Errorf("the amendment's Provenance:\n%s", raw)
			}
			if !strings.HasPrefix(got[len(got)-1], "201 Created Provenance/") {
				t.Errorf("the reason entry answers %s", got[len(got)-1])
			}
			// Amended again without a reason: the default one.
			again := clone(t, p.Deposit)
			resourceAt(again, obs)["status"] = "corrected"
			entryAnswers(t, s.do("POST", "/fhir", again, "Authorization", clinic).must(t, http.StatusOK))
			if raw := string(s.do("GET", "/fhir/Provenance?target=Observation/"+id+"/_history/3", nil).must(t, http.StatusOK).raw); !strings.Contains(raw, depositsvc.DefaultAmendmentReason) {
				t.Errorf("an amendment without a reason:\n%s", raw)
			}

			// Another provider: neither by id nor by the clinic's identifier.
			src := resourceAt(p.Deposit, obs)["identifier"].([]any)
			key := src[len(src)-1].(map[string]any)
			cond := fmt.Sprintf("Observation?identifier=%s|%s", key["system"], key["value"])
			theirs := resourceAt(clone(t, p.Deposit), obs)
			theirs["id"] = id
			theirs["identifier"] = []any{map[string]any{"system": depositsvc.Namespace("other") + "emr", "value": "x1"}}
			theirs["subject"] = map[string]any{"reference": "Patient/" + master}
			for _, c := range []struct {
				name   string
				entry  map[string]any
				status int
			}{
				{"update by id", map[string]any{"resource": theirs, "request": map[string]any{"method": "PUT", "url": "Observation/" + id}}, http.StatusNotFound},
				{"delete by id", map[string]any{"request": map[string]any{"method": "DELETE", "url": "Observation/" + id}}, http.StatusNotFound},
				{"delete by the clinic's identifier", map[string]any{"request": map[string]any{"method": "DELETE", "url": cond}}, http.StatusForbidden},
			} {
				reason := map[string]any{"resource": map[string]any{"resourceType": "Provenance", "target": []any{map[string]any{"reference": c.entry["request"].(map[string]any)["url"]}},
					"recorded": "2026-01-01T00:00:00Z", "activity": map[string]any{"coding": []any{map[string]any{"system": depositsvc.DataOperationSystem, "code": "DELETE"}}},
					"reason": []any{map[string]any{"text": "mine now"}}, "agent": []any{map[string]any{"who": map[string]any{"reference": "Organization/other"}}}},
					"request": map[string]any{"method": "POST", "url": "Provenance"}}
				entries := []any{c.entry}
				if c.entry["request"].(map[string]any)["method"] == "DELETE" {
					entries = append(entries, reason)
				}
				r := s.do("POST", "/fhir", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}, "Authorization", other)
				if r.status != c.status {
					t.Errorf("another provider's %s: %d, want %d\n%s", c.name, r.status, c.status, r.raw)
				}
			}
			if v, err := s.svc.Read(t.Context(), resource.Caller{}, "Observation", id); err != nil || v.VersionID != 3 {
				t.Errorf("after another provider's attempts the Observation is at %d (%v)", v.VersionID, err)
			}

			// Withdrawn: the reason is required.
			withdraw := func(reason bool) response {
				entries := []any{map[string]any{"request": map[string]any{"method": "DELETE", "url": cond}}}
				if reason {
					entries = append(entries, map[string]any{"resource": map[string]any{"resourceType": "Provenance", "target": []any{map[string]any{"reference": cond}},
						"recorded": "2026-01-01T00:00:00Z", "activity": map[string]any{"coding": []any{map[string]any{"system": depositsvc.DataOperationSystem, "code": "DELETE"}}},
						"reason": []any{map[string]any{"text": "entered for the wrong patient"}}, "agent": []any{map[string]any{"who": map[string]any{"reference": "Organization/clinic"}}}},
						"request": map[string]any{"method": "POST", "url": "Provenance"}})
				}
				return s.do("POST", "/fhir", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}, "Authorization", clinic)
			}
			if r := withdraw(false); r.status != http.StatusBadRequest || !contains(r.expressions(), "Bundle.entry[0]") {
				t.Errorf("a withdrawal without a reason: %d %v", r.status, r.expressions())
			}
			if got := entryAnswers(t, withdraw(true).must(t, http.StatusOK)); got[0] != "204 No Content " {
				t.Errorf("the withdrawal: %v", got)
			}
			s.do("GET", "/fhir/Observation/"+id, nil).must(t, http.StatusGone)
			hist := s.do("GET", "/fhir/Observation/"+id+"/_history", nil).must(t, http.StatusOK)
			if n := len(hist.body["entry"].([]any)); n != 4 {
				t.Errorf("the history keeps %d versions, want 4", n)
			}
			if raw := string(s.do("GET", "/fhir/Provenance?target=Observation/"+id+"/_history/4", nil).must(t, http.StatusOK).raw); !strings.Contains(raw, "entered for the wrong patient") {
				t.Errorf("the withdrawal's Provenance:\n%s", raw)
			}
		})
	}
}

// TestDepositDocument: an IHE MHD-style deposit — a DocumentReference and
// the PDF Binary it names, whose securityContext is the DocumentReference —
// lands in the citizen's record, the Binary with it; depositing it again
// changes nothing.
func TestDepositDocument(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			s := fullServer(t, b.Open(t), consent.Policy{})
			clinic, _ := providers(t, s)
			p := smallest(t, "clinic")
			master := registeredID(t, s.do("POST", "/fhir/Patient/$register", p.Registration).must(t, http.StatusOK).body)
			patient := p.Deposit["entry"].([]any)[0].(map[string]any)
			ns := depositsvc.Namespace("clinic")
			doc := func() map[string]any {
				return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
					patient,
					map[string]any{"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111", "request": map[string]any{"method": "POST", "url": "DocumentReference"},
						"resource": map[string]any{"resourceType": "DocumentReference", "status": "current",
							"identifier": []any{map[string]any{"system": ns + "his/documents", "value": "DS-1"}},
							"type":       map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}}},
							"subject":    map[string]any{"reference": patient["fullUrl"]},
							"date":       "2026-11-02T10:00:00+08:00",
							"content": []any{map[string]any{"attachment": map[string]any{"contentType": "application/pdf",
								"url": "urn:uuid:22222222-2222-2222-2222-222222222222", "title": "Discharge summary"}}}}},
					map[string]any{"fullUrl": "urn:uuid:22222222-2222-2222-2222-222222222222", "request": map[string]any{"method": "POST", "url": "Binary"},
						"resource": map[string]any{"resourceType": "Binary", "contentType": "application/pdf", "data": "JVBERi0xLjQKJcfsj6IK",
							"securityContext": map[string]any{"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"}}},
				}}
			}
			first := entryAnswers(t, s.do("POST", "/fhir", doc(), "Authorization", clinic).must(t, http.StatusOK))
			docID := strings.Split(strings.TrimPrefix(first[1], "201 Created DocumentReference/"), "/")[0]
			binID := strings.Split(strings.TrimPrefix(first[2], "201 Created Binary/"), "/")[0]
			d := s.do("GET", "/fhir/DocumentReference/"+docID, nil).must(t, http.StatusOK)
			if url := d.body["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)["url"]; url != "Binary/"+binID {
				t.Errorf("the DocumentReference names %v, want Binary/%s", url, binID)
			}
			for typ, id := range map[string]string{"DocumentReference": docID, "Binary": binID} {
				v, err := s.svc.Read(t.Context(), resource.Caller{}, typ, id)
				if err != nil || v.PatientKey != master {
					t.Errorf("%s/%s is filed under %q (%v), want the citizen %s", typ, id, v.PatientKey, err, master)
				}
			}
			again := entryAnswers(t, s.do("POST", "/fhir", doc(), "Authorization", clinic).must(t, http.StatusOK))
			for i := range first {
				if want := strings.Replace(first[i], "201 Created", "200 OK", 1); again[i] != want {
					t.Errorf("entry %d deposited again: %s, want %s", i, again[i], want)
				}
			}
		})
	}
}
