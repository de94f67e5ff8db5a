package hl7v2

import (
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/identity"
)

// Options tune the conversion. The zero value is usable.
type Options struct {
	// LocalBase prefixes the systems made up for identifiers and codes the
	// sender defines locally; DefaultLocalBase when empty.
	LocalBase string
	// Authorities maps assigning-authority namespaces (the first
	// subcomponent of CX.4 or EI.2) to identifier systems, before the
	// built-in rules (see MAPPING.md).
	Authorities map[string]string
	// CodingSystems maps coding-system names (CWE.3) to FHIR systems,
	// before the built-in table.
	CodingSystems map[string]string
	// Location is the time zone of date/times sent without an offset;
	// Hong Kong time (UTC+8) when nil.
	Location *time.Location
}

// hongKong is UTC+8 without daylight saving, as Hong Kong keeps it; a fixed
// zone needs no tzdata on the host.
var hongKong = time.FixedZone("HKT", 8*3600)

// converter holds the state of one conversion.
type converter struct {
	opts    Options
	sender  string
	entries []any
	reports int

	patients map[string]bool // fullUrls of the Patients in the Bundle

	patientRef string
	report     *report
	lastObs    map[string]any // the Observation an NTE attaches to
}

// report is an OBR being converted with its OBX.
type report struct {
	dr     map[string]any
	system string // identifier system of the filler order number
	filler string
	obs    []*observation
	notes  []string
	// specimens are its SPM segments' Specimens, in order.
	specimens []map[string]any
}

type observation struct {
	res   map[string]any
	setID string
	// specimen is the 1-based position of the SPM it follows; 0 before any.
	specimen int
}

// ConvertORU converts an ORU^R01 message to a FHIR R4 transaction Bundle
// (generic JSON): a conditional create of each Patient (PID), and a
// conditional update of one DiagnosticReport per OBR and one Observation
// per OBX, keyed on their source-system identifiers so that sending the
// same message again updates instead of duplicating. MAPPING.md has the
// mapping. Errors are *Error values with the position at fault.
func ConvertORU(m *Message, opts Options) (map[string]any, error) {
	if opts.LocalBase == "" {
		opts.LocalBase = DefaultLocalBase
	}
	if opts.Location == nil {
		opts.Location = hongKong
	}
	if m == nil || len(m.Segments) == 0 {
		return nil, rejectAt(Location{}, CodeSegmentSequence, "empty message: no MSH segment")
	}
	c := &converter{opts: opts, patients: map[string]bool{}}
	if err := c.header(m.Segments[0]); err != nil {
		return nil, err
	}
	for _, seg := range m.Segments[1:] {
		if err := c.segment(seg); err != nil {
			return nil, err
		}
	}
	c.finishReport()
	if c.patientRef == "" {
		return nil, errAt(Location{Segment: "PID"}, CodeSegmentSequence, "no PID segment: the results have no patient")
	}
	if c.reports == 0 {
		return nil, errAt(Location{Segment: "OBR"}, CodeSegmentSequence, "no OBR segment: an ORU^R01 needs at least one report")
	}
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": c.entries}, nil
}

// header checks MSH: an ORU^R01 of version 2.x with a control id.
func (c *converter) header(msh *Segment) error {
	typ := msh.Field(9)
	if t := typ.Component(1); t != "ORU" {
		return rejectAt(loc(msh, 9, 1), CodeUnsupportedType, "message type %q is not supported: only ORU^R01 (lab results)", t)
	}
	if ev := typ.Component(2); ev != "R01" {
		return rejectAt(loc(msh, 9, 2), CodeUnsupportedEvent, "event %q is not supported: only ORU^R01", ev)
	}
	if msh.Get(10, 1) == "" {
		return rejectAt(msh.At(10), CodeRequiredMissing, "MSH-10 message control id is required")
	}
	if v := msh.Get(12, 1); !strings.HasPrefix(v, "2.") {
		return rejectAt(msh.At(12), CodeUnsupportedVersion, "version %q is not supported: 2.x only", v)
	}
	fac := msh.Field(4)
	c.sender = firstNonEmpty(fac.Component(1), fac.Component(2), msh.Get(3, 1), "unknown")
	return nil
}

func loc(s *Segment, field, comp int) Location {
	l := s.At(field)
	l.Component = comp
	return l
}

func (c *converter) segment(seg *Segment) error {
	switch seg.Name {
	case "PID":
		c.finishReport()
		return c.patient(seg)
	case "OBR":
		c.finishReport()
		return c.startReport(seg)
	case "OBX":
		if c.report == nil {
			return errAt(seg.Loc, CodeSegmentSequence, "OBX before any OBR: patient-level observations are not accepted, send results under an OBR")
		}
		return c.observation(seg)
	case "SPM":
		if c.report == nil {
			return errAt(seg.Loc, CodeSegmentSequence, "SPM before any OBR: a specimen belongs to a report")
		}
		return c.specimen(seg)
	case "NTE":
		c.note(seg)
	}
	return nil // ORC, PV1, SFT, TQ1 …: not mapped (see MAPPING.md)
}

// note attaches NTE-3 to the Observation or the report before it.
func (c *converter) note(seg *Segment) {
	var lines []string
	for _, v := range seg.Values(3) {
		lines = append(lines, v.String())
	}
	text := strings.Join(lines, "\n")
	if text == "" {
		return
	}
	switch {
	case c.lastObs != nil:
		notes, _ := c.lastObs["note"].([]any)
		c.lastObs["note"] = append(notes, map[string]any{"text": text})
	case c.report != nil:
		c.report.notes = append(c.report.notes, text)
	}
}

// patient maps PID to a Patient created unless one with its identifier
// exists (lab results never overwrite the registered demographics).
func (c *converter) patient(seg *Segment) error {
	var ids []any
	var key map[string]any
	for i, v := range seg.Values(3) {
		id, hkid, err := c.patientIdentifier(seg, i+1, v)
		if err != nil {
			return err
		}
		if id == nil {
			continue
		}
		ids = append(ids, id)
		if key == nil || hkid {
			key = id
		}
	}
	if key == nil {
		return errAt(seg.At(3), CodeRequiredMissing, "PID-3 patient identifier is required")
	}
	p := map[string]any{"resourceType": "Patient", "identifier": ids}
	if name := humanName(seg.Field(5)); name != nil {
		p["name"] = []any{name}
	}
	if g, ok := genders[seg.Get(8, 1)]; ok {
		p["gender"] = g
	}
	if b := seg.Get(7, 1); b != "" {
		d, err := date(b)
		if err != nil {
			return errAt(seg.At(7), CodeDataType, "PID-7 birth date: %s", err)
		}
		p["birthDate"] = d
	}
	sys, val := key["system"].(string), key["value"].(string)
	c.patientRef = fullURL("Patient", sys, val)
	if c.patients[c.patientRef] {
		return nil // the same patient again, in a later PATIENT_RESULT group
	}
	c.patients[c.patientRef] = true
	c.entries = append(c.entries, map[string]any{
		"fullUrl":  c.patientRef,
		"resource": p,
		"request":  map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": identifierQuery(sys, val)},
	})
	return nil
}

var genders = map[string]string{"M": "male", "F": "female", "O": "other", "A": "other", "U": "unknown", "N": "unknown"}

// patientIdentifier maps one PID-3 repetition (CX). The bool reports an
// HKID, which is preferred as the key of the conditional create.
func (c *converter) patientIdentifier(seg *Segment, rep int, v Value) (map[string]any, bool, error) {
	value, typ := v.Component(1), v.Component(5)
	ns, uid, uidType := v.Sub(4, 1), v.Sub(4, 2), v.Sub(4, 3)
	if value == "" {
		return nil, false, nil
	}
	if isHKID(typ, ns) {
		doc, err := identity.Parse(identity.HKID, value, "")
		if err != nil {
			l := loc(seg, 3, 1)
			l.Repetition = rep
			return nil, false, errAt(l, CodeDataType, "PID-3 repetition %d is marked HKID but is not a valid HKID: %v", rep, err)
		}
		return doc.Identifier(), true, nil
	}
	id := map[string]any{"system": c.authoritySystem(ns, uid, uidType, "patient"), "value": value}
	if typ != "" {
		id["type"] = map[string]any{"coding": []any{map[string]any{"system": SystemV2Prefix + "0203", "code": typ}}}
	}
	return id, false, nil
}

// isHKID reports whether a CX is a Hong Kong Identity Card number: by its
// identifier type (CX.5 "HKID") or its assigning authority (the
// Immigration Department: "HKID", "IMMD", "HKIMMD").
func isHKID(typ, authority string) bool {
	switch strings.ToUpper(authority) {
	case "HKID", "IMMD", "HKIMMD":
		return true
	}
	return strings.EqualFold(typ, "HKID")
}

func humanName(v Value) map[string]any {
	n := map[string]any{}
	if f := v.Sub(1, 1); f != "" {
		n["family"] = f
	}
	var given []any
	for _, g := range []string{v.Component(2), v.Component(3)} {
		if g != "" {
			given = append(given, g)
		}
	}
	if given != nil {
		n["given"] = given
	}
	if s := v.Component(4); s != "" {
		n["suffix"] = []any{s}
	}
	if p := v.Component(5); p != "" {
		n["prefix"] = []any{p}
	}
	if len(n) == 0 {
		return nil
	}
	return n
}

// identifierQuery is the search for one identifier, system|value.
// Search escaping (https://hl7.org/fhir/R4/search.html#escaping) keeps a
// "|" or "," in a value from splitting it.
func identifierQuery(system, value string) string {
	return url.Values{"identifier": {searchEscape.Replace(system) + "|" + searchEscape.Replace(value)}}.Encode()
}

var searchEscape = strings.NewReplacer(`\`, `\\`, "|", `\|`, ",", `\,`, "$", `\$`)

// fullURL names an entry by its type and identifier, so the same message
// always makes the same Bundle.
func fullURL(typ, system, value string) string {
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(typ+"|"+system+"|"+value)).String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
