package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/csvdeposit"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/web/portal"
	"github.com/ehealthplus/ehealth/internal/web/webtest"
)

// TestProviderPortal walks the provider portal's journeys in Chromium
// against the server as serve assembles it (with emergency access and
// "restricted records exist" switched on): a doctor signs in with
// password and TOTP through /login, finds a citizen by HKID (POSTed: the
// number never appears in a URL), learns they are registered but is
// refused the record, gets consent at the desk — a wrong access key
// refused, a one-time code for the sharing consent, the access key for
// the care relationship — reads the record (allergy up front, a lab trend
// as SVG and table), opens the restricted records with the citizen's
// code, deposits an immunisation with a form and a CSV file (errors
// reported by row and column with nothing stored, then only the valid
// rows kept), sees the deposit history and the accreditation, and is
// refused the team page; a user administrator then registers a
// professional. The citizen's access history (FHIR API, citizen's token)
// says in plain words that the doctor at the clinic viewed the record
// during a consultation. Every page, in both languages, has no missing
// message, no serious or critical axe-core violation and weighs under
// webtest.MaxPageWeight.
//
// SQLite only: the storage is tested on both backends elsewhere.
func TestProviderPortal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	b := webtest.NewBrowser(ctx, t)
	axe := webtest.LoadAxe(ctx, t)
	s := startPortalServer(ctx, t, consent.Policy{Emergency: true, ShowRestrictedExists: true})
	weights := map[string]int64{}
	var patient string
	check := func(name string) {
		t.Helper()
		if patient != "" {
			name = strings.ReplaceAll(name, patient, "{id}")
		}
		weights[name] = b.CheckPage(axe, name)
	}

	const hkid = "A123456(3)"
	var key string
	patient, key = s.registerWithKey(hkid, "CHAN", "Tai Man", "1980-02-03")
	org, doctor := s.professionalAccount("Happy Valley Clinic", "drchan", "CHAN Siu Keung", "M10001", "doctor", false)
	s.must(http.StatusCreated, "POST", "AllergyIntolerance", map[string]any{"resourceType": "AllergyIntolerance", "patient": ref("Patient/" + patient),
		"code": map[string]any{"text": "Penicillin"}, "recordedDate": "2020-03-01", "criticality": "high",
		"clinicalStatus": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}}}})
	for i, v := range []float64{6.1, 7.4, 6.8} {
		s.must(http.StatusCreated, "POST", "Observation", labResult(patient, fmt.Sprintf("2025-0%d-10T09:00:00+08:00", 2*i+1), v, nil))
	}
	s.must(http.StatusCreated, "POST", "Observation", labResult(patient, "2025-07-01T09:00:00+08:00", 1, []any{
		map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}}))

	app := s.origin + portal.Prefix
	// Sign in: /login, the professional's password and TOTP code.
	b.Open(app + "/")
	if !strings.Contains(b.Location(), login.Path) {
		t.Fatalf("the portal did not send the browser to the login: %s", b.Where())
	}
	s.proSignIn(b, "drchan", doctor)
	check("find")

	// Find the citizen: registered, but the record is closed.
	s.find(b, hkid, "CHAN", "Tai Man", "1980-02-03")
	if strings.Contains(b.Location(), "A123456") || !strings.HasSuffix(b.Location(), "/portal/find") {
		t.Errorf("the search went into a URL: %s", b.Location())
	}
	if text := b.Text(); !strings.Contains(text, "CHAN Tai Man") || !strings.Contains(text, "You cannot see this person's record") {
		t.Errorf("finding the citizen without consent: %s", b.Where())
	}
	if n, _ := b.Count(`a[href$="/emergency"]`); n != 1 {
		t.Errorf("emergency access is switched on but not offered: %s", b.Where())
	}
	check("found, no access")
	s.find(b, hkid, "CHAN", "Tai Man", "1980-02-04")
	if !strings.Contains(b.Text(), "No registered person has this document") {
		t.Errorf("another date of birth: %s", b.Where())
	}
	b.Open(app + "/patients/" + patient)
	if n, _ := b.Count("#no-access"); n != 1 || strings.Contains(b.Text(), "Penicillin") {
		t.Errorf("the patient page shows the record without consent: %s", b.Where())
	}
	check("patient, no access")
	b.Open(app + "/patients/" + patient + "/emergency")
	check("emergency")

	// At the desk: a wrong key is refused; a one-time code gives the
	// sharing consent; the access key registers the care relationship.
	b.Open(app + "/patients/" + patient + "/desk")
	check("desk")
	b.Fill("#key", "12345678")
	b.Submit("#submit-key")
	if !strings.Contains(b.Text(), "the key or code is not right") {
		t.Errorf("a wrong access key: %s", b.Where())
	}
	b.Submit("#send-code")
	if !strings.Contains(b.Text(), "A code has been sent") {
		t.Errorf("sending a code: %s", b.Where())
	}
	b.Fill("#code", s.sentCode(patient))
	b.Submit("#submit-code")
	if text := b.Text(); !strings.Contains(text, "The sharing consent is recorded") || !strings.Contains(text, "still closed") {
		t.Errorf("the sharing consent by code: %s", b.Where())
	}
	b.Fill("#key", key)
	b.Submit("#submit-key")
	if text := b.Text(); !strings.Contains(text, "you may now see the record") || !strings.Contains(text, "Penicillin") {
		t.Fatalf("the care relationship by access key: %s", b.Where())
	}
	if !strings.Contains(b.Text(), "records they chose to restrict") {
		t.Errorf("the policy shows that restricted records exist, the page does not: %s", b.Where())
	}
	check("patient")

	// The record: a lab trend, the timeline, a detail page.
	b.Open(app + "/patients/" + patient + "/trends")
	check("trends")
	b.Submit(`a[href*="/trends/"]`)
	if n, _ := b.Count("svg.chart circle"); n != 3 {
		t.Errorf("the HbA1c chart has %d points, want 3 (the restricted result hidden): %s", n, b.Where())
	}
	if n, _ := b.Count("table tbody tr"); n != 3 {
		t.Errorf("the HbA1c table has %d rows, want 3", n)
	}
	check("trend")
	b.Open(app + "/patients/" + patient + "/records/allergies")
	check("timeline")
	b.Submit(`a[href*="/record/AllergyIntolerance/"]`)
	check("detail")

	// Restricted records: the citizen's code opens them.
	b.Open(app + "/patients/" + patient + "/restricted")
	check("restricted")
	b.Fill("#reason", "Starting antiretroviral interactions check")
	b.Submit(`form[action$="/restricted/ask"] button`)
	b.Fill("#code", s.sentCode(patient))
	b.Submit(`form[action$="/restricted/open"] button`)
	if !strings.Contains(b.Text(), "restricted records are open") {
		t.Errorf("opening the restricted records: %s", b.Where())
	}
	b.Open(app + "/patients/" + patient + "/records/lab")
	if n, _ := b.Count(`a[href*="/record/Observation/"]`); n != 4 {
		t.Errorf("after opening, the lab timeline has %d results, want 4: %s", n, b.Where())
	}

	// Deposit an immunisation with the form.
	b.Open(app + "/patients/" + patient + "/deposit")
	check("deposit")
	b.Open(app + "/patients/" + patient + "/deposit/immunisation")
	check("deposit form")
	b.Fill("#f-vaccine", "Seasonal influenza vaccine")
	b.Fill("#f-cvx", "88")
	b.Fill("#f-lot", "LOT-42")
	b.Submit(`form[action$="/deposit/immunisation"] button[type=submit]`)
	if text := b.Text(); !strings.Contains(text, "The record is saved") || !strings.Contains(text, "LOT-42") {
		t.Errorf("depositing an immunisation: %s", b.Where())
	}
	b.Open(app + "/patients/" + patient + "/deposit/vital")
	b.Fill("#f-value", "abc")
	b.Submit(`form[action$="/deposit/vital"] button[type=submit]`)
	if !strings.Contains(b.Text(), "not a number in the plausible range") {
		t.Errorf("a bad vital sign: %s", b.Where())
	}
	check("deposit form, error")

	// CSV: a file with an error stores nothing; keeping the valid rows
	// stores them.
	file := immunisationCSV(t, [][2]string{{"R1", "88"}, {"R2", "FLU"}}, hkid)
	b.Open(app + "/deposit")
	check("csv")
	tpl, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](
		`fetch(document.querySelector('a[href$="/immunisations.csv"]').href).then(async r => r.headers.get('Content-Type') + '\n' + await r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(tpl, "text/csv") || !strings.Contains(tpl, "record_id,") {
		t.Errorf("the template download: %v %.80q", err, tpl)
	}
	upload(b, file, false)
	if text := b.Text(); !strings.Contains(text, "Nothing was stored") || !strings.Contains(text, "vaccine_code") {
		t.Errorf("a CSV with an error: %s", b.Where())
	}
	if n, _ := b.Count("#problems tbody tr"); n != 1 {
		t.Errorf("the report lists %d problems, want 1: %s", n, b.Where())
	}
	check("csv report")
	if *screenshots {
		shoot(b, "portal-csv-report")
	}
	upload(b, file, true)
	if text := b.Text(); !strings.Contains(text, "1 records were stored") {
		t.Errorf("keeping the valid rows: %s", b.Where())
	}
	b.Open(app + "/?lang=zh-Hant")
	b.Open(app + "/deposit")
	upload(b, file, false)
	if text := b.Text(); !strings.Contains(text, "沒有儲存任何資料") || !regexp.MustCompile(`[\p{Han}]`).MatchString(b.Text()) {
		t.Errorf("the report in Chinese: %s", b.Where())
	}
	b.Open(app + "/?lang=en")

	// The deposit history and the accreditation.
	b.Open(app + "/deposits")
	if text := b.Text(); !strings.Contains(text, "Seasonal influenza vaccine") || strings.Count(text, "Immunisation") < 2 {
		t.Errorf("the deposit history: %s", b.Where())
	}
	check("history")
	b.Open(app + "/accreditation")
	check("accreditation")
	b.Submit(`form[action$="/accreditation"] button`)
	if !strings.Contains(b.Text(), "has been assessed") {
		t.Errorf("assessing: %s", b.Where())
	}
	b.Open(app + "/team")
	if !strings.Contains(b.Text(), "Only your provider's user administrators") {
		t.Errorf("a doctor manages the team: %s", b.Where())
	}

	// The citizen sees the access in plain words in their history.
	citizenTok := s.citizenToken(patient)
	status, hist := s.fhir(citizenTok, "GET", "Patient/"+patient+"/$access-history?lang=en", nil)
	if status != http.StatusOK || !strings.Contains(fmt.Sprint(hist), "at Happy Valley Clinic viewed your") ||
		!strings.Contains(fmt.Sprint(hist), "during a consultation") {
		t.Errorf("the citizen's access history: %d %.2000v", status, hist)
	}

	// Every page in both languages.
	pages := []string{"/", "/patients/" + patient, "/patients/" + patient + "/desk", "/patients/" + patient + "/records/lab",
		"/patients/" + patient + "/trends", "/patients/" + patient + "/restricted", "/patients/" + patient + "/emergency",
		"/patients/" + patient + "/deposit", "/patients/" + patient + "/deposit/allergy", "/patients/" + patient + "/deposit/vital",
		"/patients/" + patient + "/deposit/medication", "/deposit", "/deposits", "/accreditation", "/team"}
	for _, lang := range []string{"zh-Hant", "en"} {
		b.Open(app + "/?lang=" + lang)
		for _, p := range pages {
			b.Open(app + p)
			if got := b.Lang(); got != lang {
				t.Errorf("%s: html lang %q, want %q", p, got, lang)
			}
			check(lang + " " + p)
		}
	}
	if *screenshots {
		for name, p := range map[string]string{"portal-find": "/", "portal-patient": "/patients/" + patient,
			"portal-desk": "/patients/" + patient + "/desk"} {
			b.Open(app + p)
			shoot(b, name)
		}
		b.Open(app + "/patients/" + patient + "/trends")
		b.Submit(`a[href*="/trends/"]`)
		shoot(b, "portal-trend")
	}

	// A user administrator registers a professional.
	b.Submit(`form[action$="/signout"] button`)
	check("signed out")
	_, admin := s.professionalAccount("", "mslee", "LEE Mei", "N20001", "nurse", true, org)
	b.Open(app + "/team")
	s.proSignIn(b, "mslee", admin)
	if !strings.Contains(b.Text(), "CHAN Siu Keung") {
		t.Errorf("the team page: %s", b.Where())
	}
	check("team")
	b.Open(app + "/team/add")
	check("add professional")
	b.Fill("#name", "WONG Ka Ming")
	b.Do(chromedp.SetValue(chromedp.CSS("#council"), "mchk"), chromedp.SetValue(chromedp.CSS("#profession"), "doctor"))
	b.Fill("#registration", "M30003")
	b.Submit(`form[action$="/team/add"] button[type=submit]`)
	if text := b.Text(); !strings.Contains(text, "WONG Ka Ming has been added") || !strings.Contains(text, "Medical practitioner") {
		t.Errorf("adding a professional: %s", b.Where())
	}

	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	var report strings.Builder
	for _, n := range names {
		fmt.Fprintf(&report, "  %-44s %6d bytes\n", n, weights[n])
	}
	t.Logf("page weight (HTML+CSS+JS transferred, cache disabled):\n%s", report.String())
}

// startPortalServer is startWebServer with a consent policy of the
// test's choosing, set before the server serves.
func startPortalServer(ctx context.Context, t *testing.T, pol consent.Policy) *webServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, "sqlite:"+filepath.Join(t.TempDir(), "web.db"), log, platform.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer{p}.Close() })
	srv := httptest.NewUnstartedServer(nil)
	s := &webServer{t: t, p: p, origin: "http://" + srv.Listener.Addr().String()}
	s.stack, err = newStack(p, stackConfig{BaseURL: s.origin + "/fhir", LoginURL: "/login", Login: login.Config{Demo: true, IPRate: -1}}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.stack.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	all, err := scope.Parse("system/*.cruds")
	if err != nil {
		t.Fatal(err)
	}
	if s.operator, _, err = s.stack.Tokens.IssueOperator(ctx, token.Claims{Subject: "web-test", ClientID: "web-test", Scope: all}, time.Hour); err != nil {
		t.Fatal(err)
	}
	return s
}

// registerWithKey registers an adult citizen and returns the master
// Patient's id and their access key.
func (s *webServer) registerWithKey(hkid, family, given, birth string) (id, key string) {
	s.t.Helper()
	out := s.must(http.StatusOK, "POST", "Patient/$register", map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "patient", "resource": map[string]any{"resourceType": "Patient",
			"identifier": []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": hkid}},
			"name":       []any{map[string]any{"use": "official", "family": family, "given": []any{given}}},
			"birthDate":  birth, "gender": "male", "telecom": []any{map[string]any{"system": "sms", "value": "+852 9123 4567"}}}}}})
	for _, p := range out["parameter"].([]any) {
		m := p.(map[string]any)
		switch m["name"] {
		case "patient":
			id = m["resource"].(map[string]any)["id"].(string)
		case "access-key":
			key = m["valueString"].(string)
		}
	}
	if id == "" || key == "" {
		s.t.Fatalf("$register: no patient or key in %v", out)
	}
	return id, key
}

// proAccount is a professional's sign-in: username, password and TOTP
// secret.
type proAccount struct{ username, password, secret string }

// professionalAccount registers a professional (at a new provider called
// providerName, or at orgs[0]) with a password and a TOTP secret, as
// `ehealth admin professional add|password|totp` do; admin makes them a
// user administrator too.
func (s *webServer) professionalAccount(providerName, username, name, registration, profession string, admin bool, orgs ...string) (string, proAccount) {
	s.t.Helper()
	ctx, op := s.t.Context(), resource.Caller{Writer: "ehealth-admin"}
	var org string
	if len(orgs) > 0 {
		org = orgs[0]
	} else {
		var err error
		if org, err = s.p.Registry.AddProvider(ctx, op, providerName, "clinic"); err != nil {
			s.t.Fatal(err)
		}
	}
	roles := []string{"healthcare-professional"}
	if admin {
		roles = append(roles, registry.UserAdminRole)
	}
	prac, _, err := s.p.Registry.AddProfessional(ctx, op, registry.Professional{Name: name, Council: registry.Professions[profession].Council,
		Registration: registration, Org: "Organization/" + org, Profession: profession, Roles: roles})
	if err != nil {
		s.t.Fatal(err)
	}
	acc := proAccount{username: username, password: "correct horse battery " + username}
	accounts := login.NewAccounts(s.p.Store, login.PasswordParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1})
	if err := accounts.SetPassword(ctx, username, "Practitioner/"+prac, acc.password); err != nil {
		s.t.Fatal(err)
	}
	uri, err := accounts.EnrolTOTP(ctx, username, "eHealth+")
	if err != nil {
		s.t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		s.t.Fatal(err)
	}
	acc.secret = u.Query().Get("secret")
	return org, acc
}

// proSignIn signs a professional in from the login's start page: the
// link for professionals, username, password and the TOTP code of now.
func (s *webServer) proSignIn(b *webtest.Browser, username string, acc proAccount) {
	s.t.Helper()
	if !strings.Contains(b.Location(), login.Path) {
		s.t.Fatalf("not at the login: %s", b.Where())
	}
	b.Submit(`a[href^="/login/professional"]`)
	code, err := totp.GenerateCode(acc.secret, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	b.Fill("#username", acc.username)
	b.Fill("#password", acc.password)
	b.Fill("#code", code)
	b.Submit(`form[action="/login/professional"] button[type=submit]`)
	if !strings.HasPrefix(b.Location(), s.origin+portal.Prefix+"/") {
		s.t.Fatalf("signing in did not end in the portal: %s", b.Where())
	}
}

// find fills and submits the find form.
func (s *webServer) find(b *webtest.Browser, hkid, family, given, birth string) {
	s.t.Helper()
	b.Open(s.origin + portal.Prefix + "/")
	b.Fill("#number", hkid)
	b.Fill("#family", family)
	b.Fill("#given", given)
	b.Fill("#birthdate", birth)
	b.Submit(`form[action$="/find"] button[type=submit]`)
}

// sixDigits finds a one-time code in a notice.
var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// sentCode is the one-time code of the newest notice carrying one to the
// citizen, read by the operator (in demo mode nothing leaves).
func (s *webServer) sentCode(patient string) string {
	s.t.Helper()
	out := s.must(http.StatusOK, "GET", "Communication?patient=Patient/"+patient+"&category="+notify.KindSystem+"|"+notify.KindOneTimeCode+"&_sort=-_lastUpdated&_count=1", nil)
	entries, _ := out["entry"].([]any)
	if len(entries) == 0 {
		s.t.Fatalf("no one-time code was sent to Patient/%s", patient)
	}
	text := fmt.Sprint(entries[0].(map[string]any)["resource"].(map[string]any)["payload"])
	code := sixDigits.FindString(text)
	if code == "" {
		s.t.Fatalf("no code in %q", text)
	}
	return code
}

// citizenToken is a token of the citizen for their own record.
func (s *webServer) citizenToken(patient string) string {
	s.t.Helper()
	set, err := scope.Parse("patient/*.rs")
	if err != nil {
		s.t.Fatal(err)
	}
	tok, _, err := s.stack.Tokens.Issue(s.t.Context(), token.Claims{Subject: "Patient/" + patient, ClientID: "web-test", Scope: set,
		FHIRUser: "Patient/" + patient, Patient: patient}, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// labResult is an HbA1c result (restricted when security is given).
func labResult(patient, when string, v float64, security []any) map[string]any {
	r := map[string]any{"resourceType": "Observation", "status": "final",
		"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
		"code":     map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}}, "text": "HbA1c"},
		"subject":  ref("Patient/" + patient), "effectiveDateTime": when,
		"valueQuantity":  map[string]any{"value": v, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
		"referenceRange": []any{map[string]any{"low": map[string]any{"value": 4, "unit": "%"}, "high": map[string]any{"value": 6, "unit": "%"}}}}
	if security != nil {
		r["meta"] = map[string]any{"security": security}
		r["code"] = map[string]any{"text": "HIV viral load"}
	}
	return r
}

// immunisationCSV writes an immunisations file for the citizen with one
// row per (record id, CVX code) and returns its path.
func immunisationCSV(t *testing.T, rows [][2]string, hkid string) string {
	t.Helper()
	tpl, err := csvdeposit.Template(csvdeposit.Immunisations)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(tpl), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range rows {
		cells := map[string]string{"record_id": r[0], "id_type": "hkid", "id_number": hkid, "family_name": "CHAN", "given_names": "TAI MAN",
			"birth_date": "1980-02-03", "gender": "M", "vaccine_code": r[1], "vaccine_system": "cvx", "vaccine_name": "Influenza", "date_given": "2025-10-01", "dose_number": "1"}
		line := make([]string, len(header))
		for i, h := range header {
			line[i] = cells[h]
		}
		w.Write(line)
	}
	w.Flush()
	path := filepath.Join(t.TempDir(), "immunisations.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// upload sends a CSV file with the upload form.
func upload(b *webtest.Browser, path string, keep bool) {
	b.Do(chromedp.SetValue(chromedp.CSS("#template"), csvdeposit.Immunisations), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
	if keep {
		b.Do(chromedp.Click(chromedp.CSS("#keep")))
	}
	b.Submit(`form[action$="/deposit"] button[type=submit]`)
}
