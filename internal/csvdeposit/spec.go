package csvdeposit

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// The template names, as in the upload's ?template= and the source
// identifier's system.
const (
	Immunisations = "immunisations"
	Allergies     = "allergies"
	VitalSigns    = "vital-signs"
	Medications   = "medications"
)

// Column is one column of a template.
type Column struct {
	// Name is the header cell, lower case (headers are matched without
	// regard to case or surrounding spaces).
	Name     string
	Required bool
	// Format says what a cell holds, e.g. "YYYY-MM-DD".
	Format string
	// Example is the cell of the template's example row.
	Example string
}

// Spec is a template: its columns and how a row becomes a FHIR record.
type Spec struct {
	Name string
	// Title names the template for people, in English and Chinese.
	Title, TitleZH string
	// ResourceTypes are the FHIR resources its rows become (besides the
	// Patients).
	ResourceTypes []string
	// Columns are the patient's columns followed by the record's.
	Columns []Column

	build func(r *row) map[string]any
}

// column returns the column named name.
func (s *Spec) column(name string) (Column, bool) {
	i := slices.IndexFunc(s.Columns, func(c Column) bool { return c.Name == name })
	if i < 0 {
		return Column{}, false
	}
	return s.Columns[i], true
}

// specs are the templates, by name.
var specs = map[string]*Spec{}

func register(s *Spec) *Spec {
	s.Columns = append(slices.Clone(patientColumns), s.Columns...)
	specs[s.Name] = s
	return s
}

// Specs returns the templates, in the order of their names.
func Specs() []Spec {
	var out []Spec
	for _, n := range []string{Allergies, Immunisations, Medications, VitalSigns} {
		out = append(out, *specs[n])
	}
	return out
}

// Lookup returns the template called name.
func Lookup(name string) (Spec, error) {
	s, ok := specs[name]
	if !ok {
		return Spec{}, outcome.At(outcome.Invalid, "template", "no CSV template %q (have: %s, %s, %s, %s)", name, Allergies, Immunisations, Medications, VitalSigns)
	}
	return *s, nil
}

// utf8BOM starts the templates so that spreadsheet programs read them as
// UTF-8 (Chinese names); Parse ignores it.
const utf8BOM = "\ufeff"

// Template returns the blank template called name as CSV: a UTF-8
// byte-order mark, the header row and one example row.
func Template(name string) ([]byte, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	header := make([]string, len(s.Columns))
	example := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		header[i], example[i] = c.Name, c.Example
	}
	if err := w.WriteAll([][]string{header, example}); err != nil {
		return nil, fmt.Errorf("csvdeposit: write template %s: %w", name, err)
	}
	return b.Bytes(), nil
}
