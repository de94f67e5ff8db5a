package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/store"
)

// runAudit dispatches the audit journal's commands.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ehealth audit verify|keygen [flags]\n\n"+
			"  verify   check the audit journal's hash chain and signed checkpoints (see ehealth audit verify -h)\n"+
			"  keygen   create the Ed25519 key that signs checkpoints")
		return flag.ErrHelp
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], stdout, stderr)
	case "keygen":
		return runAuditKeygen(args[1:], stdout, stderr)
	}
	return fmt.Errorf("audit: unknown command %q (have: verify, keygen)", args[0])
}

// runAuditVerify walks the journal and prints OK, or each problem with
// its seq and fails (exit status 1).
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	keyFile := fs.String("key", "", "the checkpoint key's public half (FILE.pub from ehealth audit keygen) (required)")
	checkpoints := fs.String("checkpoint", "", "an exported checkpoint file (JSON lines) kept outside the database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit verify: unexpected argument %q", fs.Arg(0))
	}
	if *keyFile == "" {
		return errors.New("audit verify: --key is required")
	}
	key, err := audit.LoadPublicKey(*keyFile)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	var exported []store.AuditCheckpoint
	if *checkpoints != "" {
		if exported, err = audit.LoadCheckpoints(*checkpoints); err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
	}
	r, err := verifyJournal(ctx, *db, key, exported)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	return printReport(stdout, r, *db)
}

func verifyJournal(ctx context.Context, db string, key ed25519.PublicKey, exported []store.AuditCheckpoint) (audit.Report, error) {
	st, err := openStore(ctx, db)
	if err != nil {
		return audit.Report{}, err
	}
	defer st.Close()
	return audit.Verify(ctx, st, key, exported)
}

// printReport prints each problem, or OK with what was checked.
func printReport(w io.Writer, r audit.Report, db string) error {
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, p); err != nil {
			return err
		}
	}
	if !r.OK() {
		return fmt.Errorf("audit verify: %d problem(s) in the audit journal of %s", len(r.Problems), db)
	}
	_, err := fmt.Fprintf(w, "OK: %d entries (last seq %d); %d checkpoints in the database, %d exported; signed up to seq %d\n",
		r.Entries, r.Last, r.Checkpoints, r.Exported, r.Covered)
	if err == nil && r.Covered < r.Last {
		_, err = fmt.Fprintf(w, "note: seq %d-%d are not covered by a checkpoint yet (only by the hash chain)\n", r.Covered+1, r.Last)
	}
	return err
}

// runAuditKeygen writes a new checkpoint key pair.
func runAuditKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the private key file to create (the public key goes to FILE.pub) (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit keygen: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("audit keygen: --out is required")
	}
	pub, err := audit.GenerateKey(*out)
	if err != nil {
		return fmt.Errorf("audit keygen: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (private: for the server only, never in the database) and %s.pub (public: for verifiers); key id %s\n",
		*out, *out, audit.KeyID(pub))
	return err
}
