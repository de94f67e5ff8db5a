package hl7v2

import (
	"strconv"
	"strings"
)

// reportStatus maps OBR-25 (HL7 table 0123) to DiagnosticReport.status.
var reportStatus = map[string]string{
	"O": "registered", "I": "registered", "S": "registered",
	"A": "partial", "R": "partial",
	"P": "preliminary",
	"C": "corrected",
	"F": "final",
	"X": "cancelled",
}

// observationStatus maps OBX-11 (HL7 table 0085) to Observation.status.
var observationStatus = map[string]string{
	"F": "final", "U": "final",
	"C": "corrected",
	"A": "amended",
	"P": "preliminary", "R": "preliminary", "S": "preliminary",
	"I": "registered",
	"X": "cancelled", "N": "cancelled",
	"D": "entered-in-error", "W": "entered-in-error",
}

// startReport maps OBR to a DiagnosticReport, finished by finishReport
// once its OBX are read.
func (c *converter) startReport(seg *Segment) error {
	if c.patientRef == "" {
		return errAt(seg.Loc, CodeSegmentSequence, "OBR before any PID: the report has no patient")
	}
	filler := seg.Field(3)
	if filler.Component(1) == "" {
		return errAt(seg.At(3), CodeRequiredMissing, "OBR-3 filler order number is required: it identifies the report when it is sent again")
	}
	r := &report{filler: filler.Component(1)}
	r.system = c.authoritySystem(filler.Component(2), filler.Component(3), filler.Component(4), "filler-order")
	code := c.codeable(seg.Field(4))
	if code == nil {
		return errAt(seg.At(4), CodeRequiredMissing, "OBR-4 universal service identifier is required")
	}
	st := seg.Get(25, 1)
	status, ok := reportStatus[st]
	if !ok {
		return c.tableError(seg, 25, "OBR-25 result status", st, "0123")
	}
	category := firstNonEmpty(seg.Get(24, 1), "LAB")
	dr := map[string]any{
		"resourceType": "DiagnosticReport",
		"identifier":   []any{map[string]any{"system": r.system, "value": r.filler}},
		"status":       status,
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": SystemV2Prefix + "0074", "code": category}}}},
		"code":         code,
		"subject":      map[string]any{"reference": c.patientRef},
	}
	if t := seg.Get(7, 1); t != "" {
		v, err := dateTime(t, c.opts.Location, false)
		if err != nil {
			return errAt(seg.At(7), CodeDataType, "OBR-7 observation date/time: %s", err)
		}
		dr["effectiveDateTime"] = v
	}
	if t := seg.Get(22, 1); t != "" {
		v, err := dateTime(t, c.opts.Location, true)
		if err != nil {
			return errAt(seg.At(22), CodeDataType, "OBR-22 results reported date/time: %s", err)
		}
		dr["issued"] = v
	}
	r.dr = dr
	c.report, c.lastObs = r, nil
	return nil
}

func (c *converter) tableError(seg *Segment, field int, what, value, table string) error {
	if value == "" {
		return errAt(seg.At(field), CodeRequiredMissing, "%s is required", what)
	}
	return errAt(seg.At(field), CodeTableValue, "%s %q is not in HL7 table %s", what, value, table)
}

// finishReport gives the report's Observations their identifiers and adds
// them and the report to the Bundle.
func (c *converter) finishReport() {
	r := c.report
	if r == nil {
		return
	}
	c.report, c.lastObs = nil, nil
	if specimens := c.finishSpecimens(r); specimens != nil {
		r.dr["specimen"] = specimens
	}
	bySetID := setIDsUsable(r.obs)
	var results []any
	for i, o := range r.obs {
		n := strconv.Itoa(i + 1)
		if bySetID {
			n = o.setID
		}
		value := r.filler + "-" + n
		o.res["identifier"] = []any{map[string]any{"system": r.system, "value": value}}
		ref := fullURL("Observation", r.system, value)
		results = append(results, map[string]any{"reference": ref})
		c.entries = append(c.entries, conditionalPut(ref, o.res, "Observation", r.system, value))
	}
	if results != nil {
		r.dr["result"] = results
	}
	if len(r.notes) > 0 {
		r.dr["conclusion"] = strings.Join(r.notes, "\n")
	}
	ref := fullURL("DiagnosticReport", r.system, r.filler)
	c.entries = append(c.entries, conditionalPut(ref, r.dr, "DiagnosticReport", r.system, r.filler))
	c.reports++
}

// setIDsUsable reports whether every OBX of the report has a distinct
// numeric set id (OBX-1); otherwise Observations are numbered by position.
func setIDsUsable(obs []*observation) bool {
	seen := map[string]bool{}
	for _, o := range obs {
		if !isDigits(o.setID) || seen[o.setID] {
			return false
		}
		seen[o.setID] = true
	}
	return true
}

func conditionalPut(fullURL string, res map[string]any, typ, system, value string) map[string]any {
	return map[string]any{
		"fullUrl":  fullURL,
		"resource": res,
		"request":  map[string]any{"method": "PUT", "url": typ + "?" + identifierQuery(system, value)},
	}
}
