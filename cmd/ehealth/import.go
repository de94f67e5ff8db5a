package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ehealthplus/ehealth/internal/bulkload"
)

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ehealth import [flags] PATH…  (FHIR Bundles and NDJSON files or directories, .gz too)")
		fs.PrintDefaults()
	}
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	workers := fs.Int("workers", 0, "files loaded at once (default: 1 on SQLite, 4 on PostgreSQL)")
	chunk := fs.Int("chunk", 500, "resources per transaction for NDJSON and collection Bundles")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("import: no PATH given")
	}
	files, size, err := bulkload.Files(fs.Args())
	if err != nil {
		return err
	}
	svc, st, err := openService(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *workers == 0 {
		*workers = 4
		if strings.HasPrefix(*db, "sqlite:") {
			*workers = 1
		}
	}
	loader := bulkload.New(svc, bulkload.Options{Workers: *workers, Chunk: *chunk})
	start := time.Now()
	stop := showProgress(loader, size, *quiet, stderr, start)
	sum, err := loader.Load(ctx, files)
	stop()
	elapsed := time.Since(start)
	report(stdout, sum, elapsed)
	if err != nil {
		return fmt.Errorf("import interrupted: %w", err)
	}
	return nil
}

// showProgress draws a progress bar over the input bytes with the rate of
// resources written, until the returned stop is called.
func showProgress(l *bulkload.Loader, size int64, quiet bool, w io.Writer, start time.Time) (stop func()) {
	if quiet {
		return func() {}
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				n, b := l.Progress()
				rate := float64(n) / time.Since(start).Seconds()
				bar.Describe(fmt.Sprintf("%d resources (%.0f/s)", n, rate))
				_ = bar.Set64(b)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		_ = bar.Finish()
		fmt.Fprintln(w)
	}
}

var (
	entryNumber = regexp.MustCompile(`entry \d+`)
	indexNumber = regexp.MustCompile(`\[\d+\]`)
)

// reasonKind blurs entry numbers and indexes out of a rejection reason, so
// the same problem in many entries is counted once.
func reasonKind(reason string) string {
	reason = entryNumber.ReplaceAllString(reason, "entry N")
	return indexNumber.ReplaceAllString(reason, "[n]")
}

// report prints the summary: what was loaded, how fast, and what was
// rejected and why, grouped by reason.
func report(w io.Writer, sum bulkload.Summary, elapsed time.Duration) {
	rate := float64(sum.Resources) / elapsed.Seconds()
	fmt.Fprintf(w, "loaded %d resources from %d files in %s (%.0f resources/s); %d rejected\n",
		sum.Resources, sum.Files, elapsed.Round(time.Millisecond), rate, len(sum.Rejected))
	if len(sum.Rejected) == 0 {
		return
	}
	byReason := map[string][]bulkload.Rejection{}
	for _, r := range sum.Rejected {
		reason := reasonKind(r.Reason)
		byReason[reason] = append(byReason[reason], r)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return len(byReason[reasons[i]]) > len(byReason[reasons[j]]) })
	fmt.Fprintln(w, "rejected, by reason:")
	for _, reason := range reasons {
		list := byReason[reason]
		ex := list[0]
		fmt.Fprintf(w, "  %6d  %s\n          e.g. %s %s\n", len(list), reason, ex.File, ex.Where)
	}
}
