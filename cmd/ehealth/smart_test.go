package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// smartAppScope is what the test app is registered for and asks (as
// testdata/smartapp/app.html does).
const smartAppScope = "launch/patient openid fhirUser patient/*.rs"

// TestSMARTStandaloneLaunch runs a real SMART client against the server
// serve runs: the npm fhirclient library in headless Chromium makes a
// standalone launch (discovery, authorize with PKCE S256, the login, the
// code for a token at the token endpoint, all across origins with CORS)
// and reads its launch patient from the FHIR API.
//
// It runs on SQLite only: it tests the HTTP flow end to end, and the
// storage under it is tested on both backends elsewhere.
func TestSMARTStandaloneLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	browser := chromiumPath(t)
	bundle := fhirClientBundle(ctx, t)

	fhir := startSMARTServer(ctx, t)
	patientID := fhir.createPatient(ctx, t)
	app := httptest.NewServer(smartAppHandler(bundle))
	defer app.Close()
	client := "smart-test-app"
	if _, err := fhir.stack.Authz.Clients().Register(ctx, oauth.Client{ID: client, Name: "SMART test app", Kind: oauth.Public,
		RedirectURIs: []string{app.URL + "/app.html"}, Scope: smartAppScope, Origins: []string{app.URL}}); err != nil {
		t.Fatal(err)
	}
	fhir.signInAs("Patient/" + patientID)

	launch := app.URL + "/app.html?" + url.Values{"iss": {fhir.base}, "client_id": {client}}.Encode()
	state, out, err := runInBrowser(ctx, browser, launch)
	if err != nil || state != "done" {
		t.Fatalf("the app did not complete the launch: %v %s\nthe server answered:\n%s", err, out, fhir.log())
	}
	var got struct {
		Patient       map[string]any `json:"patient"`
		TokenResponse struct {
			AccessToken string `json:"access_token"`
			Patient     string `json:"patient"`
			Scope       string `json:"scope"`
			IDToken     string `json:"id_token"`
		} `json:"tokenResponse"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the app's result %q: %v", out, err)
	}
	if got.Patient["resourceType"] != "Patient" || got.Patient["id"] != patientID {
		t.Errorf("the app read %v, want Patient/%s", got.Patient, patientID)
	}
	if fhir.logins.Load() != 1 {
		t.Errorf("the authorize endpoint sent the browser to the login %d times, want once", fhir.logins.Load())
	}
	tr := got.TokenResponse
	if tr.Patient != patientID || tr.IDToken == "" || !strings.Contains(tr.Scope, "patient/*.rs") {
		t.Errorf("token response: patient %q, scope %q, id_token %t; want patient %s, patient/*.rs and an ID token",
			tr.Patient, tr.Scope, tr.IDToken != "", patientID)
	}
	claims, err := fhir.stack.Tokens.Verify(ctx, tr.AccessToken)
	if err != nil {
		t.Fatalf("the app's access token: %v", err)
	}
	if claims.Patient != patientID || claims.FHIRUser != "Patient/"+patientID || claims.ClientID != client {
		t.Errorf("access token: patient %q, fhirUser %q, client %q; want %s, Patient/%s, %s",
			claims.Patient, claims.FHIRUser, claims.ClientID, patientID, patientID, client)
	}
}

// smartServer is the platform served as `ehealth serve` serves it, plus a
// stand-in for the login (built separately): it signs in whoever signInAs
// names, through oauth.Sessions like a real login, and goes on to next.
type smartServer struct {
	stack  *stack
	svc    *resource.Service
	base   string // the FHIR base URL
	logins atomic.Int32

	mu       sync.Mutex
	signIn   string   // the fhirUser the login signs in
	requests []string // "METHOD path status", for a failure's message
}

// startSMARTServer starts the server on 127.0.0.1 with a fresh SQLite
// database, closed when the test ends.
func startSMARTServer(ctx context.Context, t *testing.T) *smartServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := openPlatform(ctx, "sqlite:"+filepath.Join(t.TempDir(), "smart.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer{p}.Close() })
	// The listener comes first: its address is in the base URL that
	// tokens name as their audience.
	srv := httptest.NewUnstartedServer(nil)
	s := &smartServer{svc: p.Service, base: "http://" + srv.Listener.Addr().String() + "/fhir"}
	s.stack, err = newStack(p, stackConfig{BaseURL: s.base, LoginURL: "/login"}, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.stack.Handler)
	mux.HandleFunc("GET /login", s.login)
	srv.Config.Handler = s.record(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// record notes each request h answers.
func (s *smartServer) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
	})
}

// log returns the requests answered so far, one a line.
func (s *smartServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.requests, "\n")
}

// statusRecorder remembers the status of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// signInAs makes the login sign in fhirUser.
func (s *smartServer) signInAs(fhirUser string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signIn = fhirUser
}

// login signs in the person signInAs named and sends the browser back to
// the authorize request it came from.
func (s *smartServer) login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, oauth.PathAuthorize+"?") {
		http.Error(w, "next: want the authorize endpoint", http.StatusBadRequest)
		return
	}
	s.logins.Add(1)
	s.mu.Lock()
	who := oauth.Who{FHIRUser: s.signIn, Method: "test"}
	s.mu.Unlock()
	if _, err := s.stack.Authz.Sessions().Start(r.Context(), w, who); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// createPatient stores the citizen's Patient record and returns its id.
func (s *smartServer) createPatient(ctx context.Context, t *testing.T) string {
	t.Helper()
	v, err := s.svc.Create(ctx, resource.Caller{Writer: "smart-test"}, "Patient", map[string]any{
		"resourceType": "Patient", "active": true,
		"name":      []any{map[string]any{"family": "Chan", "given": []any{"Tai Man"}}},
		"birthDate": "1980-02-03",
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// smartAppHandler serves the app's page and the fhirclient bundle, from an
// origin of their own as a real app would be.
func smartAppHandler(bundle []byte) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(filepath.Join("testdata", "smartapp"))))
	mux.HandleFunc("GET /fhir-client.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(bundle)
	})
	return mux
}

// runInBrowser opens url in a fresh headless Chromium and waits until the
// app reports; it returns the app's state and output, or an error saying
// where the browser stopped. The browser is killed, with all its
// processes, before it returns.
func runInBrowser(ctx context.Context, browser, url string) (state, out string, err error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc() // waits for the browser to exit
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The browser starts with the first action, on bctx (not on a shorter
	// context, which would end the browser with it).
	if err := chromedp.Do(bctx); err != nil {
		return "", "", fmt.Errorf("start %s: %w", browser, err)
	}
	// The app gets until 10 s before the test's deadline, leaving time to
	// say where it stopped.
	deadline, _ := ctx.Deadline()
	wctx, cancelWait := context.WithDeadline(bctx, deadline.Add(-10*time.Second))
	defer cancelWait()
	if err := chromedp.Do(wctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body[data-state]"))); err != nil {
		where, _ := chromedp.Run(bctx, chromedp.Location())
		text, _ := chromedp.Run(bctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		return "", "", fmt.Errorf("the app did not report (%w); the browser is at %s, showing %.500q", err, where, text)
	}
	if state, err = chromedp.Run(bctx, chromedp.Evaluate[string]("document.body.dataset.state")); err != nil {
		return "", "", err
	}
	out, err = chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS("#out")))
	return state, out, err
}
