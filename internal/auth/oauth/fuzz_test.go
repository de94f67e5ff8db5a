package oauth

import (
	"context"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// FuzzClientAssertion feeds client_assertion values through the
// private_key_jwt path — parsing, the client lookup, the signature, the
// claims and the replay cache: nothing may panic, nothing but the one
// assertion the test signed may authenticate (and that only once), and no
// error may quote the assertion back. Seeds: testdata/fuzz and the valid
// assertion.
func FuzzClientAssertion(f *testing.F) {
	e := newEnv(f, platformtest.Backends[0], Config{})
	valid := labKey.sign(f, assertionClaims("lab"))
	f.Add(valid)
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(valid[:len(valid)-4])
	ctx := context.Background()
	accepted := false
	f.Fuzz(func(t *testing.T, raw string) {
		c, _, err := e.srv.verifyAssertion(ctx, raw, "", fosite.ErrInvalidClient)
		if err != nil {
			if len(raw) > 16 && strings.Contains(fosite.ErrorToRFC6749Error(err).GetDescription(), raw) {
				t.Fatal("the error quotes the assertion")
			}
			return
		}
		if raw != valid || accepted || c.ID != "lab" {
			t.Fatalf("accepted an assertion the test did not sign, or twice: %q", raw)
		}
		accepted = true
	})
}
