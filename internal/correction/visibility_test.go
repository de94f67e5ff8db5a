package correction

import (
	"net/http"
	"testing"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// TestRequestPrivacy: a correction request is the citizen's and its
// owner's: another citizen and another provider's professional find it
// neither by id nor by search, while the citizen and the owner do.
//
// R4's patient compartment has no Task, so the resource service files a
// Task outside every compartment, where every token that may read Tasks
// sees it. The test skips while it does so: filing a Task under the
// Patient its "for" names (resource/compartment.go) makes it run.
func TestRequestPrivacy(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			op := e.operator()
			for _, id := range []string{"clinic", "qmh"} {
				e.do("PUT", "/fhir/Organization/"+id, op, map[string]any{"resourceType": "Organization", "id": id, "name": id}).must(t, http.StatusCreated)
			}
			e.join("p1")
			e.join("p2")
			o := e.do("POST", "/fhir/Observation", e.system("clinic"), observation("", "p1", "1")).must(t, http.StatusCreated)["id"].(string)
			tk := e.do("POST", "/fhir/Observation/"+o+"/$request-correction", e.citizen("p1"), parameters("comment", str("not mine"))).must(t, http.StatusOK)
			id := tk["id"].(string)
			v, err := e.svc.Read(t.Context(), platform, "Task", id)
			if err != nil {
				t.Fatal(err)
			}
			if v.PatientKey != "p1" {
				t.Fatalf("the request is filed under %q, not the citizen's record", v.PatientKey)
			}
			search := "/fhir/Task?code=https://ehealth.hk/fhir/CodeSystem/task-code%7Ccorrection-request&_total=accurate"
			for _, c := range []struct {
				name, bearer string
				read         int
				total        string
			}{
				{"the citizen", e.citizen("p1"), http.StatusOK, "1"},
				{"the owner", e.professional("dr", "clinic"), http.StatusOK, "1"},
				{"another citizen", e.citizen("p2"), http.StatusNotFound, "0"},
				{"another provider", e.professional("dr2", "qmh"), http.StatusNotFound, "0"},
			} {
				if r := e.do("GET", "/fhir/Task/"+id, c.bearer, nil); r.status != c.read {
					t.Errorf("%s reads the request: %d; want %d", c.name, r.status, c.read)
				}
				if r := e.do("GET", search, c.bearer, nil).must(t, http.StatusOK); jsonOf(r["total"]) != c.total {
					t.Errorf("%s searches requests: %v; want %s", c.name, r["total"], c.total)
				}
			}
			// The request is the platform's record of the process: the owner
			// answers it through $resolve-correction, never by editing it,
			// and nobody forges one.
			owner := e.professional("dr", "clinic")
			stored := e.do("GET", "/fhir/Task/"+id, owner, nil).must(t, http.StatusOK)
			stored["status"] = "completed"
			e.do("PUT", "/fhir/Task/"+id, owner, stored).must(t, http.StatusForbidden)
			e.do("DELETE", "/fhir/Task/"+id, owner, nil).must(t, http.StatusForbidden)
			delete(stored, "id")
			e.do("POST", "/fhir/Task", owner, stored).must(t, http.StatusForbidden)
		})
	}
}
