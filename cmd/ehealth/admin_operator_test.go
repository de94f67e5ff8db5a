package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/login"
)

// TestAdminOperator creates an operator's account with the admin
// commands, enrols TOTP, and signs in with the printed URI's codes; a
// disabled operator no longer signs in.
func TestAdminOperator(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			ehealth := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append([]string{"admin", "operator"}, append(args, "--db", dbURL)...), &out, &errOut)
				return strings.TrimSpace(out.String()), err
			}
			for _, bad := range [][]string{
				{"add", "--username", "alice", "--password-file", pwFile},                     // no name
				{"add", "--name", "Alice", "--password-file", pwFile},                         // no username
				{"totp", "--username", "nobody"},                                              // no account
				{"frobnicate", "--username", "alice"},                                         // no such command
				{"add", "--username", "a", "--name", "Alice", "--password-file", pwFile},      // username too short
				{"add", "--username", "alice", "--name", "Alice", "--password-file", "/nope"}, // no password file
			} {
				if _, err := ehealth(bad...); err == nil {
					t.Errorf("%v: accepted", bad)
				}
			}
			if out, err := ehealth("add", "--username", "Alice", "--name", "CHAN Alice", "--password-file", pwFile); err != nil || !strings.Contains(out, "operator alice added") {
				t.Fatalf("add: %q %v", out, err)
			}
			if _, err := ehealth("add", "--username", "alice", "--name", "again", "--password-file", pwFile); err == nil {
				t.Error("adding alice twice: accepted")
			}
			uri, err := ehealth("totp", "--username", "alice")
			if err != nil || !strings.HasPrefix(uri, "otpauth://totp/") {
				t.Fatalf("totp: %q %v", uri, err)
			}
			code, err := login.TOTPCode(uri, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			st, err := openStore(t.Context(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ops := login.NewOperators(st, login.PasswordParams{})
			if op, err := ops.Authenticate(t.Context(), "alice", "correct horse battery", code); err != nil || op.Name != "CHAN Alice" {
				t.Fatalf("signing in with the enrolled TOTP: %+v %v", op, err)
			}
			if out, err := ehealth("disable", "--username", "alice"); err != nil || out != "operator alice disabled" {
				t.Fatalf("disable: %q %v", out, err)
			}
			if op, err := ops.Get(t.Context(), "alice"); err != nil || !op.Disabled {
				t.Errorf("after disable: %+v %v", op, err)
			}
		})
	}
}
