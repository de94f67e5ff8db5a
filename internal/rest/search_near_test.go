package rest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestSearchNear: Location?near over HTTP on both backends
// (https://hl7.org/fhir/R4/location.html#positional), the errors a bad
// value gets, and near in the CapabilityStatement.
func TestSearchNear(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *server) {
		for id, body := range map[string]string{
			"central": `{"resourceType":"Location","id":"central","name":"Central","position":{"latitude":22.2819,"longitude":114.1582}}`,
			"tst":     `{"resourceType":"Location","id":"tst","name":"Tsim Sha Tsui","position":{"latitude":22.2976,"longitude":114.1722}}`,
			"macau":   `{"resourceType":"Location","id":"macau","name":"Macau","position":{"latitude":22.1987,"longitude":113.5439}}`,
			"mobile":  `{"resourceType":"Location","id":"mobile","name":"Mobile clinic"}`,
		} {
			s.do("PUT", "/fhir/Location/"+id, body).must(t, http.StatusCreated)
		}
		for _, c := range []struct {
			near string
			want []string
		}{
			{"22.2819|114.1582|5|km", []string{"central", "tst"}},
			{"22.2819|114.1582|1.4|[mi_i]", []string{"central"}}, // tst is 2263 m away, 1.4 mi is 2253 m
			{"22.2819|114.1582|1.5|[mi_i]", []string{"central", "tst"}},
			{"22.2819|114.1582", []string{"central", "tst"}}, // 50 km by default
			{"22.2819|114.1582|100", []string{"central", "macau", "tst"}},
		} {
			r := s.do("GET", "/fhir/Location?near="+url.QueryEscape(c.near), nil).must(t, http.StatusOK)
			if got := locationIDs(r); !slices.Equal(got, c.want) {
				t.Errorf("near=%s: got %v, want %v", c.near, got, c.want)
			}
		}
		r := s.do("GET", "/fhir/Location?near:missing=true", nil).must(t, http.StatusOK)
		if got := locationIDs(r); !slices.Equal(got, []string{"mobile"}) {
			t.Errorf("near:missing=true: got %v", got)
		}
		for near, msg := range map[string]string{
			"95|114.17|5":       "latitude 95 is outside -90..90",
			"22.28|114.17|5|mi": `units "mi" are not a UCUM length`,
			"22.28|114.17|-1":   "distance -1 is negative",
			"22.28":             "latitude|longitude|distance|units",
		} {
			r := s.do("GET", "/fhir/Location?near="+url.QueryEscape(near), nil).must(t, http.StatusBadRequest)
			issues, _ := r.body["issue"].([]any)
			diag := ""
			if len(issues) > 0 {
				diag, _ = issues[0].(map[string]any)["diagnostics"].(string)
			}
			if r.body["resourceType"] != "OperationOutcome" || !slices.Contains(r.expressions(), "near") || !strings.Contains(diag, msg) {
				t.Errorf("near=%s: %s, want an OperationOutcome on near saying %q", near, r.raw, msg)
			}
		}
		if !capabilityLists(t, s, "Location", "near", "special") {
			t.Error("the CapabilityStatement does not list near (special) on Location")
		}
	})
}

// locationIDs lists the ids of a searchset's matches, sorted.
func locationIDs(r response) []string {
	var out []string
	for _, ref := range ids(r, "match") {
		out = append(out, strings.TrimPrefix(ref, "Location/"))
	}
	slices.Sort(out)
	return out
}

// capabilityLists reports whether the CapabilityStatement lists the search
// parameter name of type typ on resource type res.
func capabilityLists(t *testing.T, s *server, res, name, typ string) bool {
	t.Helper()
	r := s.do("GET", "/fhir/metadata", nil).must(t, http.StatusOK)
	for _, rr := range r.body["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		m := rr.(map[string]any)
		if m["type"] != res {
			continue
		}
		for _, sp := range m["searchParam"].([]any) {
			p := sp.(map[string]any)
			if p["name"] == name && p["type"] == typ {
				return true
			}
		}
	}
	return false
}
