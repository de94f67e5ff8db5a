// Command ehealth is the eHealth+ platform in one binary: the FHIR server
// (serve), schema migrations (migrate) and the bulk loader (import).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand of ehealth.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the FHIR server", runServe},
		{"migrate", "bring the database schema up to date", runMigrate},
		{"import", "load FHIR Bundles and NDJSON files into the database", runImport},
		{"export", "write the data as FHIR Bulk Data NDJSON files (progress shown)", runExport},
		{"fhirpath", "evaluate a FHIRPath expression against a resource", runFHIRPath},
		{"bench", "measure performance: bench search (the search mix), bench platform (a demo territory under the fixed workload over HTTP)", runBench},
		{"terminology", "load code systems, value sets and concept maps (FHIR JSON or CSV)", runTerminology},
		{"demo", "write a synthetic Hong Kong territory as FHIR NDJSON (demo generate)", runDemo},
		{"audit", "verify the audit journal (audit verify), make its checkpoint key (audit keygen)", runAudit},
		{"admin", "operator commands (admin token: print a signed access token)", runAdmin},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "ehealth", version)
			return err
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ehealth:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ehealth <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set with an EHEALTH_* environment variable, e.g. --db → EHEALTH_DB.")
}

// parseFlags parses args into fs, taking a flag's value from its
// EHEALTH_<NAME> environment variable when the command line does not set it.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "EHEALTH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	return fs.Parse(args)
}
