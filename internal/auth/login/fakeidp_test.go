package login

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeIdP is an OpenID Connect provider over HTTPS, as a government
// identity service would be: discovery, JWKS, an authorization endpoint
// that signs in whoever the test names (no page: it redirects at once),
// and a token endpoint that checks the client secret, the redirect URI and
// the PKCE verifier before issuing an RS256 ID token. It is a real
// provider of the protocol, not a stand-in for the login's code.
type fakeIdP struct {
	t        *testing.T
	srv      *httptest.Server
	issuer   string
	clientID string
	secret   string
	key      *rsa.PrivateKey // published in the JWKS
	wrongKey *rsa.PrivateKey // signs when badSignature is set

	mu           sync.Mutex
	subject      string         // who signs in next
	claims       map[string]any // extra ID-token claims
	badSignature bool
	codes        map[string]idpCode
}

type idpCode struct {
	challenge, nonce, redirect, subject string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	f := &fakeIdP{t: t, clientID: "ehealth-login", secret: "s3cret", key: k1, wrongKey: k2, codes: map[string]idpCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = exampleURL(f.srv, "idp")
	return f
}

// signInAs makes the next authorization sign in subject with claims.
func (f *fakeIdP) signInAs(subject string, claims map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subject, f.claims = subject, claims
}

func (f *fakeIdP) setBadSignature(bad bool) { f.mu.Lock(); f.badSignature = bad; f.mu.Unlock() }

func (f *fakeIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer": f.issuer, "authorization_endpoint": f.issuer + "/authorize", "token_endpoint": f.issuer + "/token",
		"jwks_uri": f.issuer + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (f *fakeIdP) jwks(w http.ResponseWriter, _ *http.Request) {
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("scope") != "openid" {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := randomToken()
	f.mu.Lock()
	f.codes[code] = idpCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri"), subject: f.subject}
	f.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	to.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	f.mu.Lock()
	c, found := f.codes[r.PostFormValue("code")]
	delete(f.codes, r.PostFormValue("code"))
	claims, bad := f.claims, f.badSignature
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != f.clientID || secret != f.secret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !found || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != c.redirect,
		b64u.EncodeToString(sum[:]) != c.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	key := f.key
	if bad {
		key = f.wrongKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		f.t.Error(err)
		return
	}
	now := time.Now()
	std := jwt.Claims{Issuer: f.issuer, Subject: c.subject, Audience: jwt.Audience{f.clientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}
	extra := map[string]any{"nonce": c.nonce}
	for k, v := range claims {
		extra[k] = v
	}
	raw, err := jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		f.t.Error(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": randomToken(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}
