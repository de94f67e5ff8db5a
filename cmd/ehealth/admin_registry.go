package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// adminCaller is who the admin commands write as: the operator, recorded
// as ehealth-admin on every version.
var adminCaller = resource.Caller{Writer: "ehealth-admin"}

// runAdminProvider manages healthcare providers: ehealth admin provider
// add|suspend|reinstate.
func runAdminProvider(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = `usage: ehealth admin provider <add|suspend|reinstate> [flags]

  add        register a provider: --name NAME --kind hospital|clinic|lab|pharmacy|care-home|cm-clinic|dental
  suspend    stop a provider from acting (from its next request): --org Organization/ID
  reinstate  let a suspended provider act again: --org Organization/ID`
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "add":
		return runAdminProviderAdd(ctx, args[1:], stdout, stderr)
	case "suspend", "reinstate":
		return runAdminProviderActive(ctx, args[0], args[1:], stdout, stderr)
	}
	return fmt.Errorf("admin provider: unknown command %q (have: add, suspend, reinstate)", args[0])
}

func runAdminProviderAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin provider add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	name := fs.String("name", "", "the provider's name (required)")
	kind := fs.String("kind", "", "hospital, clinic, lab, pharmacy, care-home, cm-clinic or dental (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin provider add: unexpected argument %q", fs.Arg(0))
	}
	if *name == "" || *kind == "" {
		return errors.New("admin provider add: --name and --kind are required")
	}
	return withProviders(ctx, *db, func(r *registry.Registry) error {
		id, err := r.AddProvider(ctx, adminCaller, *name, *kind)
		if err != nil {
			return fmt.Errorf("admin provider add: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "Organization/%s\n", id)
		return err
	})
}

func runAdminProviderActive(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin provider "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	org := fs.String("org", "", "the provider, Organization/ID (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *org == "" || fs.NArg() > 0 {
		return fmt.Errorf("admin provider %s: --org Organization/ID is required, and nothing else", cmd)
	}
	return withProviders(ctx, *db, func(r *registry.Registry) error {
		if err := r.SetActive(ctx, adminCaller, *org, cmd == "reinstate"); err != nil {
			return fmt.Errorf("admin provider %s: %w", cmd, err)
		}
		done := map[string]string{"suspend": "suspended", "reinstate": "reinstated"}[cmd]
		_, err := fmt.Fprintf(stdout, "%s %s\n", *org, done)
		return err
	})
}

// runAdminProfessional registers professionals: ehealth admin professional add.
func runAdminProfessional(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: ehealth admin professional add --name NAME --council CODE --registration NUMBER --org Organization/ID [--profession PROFESSION] [--role ROLE]…")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("admin professional add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	var p registry.Professional
	var roles listFlag
	fs.StringVar(&p.Name, "name", "", "the professional's name (required)")
	fs.StringVar(&p.Council, "council", "", "the council or board they are registered with: mchk, dchk, cmchk, ppbhk, nchk, mwchk, mltb, rb, ptb, otb, ob, cchk, ars, dhygchk (required)")
	fs.StringVar(&p.Registration, "registration", "", "their number on its register (required)")
	fs.StringVar(&p.Org, "org", "", "the provider they work for, Organization/ID (required)")
	fs.StringVar(&p.Profession, "profession", "", "their profession, recorded on the role, whose view of a record follows it: "+strings.Join(slices.Sorted(maps.Keys(registry.Professions)), ", "))
	fs.Var(&roles, "role", "healthcare-professional (the default) or user-administrator (repeat for both)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin professional add: unexpected argument %q", fs.Arg(0))
	}
	p.Roles = roles
	return withProviders(ctx, *db, func(r *registry.Registry) error {
		prac, role, err := r.AddProfessional(ctx, adminCaller, p)
		if err != nil {
			return fmt.Errorf("admin professional add: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "Practitioner/%s\tPractitionerRole/%s\n", prac, role)
		return err
	})
}

// withProviders opens the database and the platform over it (bringing the
// schema up to date, as serve does) and runs fn on its registry.
func withProviders(ctx context.Context, db string, fn func(*registry.Registry) error) error {
	p, err := openPlatform(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer closer{p}.Close()
	return fn(p.Registry)
}
