package csvdeposit

import (
	"bytes"
	"testing"
)

// FuzzParse feeds any bytes to every template, keeping valid rows or not:
// Parse never panics, the report adds up, a Bundle appears only when the
// rules allow one, and every record in it is valid R4 with its source
// identifier. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range Specs() {
		tpl, _ := Template(s.Name)
		f.Add(s.Name, tpl, false)
		f.Add(s.Name, bytes.ReplaceAll(tpl, []byte(","), []byte(";")), true)
	}
	v := validator(f)
	f.Fuzz(func(t *testing.T, template string, data []byte, keepValid bool) {
		o := opts()
		o.KeepValid = keepValid
		o.MaxRows = 50
		res, err := Parse(template, bytes.NewReader(data), o)
		if err != nil {
			return
		}
		r := res.Report
		if r.Rows != r.Accepted+r.Rejected {
			t.Fatalf("rows %d != accepted %d + rejected %d", r.Rows, r.Accepted, r.Rejected)
		}
		if len(r.Problems)+r.Unlisted == 0 && r.Rejected > 0 {
			t.Fatalf("%d rows rejected without a problem", r.Rejected)
		}
		if res.Bundle == nil {
			return
		}
		if r.Rejected > 0 && !keepValid {
			t.Fatal("a Bundle from a file with errors without KeepValid")
		}
		n := 0
		for _, e := range res.Bundle["entry"].([]any) {
			rec := e.(map[string]any)["resource"].(map[string]any)
			if err := v.Validate(rec); err != nil {
				t.Fatalf("%s is not valid R4: %v", js(t, rec), err)
			}
			if rec["resourceType"] != "Patient" {
				n++
			}
		}
		if n != r.Accepted {
			t.Fatalf("%d records for %d accepted rows", n, r.Accepted)
		}
	})
}
