package accreditation

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes a as a plain-text table for the operator (ehealth
// admin accreditation): the provider, period, level and marks, then one
// row per record type with its count and valid and coded shares; a type
// marked * does not count toward the level (no record of it is valid).
func (a Assessment) WriteTable(w io.Writer) error {
	marks := "none"
	if len(a.Marks) > 0 {
		ms := make([]string, len(a.Marks))
		for i, m := range a.Marks {
			ms[i] = string(m)
		}
		marks = strings.Join(ms, ", ")
	}
	if _, err := fmt.Fprintf(w, "%s  %s to %s\nlevel: %s (record types counted: %d), marks: %s\n\n",
		a.Org, a.Period.Start, a.Period.End, a.Level, len(a.Counted()), marks); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "record type\tdeposited\tvalid\tcoded")
	for _, t := range a.Types {
		name := string(t.Type)
		if !t.Counts() {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\n", name, t.Count, 100*t.ValidShare(), 100*t.CodedShare())
	}
	if len(a.Types) == 0 {
		fmt.Fprintln(tw, "(nothing deposited)")
	}
	return tw.Flush()
}
