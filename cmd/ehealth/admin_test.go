package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
)

// TestMain stops the throwaway PostgreSQL the admin tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// adminDatabases are a database URL of each backend for the admin tests.
var adminDatabases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "admin.db") }},
	{"postgres", func(t *testing.T) string { return postgresURL(pgtest.DSN(t)) }},
}

// postgresURL turns a keyword DSN (host=… port=… dbname=…) into the
// postgres:// URL the command takes.
func postgresURL(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return dsn
	}
	u := url.URL{Scheme: "postgres", Path: "/"}
	q := url.Values{}
	for _, kv := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "dbname" {
			u.Path = "/" + v
		} else {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// TestAdminToken runs ehealth admin token in-process and verifies what it
// prints with a token service over the same database: the claims the flags
// asked for, and the operator marker exactly when neither --fhir-user nor
// --org was given.
func TestAdminToken(t *testing.T) {
	const base = "https://ehealth.example/fhir"
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		operator bool
		want     token.Claims // fields compared: Subject, FHIRUser, Org, Role, Purpose, scope string
		scope    string
		ttl      time.Duration
	}{
		{name: "operator", args: []string{"--scope", "system/*.cruds"}, operator: true,
			want: token.Claims{Subject: "operator"}, scope: "system/*.cruds", ttl: time.Hour},
		{name: "operator with a purpose", args: []string{"--scope", "system/Patient.rs", "--purpose", "HSYSADMIN", "--ttl", "24h"}, operator: true,
			want: token.Claims{Subject: "operator", Purpose: "HSYSADMIN"}, scope: "system/Patient.rs", ttl: 24 * time.Hour},
		{name: "professional", args: []string{"--fhir-user", "Practitioner/123", "--org", "Organization/hosp-1",
			"--role", "PractitionerRole/r-7", "--purpose", "TREAT", "--scope", "user/*.rs openid", "--ttl", "15m"},
			want:  token.Claims{Subject: "Practitioner/123", FHIRUser: "Practitioner/123", Org: "Organization/hosp-1", Role: "PractitionerRole/r-7", Purpose: "TREAT"},
			scope: "openid user/*.rs", ttl: 15 * time.Minute},
		{name: "provider system", args: []string{"--org", "Organization/lab-2", "--scope", "system/Observation.cr"},
			want: token.Claims{Subject: "Organization/lab-2", Org: "Organization/lab-2"}, scope: "system/Observation.cr", ttl: time.Hour},
		{name: "citizen from the environment", env: map[string]string{"EHEALTH_FHIR_USER": "Patient/9", "EHEALTH_SCOPE": "patient/*.rs"},
			want: token.Claims{Subject: "Patient/9", FHIRUser: "Patient/9"}, scope: "patient/*.rs", ttl: time.Hour},
	}
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					for k, v := range tc.env {
						t.Setenv(k, v)
					}
					var stdout, stderr bytes.Buffer
					args := append([]string{"admin", "token", "--db", dbURL, "--base-url", base}, tc.args...)
					if err := run(context.Background(), args, &stdout, &stderr); err != nil {
						t.Fatalf("%v\n%s", err, stderr.String())
					}
					raw := strings.TrimSpace(stdout.String())
					c := verifyAdminToken(t, dbURL, base, raw)
					if c.Operator != tc.operator {
						t.Errorf("operator = %v, want %v", c.Operator, tc.operator)
					}
					got := token.Claims{Subject: c.Subject, FHIRUser: c.FHIRUser, Org: c.Org, Role: c.Role, Purpose: c.Purpose}
					if !reflect.DeepEqual(got, tc.want) {
						t.Errorf("claims %+v, want %+v", got, tc.want)
					}
					if c.Scope.String() != tc.scope || c.ClientID != adminClientID || c.Issuer != origin(base) || c.Audience != base {
						t.Errorf("scope %q client %q iss %q aud %q", c.Scope.String(), c.ClientID, c.Issuer, c.Audience)
					}
					if life := c.Expiry.Sub(c.IssuedAt); life != tc.ttl {
						t.Errorf("lifetime %s, want %s", life, tc.ttl)
					}
				})
			}
		})
	}
}

// verifyAdminToken verifies raw as the server at base over dbURL would.
func verifyAdminToken(t *testing.T, dbURL, base, raw string) token.Claims {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := token.New(st, token.Config{Issuer: origin(base), Audience: base})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("the printed token does not verify: %v\n%s", err, raw)
	}
	return c
}

func TestAdminTokenRefuses(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no scope", nil, "--scope is required"},
		{"bad scope", []string{"--scope", "user/Observation.x"}, "--scope"},
		{"ttl above the cap", []string{"--scope", "system/*.rs", "--ttl", "25h"}, "--ttl 25h0m0s: want more than 0 and at most 24h0m0s"},
		{"zero ttl", []string{"--scope", "system/*.rs", "--ttl", "0s"}, "--ttl"},
		{"fhir-user an Organization", []string{"--scope", "user/*.rs", "--fhir-user", "Organization/1"}, "fhirUser"},
		{"org a Practitioner", []string{"--scope", "user/*.rs", "--org", "Practitioner/1"}, "org"},
		{"role alone", []string{"--scope", "user/*.rs", "--role", "PractitionerRole/1"}, "--role needs"},
		{"role without org", []string{"--scope", "user/*.rs", "--fhir-user", "Practitioner/1", "--role", "PractitionerRole/1"}, "role"},
		{"unknown purpose", []string{"--scope", "user/*.rs", "--org", "Organization/1", "--purpose", "CURIOSITY"}, "purpose"},
		{"stray argument", []string{"--scope", "user/*.rs", "extra"}, "unexpected argument"},
		{"relative base URL", []string{"--scope", "system/*.rs", "--base-url", "/fhir"}, "--base-url"},
		{"relative issuer", []string{"--scope", "system/*.rs", "--issuer", "auth.example"}, "--issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"admin", "token", "--db", "sqlite:" + filepath.Join(t.TempDir(), "a.db")}, tc.args...)
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q", stdout.String())
			}
		})
	}
	if err := run(context.Background(), []string{"admin", "frobnicate"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("unknown admin command accepted")
	}
}
