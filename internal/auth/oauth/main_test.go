package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

const (
	testIssuer   = "https://auth.ehealth.test"
	testFHIRBase = "https://ehealth.test/fhir"
	testLogin    = "https://ehealth.test/login"
	appRedirect  = "https://app.example/callback"
	appOrigin    = "https://app.example"
)

// The test's keys, made once: RSA generation is slow.
var (
	rsKey  = mustRSA()
	rsKey2 = mustRSA()
	ecKey  = mustEC(elliptic.P384())
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// env is an authorization server over one backend, served over HTTP.
type env struct {
	t      testing.TB
	st     store.Store
	tokens *token.Service
	srv    *Server
	http   *httptest.Server
}

// put writes a resource straight into the store (the roles and
// relationships are read from stored resources; how they got there is
// the registration work's business).
func (e *env) put(typ, id string, body map[string]any) {
	e.t.Helper()
	body["resourceType"], body["id"] = typ, id
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.st.Write(context.Background(), func(tx store.Tx) error {
		v := store.Version{Type: typ, ID: id, VersionID: 1, Updated: time.Now().UTC(), Method: store.MethodCreate, Writer: "test", Body: b}
		return tx.Put(context.Background(), &v, 0)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func ref(s string) map[string]any { return map[string]any{"reference": s} }

// forEachBackend runs fn against a fresh server on each backend.
func forEachBackend(t *testing.T, cfg Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newEnv(t, b, cfg)) })
	}
}

// newEnv opens a migrated store of backend b, and starts the server with
// cfg (the test issuer, base and login filled in) and the test clients.
func newEnv(tb testing.TB, b platformtest.Backend, cfg Config) *env {
	tb.Helper()
	ctx := context.Background()
	st := b.Open(tb)
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	tokens, err := token.New(st, token.Config{Issuer: testIssuer, Audience: testFHIRBase})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Issuer, cfg.FHIRBaseURL, cfg.LoginURL = testIssuer, testFHIRBase, testLogin
	cfg.Roles = StoreRoles{Store: st}
	cfg.Relationships = StoreRelationships{Store: st}
	if cfg.TokenRate == 0 {
		cfg.TokenRate = -1
	}
	srv, err := New(st, tokens, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{t: tb, st: st, tokens: tokens, srv: srv}
	e.http = httptest.NewServer(srv.Handler())
	tb.Cleanup(e.http.Close)
	for _, c := range testClients(tb) {
		if _, err := srv.Clients().Register(ctx, c); err != nil {
			tb.Fatal(err)
		}
	}
	e.put("Patient", "p1", map[string]any{"name": []any{map[string]any{"family": "Chan", "given": []any{"Tai Man"}}, map[string]any{"text": "陳大文"}}})
	e.put("PractitionerRole", "dr-chan-gp", map[string]any{"practitioner": ref("Practitioner/dr-chan"), "organization": ref("Organization/clinic-1")})
	return e
}

// testClients are a public SMART app, a resource server allowed to
// introspect, a clinic's system (ES384) and a lab's (RS384).
func testClients(tb testing.TB) []Client {
	return []Client{
		{ID: "app", Name: "Health Diary", Kind: Public, RedirectURIs: []string{appRedirect}, Origins: []string{appOrigin},
			Scope: "openid fhirUser launch launch/patient offline_access online_access patient/*.rs patient/Observation.cruds user/*.rs"},
		{ID: "rs", Kind: Confidential, RedirectURIs: []string{"https://rs.example/cb"}, Introspect: true,
			Scope: "user/*.rs", JWKS: jwks(tb, jose.JSONWebKey{Key: &rsKey2.PublicKey, KeyID: "rs-1", Use: "sig"})},
		{ID: "clinic", Kind: System, Org: "Organization/clinic-1", Scope: "system/*.cruds user/*.rs",
			JWKS: jwks(tb, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "clinic-1", Use: "sig"})},
		{ID: "lab", Kind: System, Org: "Organization/lab-2", Scope: "system/Observation.cruds system/DiagnosticReport.cruds",
			JWKS: jwks(tb, jose.JSONWebKey{Key: &rsKey.PublicKey, KeyID: "lab-1", Use: "sig", Algorithm: RS384})},
	}
}

func jwks(tb testing.TB, keys ...jose.JSONWebKey) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// signer is a client's signing key.
type signer struct {
	alg jose.SignatureAlgorithm
	key any
	kid string
}

var (
	clinicKey = signer{jose.ES384, ecKey, "clinic-1"}
	labKey    = signer{jose.RS384, rsKey, "lab-1"}
	rsSigner  = signer{jose.RS384, rsKey2, "rs-1"}
)

// sign makes a compact JWS of claims.
func (s signer) sign(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.kid != "" {
		opts = opts.WithHeader("kid", s.kid)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := json.Marshal(claims)
	jws, err := sg.Sign(body)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// assertionClaims are valid client-assertion claims for client id.
func assertionClaims(id string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": id, "sub": id, "aud": testIssuer + PathToken,
		"exp": now.Add(4 * time.Minute).Unix(), "iat": now.Unix(), "jti": newID()}
}

// clientAuth is the form fields of private_key_jwt for client id.
func clientAuth(tb testing.TB, id string, s signer, edit func(map[string]any)) url.Values {
	c := assertionClaims(id)
	if edit != nil {
		edit(c)
	}
	return url.Values{"client_assertion_type": {assertionTypeJWTBearer}, "client_assertion": {s.sign(tb, c)}}
}

// merge joins forms.
func merge(forms ...url.Values) url.Values {
	out := url.Values{}
	for _, f := range forms {
		for k, v := range f {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

// reply is an HTTP response with its JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

// noRedirects is an HTTP client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request to the test server.
func (e *env) do(method, path string, form url.Values, header map[string]string) reply {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &r.body)
	return r
}

func (e *env) post(path string, form url.Values) reply { return e.do("POST", path, form, nil) }

// signIn starts a sign-in session and returns its cookie header value.
func (e *env) signIn(who Who) string {
	e.t.Helper()
	id, err := e.srv.Sessions().Start(context.Background(), httptest.NewRecorder(), who)
	if err != nil {
		e.t.Fatal(err)
	}
	return SessionCookie + "=" + id
}

// pkce returns a code verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = newID() + newID() + "abcdefghijk"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authRequest is a valid standalone-launch authorize query of the app.
func authRequest(challenge, scope string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {appRedirect},
		"scope": {scope}, "state": {"st-" + newID()}, "aud": {testFHIRBase}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// authorize sends an authorize request with the session cookie and
// returns the response (not following redirects).
func (e *env) authorize(q url.Values, cookie string) reply {
	e.t.Helper()
	h := map[string]string{}
	if cookie != "" {
		h["Cookie"] = cookie
	}
	return e.do("GET", PathAuthorize+"?"+q.Encode(), nil, h)
}

// redirectParams returns the query of a redirect to the app, failing
// the test if the reply is not one.
func redirectParams(tb testing.TB, r reply) url.Values {
	tb.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusFound && r.status != http.StatusSeeOther || !strings.HasPrefix(loc, appRedirect) {
		tb.Fatalf("want a redirect to the app, got %d %s %s", r.status, loc, r.raw)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Query()
}

// code runs an authorize request through to its code.
func (e *env) code(q url.Values, cookie string) string {
	e.t.Helper()
	p := redirectParams(e.t, e.authorize(q, cookie))
	if p.Get("code") == "" || p.Get("state") != q.Get("state") {
		e.t.Fatalf("authorize: no code or wrong state: %v", p)
	}
	return p.Get("code")
}

// exchangeCode is the app's token request for a code.
func exchangeCode(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect},
		"client_id": {"app"}, "code_verifier": {verifier}}
}

// wantError checks an RFC 6749 error reply.
func wantError(tb testing.TB, r reply, status int, code string) {
	tb.Helper()
	if r.status != status || r.str("error") != code {
		tb.Fatalf("want %d %s, got %d %s", status, code, r.status, r.raw)
	}
	if strings.Contains(r.raw, "eyJ") {
		tb.Errorf("the error shows a token: %s", r.raw)
	}
}

// verify checks an access token with the token service, and that it is
// never an operator token.
func (e *env) verify(raw string) token.Claims {
	e.t.Helper()
	c, err := e.tokens.Verify(context.Background(), raw)
	if err != nil {
		e.t.Fatalf("the access token does not verify: %v", err)
	}
	if c.Operator {
		e.t.Fatal("an OAuth flow produced an operator token")
	}
	return c
}

// introspect asks the resource server's view of a token.
func (e *env) introspect(tok string) reply {
	e.t.Helper()
	return e.post(PathIntrospect, merge(url.Values{"token": {tok}}, clientAuth(e.t, "rs", rsSigner, nil)))
}

// systemToken gets a client_credentials token.
func (e *env) systemToken(id string, s signer, scope string) reply {
	e.t.Helper()
	return e.post(PathToken, merge(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, clientAuth(e.t, id, s, nil)))
}

// thumbprintKID is a key's RFC 7638 thumbprint.
func thumbprintKID(k any) string {
	sum, _ := (&jose.JSONWebKey{Key: k}).Thumbprint(crypto.SHA256)
	return base64.RawURLEncoding.EncodeToString(sum)
}

// jsonRoundTrip decodes a decoded JSON value into v.
func jsonRoundTrip(in any, v any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
