package audit

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

var testSource = Source{Base: "https://ehealth.test/fhir", Name: "ehealth-1"}

// drChan is a professional at a clinic, treating.
var drChan = Caller{FHIRUser: "Practitioner/dr-chan", Role: "PractitionerRole/dr-chan-at-clinic",
	Org: "Organization/clinic", ClientID: "clinic-emr", Subject: "dr-chan", TokenID: "jti-1", Purpose: "TREAT"}

var at = time.Date(2025, 6, 1, 9, 30, 15, 123456789, time.UTC)

// parsed builds e's AuditEvent about patient, checks it is structurally
// valid R4 and returns it in generic form.
func parsed(t *testing.T, e Event, patient string) map[string]any {
	t.Helper()
	if e.Time.IsZero() {
		e.Time = at
	}
	body, err := AuditEvent(e, patient, testSource)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fhir.Parse(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if issues := fhir.Validate(res, fhir.ValidateOptions{}); len(issues) > 0 {
		t.Fatalf("%s is not valid R4: %+v", body, issues)
	}
	return res
}

// get follows a path of keys and indexes through generic JSON.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// agentOf returns the agent whose type code is code.
func agentOf(res map[string]any, code string) map[string]any {
	for _, a := range res["agent"].([]any) {
		if get(a, "type", "coding", 0, "code") == code {
			return a.(map[string]any)
		}
	}
	return nil
}

// entityOf returns the entity whose role (or type, for the request id) is code.
func entityOf(res map[string]any, code string) map[string]any {
	for _, e := range res["entity"].([]any) {
		if get(e, "role", "code") == code || get(e, "type", "code") == code {
			return e.(map[string]any)
		}
	}
	return nil
}

func profilesOf(res map[string]any) []string {
	var list []string
	for _, p := range get(res, "meta", "profile").([]any) {
		list = append(list, strings.TrimPrefix(p.(string), balpProfile))
	}
	return list
}

func TestAuditEventRead(t *testing.T) {
	res := parsed(t, Event{Interaction: Read, Resource: "Observation/bp/_history/2", Patients: []string{"p1"},
		Caller: drChan, RequestID: "req-9", ClientAddress: "10.1.2.3"}, "p1")
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"type", "code"}, "rest"},
		{[]any{"subtype", 0, "code"}, "read"},
		{[]any{"action"}, "R"},
		{[]any{"outcome"}, "0"},
		{[]any{"recorded"}, "2025-06-01T09:30:15.123456Z"},
		{[]any{"purposeOfEvent", 0, "coding", 0, "code"}, "TREAT"},
		{[]any{"source", "observer", "identifier", "value"}, testSource.Base},
		{[]any{"source", "type", 0, "code"}, "4"},
	} {
		if got := get(res, c.path...); got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
	if got := profilesOf(res); !slices.Equal(got, []string{"PatientRead", "OAUTHaccessTokenUse.Minimal"}) {
		t.Errorf("profiles %v", got)
	}
	user := agentOf(res, "UserOauthAgent")
	if get(user, "who", "reference") != "Practitioner/dr-chan" || get(user, "requestor") != true ||
		get(user, "policy", 0) != "jti-1" || get(user, "purposeOfUse", 0, "coding", 0, "code") != "TREAT" ||
		get(user, "extension", 0, "url") != RoleExtension || get(user, "extension", 0, "valueReference", "reference") != drChan.Role {
		t.Errorf("user agent %v", user)
	}
	if org := agentOf(res, "PROV"); get(org, "who", "reference") != "Organization/clinic" {
		t.Errorf("provider agent %v", org)
	}
	// A read's data flows to the client: BALP makes it the destination.
	client, server := agentOf(res, "110152"), agentOf(res, "110153")
	if get(client, "who", "identifier", "value") != "clinic-emr" || get(client, "network", "address") != "10.1.2.3" {
		t.Errorf("client agent (destination) %v", client)
	}
	if get(server, "who", "identifier", "value") != testSource.Base {
		t.Errorf("server agent (source) %v", server)
	}
	if get(entityOf(res, "4"), "what", "reference") != "Observation/bp/_history/2" {
		t.Errorf("data entity %v", entityOf(res, "4"))
	}
	if get(entityOf(res, "1"), "what", "reference") != "Patient/p1" {
		t.Errorf("patient entity %v", entityOf(res, "1"))
	}
	if get(entityOf(res, "XrequestId"), "what", "identifier", "value") != "req-9" {
		t.Errorf("request entity %v", entityOf(res, "XrequestId"))
	}
}

func TestAuditEventSearchKeepsTheRawQuery(t *testing.T) {
	query := "Observation?patient=p1&code=http://loinc.org|8480-6&_x=<script>"
	res := parsed(t, Event{Interaction: SearchType, Resource: "Observation", Query: query, Caller: drChan}, "p1")
	if get(res, "action") != "E" || get(res, "subtype", 0, "code") != "search-type" {
		t.Errorf("action %v subtype %v", get(res, "action"), get(res, "subtype", 0, "code"))
	}
	raw, err := base64.StdEncoding.DecodeString(get(entityOf(res, "24"), "query").(string))
	if err != nil || string(raw) != query {
		t.Errorf("query entity holds %q (%v), want %q", raw, err, query)
	}
	if got := profilesOf(res); !slices.Equal(got, []string{"PatientQuery", "OAUTHaccessTokenUse.Minimal"}) {
		t.Errorf("profiles %v", got)
	}
	// A search request flows from the client: the source.
	if get(agentOf(res, "110153"), "who", "identifier", "value") != "clinic-emr" {
		t.Errorf("client agent (source) %v", agentOf(res, "110153"))
	}
}

func TestAuditEventActions(t *testing.T) {
	for _, c := range []struct {
		i       Interaction
		action  string
		profile string
	}{
		{VRead, "R", "PatientRead"}, {HistoryInstance, "R", "PatientRead"}, {Create, "C", "PatientCreate"},
		{Update, "U", "PatientUpdate"}, {Patch, "U", "PatientUpdate"}, {Delete, "D", "PatientDelete"},
	} {
		res := parsed(t, Event{Interaction: c.i, Resource: "Condition/c1", Caller: drChan}, "p1")
		if get(res, "action") != c.action || profilesOf(res)[0] != c.profile {
			t.Errorf("%s: action %v profiles %v, want %s %s", c.i, get(res, "action"), profilesOf(res), c.action, c.profile)
		}
	}
	// About no patient: the profile without a patient.
	if p := profilesOf(parsed(t, Event{Interaction: Read, Resource: "Organization/o", Caller: drChan}, "")); p[0] != "Read" {
		t.Errorf("read of no patient's data: profiles %v", p)
	}
}

func TestAuditEventFlagsAndFailure(t *testing.T) {
	res := parsed(t, Event{Interaction: Read, Resource: "Observation/hiv", Caller: drChan, Emergency: true, Restricted: true,
		Reason: "unconscious, allergy history needed", Outcome: MinorFailure, OutcomeDesc: "404: not found"}, "p1")
	ext := map[string]any{}
	for _, x := range res["extension"].([]any) {
		m := x.(map[string]any)
		ext[m["url"].(string)] = m
	}
	if get(ext[EmergencyExtension], "valueBoolean") != true || get(ext[RestrictedExtension], "valueBoolean") != true ||
		get(ext[ReasonExtension], "valueString") != "unconscious, allergy history needed" {
		t.Errorf("extensions %v", ext)
	}
	var purposes []any
	for _, p := range res["purposeOfEvent"].([]any) {
		purposes = append(purposes, get(p, "coding", 0, "code"))
	}
	if !slices.Equal(purposes, []any{"TREAT", "BTG"}) {
		t.Errorf("purposeOfEvent %v, want TREAT and break-the-glass", purposes)
	}
	if get(entityOf(res, "4"), "securityLabel", 0, "code") != "R" {
		t.Errorf("restricted data entity %v", entityOf(res, "4"))
	}
	// A failure claims no BALP profile (they fix the outcome to success).
	if get(res, "outcome") != "4" || get(res, "outcomeDesc") != "404: not found" || res["meta"] != nil {
		t.Errorf("outcome %v desc %v meta %v", get(res, "outcome"), get(res, "outcomeDesc"), res["meta"])
	}
}

func TestAuditEventOperatorAndSystemClient(t *testing.T) {
	op := parsed(t, Event{Interaction: SearchSystem, Query: "?_type=Consent",
		Caller: Caller{ClientID: "ehealth-admin", Subject: "ops-1", TokenID: "j", Operator: true}}, "")
	if u := agentOf(op, "UserOauthAgent"); get(u, "who", "identifier", "value") != "ops-1" || get(u, "who", "display") != "platform operator" {
		t.Errorf("operator agent %v", u)
	}
	sys := parsed(t, Event{Interaction: Create, Resource: "Observation/o1/_history/1",
		Caller: Caller{ClientID: "lab-system", Subject: "lab-system", Org: "Organization/lab"}}, "p1")
	if agentOf(sys, "UserOauthAgent") != nil {
		t.Errorf("a system client got a user agent")
	}
	if get(agentOf(sys, "PROV"), "requestor") != true {
		t.Errorf("a system client's provider is the requestor: %v", agentOf(sys, "PROV"))
	}
}

// TestEntriesOnePerPatient: a result about several patients is one entry
// per patient, each naming only its own.
func TestEntriesOnePerPatient(t *testing.T) {
	a, err := New(nil, Config{Source: testSource})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := a.Entries(Event{Interaction: SearchType, Query: "Observation?code=x", Caller: drChan, Patients: []string{"p1", "p2", "p1", ""}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want one per distinct patient (2)", len(entries))
	}
	for i, want := range []string{"p1", "p2"} {
		e := entries[i]
		if !slices.Equal(e.Patients, []string{want}) || e.Time.IsZero() {
			t.Errorf("entry %d: patients %q time %v", i, e.Patients, e.Time)
		}
		var ev struct {
			Entity []struct {
				What struct{ Reference string } `json:"what"`
			} `json:"entity"`
		}
		if err := json.Unmarshal(e.Body, &ev); err != nil {
			t.Fatal(err)
		}
		for _, x := range ev.Entity {
			if strings.HasPrefix(x.What.Reference, "Patient/") && x.What.Reference != "Patient/"+want {
				t.Errorf("entry about %s names %s", want, x.What.Reference)
			}
		}
	}
	none, err := a.Entries(Event{Interaction: SearchSystem, Query: "?_type=Organization", Caller: drChan})
	if err != nil || len(none) != 1 || none[0].Patients != nil {
		t.Errorf("an event about no patient: %d entries, %v", len(none), err)
	}
}
