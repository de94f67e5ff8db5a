package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
)

// runAdminClient manages the OAuth clients: ehealth admin client
// add|list|disable.
func runAdminClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = `usage: ehealth admin client <add|list|disable> [flags]

  add       register a client (see ehealth admin client add -h)
  list      print the registered clients: id, kind, org, state, scopes
  disable   stop a client: ehealth admin client disable --db URL --id ID`
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "add":
		return runAdminClientAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return runAdminClientList(ctx, args[1:], stdout, stderr)
	case "disable":
		return runAdminClientDisable(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("admin client: unknown command %q (have: add, list, disable)", args[0])
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runAdminClientAdd registers a client.
func runAdminClientAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin client add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	var c oauth.Client
	var redirects, origins listFlag
	fs.StringVar(&c.ID, "id", "", "the client_id (required)")
	fs.StringVar(&c.Name, "name", "", "the name people see (the patient picker)")
	kind := fs.String("kind", "", "public (a SMART app with PKCE only), confidential (an app with keys) or system (a provider's backend service) (required)")
	fs.StringVar(&c.Org, "org", "", "system clients: the provider they act for, Organization/ID")
	fs.StringVar(&c.Scope, "scope", "", `the scopes the client may be granted, e.g. "openid fhirUser launch/patient patient/*.rs" or "system/*.cruds user/*.rs" (required)`)
	fs.Var(&redirects, "redirect-uri", "public and confidential clients: an exact redirect URI (repeat for more)")
	fs.Var(&origins, "origin", "a browser origin allowed by CORS, scheme://host[:port] (repeat for more)")
	jwksFile := fs.String("jwks", "", "confidential and system clients: a file holding the public JWKS (RS384 or ES384 keys); - reads standard input")
	fs.BoolVar(&c.Introspect, "introspect", false, "the client may introspect any token (a resource server)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin client add: unexpected argument %q", fs.Arg(0))
	}
	if c.ID == "" || *kind == "" || c.Scope == "" {
		return errors.New("admin client add: --id, --kind and --scope are required")
	}
	c.Kind, c.RedirectURIs, c.Origins = oauth.Kind(*kind), redirects, origins
	if *jwksFile != "" {
		var err error
		if c.JWKS, err = readJWKS(*jwksFile); err != nil {
			return fmt.Errorf("admin client add: --jwks: %w", err)
		}
	}
	return withRegistry(ctx, *db, func(g *oauth.Registry) error {
		added, err := g.Register(ctx, c)
		if err != nil {
			return fmt.Errorf("admin client add: %w", err)
		}
		_, err = fmt.Fprintln(stdout, added.String())
		return err
	})
}

func readJWKS(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	}
	return os.ReadFile(name)
}

// runAdminClientList prints the clients, one a line.
func runAdminClientList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin client list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withRegistry(ctx, *db, func(g *oauth.Registry) error {
		clients, err := g.List(ctx)
		if err != nil {
			return fmt.Errorf("admin client list: %w", err)
		}
		for _, c := range clients {
			if _, err := fmt.Fprintln(stdout, c.String()); err != nil {
				return err
			}
		}
		return nil
	})
}

// runAdminClientDisable disables a client.
func runAdminClientDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin client disable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	id := fs.String("id", "", "the client_id (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("admin client disable: --id is required")
	}
	return withRegistry(ctx, *db, func(g *oauth.Registry) error {
		if err := g.Disable(ctx, *id); err != nil {
			return fmt.Errorf("admin client disable: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "%s disabled\n", *id)
		return err
	})
}

// withRegistry opens the database (bringing its schema up to date, as
// serve does) and runs fn on its client registry.
func withRegistry(ctx context.Context, db string, fn func(*oauth.Registry) error) error {
	st, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db, err)
	}
	return fn(oauth.NewRegistry(st))
}
