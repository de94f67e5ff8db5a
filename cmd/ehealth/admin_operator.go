package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/store"
)

// runAdminOperator manages the platform operators' console accounts:
// ehealth admin operator add|password|totp|disable|enable.
func runAdminOperator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = `usage: ehealth admin operator <add|password|totp|disable|enable> --username NAME [flags]

  add       create an operator's account: --username NAME --name "FULL NAME" [--password-file FILE]
  password  set an operator's password: --username NAME [--password-file FILE]
  totp      enrol a new TOTP secret and print its otpauth:// URI: --username NAME [--issuer NAME]
  disable   stop an operator signing in (their console sessions end on their next request)
  enable    let a disabled operator sign in again

Passwords are read from --password-file or the first line of standard input, never from the
command line. An operator signs in to the console at /admin with password and TOTP code.`
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	cmd := args[0]
	fs := flag.NewFlagSet("admin operator "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	username := fs.String("username", "", "the sign-in name (required): 3 to 64 of a-z 0-9 . _ @ -")
	var name, file, issuer *string
	switch cmd {
	case "add":
		name = fs.String("name", "", "the operator's name, as the console shows it (required)")
		file = fs.String("password-file", "", "read the password from this file (default: the first line of standard input)")
	case "password":
		file = fs.String("password-file", "", "read the password from this file (default: the first line of standard input)")
	case "totp":
		issuer = fs.String("issuer", "eHealth+ operator", "the name authenticator apps show")
	case "disable", "enable":
	default:
		return fmt.Errorf("admin operator: unknown command %q (have: add, password, totp, disable, enable)", cmd)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || *username == "" {
		return fmt.Errorf("admin operator %s: --username is required, and no arguments", cmd)
	}
	if cmd == "add" && strings.TrimSpace(*name) == "" {
		return errors.New("admin operator add: --name is required")
	}
	var password string
	if file != nil {
		var err error
		if password, err = readPassword(*file); err != nil {
			return fmt.Errorf("admin operator %s: %w", cmd, err)
		}
	}
	return withKeys(ctx, *db, func(st store.Store) error {
		ops := login.NewOperators(st, login.DefaultPasswordParams)
		var err error
		done := ""
		switch cmd {
		case "add":
			err, done = ops.Add(ctx, *username, *name, password), "operator %s added; enrol their TOTP with ehealth admin operator totp\n"
		case "password":
			err, done = ops.SetPassword(ctx, *username, password), "password set for %s\n"
		case "totp":
			var uri string
			if uri, err = ops.EnrolTOTP(ctx, *username, *issuer); err == nil {
				_, err = fmt.Fprintln(stdout, uri)
			}
		case "disable", "enable":
			err, done = ops.SetDisabled(ctx, *username, cmd == "disable"), "operator %s "+cmd+"d\n"
		}
		if err != nil {
			return fmt.Errorf("admin operator %s: %w", cmd, err)
		}
		if done != "" {
			_, err = fmt.Fprintf(stdout, done, strings.ToLower(strings.TrimSpace(*username)))
		}
		return err
	})
}
