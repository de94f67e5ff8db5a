package login

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

const (
	hkidA = "A123456(3)"
	hkidE = "E364912(5)"
	hkidD = "D288754(2)" // valid, registered to nobody
)

// codeFor returns the newest code sent to patient.
func (b *browser) codeFor(patient string) string {
	b.e.t.Helper()
	for _, m := range b.outbox() {
		if m.Patient == patient {
			return m.Code
		}
	}
	b.e.t.Fatalf("no code sent to %s", patient)
	return ""
}

func TestCodeSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, nil)
		e.citizen("p1", hkidA, sms("+85291234567"), email("tai.man@example.hk"))
		e.citizen("p2", hkidE, email("only@example.hk"))
		const next = "/oauth/authorize?client_id=app&state=xyz"

		t.Run("success", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			ch, r := b.askCode(csrf, "a 123456 (3)", next)
			if r.Status != http.StatusOK || ch == "" {
				t.Fatalf("ask: %d %s", r.Status, r.Body)
			}
			sent := b.outbox()[0]
			if sent.Patient != "Patient/p1" || sent.Channel != "sms" || sent.To != "+85291234567" || len(sent.Code) != 6 {
				t.Fatalf("sent %+v", sent)
			}
			r = b.verify(csrf, ch, sent.Code, next)
			// No passkey yet: the citizen is offered one on the way to next.
			if r.Status != http.StatusSeeOther || r.Location != Path+"/passkey/offer?next="+url.QueryEscape(next) {
				t.Fatalf("verify: %d %q", r.Status, r.Location)
			}
			who, ok := b.whoami()
			if !ok || who.FHIRUser != "Patient/p1" || who.Method != "otp" || who.AuthTime.IsZero() {
				t.Fatalf("who %+v %v", who, ok)
			}
			if r := b.get(r.Location); r.Status != http.StatusOK || !strings.Contains(r.Body, "passkey-register") {
				t.Fatalf("offer: %d", r.Status)
			}
		})
		t.Run("email when asked or when there is no phone", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			b.post(Path+"/code", url.Values{"csrf": {csrf}, "kind": {"hkid"}, "number": {hkidA}, "channel": {"email"}})
			if m := b.outbox()[0]; m.To != "tai.man@example.hk" || m.Channel != "email" {
				t.Fatalf("sent %+v", m)
			}
			b.askCode(csrf, hkidE, "/")
			if m := b.outbox()[0]; m.Patient != "Patient/p2" || m.To != "only@example.hk" {
				t.Fatalf("sent %+v", m)
			}
		})
		t.Run("single use", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			ch, _ := b.askCode(csrf, hkidA, "/")
			code := b.codeFor("Patient/p1")
			if r := b.verify(csrf, ch, code, "/"); r.Status != http.StatusSeeOther {
				t.Fatalf("first use: %d", r.Status)
			}
			if r := b.verify(csrf, ch, code, "/"); r.Status != http.StatusBadRequest {
				t.Fatalf("second use: %d", r.Status)
			}
		})
		t.Run("expiry", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			ch, _ := b.askCode(csrf, hkidA, "/")
			code := b.codeFor("Patient/p1")
			e.clock.Advance(DefaultCodeTTL + time.Second)
			defer e.clock.Advance(-DefaultCodeTTL - time.Second)
			if r := b.verify(csrf, ch, code, "/"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, msgBadCode.En) {
				t.Fatalf("expired code: %d", r.Status)
			}
			if _, ok := b.whoami(); ok {
				t.Fatal("signed in with an expired code")
			}
		})
		t.Run("attempt limit", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			ch, _ := b.askCode(csrf, hkidE, "/")
			code := b.codeFor("Patient/p2")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := range DefaultCodeAttempts {
				r := b.verify(csrf, ch, wrong, "/")
				if r.Status != http.StatusBadRequest {
					t.Fatalf("guess %d: %d", i, r.Status)
				}
				// Guesses remain: the same challenge is asked again.
				if again := strings.Contains(r.Body, ch); again != (i < DefaultCodeAttempts-1) {
					t.Fatalf("guess %d: challenge offered again = %v", i, again)
				}
			}
			if r := b.verify(csrf, ch, code, "/"); r.Status != http.StatusBadRequest {
				t.Fatalf("the right code after %d wrong guesses: %d", DefaultCodeAttempts, r.Status)
			}
		})
		t.Run("unknown document answered alike", func(t *testing.T) {
			b := e.browser()
			csrf := b.csrf()
			before := len(b.outbox())
			_, known := b.askCode(csrf, hkidA, "/")
			_, unknown := b.askCode(csrf, hkidD, "/")
			if known.Status != unknown.Status || scrub(known.Body) != scrub(unknown.Body) {
				t.Fatalf("known %d and unknown %d answered differently:\n%s\n%s", known.Status, unknown.Status, known.Body, unknown.Body)
			}
			if got := len(b.outbox()); got != before+1 {
				t.Fatalf("%d codes sent, want 1 (to the known citizen only)", got-before)
			}
		})
		t.Run("invalid document", func(t *testing.T) {
			b := e.browser()
			if _, r := b.askCode(b.csrf(), "A123456(4)", "/"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, msgBadDocument.En) {
				t.Fatalf("bad check digit: %d", r.Status)
			}
		})
	})
}

// TestCodeLockout: wrong guesses count against the document, whatever
// the challenge, and lock it; sending codes is limited too.
func TestCodeLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be platformtest.Backend) {
		e := newEnv(t, be, func(c *Config) { c.MaxFailures = 3 })
		e.citizen("p1", hkidA, sms("+85291234567"))
		b := e.browser()
		csrf := b.csrf()
		for i := range 3 {
			ch, r := b.askCode(csrf, hkidA, "/")
			if ch == "" {
				t.Fatalf("ask %d: %d", i, r.Status)
			}
			r = b.verify(csrf, ch, "999999x", "/")
			if i < 2 && r.Status != http.StatusBadRequest || i == 2 && r.Status != http.StatusTooManyRequests {
				t.Fatalf("guess %d: %d", i, r.Status)
			}
		}
		_, r := b.askCode(csrf, hkidA, "/")
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("locked document: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
		e.clock.Advance(DefaultLockout + time.Second)
		if ch, r := b.askCode(csrf, hkidA, "/"); ch == "" {
			t.Fatalf("after the lockout: %d", r.Status)
		}
	})
}

var volatile = regexp.MustCompile(`value="[A-Za-z0-9_-]{43}"`)

// scrub removes the random tokens of a page, to compare two answers.
func scrub(s string) string { return volatile.ReplaceAllString(s, `value="…"`) }
