package login

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// professionals stores two practitioners: dr-one with one role, dr-two with
// two (and an ended one), and their sign-in accounts; it returns their TOTP
// secrets.
func (e *env) professionals() map[string]string {
	e.t.Helper()
	e.put("Organization", "hosp", map[string]any{"name": "Queen Mary Hospital"})
	e.put("Organization", "clinic", map[string]any{"name": "Happy Valley Clinic"})
	e.put("Practitioner", "dr-one", map[string]any{"name": []any{map[string]any{"family": "Wong"}}})
	e.put("Practitioner", "dr-two", map[string]any{"name": []any{map[string]any{"family": "Lee"}}})
	role := func(id, prac, org, code string, end string) {
		body := map[string]any{"practitioner": map[string]any{"reference": "Practitioner/" + prac},
			"organization": map[string]any{"reference": "Organization/" + org},
			"code":         []any{map[string]any{"text": code}}}
		if end != "" {
			body["period"] = map[string]any{"end": end}
		}
		e.put("PractitionerRole", id, body)
	}
	role("r1", "dr-one", "hosp", "doctor", "")
	role("r2", "dr-two", "hosp", "doctor", "")
	role("r3", "dr-two", "clinic", "doctor", "")
	role("r4", "dr-two", "clinic", "nurse", "2001-01-01")
	secrets := map[string]string{}
	ctx := context.Background()
	for user, prac := range map[string]string{"wong": "Practitioner/dr-one", "lee": "Practitioner/dr-two"} {
		if err := e.h.accounts.SetPassword(ctx, user, prac, "correct horse battery"); err != nil {
			e.t.Fatal(err)
		}
		uri, err := e.h.accounts.EnrolTOTP(ctx, user, "eHealth+")
		if err != nil {
			e.t.Fatal(err)
		}
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("issuer") != "eHealth+" {
			e.t.Fatalf("otpauth URI %q", uri)
		}
		secrets[user] = u.Query().Get("secret")
	}
	return secrets
}

// totpAt is the code of secret at the clock's step plus offset steps.
func (e *env) totpAt(secret string, offset int64) string {
	e.t.Helper()
	code, err := totpCode(secret, e.clock.Now().Unix()/totpPeriod+offset)
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

func (b *browser) proSignIn(csrf, user, password, code, next string) response {
	b.e.t.Helper()
	return b.post(Path+"/professional", url.Values{"csrf": {csrf}, "next": {next}, "username": {user}, "password": {password}, "code": {code}})
}

func TestProfessionalSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, func(c *Config) { c.MaxFailures = 3 })
		secrets := e.professionals()
		const pw, next = "correct horse battery", "/oauth/authorize?client_id=emr"

		t.Run("one role", func(t *testing.T) {
			b := e.browser()
			r := b.proSignIn(b.csrf(), "WONG ", pw, e.totpAt(secrets["wong"], 0), next)
			if r.Status != http.StatusSeeOther || r.Location != next {
				t.Fatalf("%d %q %s", r.Status, r.Location, r.Body)
			}
			who, ok := b.whoami()
			if !ok || who.FHIRUser != "Practitioner/dr-one" || who.Org != "Organization/hosp" || who.Role != "PractitionerRole/r1" || who.Method != "password+totp" {
				t.Fatalf("who %+v", who)
			}
		})
		t.Run("two roles: the professional chooses", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			r := b.proSignIn(csrf, "lee", pw, e.totpAt(secrets["lee"], -1), next)
			pending := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(r.Body)
			roles := regexp.MustCompile(`name="role" value="([^"]+)"`).FindAllStringSubmatch(r.Body, -1)
			if r.Status != http.StatusOK || pending == nil || len(roles) != 2 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var refs []string
			for _, m := range roles {
				refs = append(refs, m[1])
			}
			sort.Strings(refs)
			if strings.Join(refs, " ") != "PractitionerRole/r2 PractitionerRole/r3" || !strings.Contains(r.Body, "Happy Valley Clinic") {
				t.Fatalf("roles offered %v", refs)
			}
			if _, ok := b.whoami(); ok {
				t.Fatal("signed in before choosing a role")
			}
			// A role not offered (ended) is refused, and the pending sign-in is spent.
			if r := b.post(Path+"/professional/role", url.Values{"csrf": {csrf}, "pending": {pending[1]}, "role": {"PractitionerRole/r4"}}); r.Status != http.StatusBadRequest {
				t.Fatalf("ended role: %d", r.Status)
			}
			r = b.proSignIn(csrf, "lee", pw, e.totpAt(secrets["lee"], 0), next)
			pending = regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(r.Body)
			r = b.post(Path+"/professional/role", url.Values{"csrf": {csrf}, "pending": {pending[1]}, "role": {"PractitionerRole/r3"}})
			if r.Status != http.StatusSeeOther || r.Location != next {
				t.Fatalf("choose: %d %q", r.Status, r.Location)
			}
			if who, _ := b.whoami(); who.Org != "Organization/clinic" || who.Role != "PractitionerRole/r3" {
				t.Fatalf("who %+v", who)
			}
		})

		// Refusals: each is the same page, 401, and no session.
		e.clock.Advance(totpPeriod * 3 * time.Second) // past the steps used above
		used := e.totpAt(secrets["wong"], 0)
		if r := e.browser().proSignIn(e.browser().csrf(), "wong", pw, used, "/"); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-in to use a step: %d", r.Status)
		}
		tests := []struct {
			name, user, password, code string
		}{
			{"wrong TOTP", "wong", pw, wrongCode(e.totpAt(secrets["wong"], 0))},
			{"TOTP two steps away", "wong", pw, e.totpAt(secrets["wong"], 2)},
			{"replayed TOTP step", "wong", pw, used},
			{"an earlier step after a later one", "wong", pw, e.totpAt(secrets["wong"], -1)},
			{"wrong password", "wong", "correct horse battery!", e.totpAt(secrets["wong"], 1)},
			{"another's TOTP", "wong", pw, e.totpAt(secrets["lee"], 1)},
			{"unknown user", "nobody", pw, e.totpAt(secrets["wong"], 1)},
		}
		var bodies []string
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := e.browser()
				r := b.proSignIn(b.csrf(), tc.user, tc.password, tc.code, "/")
				if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, msgBadCredentials.En) {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if _, ok := b.whoami(); ok {
					t.Fatal("signed in")
				}
				bodies = append(bodies, scrub(r.Body))
				// Keep wong below the lockout: a success resets the count.
				if tc.user == "wong" {
					e.clock.Advance(totpPeriod * 3 * time.Second)
					b.proSignIn(b.csrf(), "wong", pw, e.totpAt(secrets["wong"], 0), "/")
				}
			})
		}
		for i := range bodies {
			if bodies[i] != bodies[0] {
				t.Errorf("refusal %q differs from %q:\n%s", tests[i].name, tests[0].name, bodies[i])
			}
		}
	})
}

// wrongCode returns a six-digit code other than code.
func wrongCode(code string) string {
	if code == "123456" {
		return "654321"
	}
	return "123456"
}

// TestProfessionalLockout: MaxFailures failures lock the account — known
// or not, alike — for Lockout, with 429 and Retry-After, even for the
// right password and code; a success before that resets the count.
func TestProfessionalLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, func(c *Config) { c.MaxFailures = 3 })
		secrets := e.professionals()
		const pw = "correct horse battery"
		for _, user := range []string{"wong", "nobody"} {
			b := e.browser()
			csrf := b.csrf()
			for i := range 3 {
				r := b.proSignIn(csrf, user, "wrong password!", "000000", "/")
				want := http.StatusUnauthorized
				if i == 2 {
					want = http.StatusTooManyRequests
				}
				if r.Status != want {
					t.Fatalf("%s: failure %d: %d", user, i, r.Status)
				}
			}
			r := b.proSignIn(csrf, user, pw, e.totpAt(secrets["wong"], 0), "/")
			if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "900" {
				t.Fatalf("%s locked: %d Retry-After %q", user, r.Status, r.Header.Get("Retry-After"))
			}
		}
		e.clock.Advance(DefaultLockout + time.Second)
		b := e.browser()
		if r := b.proSignIn(b.csrf(), "wong", pw, e.totpAt(secrets["wong"], 0), "/"); r.Status != http.StatusSeeOther {
			t.Fatalf("after the lockout: %d", r.Status)
		}
	})
}

// TestUnknownUserTiming: an unknown username costs an argon2id check like
// a known one with a wrong password (with real parameters, so the hash
// dominates the time).
func TestUnknownUserTiming(t *testing.T) {
	be := platformtest.Backends[0]
	params := PasswordParams{Time: 2, MemoryKiB: 32 * 1024, Threads: 1}
	e := newEnv(t, be, func(c *Config) { c.Password = params; c.MaxFailures = 100 })
	ctx := context.Background()
	if err := e.h.accounts.SetPassword(ctx, "wong", "Practitioner/dr-one", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.accounts.EnrolTOTP(ctx, "wong", "eHealth+"); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	csrf := b.csrf()
	// Interleaved, and the fastest of each kept: the machine may be busy,
	// and load only ever adds time.
	fastest := map[string]time.Duration{}
	for range 7 {
		for _, user := range []string{"wong", "nobody"} {
			start := time.Now()
			b.proSignIn(csrf, user, "wrong password!", "000000", "/")
			if d := time.Since(start); fastest[user] == 0 || d < fastest[user] {
				fastest[user] = d
			}
		}
	}
	known, unknown := fastest["wong"], fastest["nobody"]
	// The argon2id check is most of either; without the dummy hash the
	// unknown user would answer in a fraction of the time.
	if unknown < known/2 || known < unknown/2 {
		t.Fatalf("fastest answer: known user %s, unknown %s", known, unknown)
	}
	t.Logf("fastest answer: known user %s, unknown %s", known, unknown)
}
