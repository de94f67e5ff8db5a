package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/web/citizen"
	"github.com/ehealthplus/ehealth/internal/web/webtest"
)

var screenshots = flag.Bool("screenshots", false, "write the web apps' screenshots to docs/screenshots")

// TestCitizenApp walks the citizen's journeys in Chromium against the
// server as serve assembles it: signing in with a one-time code through
// /login and the picker, reading a lab trend, giving a provider sharing
// consent and revoking it (the provider's own token gains, then loses,
// access to the record), the access history naming the provider, a
// self-recorded blood pressure, and a parent switching to their child.
// Every page, in both languages, has no missing message, no serious or
// critical axe-core violation, and weighs under webtest.MaxPageWeight.
//
// SQLite only: the storage is tested on both backends elsewhere.
func TestCitizenApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	b := webtest.NewBrowser(ctx, t)
	axe := webtest.LoadAxe(ctx, t)
	s := startWebServer(ctx, t)

	parent := s.register("A123456(3)", "CHAN", "Tai Man", "1980-02-03", "")
	child := s.register("E364912(5)", "CHAN", "Siu Ming", time.Now().AddDate(-9, 0, 0).Format(time.DateOnly), "A123456(3)")
	org, doctor := s.professional("Happy Valley Clinic")
	s.must(http.StatusCreated, "POST", "Encounter", map[string]any{"resourceType": "Encounter", "status": "in-progress",
		"class":   map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
		"subject": ref("Patient/" + parent), "serviceProvider": ref("Organization/" + org), "period": map[string]any{"start": "2025-01-01T09:00:00Z"}})
	s.must(http.StatusCreated, "POST", "AllergyIntolerance", map[string]any{"resourceType": "AllergyIntolerance", "patient": ref("Patient/" + parent),
		"code": map[string]any{"text": "Penicillin"}, "recordedDate": "2020-03-01", "criticality": "high",
		"clinicalStatus": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}}}})
	for i, v := range []float64{6.1, 7.4, 6.8} {
		s.must(http.StatusCreated, "POST", "Observation", map[string]any{"resourceType": "Observation", "status": "final",
			"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
			"code":     map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}}, "text": "HbA1c"},
			"subject":  ref("Patient/" + parent), "effectiveDateTime": fmt.Sprintf("2025-0%d-10T09:00:00+08:00", 2*i+1),
			"valueQuantity":  map[string]any{"value": v, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
			"referenceRange": []any{map[string]any{"low": map[string]any{"value": 4, "unit": "%"}, "high": map[string]any{"value": 6, "unit": "%"}}}})
	}
	doctorSees := func() int {
		status, _ := s.fhir(doctor, "GET", "Patient/"+parent, nil)
		return status
	}
	if got := doctorSees(); got != http.StatusNotFound {
		t.Fatalf("the doctor reads the citizen without consent: %d, want 404", got)
	}

	app := s.origin + citizen.Prefix
	s.signInByCode(b, citizen.Prefix, "A123456(3)", parent, parent)
	weights := map[string]int64{}
	check := func(name string) {
		t.Helper()
		weights[name] = b.CheckPage(axe, name)
	}
	if text := b.Text(); !strings.Contains(text, "Penicillin") || !strings.Contains(text, "CHAN Tai Man") {
		t.Errorf("home does not show the allergy and the name: %s", b.Where())
	}
	check("home")

	// A lab trend: the chart and the numbers.
	b.Open(app + "/trends")
	check("trends")
	b.Submit(`a[href*="/trends/"]`)
	if n, _ := b.Count("svg.chart circle"); n != 3 {
		t.Errorf("the HbA1c chart has %d points, want 3", n)
	}
	if n, _ := b.Count("table tbody tr"); n != 3 {
		t.Errorf("the HbA1c table has %d rows, want 3", n)
	}
	check("trend")

	// Give the clinic sharing consent: the doctor sees the record.
	b.Open(app + "/sharing/give?q=Happy")
	check("give")
	b.Submit(`form[action$="/sharing/give"][method=post] button[type=submit]`)
	if !strings.Contains(b.Text(), "Happy Valley Clinic can now see your record") {
		t.Errorf("giving consent: %s", b.Where())
	}
	check("sharing")
	if got := doctorSees(); got != http.StatusOK {
		t.Fatalf("with consent and care the doctor reads the citizen: %d, want 200", got)
	}
	// The access history says, in plain words, that the clinic looked.
	b.Open(app + "/access")
	if !strings.Contains(b.Text(), "Happy Valley Clinic") {
		t.Errorf("the access history does not name the clinic: %s", b.Where())
	}
	check("access")
	b.Submit(`a[href*="/access/report/"]`)
	check("report")
	// Revoke, confirming: the doctor loses access at once.
	b.Open(app + "/sharing")
	b.Submit(`a[href*="/sharing/revoke/"]`)
	check("revoke")
	b.Submit("#confirm-revoke")
	if !strings.Contains(b.Text(), "can no longer see your record") {
		t.Errorf("revoking consent: %s", b.Where())
	}
	if got := doctorSees(); got != http.StatusNotFound {
		t.Errorf("after the revocation the doctor reads the citizen: %d, want 404", got)
	}

	// A self-recorded blood pressure, kept apart and marked.
	b.Open(app + "/self")
	b.Fill("#systolic", "128")
	b.Fill("#diastolic", "82")
	b.Submit(`form[action$="/self"] button[type=submit]`)
	if text := b.Text(); !strings.Contains(text, "128/82") || !strings.Contains(text, "Recorded by you") {
		t.Errorf("the self-recorded blood pressure: %s", b.Where())
	}

	// Every page in both languages.
	pages := []string{"/", "/records", "/records/allergies", "/records/lab", "/records/medications", "/records/immunisations",
		"/trends", "/sharing", "/access", "/inbox", "/more", "/family", "/settings", "/self", "/folder", "/summary"}
	for _, lang := range []string{"zh-Hant", "en"} {
		b.Open(app + "/?lang=" + lang)
		for _, p := range pages {
			b.Open(app + p)
			if got := b.Lang(); got != lang {
				t.Errorf("%s: html lang %q, want %q", p, got, lang)
			}
			check(lang + " " + p)
			if *screenshots && lang == "en" && slicesContains([]string{"/", "/trends", "/sharing", "/access", "/family"}, p) {
				shoot(b, "citizen"+strings.ReplaceAll(strings.TrimSuffix(p, "/"), "/", "-"))
			}
		}
	}
	if *screenshots {
		b.Open(app + "/trends")
		b.Follow(b.Eval(`[...document.querySelectorAll('a[href*="/trends/"]')].find(a => a.textContent.includes('HbA1c')).click()`))
		shoot(b, "citizen-trend")
		b.Open(app + "/?lang=zh-Hant")
		shoot(b, "citizen-zh-Hant")
		b.Open(app + "/?lang=en")
	}
	b.Open(app + "/record/Patient/" + parent)
	if !strings.Contains(b.Text(), "We could not find") {
		t.Errorf("a record type the app does not show: %s", b.Where())
	}

	// The parent switches to the child they act for.
	b.Open(app + "/family")
	b.Submit("#switch")
	s.pick(b, child)
	b.Open(app + "/family")
	if text := b.Text(); !strings.Contains(text, "CHAN Siu Ming") || !strings.Contains(text, "turns 16 on") {
		t.Errorf("the family page for the child: %s", b.Where())
	}
	check("family (child)")
	b.Open(app + "/")
	if !strings.Contains(b.Text(), "looking after the record of CHAN Siu Ming") {
		t.Errorf("home for the child: %s", b.Where())
	}

	// Signing out ends the session: the app asks to sign in again.
	b.Submit(`form[action$="/signout"] button`)
	check("signed out")
	b.Open(app + "/records")
	if !strings.Contains(b.Location(), "/login") {
		t.Errorf("after signing out the app still opens: %s", b.Where())
	}

	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	var report strings.Builder
	for _, n := range names {
		fmt.Fprintf(&report, "  %-28s %6d bytes\n", n, weights[n])
	}
	t.Logf("page weight (HTML+CSS+JS transferred, cache disabled):\n%s", report.String())
}

// ref is a FHIR Reference.
func ref(r string) map[string]any { return map[string]any{"reference": r} }

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shoot writes the page at phone and desktop widths to docs/screenshots.
func shoot(b *webtest.Browser, name string) {
	dir := filepath.Join("..", "..", "docs", "screenshots")
	b.Screenshot(filepath.Join(dir, name+"-phone.png"), webtest.Phone)
	b.Screenshot(filepath.Join(dir, name+"-desktop.png"), webtest.Desktop)
}
