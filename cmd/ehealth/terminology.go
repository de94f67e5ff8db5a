package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

func runTerminology(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "load" {
		fmt.Fprintln(stderr, "usage: ehealth terminology load [flags] FILE…")
		return fmt.Errorf("terminology: unknown subcommand (want load)")
	}
	return runTerminologyLoad(ctx, args[1:], stdout, stderr)
}

// runTerminologyLoad reads CodeSystem, ValueSet and ConceptMap resources
// (FHIR JSON, Bundles, NDJSON, or the simple CSV code system form), checks
// the terminology service accepts them, and writes them to the database
// through the resource service, so the server loads them at start.
func runTerminologyLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("terminology load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ehealth terminology load [flags] FILE…  (FHIR JSON, Bundles, NDJSON or CSV: code,display,display-zh,parent; .gz too)")
		fs.PrintDefaults()
	}
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://…")
	check := fs.Bool("check", false, "only read and check the files; write nothing")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("terminology load: no FILE given")
	}
	start := time.Now()
	resources, err := readTerminologyFiles(fs.Args(), *quiet, stderr)
	if err != nil {
		return err
	}
	base, err := terminology.Load()
	if err != nil {
		return err
	}
	svc := terminology.NewService(base)
	if err := svc.PutAll(resources); err != nil {
		return fmt.Errorf("terminology load: %w", err)
	}
	summarise(stdout, svc.Tables(), resources)
	if *check {
		fmt.Fprintf(stdout, "checked in %s; nothing written (--check)\n", time.Since(start).Round(time.Millisecond))
		return nil
	}
	written, err := storeTerminology(ctx, *db, resources)
	fmt.Fprintf(stdout, "wrote %d of %d resources to %s in %s\n", written, len(resources), *db, time.Since(start).Round(time.Millisecond))
	return err
}

// readTerminologyFiles reads every file with a progress bar over the bytes.
func readTerminologyFiles(paths []string, quiet bool, stderr io.Writer) ([]map[string]any, error) {
	var total int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("terminology load: %w", err)
		}
		total += fi.Size()
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30), progressbar.OptionSetDescription("reading"))
	if quiet {
		bar = progressbar.DefaultSilent(total)
	}
	var out []map[string]any
	for _, p := range paths {
		res, err := terminology.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
		fi, _ := os.Stat(p)
		_ = bar.Add64(fi.Size())
	}
	_ = bar.Finish()
	if !quiet {
		fmt.Fprintln(stderr)
	}
	return out, nil
}

// summarise prints what was read: resources by type and concepts.
func summarise(w io.Writer, t *terminology.Tables, resources []map[string]any) {
	counts := map[string]int{}
	concepts := 0
	for _, r := range resources {
		typ, _ := r["resourceType"].(string)
		counts[typ]++
		if typ == "CodeSystem" {
			if cs, ok := t.CodeSystem(canonical(r)); ok {
				concepts += len(cs.Concepts)
			}
		}
	}
	fmt.Fprintf(w, "read %d code systems (%d concepts), %d value sets, %d concept maps\n",
		counts["CodeSystem"], concepts, counts["ValueSet"], counts["ConceptMap"])
}

func canonical(r map[string]any) string {
	url, _ := r["url"].(string)
	if v, _ := r["version"].(string); v != "" {
		return url + "|" + v
	}
	return url
}

// storeTerminology writes the resources through the resource service (so
// they are validated and versioned like any write), each with its id or
// one made from its url; it returns how many were written.
func storeTerminology(ctx context.Context, db string, resources []map[string]any) (int, error) {
	svc, st, err := openService(ctx, db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	caller := resource.Caller{Writer: "terminology-load"}
	for i, r := range resources {
		typ, _ := r["resourceType"].(string)
		id := resourceID(r)
		r["id"] = id
		if _, _, err := svc.Update(ctx, caller, typ, id, r, 0); err != nil {
			return i, fmt.Errorf("terminology load: %s/%s (%s): %w", typ, id, canonical(r), err)
		}
	}
	return len(resources), nil
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// resourceID is the resource's id, or one made from the end of its url and
// its version: http://example.org/CodeSystem/hk-drugs|2 → hk-drugs-2.
func resourceID(r map[string]any) string {
	if id, _ := r["id"].(string); id != "" {
		return id
	}
	url, _ := r["url"].(string)
	url = strings.TrimRight(url, "/")
	id := url[strings.LastIndexAny(url, "/:")+1:]
	if v, _ := r["version"].(string); v != "" {
		id += "-" + v
	}
	id = strings.Trim(idUnsafe.ReplaceAllString(id, "-"), "-")
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	if id == "" {
		id = "terminology"
	}
	return id
}
