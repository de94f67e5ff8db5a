package token

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/store"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

const (
	testIssuer   = "https://auth.ehealth.test"
	testAudience = "https://ehealth.test/fhir"
)

// clock is a test clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at the beginning of the current rotation slot of
// period, plus offset. Keys expire in the store by the real clock, so the
// test clock stays at or after real time minus a period.
func newClock(period, offset time.Duration) *clock {
	return &clock{t: time.Now().UTC().Truncate(period).Add(offset)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// forEachBackend runs fn on a fresh, migrated store of each backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, openStore(t, b))
		})
	}
}

func openStore(tb testing.TB, b platformtest.Backend) store.Store {
	tb.Helper()
	st := b.Open(tb)
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st
}

// newService returns a Service over keys with the test issuer and
// audience, on clk, with cfg's other fields.
func newService(tb testing.TB, keys store.Keyed, clk *clock, cfg Config) *Service {
	tb.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	cfg.Now = clk.Now
	s, err := New(keys, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// practitioner is a user-level token's claims with every claim set.
func practitioner() Claims {
	return Claims{
		Subject: "Practitioner/123", ClientID: "clinic-emr",
		Scope:    scope.MustParse("openid fhirUser user/Observation.rs user/Patient.r"),
		FHIRUser: "Practitioner/123", Org: "Organization/hosp-1", Role: "PractitionerRole/r-7",
		Purpose: "TREAT", Patient: "9",
	}
}

// privateKeys reads the signing keys' private halves from the store, by kid,
// for tests that forge tokens with a genuine key.
func privateKeys(t *testing.T, keys store.Keyed) map[string]*ecdsa.PrivateKey {
	t.Helper()
	kvs, err := keys.ListKeys(context.Background(), Namespace, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ecdsa.PrivateKey{}
	for _, kv := range kvs {
		var rec keyRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			t.Fatal(err)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(rec.Key); err != nil {
			t.Fatal(err)
		}
		out[rec.KID] = jwk.Key.(*ecdsa.PrivateKey)
	}
	return out
}

// sign makes a compact JWS of payload with the given algorithm and key,
// headers kid and typ (omitted when empty).
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, payload any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// parts decodes a compact JWS's header and payload as JSON objects.
func parts(t *testing.T, raw string) (header, payload map[string]any) {
	t.Helper()
	p := strings.Split(raw, ".")
	if len(p) != 3 {
		t.Fatalf("token has %d parts", len(p))
	}
	return decodeJSON(t, p[0]), decodeJSON(t, p[1])
}

func decodeJSON(t *testing.T, part string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
