package oauth

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// TestConcurrentUse: one code, one refresh token or one client assertion
// sent several times at once gets exactly one token.
func TestConcurrentUse(t *testing.T) {
	forEachBackend(t, Config{}, func(t *testing.T, e *env) {
		race := func(form url.Values) (ok int) {
			t.Helper()
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if r := e.post(PathToken, form); r.status == http.StatusOK {
						mu.Lock()
						ok++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			return ok
		}
		cookie := e.signIn(citizen)
		verifier, challenge := pkce()
		code := e.code(authRequest(challenge, "launch/patient patient/*.rs offline_access"), cookie)
		if n := race(exchangeCode(code, verifier)); n != 1 {
			t.Errorf("one code gave %d tokens", n)
		}
		verifier, challenge = pkce()
		tok := e.post(PathToken, exchangeCode(e.code(authRequest(challenge, "launch/patient patient/*.rs offline_access"), cookie), verifier))
		if n := race(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "client_id": {"app"}}); n > 1 {
			t.Errorf("one refresh token gave %d tokens", n)
		}
		form := merge(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Observation.rs"}}, clientAuth(t, "lab", labKey, nil))
		if n := race(form); n != 1 {
			t.Errorf("one client assertion gave %d tokens", n)
		}
	})
}
