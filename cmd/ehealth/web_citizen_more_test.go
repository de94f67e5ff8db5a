package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/web"
	"github.com/ehealthplus/ehealth/internal/web/citizen"
	"github.com/ehealthplus/ehealth/internal/web/webtest"
)

// TestCitizenAppFeatures drives, in Chromium against the server as serve
// assembles it (at http://localhost:PORT, so that passkeys are on), the
// citizen's features TestCitizenApp only renders, each checked through
// the FHIR API: the personal folder (a PDF and a PNG stored as Binary
// with the citizen as security context and a citizen-provided
// DocumentReference; a file of another type and one over the limit
// refused, nothing stored; the PDF downloaded back byte for byte),
// reporting an access (a Task access-report for the citizen), the notice
// channels and the language in settings, the patient summary downloaded
// as a FHIR document and as a PDF in the chosen language, and a passkey
// registered after a code sign-in and then used to sign in.
//
// SQLite only: the storage is tested on both backends elsewhere.
func TestCitizenAppFeatures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	b := webtest.NewBrowser(ctx, t)
	s := startWebServerAt(ctx, t, "localhost")
	me := s.register("A123456(3)", "CHAN", "Tai Man", "1980-02-03", "")
	s.must(http.StatusCreated, "POST", "AllergyIntolerance", map[string]any{"resourceType": "AllergyIntolerance", "patient": ref("Patient/" + me),
		"code": map[string]any{"text": "Penicillin"}, "recordedDate": "2020-03-01", "criticality": "high",
		"clinicalStatus": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}}}})
	app := s.origin + citizen.Prefix
	s.signInByCode(b, citizen.Prefix, "A123456(3)", me, me)

	t.Run("folder", func(t *testing.T) { folderJourney(t, s, b, app, me) })
	t.Run("report", func(t *testing.T) { reportJourney(t, s, b, app, me) })
	t.Run("settings", func(t *testing.T) { settingsJourney(t, s, b, app, me) })
	t.Run("summary", func(t *testing.T) { summaryJourney(t, b, app, me) })
	t.Run("passkey", func(t *testing.T) { passkeyJourney(t, s, b, app, me) })
}

// folderJourney uploads files to the personal folder and downloads one.
func folderJourney(t *testing.T, s *webServer, b *webtest.Browser, app, me string) {
	dir := t.TempDir()
	write := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var pngBody bytes.Buffer
	if err := png.Encode(&pngBody, img); err != nil {
		t.Fatal(err)
	}
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("0"), citizen.MaxUpload)...)
	upload := func(path, title string) {
		t.Helper()
		b.Open(app + "/folder")
		b.Do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
		b.Fill("#title", title)
		b.Submit(`form[action$="/folder"] button[type=submit]`)
	}
	docs := func() []map[string]any {
		t.Helper()
		out := s.must(http.StatusOK, "GET", "DocumentReference?patient="+me, nil)
		var list []map[string]any
		for _, e := range entries(out) {
			list = append(list, e)
		}
		return list
	}

	// Refused: text claiming to be a PDF, a Windows program, a PDF over
	// the limit. Each says why; nothing is stored.
	for _, bad := range []struct{ name, title, want string }{
		{write("letter.pdf", []byte("Dear Doctor, this is plain text and not a PDF at all.\n")), "Fake PDF", "This type of file is not accepted."},
		{write("setup.exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 512)...)), "Program", "This type of file is not accepted."},
		{write("huge.pdf", big), "Huge", "The file or form is too large."},
	} {
		upload(bad.name, bad.title)
		if text := b.Text(); !strings.Contains(text, bad.want) {
			t.Errorf("%s: the page does not say %q: %s", filepath.Base(bad.name), bad.want, b.Where())
		}
		if n := len(docs()); n != 0 {
			t.Errorf("%s: %d DocumentReferences stored, want none", filepath.Base(bad.name), n)
		}
	}
	if status, out := s.fhir(s.operator, "GET", "Binary?_summary=count", nil); status != http.StatusOK || out["total"] != 0.0 {
		t.Errorf("after the refused files: Binary count %d %v, want 200 and 0", status, out["total"])
	}

	// Accepted: a PDF and a PNG.
	files := map[string]struct {
		body []byte
		typ  string
	}{"Blood test Shenzhen": {pdf, "application/pdf"}, "X-ray London": {pngBody.Bytes(), "image/png"}}
	upload(write("blood.pdf", pdf), "Blood test Shenzhen")
	if text := b.Text(); !strings.Contains(text, "Your document is in your folder.") || !strings.Contains(text, "Blood test Shenzhen") {
		details, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(document.querySelector('details') || {}).textContent || ''`))
		t.Fatalf("uploading a PDF: %s (details: %q)", b.Where(), details)
	}
	upload(write("xray.png", pngBody.Bytes()), "X-ray London")
	if text := b.Text(); !strings.Contains(text, "X-ray London") {
		t.Errorf("after the PNG upload: %s", b.Where())
	}
	if n, _ := b.Count(".badge-self"); n != 2 {
		t.Errorf("the folder marks %d documents as the citizen's, want 2", n)
	}
	got := docs()
	if len(got) != 2 {
		t.Fatalf("%d DocumentReferences for the citizen, want 2", len(got))
	}
	for _, doc := range got {
		title := str(doc, "description")
		want, ok := files[title]
		if !ok {
			t.Errorf("a DocumentReference titled %q", title)
			continue
		}
		if !hasTag(doc, web.OriginSystem, web.OriginCitizen) {
			t.Errorf("%s: not tagged citizen-provided: %v", title, doc["meta"])
		}
		if subj := str(doc, "subject", "reference"); subj != "Patient/"+me {
			t.Errorf("%s: subject %q", title, subj)
		}
		att, _ := at(doc, "content", 0, "attachment").(map[string]any)
		if att["contentType"] != want.typ {
			t.Errorf("%s: attachment type %v, want %s", title, att["contentType"], want.typ)
		}
		bid, ok := strings.CutPrefix(str(att, "url"), "Binary/")
		if !ok {
			t.Errorf("%s: attachment url %v", title, att["url"])
			continue
		}
		bin := s.must(http.StatusOK, "GET", "Binary/"+bid, nil)
		if sc := str(bin, "securityContext", "reference"); sc != "Patient/"+me {
			t.Errorf("%s: Binary securityContext %q, want Patient/%s", title, sc, me)
		}
		if !hasTag(bin, web.OriginSystem, web.OriginCitizen) {
			t.Errorf("%s: the Binary is not tagged citizen-provided", title)
		}
		if data, err := base64.StdEncoding.DecodeString(str(bin, "data")); err != nil || !bytes.Equal(data, want.body) || str(bin, "contentType") != want.typ {
			t.Errorf("%s: the Binary holds %d bytes of %s (%v), want the %d bytes uploaded", title, len(data), str(bin, "contentType"), err, len(want.body))
		}
	}

	// The PDF back from the page, byte for byte.
	b.Open(app + "/folder")
	back := downloadFile(t, b, `[...document.querySelectorAll('a')].find(a => a.textContent.includes('Blood test Shenzhen'))`)
	if !bytes.Equal(back, pdf) {
		t.Errorf("the downloaded PDF is %d bytes %.40q, want the %d uploaded", len(back), back, len(pdf))
	}
}

// reportJourney reports an access from the access history.
func reportJourney(t *testing.T, s *webServer, b *webtest.Browser, app, me string) {
	tasks := func() []map[string]any {
		t.Helper()
		return entries(s.must(http.StatusOK, "GET", "Task?patient="+me+"&code="+url.QueryEscape("https://ehealth.hk/fhir/CodeSystem/task-code|access-report"), nil))
	}
	if n := len(tasks()); n != 0 {
		t.Fatalf("%d access reports before any, want none", n)
	}
	// Someone opens the record: the operator.
	s.must(http.StatusOK, "GET", "Patient/"+me, nil)
	b.Open(app + "/access")
	link, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(document.querySelector('a[href*="/access/report/"]') || {}).getAttribute?.('href') || ''`))
	if err != nil || link == "" {
		t.Fatalf("no access to report (%v): %s", err, b.Where())
	}
	event := link[strings.LastIndex(link, "/")+1:]
	b.Submit(`a[href*="/access/report/"]`)
	b.Fill("#comment", "I do not know who this is")
	b.Submit(`form[action*="/access/report/"] button[type=submit]`)
	if !strings.Contains(b.Text(), "We have sent your report") {
		t.Errorf("after reporting the access: %s", b.Where())
	}
	list := tasks()
	if len(list) != 1 {
		t.Fatalf("%d access reports after reporting one, want 1", len(list))
	}
	task := list[0]
	if f := str(task, "focus", "reference"); f != "AuditEvent/"+event {
		t.Errorf("the report is about %q, want AuditEvent/%s", f, event)
	}
	if f := str(task, "for", "reference"); f != "Patient/"+me {
		t.Errorf("the report is for %q, want Patient/%s", f, me)
	}
	if note := str(task, "note", 0, "text"); !strings.Contains(note, "I do not know who this is") {
		t.Errorf("the report's note %q does not hold the comment", note)
	}
}

// settingsJourney saves the notice channels and switches the language.
func settingsJourney(t *testing.T, s *webServer, b *webtest.Browser, app, me string) {
	chosen := func() []string {
		t.Helper()
		var out []string
		for _, p := range list(s.must(http.StatusOK, "GET", "Patient/"+me+"/$notice-channels", nil), "parameter") {
			out = append(out, str(p, "valueCode"))
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		sms  bool
		want []string
	}{{false, []string{"app"}}, {true, []string{"app", "sms"}}} {
		b.Open(app + "/settings")
		b.Do(b.Eval(`document.querySelector('input[name=channel][value=sms]').checked = ` + map[bool]string{true: "true", false: "false"}[c.sms]))
		b.Submit(`form[action$="/settings/channels"] button[type=submit]`)
		if !strings.Contains(b.Text(), "Your choices are saved.") {
			t.Errorf("saving the channels (sms %v): %s", c.sms, b.Where())
		}
		if got := chosen(); !slices.Equal(got, c.want) {
			t.Errorf("sms %v: $notice-channels %v, want %v", c.sms, got, c.want)
		}
		checked, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector('input[name=channel][value=sms]').checked`))
		if checked != c.sms {
			t.Errorf("the settings page shows sms checked %v after saving %v", checked, c.sms)
		}
	}

	b.Open(app + "/settings")
	b.Submit(`a[hreflang="zh-Hant"]`)
	for _, p := range []string{"/records", "/folder", "/summary"} {
		b.Open(app + p)
		if got := b.Lang(); got != "zh-Hant" {
			t.Errorf("%s after choosing 繁體中文: html lang %q", p, got)
		}
	}
	if text := b.Text(); !strings.Contains(text, "下載我的紀錄") {
		t.Errorf("the summary page is not in Chinese: %s", b.Where())
	}
}

// summaryJourney downloads the patient summary as a FHIR document and as
// PDFs in both languages (the page is in Chinese after settings).
func summaryJourney(t *testing.T, b *webtest.Browser, app, me string) {
	for _, lang := range []string{"zh-Hant", "en"} {
		b.Open(app + "/summary?lang=" + lang)
		pdf := downloadFile(t, b, `document.querySelector('a[href$="/summary.pdf"]')`)
		if !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Errorf("%s: the printable summary starts %.20q, want %%PDF", lang, pdf)
		}
		if want := []byte("/Lang (" + lang + ")"); !bytes.Contains(pdf, want) {
			t.Errorf("%s: the PDF does not declare %s", lang, want)
		}
		raw := downloadFile(t, b, `document.querySelector('a[href$="/summary.json"]')`)
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: the summary is not JSON: %v: %.200q", lang, err, raw)
		}
		if doc["resourceType"] != "Bundle" || doc["type"] != "document" {
			t.Errorf("%s: the summary is a %v %v, want a document Bundle", lang, doc["resourceType"], doc["type"])
		}
		comp, _ := at(doc, "entry", 0, "resource").(map[string]any)
		if str(comp, "resourceType") != "Composition" || str(comp, "subject", "reference") != "Patient/"+me {
			t.Errorf("%s: the first entry is %s about %s, want a Composition about Patient/%s", lang, str(comp, "resourceType"), str(comp, "subject", "reference"), me)
		}
		if str(comp, "language") != lang {
			t.Errorf("the summary asked for in %s is in %q", lang, str(comp, "language"))
		}
		if !bytes.Contains(raw, []byte("Penicillin")) {
			t.Errorf("%s: the summary does not hold the allergy", lang)
		}
	}
}

// passkeyJourney adds a passkey after a code sign-in and signs in with it.
func passkeyJourney(t *testing.T, s *webServer, b *webtest.Browser, app, me string) {
	if _, err := chromedp.Call(b.Context(), webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(b.Context(), webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	credentials := func() int {
		t.Helper()
		res, err := chromedp.Call(b.Context(), webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
		if err != nil {
			t.Fatalf("WebAuthn.getCredentials: %v", err)
		}
		return len(res.Credentials)
	}
	signOut := func() {
		t.Helper()
		b.Open(app + "/")
		b.Submit(`form[action$="/signout"] button`)
		b.Open(app + "/")
		if !strings.Contains(b.Location(), login.Path) {
			t.Fatalf("after signing out the app still opens: %s", b.Where())
		}
	}

	// Sign in with a code; take the offer of a passkey.
	signOut()
	b.Fill("#number", "A123456(3)")
	b.Submit(`form[action="/login/code"] button[type=submit]`)
	b.Fill("#code", s.demoCode(me))
	b.Submit(`form[action="/login/code/verify"] button[type=submit]`)
	if !strings.Contains(b.Location(), login.Path+"/passkey/offer") {
		t.Fatalf("no offer of a passkey after the code: %s", b.Where())
	}
	b.Submit("#passkey-register-button")
	s.pick(b, me)
	if !strings.HasPrefix(b.Location(), app+"/") {
		t.Fatalf("adding the passkey did not end in the app: %s", b.Where())
	}
	if n := credentials(); n != 1 {
		t.Fatalf("the authenticator holds %d credentials after adding a passkey, want 1", n)
	}

	// Sign out, then in with the passkey alone.
	signOut()
	if n, _ := b.Count("#passkey-login:not([hidden]) #passkey-login-button"); n != 1 {
		t.Fatalf("the sign-in offers no passkey: %s", b.Where())
	}
	b.Submit("#passkey-login-button")
	s.pick(b, me)
	if !strings.HasPrefix(b.Location(), app+"/") || !strings.Contains(b.Text(), "CHAN Tai Man") {
		t.Errorf("signing in with the passkey did not open the citizen's app: %s", b.Where())
	}
}

// downloadFile clicks the link the script link finds, which downloads a
// file, and returns the file's bytes.
func downloadFile(t *testing.T, b *webtest.Browser, link string) []byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.Context(), browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("Browser.setDownloadBehavior: %v", err)
	}
	b.Do(b.Eval("(" + link + ").click()"))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(names) == 1 && !strings.HasSuffix(names[0], ".crdownload") {
			body, err := os.ReadFile(names[0])
			if err != nil {
				t.Fatal(err)
			}
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no download finished: %s", b.Where())
	return nil
}

// entries are the resources of a search Bundle.
func entries(bundle map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range list(bundle, "entry") {
		if r, ok := at(e, "resource").(map[string]any); ok {
			out = append(out, r)
		}
	}
	return out
}

// at walks a parsed JSON value by keys and indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// str is the string at path, or "".
func str(v any, path ...any) string {
	s, _ := at(v, path...).(string)
	return s
}

// list is the list at path.
func list(v any, path ...any) []any {
	l, _ := at(v, path...).([]any)
	return l
}

// hasTag reports whether a resource carries the tag system|code.
func hasTag(r map[string]any, system, code string) bool {
	for _, tag := range list(r, "meta", "tag") {
		if str(tag, "system") == system && str(tag, "code") == code {
			return true
		}
	}
	return false
}
