package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ehealthplus/ehealth/internal/bulkdata"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// runExport is `ehealth export`: the platform's data as FHIR Bulk Data
// NDJSON files in a directory, streamed page by page, as the operator.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ehealth export [flags] --out DIR  (NDJSON files Type-n.ndjson, as FHIR Bulk Data $export writes them)")
		fs.PrintDefaults()
	}
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	out := fs.String("out", "", "directory to write the files into (created; must be empty)")
	level := fs.String("level", "system", "system (everything) or patient (every patient's record)")
	group := fs.String("group", "", "export the records of this Group's members (its id)")
	types := fs.String("type", "", "resource types to export, comma-separated (_type; default all)")
	since := fs.String("since", "", "only resources changed after this instant (_since)")
	var filters stringList
	fs.Var(&filters, "type-filter", "a _typeFilter query, Type?params (repeatable)")
	perFile := fs.Int("per-file", bulkdata.DefaultPerFile, "resources per file at most")
	quiet := fs.Bool("quiet", false, "no progress")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("export: --out is required")
	}
	q := url.Values{}
	if *types != "" {
		q.Set("_type", *types)
	}
	if *since != "" {
		q.Set("_since", *since)
	}
	for _, f := range filters {
		q.Add("_typeFilter", strings.ReplaceAll(f, ",", "%2C"))
	}
	lvl := bulkdata.Level(*level)
	if *group != "" {
		lvl = bulkdata.Group
	} else if lvl != bulkdata.System && lvl != bulkdata.Patient {
		return fmt.Errorf("export: --level is system or patient, not %q", *level)
	}
	req, err := bulkdata.ParseRequest(lvl, *group, q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := emptyDir(*out); err != nil {
		return err
	}
	svc, st, err := openService(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	var written atomic.Int64
	var current atomic.Value
	current.Store("")
	stop := exportProgress(&written, &current, *quiet, stderr, start)
	operator := resource.Caller{Writer: "operator", Who: resource.Who{Operator: true}}
	res, err := bulkdata.Run(ctx, svc, operator, req, &bulkdata.DirSink{Dir: *out}, bulkdata.Options{PerFile: *perFile,
		Progress: func(typ string, n int64) { written.Store(n); current.Store(typ) }})
	stop()
	var total int64
	for _, f := range res.Files {
		fmt.Fprintf(stdout, "%-32s %9d\n", f.Name(), f.Count)
		total += int64(f.Count)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "%d resources in %d files in %s (%.0f resources/s)\n", total, len(res.Files), elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if err != nil {
		return fmt.Errorf("export interrupted: %w", err)
	}
	return nil
}

// emptyDir creates dir, or checks it holds nothing, so an export never
// mixes with older files.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("export: %s is not empty", dir)
	}
	return nil
}

// exportProgress prints, every half second until stop, how many resources
// have been written and of which type.
func exportProgress(written *atomic.Int64, current *atomic.Value, quiet bool, w io.Writer, start time.Time) (stop func()) {
	if quiet {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case <-t.C:
				n := written.Load()
				fmt.Fprintf(w, "\r%d resources written (%s) — %.0f/s   ", n, current.Load(), float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
