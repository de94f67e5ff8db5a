package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// defaultBaseURL is the FHIR base of `ehealth serve` with its default
// address; tokens for another server need its --base-url.
const defaultBaseURL = "http://127.0.0.1:8080/fhir"

// adminClientID is the client_id of the tokens ehealth admin prints.
const adminClientID = "ehealth-admin"

// runAdmin dispatches the operator's commands: ehealth admin token.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ehealth admin token [flags]\n\n  token   print a signed access token (see ehealth admin token -h)")
		return flag.ErrHelp
	}
	switch args[0] {
	case "token":
		return runAdminToken(ctx, args[1:], stdout, stderr)
	case "client":
		return runAdminClient(ctx, args[1:], stdout, stderr)
	case "provider":
		return runAdminProvider(ctx, args[1:], stdout, stderr)
	case "accreditation":
		return runAdminAccreditation(ctx, args[1:], stdout, stderr, profileChecker)
	case "professional":
		if isLoginCommand(args[1:]) {
			return runAdminLogin(ctx, args[1:], stdout, stderr)
		}
		return runAdminProfessional(ctx, args[1:], stdout, stderr)
	case "operator":
		return runAdminOperator(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("admin: unknown command %q (have: token, client, provider, professional, operator, accreditation)", args[0])
}

// runAdminToken prints an access token signed with the server's keys,
// which the server accepts like one from OAuth. Without --fhir-user and
// --org it is a platform-operator token: this command is the only way to
// get one, and it needs the database.
func runAdminToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	fhirUser := fs.String("fhir-user", "", "the person: Practitioner/ID, Patient/ID or RelatedPerson/ID")
	org := fs.String("org", "", "the provider acted for: Organization/ID")
	role := fs.String("role", "", "the practitioner's role at --org: PractitionerRole/ID")
	purpose := fs.String("purpose", "", "purpose of use, a v3 PurposeOfUse code (TREAT, ETREAT, PATADMIN, PUBHLTH, HRESCH …)")
	scopes := fs.String("scope", "", `SMART scopes, space-separated, e.g. "system/*.cruds" (required)`)
	ttl := fs.Duration("ttl", time.Hour, fmt.Sprintf("lifetime (at most %s)", token.MaxTTL))
	baseURL := fs.String("base-url", defaultBaseURL, "absolute URL of the FHIR base: the token's audience (the server's --base-url)")
	issuer := fs.String("issuer", "", "the token's issuer, the authorization server's scheme://host (default: the base URL's; the server's --issuer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin token: unexpected argument %q", fs.Arg(0))
	}
	claims, err := adminClaims(*fhirUser, *org, *role, *purpose, *scopes, *ttl)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if *issuer == "" {
		*issuer = origin(*baseURL)
	}
	for _, f := range []struct{ name, v string }{{"--base-url", *baseURL}, {"--issuer", *issuer}} {
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("admin token: %s %q: want an absolute http(s) URL", f.name, f.v)
		}
	}
	raw, err := issueAdminToken(ctx, *db, token.Config{Issuer: *issuer, Audience: *baseURL}, claims, *ttl)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, raw)
	return err
}

// adminClaims checks the flags and turns them into a token's claims; an
// operator token when neither --fhir-user nor --org is given.
func adminClaims(fhirUser, org, role, purpose, scopes string, ttl time.Duration) (token.Claims, error) {
	if scopes == "" {
		return token.Claims{}, errors.New("--scope is required")
	}
	set, err := scope.Parse(scopes)
	if err != nil {
		return token.Claims{}, fmt.Errorf("--scope: %w", err)
	}
	if ttl <= 0 || ttl > token.MaxTTL {
		return token.Claims{}, fmt.Errorf("--ttl %s: want more than 0 and at most %s", ttl, token.MaxTTL)
	}
	c := token.Claims{ClientID: adminClientID, Scope: set, FHIRUser: fhirUser, Org: org, Role: role, Purpose: purpose}
	switch {
	case fhirUser != "":
		c.Subject = fhirUser
	case org != "":
		c.Subject = org
	case role != "":
		return token.Claims{}, errors.New("--role needs --fhir-user and --org")
	default:
		c.Subject, c.Operator = "operator", true
	}
	if err := c.Check(); err != nil {
		return token.Claims{}, err
	}
	return c, nil
}

// issueAdminToken opens the database (bringing its schema up to date, as
// serve does) and signs c with the server's current key.
func issueAdminToken(ctx context.Context, db string, cfg token.Config, c token.Claims, ttl time.Duration) (string, error) {
	st, err := openStore(ctx, db)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return "", fmt.Errorf("migrate %s: %w", db, err)
	}
	svc, err := token.New(st, cfg)
	if err != nil {
		return "", err
	}
	issue := svc.Issue
	if c.Operator {
		issue = svc.IssueOperator
	}
	raw, _, err := issue(ctx, c, ttl)
	return raw, err
}
