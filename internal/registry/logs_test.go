package registry_test

import (
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/identity"
)

// TestLogsRedacted runs every operation, successful and refused, with the
// server logging at debug level, and finds no identity number and no
// access key in the logs — only redacted numbers.
func TestLogsRedacted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		passport := map[string]any{"system": identity.SystemPassportPrefix + "GBR", "value": "987654321"}
		a := citizen{doc: hkid("A123456(3)"), family: "CHAN", given: "Tai Man", birthDate: "1980-05-17", gender: "male"}
		b := a
		b.doc = passport
		child := citizen{doc: hkid("E364912(5)"), family: "CHAN", given: "Siu Ming", birthDate: "2015-01-01", gender: "male"}
		idA, r := e.register(a, nil)
		keys := []string{r.param("access-key")["valueString"].(string)}
		idB, r := e.register(b, nil)
		keys = append(keys, r.param("access-key")["valueString"].(string))
		_, r = e.register(child, parent("parent"))
		keys = append(keys, r.param("access-key")["valueString"].(string))
		e.do("POST", "/fhir/Patient/$register", registerBody(a, nil), "").must(t, 409)
		bad := a
		bad.doc = hkid("A123456(4)")
		e.do("POST", "/fhir/Patient/$register", registerBody(bad, nil), "").must(t, 422)
		e.match(a.patient(), false).must(t, 200)
		e.match(bad.patient(), false).must(t, 422)
		local := e.localRecord("HOSP-9", a)
		e.do("POST", "/fhir/Patient/"+local+"/$link", emptyParams(), "").must(t, 200)
		e.do("POST", "/fhir/Patient/$merge", mergeBody(idB, idA), "").must(t, 200)
		e.do("POST", "/fhir/Patient/$unmerge", mergeBody(idB, idA), "").must(t, 200)
		e.do("POST", "/fhir/Patient/"+idA+"/$withdraw", emptyParams(), "").must(t, 200)

		logs := e.logs.String()
		if !strings.Contains(logs, "A12****(3)") {
			t.Errorf("the logs do not show the redacted number; is the registry logging at all?\n%s", logs)
		}
		for _, secret := range append([]string{"123456(", "1234563", "A123456", "364912", "987654321", "288754"}, keys...) {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain %q:\n%s", secret, logs)
			}
		}
	})
}

// TestOperationSet: the terminology operations still run beside the
// registry's, and the CapabilityStatement lists both.
func TestOperationSet(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.do("GET", "/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=male", nil, "").must(t, 200)
		caps := e.do("GET", "/fhir/metadata", nil, "").must(t, 200).raw
		for _, op := range []string{"register", "match", "merge", "lookup"} {
			if !strings.Contains(caps, `"name":"`+op+`"`) {
				t.Errorf("the CapabilityStatement does not list %s", op)
			}
		}
	})
}
