// Command gen builds the embedded terminology tables (../tables.gob.gz)
// from the FHIR R4 definitions; see terminology.FromDefinitions for what
// goes in.
//
// Usage (see the go:generate line in ../doc.go):
//
//	go run ./gen -defs ../../../shared/fhir/definitions -out tables.gob.gz
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/ehealthplus/ehealth/internal/terminology"
)

func main() {
	defs := flag.String("defs", "../../../shared/fhir/definitions", "directory of the FHIR definitions (*.json.gz)")
	out := flag.String("out", "tables.gob.gz", "file to write")
	verbose := flag.Bool("v", false, "print every warning")
	flag.Parse()
	if err := run(*defs, *out, *verbose); err != nil {
		log.Fatal(err)
	}
}

func run(defs, out string, verbose bool) error {
	t, warnings, err := terminology.FromDefinitions(defs)
	if err != nil {
		return err
	}
	for i, w := range warnings {
		if verbose || i < 5 {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
	}
	fmt.Fprintf(os.Stderr, "%d value sets, %d warnings (-v lists them)\n", len(t.ValueSetURLs()), len(warnings))
	var buf bytes.Buffer
	if err := t.Encode(&buf); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
