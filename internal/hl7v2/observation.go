package hl7v2

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/ehealthplus/ehealth/internal/terminology/ucum"
)

// observation maps one OBX to an Observation; finishReport gives it its
// identifier.
func (c *converter) observation(seg *Segment) error {
	code := c.codeable(seg.Field(3))
	if code == nil {
		return errAt(seg.At(3), CodeRequiredMissing, "OBX-3 observation identifier is required")
	}
	st := seg.Get(11, 1)
	status, ok := observationStatus[st]
	if !ok {
		return c.tableError(seg, 11, "OBX-11 result status", st, "0085")
	}
	obs := map[string]any{
		"resourceType": "Observation",
		"status":       status,
		"category": []any{map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}}}},
		"code":    code,
		"subject": map[string]any{"reference": c.patientRef},
	}
	if err := c.value(seg, obs); err != nil {
		return err
	}
	if rr := c.referenceRange(seg.Get(7, 1), seg.Field(6)); rr != nil {
		obs["referenceRange"] = []any{rr}
	}
	if in := interpretation(seg.Values(8)); in != nil {
		obs["interpretation"] = in
	}
	for _, k := range []string{"effectiveDateTime", "issued"} { // the report's; OBX-14 may change the first
		if v, ok := c.report.dr[k]; ok {
			obs[k] = v
		}
	}
	if t := seg.Get(14, 1); t != "" {
		v, err := dateTime(t, c.opts.Location, false)
		if err != nil {
			return errAt(seg.At(14), CodeDataType, "OBX-14 date/time of the observation: %s", err)
		}
		obs["effectiveDateTime"] = v
	}
	c.report.obs = append(c.report.obs, &observation{res: obs, setID: seg.Get(1, 1), specimen: len(c.report.specimens)})
	c.lastObs = obs
	return nil
}

// value maps OBX-5 by its value type OBX-2.
func (c *converter) value(seg *Segment, obs map[string]any) error {
	typ := seg.Get(2, 1)
	reps := seg.Values(5)
	if len(reps) == 0 {
		return nil
	}
	at := seg.At(5)
	if typ == "" {
		return errAt(seg.At(2), CodeRequiredMissing, "OBX-2 value type is required when OBX-5 has a value")
	}
	switch typ {
	case "ST", "TX", "FT":
		var lines []string
		for _, r := range reps {
			lines = append(lines, r.String())
		}
		obs["valueString"] = strings.Join(lines, "\n")
		return nil
	}
	if len(reps) > 1 {
		return errAt(at, CodeDataType, "OBX-5 has %d repetitions; value type %s takes one", len(reps), typ)
	}
	v := reps[0]
	switch typ {
	case "NM":
		q, err := c.quantity(v.String(), seg.Field(6))
		if err != nil {
			return errAt(at, CodeDataType, "OBX-5 (NM): %s", err)
		}
		obs["valueQuantity"] = q
	case "SN":
		return c.structuredNumeric(seg, v, obs)
	case "CE", "CWE", "CNE":
		cc := c.codeable(v)
		if cc == nil {
			return errAt(at, CodeDataType, "OBX-5 (%s) has neither a code nor a text", typ)
		}
		obs["valueCodeableConcept"] = cc
	case "DT", "TS", "DTM":
		s := v.Component(1)
		t, err := dateTime(s, c.opts.Location, false)
		if err != nil {
			return errAt(at, CodeDataType, "OBX-5 (%s): %s", typ, err)
		}
		obs["valueDateTime"] = t
	default:
		return errAt(seg.At(2), CodeTableValue, "OBX-2 value type %q is not supported here (NM, SN, ST, TX, FT, CE, CWE, CNE, DT, TS, DTM are)", typ)
	}
	return nil
}

var decimalRE = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?$`)

// decimal normalises an HL7 NM ("+007.50", ".5") to a JSON number, keeping
// the digits sent after the point (FHIR keeps precision: 7.50 is not 7.5).
func decimal(s string) (json.Number, error) {
	s = strings.TrimSpace(s)
	m := decimalRE.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[3] == "" {
		return "", fmt.Errorf("%q is not a number", truncate(s, 40))
	}
	sign, whole, frac := m[1], m[2], m[3]
	if sign == "+" {
		sign = ""
	}
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0" // JSON numbers have no leading zeros
	}
	if frac != "" {
		return json.Number(sign + whole + "." + frac), nil
	}
	return json.Number(sign + whole), nil
}

// quantity is a Quantity with the units of OBX-6: a valid UCUM code (sent
// with coding system UCUM or none) gets system and code; other units are
// kept as text only.
func (c *converter) quantity(num string, units Value) (map[string]any, error) {
	n, err := decimal(num)
	if err != nil {
		return nil, err
	}
	q := map[string]any{"value": n}
	code, text, sys := units.Component(1), units.Component(2), units.Component(3)
	if code == "" {
		if text != "" {
			q["unit"] = text
		}
		return q, nil
	}
	q["unit"] = firstNonEmpty(text, code)
	if (sys == "" || strings.EqualFold(sys, "UCUM")) && ucum.Validate(code) == nil {
		q["system"], q["code"] = SystemUCUM, code
	}
	return q, nil
}

// structuredNumeric maps SN (comparator ^ num1 ^ separator/suffix ^ num2):
// a single number, with a comparator or not, is a Quantity; "-" a Range;
// ":" or "/" a Ratio; a "+" suffix ("2+") a string.
func (c *converter) structuredNumeric(seg *Segment, v Value, obs map[string]any) error {
	at := seg.At(5)
	cmp, n1, sep, n2 := v.Component(1), v.Component(2), v.Component(3), v.Component(4)
	units := seg.Field(6)
	bad := func(err error) error { return errAt(at, CodeDataType, "OBX-5 (SN): %s", err) }
	switch {
	case sep == "" && n2 == "":
		q, err := c.quantity(n1, units)
		if err != nil {
			return bad(err)
		}
		switch cmp {
		case "", "=":
		case "<", ">", "<=", ">=":
			q["comparator"] = cmp
		default:
			return errAt(at, CodeDataType, "OBX-5 (SN): comparator %q is not one of = < > <= >=", cmp)
		}
		obs["valueQuantity"] = q
	case sep == "+" && n2 == "":
		obs["valueString"] = n1 + "+"
	case cmp != "" && cmp != "=":
		return errAt(at, CodeDataType, "OBX-5 (SN): a comparator with a range or ratio cannot be mapped")
	case sep == "-":
		lo, err := c.quantity(n1, units)
		if err != nil {
			return bad(err)
		}
		hi, err := c.quantity(n2, units)
		if err != nil {
			return bad(err)
		}
		obs["valueRange"] = map[string]any{"low": lo, "high": hi}
	case sep == ":" || sep == "/":
		num, err := decimal(n1)
		if err != nil {
			return bad(err)
		}
		den, err := decimal(n2)
		if err != nil {
			return bad(err)
		}
		obs["valueRatio"] = map[string]any{"numerator": map[string]any{"value": num}, "denominator": map[string]any{"value": den}}
	default:
		return errAt(at, CodeDataType, "OBX-5 (SN): separator %q is not one of - : / +", sep)
	}
	return nil
}

var rangeRE = regexp.MustCompile(`^\s*([+-]?[0-9]*\.?[0-9]+)\s*[-_]\s*([+-]?[0-9]*\.?[0-9]+)\s*$`)
var boundRE = regexp.MustCompile(`^\s*(<=|>=|<|>)\s*([+-]?[0-9]*\.?[0-9]+)\s*$`)

// referenceRange maps OBX-7: "low-high", "<high", ">low", also followed
// by OBX-6's units ("<10 ug/dl"); any other text is kept as the range's
// text.
func (c *converter) referenceRange(s string, units Value) map[string]any {
	if s == "" {
		return nil
	}
	q := func(n string) map[string]any {
		v, err := c.quantity(n, units)
		if err != nil {
			return nil
		}
		return v
	}
	bare := withoutUnits(s, units)
	if m := rangeRE.FindStringSubmatch(bare); m != nil {
		if lo, hi := q(m[1]), q(m[2]); lo != nil && hi != nil {
			return map[string]any{"low": lo, "high": hi}
		}
	}
	if m := boundRE.FindStringSubmatch(bare); m != nil {
		if b := q(m[2]); b != nil {
			if m[1][0] == '<' {
				return map[string]any{"high": b}
			}
			return map[string]any{"low": b}
		}
	}
	return map[string]any{"text": s}
}

// withoutUnits is s without a trailing OBX-6 unit code or text, which
// some senders repeat in OBX-7.
func withoutUnits(s string, units Value) string {
	s = strings.TrimSpace(s)
	for _, u := range []string{units.Component(1), units.Component(2)} {
		if u != "" && len(s) > len(u) && strings.EqualFold(s[len(s)-len(u):], u) {
			return strings.TrimSpace(s[:len(s)-len(u)])
		}
	}
	return s
}

// interpretations are the codes of HL7 table 0078 that
// v3-ObservationInterpretation has with the same meaning.
var interpretations = map[string]string{
	"L": "Low", "H": "High", "LL": "Critical low", "HH": "Critical high", "N": "Normal",
	"A": "Abnormal", "AA": "Critical abnormal", "<": "Off scale low", ">": "Off scale high",
	"S": "Susceptible", "R": "Resistant", "I": "Intermediate", "MS": "moderately susceptible",
	"VS": "very susceptible", "B": "Better", "W": "Worse", "U": "Significant change up",
	"D": "Significant change down", "POS": "Positive", "NEG": "Negative", "IND": "Indeterminate",
	"DET": "Detected", "ND": "Not detected", "AC": "Anti-complementary substances present",
	"RR": "Reactive", "NR": "Non-reactive", "WR": "Weakly reactive", "TOX": "Cytotoxic substance present",
	"QCF": "Quality control failure", "E": "Equivocal", "EX": "outside threshold",
	"HU": "Significantly high", "LU": "Significantly low", "NS": "non-susceptible", "SYN-R": "Synergy - resistant",
	"SYN-S": "Synergy - susceptible", "SDD": "Susceptible-dose dependent", "CAR": "Carrier",
}

// interpretation maps OBX-8 (repeating): known codes to
// v3-ObservationInterpretation, others kept in v2-0078.
func interpretation(vals []Value) []any {
	var out []any
	for _, v := range vals {
		code := v.Component(1)
		if code == "" {
			continue
		}
		coding := map[string]any{"system": SystemInterpretation, "code": code}
		if d, ok := interpretations[code]; ok {
			coding["display"] = d
		} else {
			coding["system"] = SystemV2Prefix + "0078"
		}
		out = append(out, map[string]any{"coding": []any{coding}})
	}
	return out
}

// codeable maps CE/CWE/CNE to a CodeableConcept: the identifier triplet
// and the alternate one become codings, CWE.9 (original text) or the first
// text becomes text. nil when the value is empty.
func (c *converter) codeable(v Value) map[string]any {
	var codings []any
	for _, k := range []int{1, 4} {
		code, display, sys := v.Component(k), v.Component(k+1), v.Component(k+2)
		if code == "" {
			continue
		}
		coding := map[string]any{"code": code}
		if s := c.codingSystem(sys); s != "" {
			coding["system"] = s
		}
		if display != "" {
			coding["display"] = display
		}
		codings = append(codings, coding)
	}
	text := firstNonEmpty(v.Component(9), v.Component(2), v.Component(5))
	if codings == nil && text == "" {
		return nil
	}
	cc := map[string]any{}
	if codings != nil {
		cc["coding"] = codings
	}
	if text != "" {
		cc["text"] = text
	}
	return cc
}
