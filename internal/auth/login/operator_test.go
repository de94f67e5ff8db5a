package login

import (
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
)

// TestOperators signs operators in with password and TOTP on both
// backends: each wrong factor, an unknown, disabled or TOTP-less account,
// a replayed code, and the lockout after DefaultMaxFailures failures.
func TestOperators(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b platformtest.Backend) {
		st := b.Open(t)
		t.Cleanup(func() { st.Close() })
		ctx := t.Context()
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: time.Now()}
		ops := NewOperators(st, cheap)
		ops.SetClock(clk.Now)
		const pw = "correct horse battery"
		if err := ops.Add(ctx, "Alice", "CHAN Alice", pw); err != nil {
			t.Fatal(err)
		}
		if err := ops.Add(ctx, "alice", "again", pw); !outcome.Is(err, outcome.Conflict) {
			t.Errorf("adding alice twice: %v, want a conflict", err)
		}
		if err := ops.Add(ctx, "bob", "Bob", "short"); !outcome.Is(err, outcome.Invalid) {
			t.Errorf("a short password: %v, want invalid", err)
		}
		// No TOTP yet: the right password does not sign in.
		if _, err := ops.Authenticate(ctx, "alice", pw, "000000"); !outcome.Is(err, outcome.Unauthorized) {
			t.Errorf("without TOTP: %v, want unauthorized", err)
		}
		uri, err := ops.EnrolTOTP(ctx, "alice", "eHealth+")
		if err != nil {
			t.Fatal(err)
		}
		code := func() string {
			c, err := TOTPCode(uri, clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		for _, c := range []struct{ name, user, pw, code string }{
			{"wrong password", "alice", pw + "x", code()},
			{"wrong code", "alice", pw, "123456"},
			{"unknown user", "mallory", pw, code()},
		} {
			if _, err := ops.Authenticate(ctx, c.user, c.pw, c.code); !outcome.Is(err, outcome.Unauthorized) {
				t.Errorf("%s: %v, want unauthorized", c.name, err)
			}
		}
		op, err := ops.Authenticate(ctx, "ALICE ", pw, code())
		if err != nil || op.Username != "alice" || op.Name != "CHAN Alice" {
			t.Fatalf("signing in: %+v, %v", op, err)
		}
		if _, err := ops.Authenticate(ctx, "alice", pw, code()); !outcome.Is(err, outcome.Unauthorized) {
			t.Errorf("a replayed code: %v, want unauthorized", err)
		}
		clk.Advance(90 * time.Second)
		if err := ops.SetDisabled(ctx, "alice", true); err != nil {
			t.Fatal(err)
		}
		if _, err := ops.Authenticate(ctx, "alice", pw, code()); !outcome.Is(err, outcome.Unauthorized) {
			t.Errorf("disabled: %v, want unauthorized", err)
		}
		if got, err := ops.Get(ctx, "alice"); err != nil || !got.Disabled || !got.TOTP {
			t.Errorf("Get: %+v, %v", got, err)
		}
		if err := ops.SetDisabled(ctx, "alice", false); err != nil {
			t.Fatal(err)
		}
		// Failures since the success: the replay and the disabled account;
		// two more are refused as such, the fifth locks the account, and
		// then even the right factors are refused.
		for i := 3; i <= DefaultMaxFailures; i++ {
			want := outcome.Unauthorized
			if i == DefaultMaxFailures {
				want = outcome.Forbidden
			}
			if _, err := ops.Authenticate(ctx, "alice", "nope nope nope", code()); !outcome.Is(err, want) {
				t.Errorf("failure %d: %v, want %s", i, err, want)
			}
		}
		if _, err := ops.Authenticate(ctx, "alice", pw, code()); !outcome.Is(err, outcome.Forbidden) {
			t.Errorf("locked: %v, want forbidden", err)
		}
		if err := ops.SetPassword(ctx, "nobody", pw); !outcome.Is(err, outcome.NotFound) {
			t.Errorf("password of nobody: %v, want not found", err)
		}
	})
}
