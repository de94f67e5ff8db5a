package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/accreditation"
	"github.com/ehealthplus/ehealth/internal/platform"
)

// checkerFor gives the checker that judges a platform's deposits against
// the eHealth+ profiles.
type checkerFor func(p *platform.Platform) (accreditation.Checker, error)

// profileChecker is the platform's eHealth+ profiles.
func profileChecker(p *platform.Platform) (accreditation.Checker, error) {
	if p.Profiles == nil {
		return nil, errors.New("the eHealth+ profiles are not loaded by this build's platform")
	}
	return p.Profiles, nil
}

// runAdminAccreditation assesses a provider's connectivity for a period,
// records the assessment (a MeasureReport, kept as its history) and
// prints it as a table: ehealth admin accreditation --org ID [--from
// DATE] [--to DATE].
func runAdminAccreditation(ctx context.Context, args []string, stdout, stderr io.Writer, checker checkerFor) error {
	fs := flag.NewFlagSet("admin accreditation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	org := fs.String("org", "", "the provider, Organization/ID or ID (required)")
	from := fs.String("from", "", "the period's first day, YYYY-MM-DD or a dateTime (default: a year before --to)")
	to := fs.String("to", "", "the period's last day, YYYY-MM-DD or a dateTime (default: today)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *org == "" || fs.NArg() > 0 {
		return errors.New("admin accreditation: --org is required, and nothing else")
	}
	ref := *org
	if !strings.HasPrefix(ref, "Organization/") {
		ref = "Organization/" + ref
	}
	period, err := accreditation.ParsePeriod(*from, *to, time.Now())
	if err != nil {
		return fmt.Errorf("admin accreditation: %w", err)
	}
	p, err := openPlatform(ctx, *db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer closer{p}.Close()
	if _, err := p.Service.Read(ctx, adminCaller, "Organization", strings.TrimPrefix(ref, "Organization/")); err != nil {
		return fmt.Errorf("admin accreditation: %w", err)
	}
	check, err := checker(p)
	if err != nil {
		return fmt.Errorf("admin accreditation: %w", err)
	}
	s := accreditation.New(p.Service, check)
	a, err := s.Assess(ctx, ref, period)
	if err != nil {
		return fmt.Errorf("admin accreditation: %w", err)
	}
	mr, err := s.Record(ctx, a)
	if err != nil {
		return fmt.Errorf("admin accreditation: %w", err)
	}
	if err := a.WriteTable(stdout); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "\nrecorded as MeasureReport/%v\n", mr["id"])
	return err
}
