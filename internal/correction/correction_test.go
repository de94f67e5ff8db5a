package correction

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// observation is a lab result about patient with a source identifier.
func observation(id, patient, value string) map[string]any {
	o := map[string]any{"resourceType": "Observation", "status": "final",
		"identifier": []any{map[string]any{"system": "urn:clinic:results", "value": patient + "/" + value}},
		"code":       map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2345-7"}}},
		"subject":    map[string]any{"reference": "Patient/" + patient}, "valueString": value}
	if id != "" {
		o["id"] = id
	}
	return o
}

// queue is the clinic's open correction requests, as its professional
// searches them.
const queue = "/fhir/Task?owner=Organization/clinic&code=https://ehealth.hk/fhir/CodeSystem/task-code%7Ccorrection-request&status=requested&_total=accurate"

// TestRoundTrip: a citizen flags a record the clinic deposited; the
// request lands in the clinic's queue without touching the record; the
// clinic amends the record and resolves the request with the new version;
// the citizen reads the outcome on the Task and in a notice. Requests on
// a record the citizen cannot see, on one no provider deposited, or by
// anyone but the citizen are refused; another provider or citizen cannot
// resolve; a request is resolved once; an amendment must be the clinic's
// later version of the record; answers and rejections carry their text.
func TestRoundTrip(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			op := e.operator()
			for id, name := range map[string]string{"clinic": "Happy Valley Clinic", "qmh": "Queen Mary Hospital"} {
				e.do("PUT", "/fhir/Organization/"+id, op, map[string]any{"resourceType": "Organization", "id": id, "name": name}).must(t, http.StatusCreated)
			}
			e.join("p1")
			e.join("p2")
			clinic, dr, qmh := e.system("clinic"), e.professional("dr", "clinic"), e.professional("dr2", "qmh")
			p1, p2 := e.citizen("p1"), e.citizen("p2")
			o1 := e.do("POST", "/fhir/Observation", clinic, observation("", "p1", "5.2 mmol/L")).must(t, http.StatusCreated)
			o1id := o1["id"].(string)
			o3 := e.do("POST", "/fhir/Observation", clinic, observation("", "p2", "4.0 mmol/L")).must(t, http.StatusCreated)
			e.do("PUT", "/fhir/Observation/byop", op, observation("byop", "p1", "6.1 mmol/L")).must(t, http.StatusCreated)

			ask := func(bearer, path, comment string) response {
				return e.do("POST", path+"/$request-correction", bearer, parameters("comment", str(comment)))
			}
			task := ask(p1, "/fhir/Observation/"+o1id, "This glucose result is not mine: I was not tested that day").must(t, http.StatusOK)
			taskID, _ := task["id"].(string)
			if task["resourceType"] != "Task" || task["status"] != "requested" || task["intent"] != "order" ||
				!strings.Contains(jsonOf(task["code"]), `"code":"correction-request"`) ||
				refOf(task["focus"]) != "Observation/"+o1id+"/_history/1" || refOf(task["for"]) != "Patient/p1" ||
				refOf(task["requester"]) != "Patient/p1" || refOf(task["owner"]) != "Organization/clinic" ||
				first(task["note"])["text"] != "This glucose result is not mine: I was not tested that day" {
				t.Fatalf("the request: %v", jsonOf(task))
			}
			// The request changed nothing in the record.
			if h := e.do("GET", "/fhir/Observation/"+o1id+"/_history?_total=accurate", op, nil).must(t, http.StatusOK); jsonOf(h["total"]) != "1" {
				t.Errorf("the record has %v versions after the request; want 1", h["total"])
			}

			// Refused requests; nothing is filed for them.
			for _, c := range []struct {
				name, bearer, path string
				status             int
			}{
				{"a record the citizen cannot see", p1, "/fhir/Observation/" + o3["id"].(string), http.StatusNotFound},
				{"another citizen's view of the record", p2, "/fhir/Observation/" + o1id, http.StatusNotFound},
				{"a record no provider deposited", p1, "/fhir/Observation/byop", http.StatusUnprocessableEntity},
				{"a professional", dr, "/fhir/Observation/" + o1id, http.StatusForbidden},
				{"a missing record", p1, "/fhir/Observation/nope", http.StatusNotFound},
			} {
				if r := ask(c.bearer, c.path, "wrong"); r.status != c.status {
					t.Errorf("%s: %d %v; want %d", c.name, r.status, r.body, c.status)
				}
			}
			if r := e.do("POST", "/fhir/Observation/"+o1id+"/$request-correction", p1, parameters("comment", str("  "))); r.status != http.StatusBadRequest {
				t.Errorf("an empty comment: %d", r.status)
			}

			// The clinic's queue shows the one request.
			q := e.do("GET", queue, dr, nil).must(t, http.StatusOK)
			if jsonOf(q["total"]) != "1" || !strings.Contains(jsonOf(q["entry"]), `"id":"`+taskID+`"`) {
				t.Fatalf("the clinic's queue: %v", jsonOf(q))
			}

			resolve := func(bearer string, params map[string]any) response {
				return e.do("POST", "/fhir/Task/"+taskID+"/$resolve-correction", bearer, params)
			}
			amended := parameters("outcome", code("amended"), "amended", refTo("Observation/"+o1id+"/_history/2"), "text", str("Result moved to the right patient"))
			// Nobody but the clinic resolves it; nor before amending.
			for _, c := range []struct {
				name, bearer string
				params       map[string]any
				statuses     []int
			}{
				{"another provider", qmh, amended, []int{http.StatusForbidden, http.StatusNotFound}},
				{"the citizen", p1, amended, []int{http.StatusForbidden}},
				{"another citizen", p2, amended, []int{http.StatusForbidden, http.StatusNotFound}},
				{"an amendment not yet made", dr, amended, []int{http.StatusUnprocessableEntity}},
				{"the flagged version as the amendment", dr, parameters("outcome", code("amended"), "amended", refTo("Observation/"+o1id+"/_history/1")), []int{http.StatusUnprocessableEntity}},
				{"another record's version", dr, parameters("outcome", code("amended"), "amended", refTo("Observation/byop/_history/1")), []int{http.StatusUnprocessableEntity}},
				{"an unknown outcome", dr, parameters("outcome", code("fixed")), []int{http.StatusBadRequest}},
				{"an answer without text", dr, parameters("outcome", code("answered")), []int{http.StatusBadRequest}},
			} {
				r := resolve(c.bearer, c.params)
				if !slices.Contains(c.statuses, r.status) {
					t.Errorf("%s: %d %v; want one of %v", c.name, r.status, r.body, c.statuses)
				}
			}
			// The clinic amends the record (version 2); then the operator
			// changes it (version 3), which is no amendment of the clinic's.
			fixed := observation(o1id, "p1", "5.2 mmol/L (corrected)")
			e.do("PUT", "/fhir/Observation/"+o1id, clinic, fixed).must(t, http.StatusOK)
			fixed["valueString"] = "5.2 mmol/L (corrected by the operator)"
			e.do("PUT", "/fhir/Observation/"+o1id, op, fixed).must(t, http.StatusOK)
			if r := resolve(dr, parameters("outcome", code("amended"), "amended", refTo("Observation/"+o1id+"/_history/3"))); r.status != http.StatusUnprocessableEntity {
				t.Errorf("an amendment by the operator: %d %v", r.status, r.body)
			}
			if q := e.do("GET", queue, dr, nil).must(t, http.StatusOK); jsonOf(q["total"]) != "1" {
				t.Errorf("the queue after refused resolutions: %v", q["total"])
			}
			done := resolve(dr, amended).must(t, http.StatusOK)
			if done["status"] != "completed" || !strings.Contains(jsonOf(done["businessStatus"]), `"code":"amended"`) ||
				!strings.Contains(jsonOf(done["output"]), `"valueReference":{"reference":"Observation/`+o1id+`/_history/2"}`) ||
				!strings.Contains(jsonOf(done["output"]), "Result moved to the right patient") {
				t.Errorf("the resolved request: %v", jsonOf(done))
			}
			if r := resolve(dr, parameters("outcome", code("answered"), "text", str("again"))); r.status != http.StatusConflict {
				t.Errorf("resolving twice: %d %v", r.status, r.body)
			}
			if q := e.do("GET", queue, dr, nil).must(t, http.StatusOK); jsonOf(q["total"]) != "0" {
				t.Errorf("the queue after resolving: %v", q["total"])
			}

			// The citizen reads the outcome, and the notice.
			seen := e.do("GET", "/fhir/Task/"+taskID, p1, nil).must(t, http.StatusOK)
			if seen["status"] != "completed" || !strings.Contains(jsonOf(seen["output"]), "/_history/2") {
				t.Errorf("the citizen's view of the request: %v", jsonOf(seen))
			}
			notices := e.do("GET", "/fhir/Communication?category="+url.QueryEscape(notify.KindSystem+"|"+KindResolved)+"&_total=accurate", p1, nil).must(t, http.StatusOK)
			n := first(notices["entry"])["resource"]
			if jsonOf(notices["total"]) != "1" || refOf(first(n.(map[string]any)["about"])) != "Task/"+taskID ||
				!strings.Contains(jsonOf(n), "Happy Valley Clinic has corrected your Observation record") ||
				refOf(n.(map[string]any)["subject"]) != "Patient/p1" || n.(map[string]any)["status"] != "preparation" {
				t.Errorf("the citizen's notice: %v", jsonOf(notices))
			}

			// Answered and rejected requests carry their text.
			o4 := e.do("POST", "/fhir/Observation", clinic, observation("", "p1", "7.0 mmol/L")).must(t, http.StatusCreated)["id"].(string)
			for _, c := range []struct{ outcome, param, text, status string }{
				{"answered", "text", "The result is from your visit on 2 March", "completed"},
				{"rejected", "reason", "The laboratory confirmed the result", "rejected"},
			} {
				tk := ask(p1, "/fhir/Observation/"+o4, "wrong").must(t, http.StatusOK)
				if refOf(tk["focus"]) != "Observation/"+o4+"/_history/1" {
					t.Errorf("a request on the amended record focuses %s", refOf(tk["focus"]))
				}
				r := e.do("POST", "/fhir/Task/"+tk["id"].(string)+"/$resolve-correction", clinic, parameters("outcome", code(c.outcome), c.param, str(c.text))).must(t, http.StatusOK)
				if r["status"] != c.status || !strings.Contains(jsonOf(r["output"]), c.text) {
					t.Errorf("%s: %v", c.outcome, jsonOf(r))
				}
			}
			if r := e.do("GET", "/fhir/Communication?category="+url.QueryEscape(notify.KindSystem+"|"+KindResolved)+"&_total=accurate", p1, nil).must(t, http.StatusOK); jsonOf(r["total"]) != "3" {
				t.Errorf("the citizen's notices: %v; want 3", r["total"])
			}
			if h := e.do("GET", "/fhir/Observation/"+o1id+"/_history?_total=accurate", op, nil).must(t, http.StatusOK); jsonOf(h["total"]) != "3" {
				t.Errorf("the record has %v versions; want 3 (the amendment and the operator's change only)", h["total"])
			}
		})
	}
}
