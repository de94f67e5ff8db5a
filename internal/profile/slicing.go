package profile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// slices splits the values of a sliced element n into its slices
// (https://hl7.org/fhir/R4/profiling.html#slicing): each value goes to the
// first slice whose discriminators it matches; the slices' cardinalities
// are checked, a value in no slice is an error when the slicing is closed
// (or, for openAtEnd, not at the end), slices out of order are an error
// when it is ordered; each value is then checked against its slice.
func (c *checker) slices(n *node, kids fhirpath.Collection, parent string) {
	sl := n.slicing
	in := make([]int, len(kids)) // slice index per value, -1 for none
	counts := make([]int, len(sl.slices))
	for i, kid := range kids {
		in[i] = -1
		for j := range sl.slices {
			if c.inSlice(sl, j, kid) {
				in[i] = j
				counts[j]++
				break
			}
		}
	}
	at := parent + "." + n.name
	for j, s := range sl.slices {
		c.cardinality(s, counts[j], at, s.id)
		if s.mustSup && counts[j] == 0 && s.min == 0 {
			c.add(outcome.SeverityInformation, "informational", at, "mustSupport slice "+s.slice+" is absent", s.id+" mustSupport")
		}
	}
	last, unmatched := -1, false
	for i, kid := range kids {
		path := childPath(parent, n, i, kid)
		j := in[i]
		switch {
		case j < 0 && sl.rules == "closed":
			c.add(outcome.SeverityError, "structure", path, "the value is in none of the slices of "+n.name+" and the slicing is closed", n.id+" slicing")
		case j < 0:
			unmatched = true
		case sl.rules == "openAtEnd" && unmatched:
			c.add(outcome.SeverityError, "structure", path, "values in no slice must come after the slices (openAtEnd)", n.id+" slicing")
		}
		if j < 0 {
			continue
		}
		if sl.ordered && j < last {
			c.add(outcome.SeverityError, "structure", path, "slice "+sl.slices[j].slice+" is out of order (the slicing is ordered)", n.id+" slicing")
		}
		last = max(last, j)
		c.value(sl.slices[j], kid, path, kid.TypeName())
	}
}

// inSlice reports whether kid matches every discriminator of slice j.
func (c *checker) inSlice(sl *slicing, j int, kid fhirpath.Value) bool {
	for d, dc := range sl.discs {
		var vals fhirpath.Collection
		if dc.nav == nil {
			vals = fhirpath.Collection{kid}
		} else {
			var err error
			if vals, err = dc.nav.Evaluate(c.ctx, kid, c.opts); err != nil {
				return false
			}
		}
		if !c.discMatch(dc.typ, sl.at[j][d], vals) {
			return false
		}
	}
	return true
}

// discMatch reports whether the values at a discriminator's path are what
// the slice says there. A value discriminator whose element has no fixed
// value, pattern or required binding is decided by the element's
// constraints: a slice discriminator cannot say "starts with", a FHIRPath
// constraint can (the source-system identifier's system).
func (c *checker) discMatch(typ string, dv discValue, vals fhirpath.Collection) bool {
	switch typ {
	case "exists":
		return (dv.exists > 0) == (len(vals) > 0)
	case "type":
		return len(vals) > 0 && slices.Contains(dv.types, vals[0].TypeName())
	case "value", "pattern":
		if len(vals) == 0 {
			return false
		}
		for _, v := range vals {
			if !c.discValueMatch(dv, v) {
				return false
			}
		}
		return true
	}
	return false // profile: not supported; nothing is put in such a slice
}

func (c *checker) discValueMatch(dv discValue, v fhirpath.Value) bool {
	raw := v.JSON()
	switch {
	case dv.fixed != nil:
		return equalJSON(dv.fixed, raw)
	case dv.pattern != nil:
		return matchPattern(dv.pattern, raw)
	case dv.valueSet != "" && c.set.codes != nil:
		m, _ := c.member(dv.valueSet, raw, v.TypeName())
		return m
	case len(dv.rules) > 0:
		for _, k := range dv.rules {
			if ok, known, err := k.expr.EvalBool(c.ctx, v, c.opts); err != nil || !known || !ok {
				return false
			}
		}
		return true
	}
	return false
}

// equalJSON is fixed[x] equality: the same JSON, numbers compared as
// written.
func equalJSON(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, x := range w {
			if !equalJSON(x, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equalJSON(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return scalar(want) == scalar(got)
}

// matchPattern is pattern[x] matching: every property of the pattern is
// in the value with the same value, every item of a pattern array matched
// by some item of the value's.
func matchPattern(pattern, got any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, x := range p {
			if !matchPattern(x, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, x := range p {
			if !slices.ContainsFunc(g, func(y any) bool { return matchPattern(x, y) }) {
				return false
			}
		}
		return true
	}
	return scalar(pattern) == scalar(got)
}

// scalar renders a JSON scalar for comparison; nil for anything else.
func scalar(v any) any {
	switch v := v.(type) {
	case string, bool:
		return v
	case json.Number:
		return "n:" + string(v)
	case float64:
		return "n:" + fmt.Sprint(v)
	case int:
		return "n:" + fmt.Sprint(v)
	}
	return new(int) // equal to nothing
}

// compact renders JSON for a message.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.ReplaceAll(string(b), `"`, "'")
}
