package login

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// cheap are argon2id parameters that keep tests fast.
var cheap = PasswordParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

// clock is a test's clock, starting at the real time (the keyed store
// expires entries by the database's clock) and moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is the login over one backend, served over HTTPS (the cookies are
// __Host-: Secure), with a page that shows the signed-in person.
type env struct {
	t        *testing.T
	p        *platform.Platform
	sessions *oauth.Sessions
	h        *Handler
	srv      *httptest.Server
	origin   string // https://ehealth.example.com:PORT (a WebAuthn RP id cannot be an IP)
	clock    *clock
	mux      *http.ServeMux // more routes may be added before the first request
}

// loopbackClient is an HTTPS client trusting httptest's certificate (good
// for 127.0.0.1 and *.example.com) that reaches every host on loopback,
// keeping the port: test servers have example.com names.
func loopbackClient(srv *httptest.Server) *http.Client {
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	c.Transport = tr
	return c
}

// exampleURL is srv's URL with host name.example.com.
func exampleURL(srv *httptest.Server, name string) string {
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://" + name + ".example.com:" + port
}

// forEachBackend runs fn against SQLite and PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, b platformtest.Backend)) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// newEnv builds the login over a fresh store of backend b; change adjusts
// the configuration.
func newEnv(t *testing.T, b platformtest.Backend, change func(*Config)) *env {
	t.Helper()
	p := platformtest.Open(t, b.Open(t))
	e := &env{t: t, p: p, clock: &clock{t: time.Now()}}
	var handler http.Handler
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	e.origin = exampleURL(e.srv, "ehealth")
	e.sessions = oauth.NewSessions(p.Store, 0)
	// EHEALTH_TEST_LOG=1 shows the login's log (why each refusal).
	var logTo io.Writer = io.Discard
	if os.Getenv("EHEALTH_TEST_LOG") != "" {
		logTo = os.Stderr
	}
	cfg := Config{Origin: e.origin, Demo: true, Password: cheap, Now: e.clock.Now, IPRate: -1,
		Log: slog.New(slog.NewTextHandler(logTo, nil))}
	if change != nil {
		change(&cfg)
	}
	h, err := New(p.Store, p.Service, e.sessions, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	mux := http.NewServeMux()
	mux.Handle(Path, h.Handler())
	mux.Handle(Path+"/", h.Handler())
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		who, _, ok := e.sessions.Current(r)
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(who)
	})
	e.mux, handler = mux, mux
	return e
}

// put writes a resource as the platform.
func (e *env) put(typ, id string, body map[string]any) {
	e.t.Helper()
	body["resourceType"], body["id"] = typ, id
	if _, _, err := e.p.Service.Update(context.Background(), resource.Caller{}, typ, id, body, 0); err != nil {
		e.t.Fatalf("put %s/%s: %v", typ, id, err)
	}
}

// citizen stores a master Patient registered with an HKID and contacts.
func (e *env) citizen(id, hkid string, telecom ...map[string]any) {
	e.t.Helper()
	tc := make([]any, len(telecom))
	for i, t := range telecom {
		tc[i] = t
	}
	body := map[string]any{
		"identifier": []any{map[string]any{"system": "http://www.immd.gov.hk/hkid", "value": hkid}},
		"name":       []any{map[string]any{"family": "Chan", "given": []any{"Tai Man"}}},
	}
	if len(tc) > 0 {
		body["telecom"] = tc
	}
	e.put("Patient", id, body)
}

func sms(v string) map[string]any   { return map[string]any{"system": "sms", "value": v} }
func email(v string) map[string]any { return map[string]any{"system": "email", "value": v} }

// browser is one person's browser: a cookie jar, no automatic redirects.
type browser struct {
	e *env
	c *http.Client
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

func (e *env) browser() *browser {
	jar, _ := newJar()
	c := loopbackClient(e.srv)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: c}
}

// response is a response read whole.
type response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.url(path), nil)
	return b.do(req)
}

func (b *browser) url(path string) string {
	if strings.HasPrefix(path, "https://") {
		return path
	}
	return b.e.origin + path
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf opens the sign-in page and returns the CSRF token of its forms.
func (b *browser) csrf() string {
	b.e.t.Helper()
	r := b.get(Path)
	m := csrfField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		b.e.t.Fatalf("GET /login: %d %s", r.Status, r.Body)
	}
	return m[1]
}

// post submits a form as the sign-in page would (same Origin).
func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.origin)
	return b.do(req)
}

// postJSON sends a JSON request as the passkey script would.
func (b *browser) postJSON(path, csrf string, body any) response {
	b.e.t.Helper()
	raw, _ := json.Marshal(body)
	if body == nil {
		raw = []byte("{}")
	}
	req, _ := http.NewRequest(http.MethodPost, b.url(path), strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.e.origin)
	req.Header.Set(csrfHeader, csrf)
	return b.do(req)
}

// whoami returns the signed-in person, ok false when none.
func (b *browser) whoami() (oauth.Who, bool) {
	b.e.t.Helper()
	r := b.get("/whoami")
	if r.Status != http.StatusOK {
		return oauth.Who{}, false
	}
	var who oauth.Who
	if err := json.Unmarshal([]byte(r.Body), &who); err != nil {
		b.e.t.Fatal(err)
	}
	return who, true
}

// outbox returns the demo outbox, newest first.
func (b *browser) outbox() []demoEntry {
	b.e.t.Helper()
	r := b.get(Path + "/demo/outbox?format=json")
	var out []demoEntry
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		b.e.t.Fatalf("outbox: %d %s", r.Status, r.Body)
	}
	return out
}

var challengeField = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// askCode asks for a code for an HKID and returns the challenge id.
func (b *browser) askCode(csrf, hkid, next string) (string, response) {
	b.e.t.Helper()
	r := b.post(Path+"/code", url.Values{"csrf": {csrf}, "next": {next}, "kind": {"hkid"}, "number": {hkid}})
	m := challengeField.FindStringSubmatch(r.Body)
	if m == nil {
		return "", r
	}
	return m[1], r
}

func (b *browser) verify(csrf, challenge, code, next string) response {
	b.e.t.Helper()
	return b.post(Path+"/code/verify", url.Values{"csrf": {csrf}, "next": {next}, "challenge": {challenge}, "code": {code}})
}
