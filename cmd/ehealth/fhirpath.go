package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/fhirpath"
)

// runFHIRPath evaluates a FHIRPath expression against a resource file (or
// no input) and prints the result collection as one JSON array.
func runFHIRPath(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fhirpath", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("r", "", "FHIR JSON resource to evaluate against (- for stdin; default: no input)")
	typed := fs.Bool("typed", false, `print each item as {"type": T, "value": V}`)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ehealth fhirpath [-r RESOURCE.json] [--typed] EXPRESSION")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("fhirpath: expected one expression")
	}
	expr, err := fhirpath.Compile(fs.Arg(0))
	if err != nil {
		return err
	}
	var input map[string]any
	if *file != "" {
		if input, err = readResource(*file); err != nil {
			return err
		}
	}
	result, err := expr.Evaluate(ctx, input, nil)
	if err != nil {
		return err
	}
	items := make([]any, len(result))
	for i, v := range result {
		if *typed {
			items[i] = map[string]any{"type": v.TypeName(), "value": v.JSON()}
		} else {
			items[i] = v.JSON()
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(items)
}

// readResource reads and parses a FHIR JSON resource from a file or stdin ("-").
func readResource(name string) (map[string]any, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("fhirpath: %w", err)
	}
	res, err := fhir.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("fhirpath: %s: %w", name, err)
	}
	return res, nil
}
