package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ehealthplus/ehealth/internal/demo"
)

// runDemo dispatches the demo territory's commands.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: ehealth demo generate [flags]\n\n"+
			"  generate   write a synthetic Hong Kong territory (citizens, families, providers, records, consents) as FHIR NDJSON")
		return flag.ErrHelp
	}
	if args[0] != "generate" {
		return fmt.Errorf("demo: unknown command %q (have: generate)", args[0])
	}
	fs := flag.NewFlagSet("demo generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	citizens := fs.Int("citizens", 1000, "how many citizens")
	seed := fs.Int64("seed", 1, "the seed: the same seed writes the same territory, byte for byte")
	records := fs.Int("records", 0, "records per citizen on average (0: the generator's default, about 50)")
	out := fs.String("out", "", "the directory the NDJSON files are written to, one per resource type (required)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("demo generate: --out is required")
	}
	if *citizens <= 0 {
		return fmt.Errorf("demo generate: --citizens %d: want at least 1", *citizens)
	}
	cfg := demo.Config{Citizens: *citizens, Seed: *seed, RecordsPerCitizen: *records}
	start := time.Now()
	files, err := demo.GenerateDir(ctx, cfg, *out)
	if err != nil {
		return fmt.Errorf("demo generate: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %d citizens in %d files to %s in %s; load them with: ehealth import --db URL %s\n",
		*citizens, len(files), *out, time.Since(start).Round(time.Millisecond), *out)
	return nil
}
