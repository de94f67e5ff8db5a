package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// isLoginCommand reports whether args (after "admin professional") are one
// of the sign-in credential commands.
func isLoginCommand(args []string) bool {
	return len(args) > 0 && (args[0] == "password" || args[0] == "totp")
}

// runAdminLogin sets professionals' sign-in credentials:
//
//	ehealth admin professional password --username NAME [--practitioner Practitioner/ID] [--password-file FILE]
//	ehealth admin professional totp --username NAME [--issuer NAME]
func runAdminLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "password":
		return runAdminPassword(ctx, args[1:], stdout, stderr)
	case "totp":
		return runAdminTOTP(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("admin professional: unknown command %q", args[0])
}

// runAdminPassword sets a professional's password, creating their sign-in
// account on first use. The password is read from --password-file or the
// first line of standard input, never from the command line (where ps and
// shell history would show it).
func runAdminPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin professional password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	username := fs.String("username", "", "the sign-in name (required): 3 to 64 of a-z 0-9 . _ @ -")
	practitioner := fs.String("practitioner", "", "the professional, Practitioner/ID (required for a new account)")
	file := fs.String("password-file", "", "read the password from this file (default: the first line of standard input)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *username == "" {
		return errors.New("admin professional password: --username is required, and nothing else")
	}
	password, err := readPassword(*file)
	if err != nil {
		return fmt.Errorf("admin professional password: %w", err)
	}
	return withKeys(ctx, *db, func(st store.Store) error {
		if *practitioner != "" {
			if err := checkPractitioner(ctx, st, *practitioner); err != nil {
				return fmt.Errorf("admin professional password: %w", err)
			}
		}
		if err := login.NewAccounts(st, login.DefaultPasswordParams).SetPassword(ctx, *username, *practitioner, password); err != nil {
			return fmt.Errorf("admin professional password: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "password set for %s\n", strings.ToLower(*username))
		return err
	})
}

// runAdminTOTP gives a professional a new TOTP secret and prints its
// otpauth:// URI (show it as a QR code to their authenticator app).
func runAdminTOTP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin professional totp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	username := fs.String("username", "", "the sign-in name (required; set its password first)")
	issuer := fs.String("issuer", "eHealth+", "the name authenticator apps show")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *username == "" {
		return errors.New("admin professional totp: --username is required, and nothing else")
	}
	return withKeys(ctx, *db, func(st store.Store) error {
		uri, err := login.NewAccounts(st, login.DefaultPasswordParams).EnrolTOTP(ctx, *username, *issuer)
		if err != nil {
			return fmt.Errorf("admin professional totp: %w", err)
		}
		_, err = fmt.Fprintln(stdout, uri)
		return err
	})
}

// readPassword reads a password from file, or the first line of standard
// input.
func readPassword(file string) (string, error) {
	var r io.Reader = os.Stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// checkPractitioner refuses a reference to no active Practitioner.
func checkPractitioner(ctx context.Context, st store.Store, ref string) error {
	id, ok := strings.CutPrefix(ref, "Practitioner/")
	if !ok {
		return fmt.Errorf("--practitioner %q: want Practitioner/ID", ref)
	}
	v, err := st.Read(ctx, "Practitioner", id)
	if outcome.Is(err, outcome.NotFound) || err == nil && v.Deleted {
		return fmt.Errorf("%s does not exist (add it with ehealth admin professional add)", ref)
	}
	return err
}

// withKeys opens the database (bringing its schema up to date, as serve
// does) and runs fn on its store.
func withKeys(ctx context.Context, db string, fn func(store.Store) error) error {
	st, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db, err)
	}
	return fn(st)
}
