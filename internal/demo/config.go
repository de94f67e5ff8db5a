package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ehealthplus/ehealth/internal/registry"
)

// Config says what to generate.
type Config struct {
	Citizens int   // how many citizens
	Seed     int64 // the same seed gives the same output
	// Start and End bound the records' dates; End is also the day ages are
	// counted on. Zero: the five years before DefaultEnd.
	Start, End time.Time
	// RecordsPerCitizen is the average number of resources per citizen,
	// registration included (0: 50).
	RecordsPerCitizen int
}

// DefaultEnd is the end of the records when Config.End is zero: a fixed
// day, so output does not depend on when it is generated.
var DefaultEnd = time.Date(2026, time.July, 1, 0, 0, 0, 0, registry.HongKong)

// Block is how many citizens are generated together: households are made
// within a block, and a block is written before the next is drawn.
const Block = 64

func (c Config) withDefaults() (Config, error) {
	if c.Citizens < 0 {
		return c, errors.New("demo: citizens must not be negative")
	}
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	if c.Start.IsZero() {
		c.Start = c.End.AddDate(-5, 0, 0)
	}
	if !c.Start.Before(c.End) {
		return c, errors.New("demo: start must be before end")
	}
	if c.RecordsPerCitizen <= 0 {
		c.RecordsPerCitizen = 50
	}
	return c, nil
}

// Writer receives the generated resources in order, one at a time.
type Writer interface {
	Write(resourceType string, res map[string]any) error
}

// Types are the resource types generated, in the order a loader should
// read their files (providers, then citizens, then records).
var Types = []string{
	"Organization", "Location", "Practitioner", "PractitionerRole",
	"Patient", "RelatedPerson", "CommunicationRequest", "Consent",
	"Encounter", "Condition", "AllergyIntolerance", "Observation", "DiagnosticReport",
	"MedicationRequest", "MedicationDispense", "Immunization",
}

// DirWriter writes each type to DIR/Type.ndjson, one resource a line.
type DirWriter struct {
	ctx   context.Context
	dir   string
	files map[string]*os.File
	bufs  map[string]*bufio.Writer
}

// NewDirWriter writes into dir, creating it; writes fail once ctx ends.
func NewDirWriter(ctx context.Context, dir string) (*DirWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return &DirWriter{ctx: ctx, dir: dir, files: map[string]*os.File{}, bufs: map[string]*bufio.Writer{}}, nil
}

// Write appends res as one line of its type's file.
func (d *DirWriter) Write(typ string, res map[string]any) error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	b, ok := d.bufs[typ]
	if !ok {
		f, err := os.Create(filepath.Join(d.dir, typ+".ndjson"))
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		d.files[typ], b = f, bufio.NewWriterSize(f, 1<<16)
		d.bufs[typ] = b
	}
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("demo: encode %s: %w", typ, err)
	}
	if _, err := b.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("demo: write %s: %w", typ, err)
	}
	return nil
}

// Close flushes and closes every file.
func (d *DirWriter) Close() error {
	var errs []error
	for typ, b := range d.bufs {
		errs = append(errs, b.Flush(), d.files[typ].Close())
	}
	return errors.Join(errs...)
}

// Files lists the files written, in the order of Types.
func (d *DirWriter) Files() []string {
	var out []string
	for _, t := range Types {
		if _, ok := d.files[t]; ok {
			out = append(out, filepath.Join(d.dir, t+".ndjson"))
		}
	}
	return out
}

// GenerateDir generates cfg's territory into dir as NDJSON files, one per
// resource type (Types), for `ehealth demo generate`; it stops when ctx
// ends. It returns the files written, in load order.
func GenerateDir(ctx context.Context, cfg Config, dir string) ([]string, error) {
	w, err := NewDirWriter(ctx, dir)
	if err != nil {
		return nil, err
	}
	genErr := Generate(cfg, w)
	if err := errors.Join(genErr, w.Close()); err != nil {
		return nil, err
	}
	return w.Files(), nil
}
