package synthea

import (
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Options say who deposits the converted records.
type Options struct {
	// Organization is the depositing provider's Organization id
	// (required): its namespace holds the source identifiers, and
	// references to Synthea's organizations point to it.
	Organization string
	// Practitioner and Location are the provider's registered Practitioner
	// and Location ids Synthea's practitioners and locations map to; empty,
	// such references keep only their display.
	Practitioner, Location string
	// SourceSystem names the source system in the provider's namespace
	// ("synthea" when empty).
	SourceSystem string
	// Today decides who is a minor at registration (time.Now when zero).
	Today time.Time
}

// Converted is one Synthea patient, ready to register and deposit.
type Converted struct {
	// SyntheaID is the Synthea patient's id.
	SyntheaID string
	// HKID is the identity document derived from it, e.g. "A123456(3)".
	HKID string
	// Registration is the Parameters of POST Patient/$register.
	Registration map[string]any
	// Deposit is the transaction Bundle the provider deposits.
	Deposit map[string]any
}

// ErrNoPatient is Convert's error for a Bundle without a Patient:
// Synthea's provider files (hospitalInformation, practitionerInformation)
// hold no patient's record.
var ErrNoPatient = outcome.New(outcome.Unprocessable, "the Bundle has no Patient entry: not a Synthea patient's record")

// registryTypes are the Synthea entries that belong to the providers'
// registry, not to a patient's record.
var registryTypes = map[string]bool{"Organization": true, "Location": true, "Practitioner": true, "PractitionerRole": true}

// Convert converts one Synthea patient Bundle (transaction or batch). The
// Bundle is not changed.
func Convert(bundle map[string]any, opts Options) (Converted, error) {
	if opts.Organization == "" {
		return Converted{}, outcome.New(outcome.Invalid, "synthea: Options.Organization names the depositing provider")
	}
	if opts.SourceSystem == "" {
		opts.SourceSystem = "synthea"
	}
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	entries, _ := bundle["entry"].([]any)
	c := &converter{opts: opts, system: deposit.Namespace(opts.Organization) + opts.SourceSystem, dropped: map[string]string{}}
	var patient map[string]any
	patientAt := -1
	for i, e := range entries {
		m, _ := e.(map[string]any)
		res, _ := m["resource"].(map[string]any)
		typ, _ := res["resourceType"].(string)
		full, _ := m["fullUrl"].(string)
		switch {
		case typ == "Patient" && patient == nil:
			patient, patientAt = res, i
		case registryTypes[typ] || typ == "Provenance" || (typ != "Patient" && !fhir.IsInPatientCompartment(typ)):
			if full != "" {
				c.dropped[full] = typ
			}
			if id, _ := res["id"].(string); id != "" {
				c.dropped[typ+"/"+id] = typ
			}
		}
	}
	if patient == nil {
		return Converted{}, ErrNoPatient
	}
	out, err := c.citizen(patient)
	if err != nil {
		return Converted{}, err
	}
	var list []any
	for i, e := range entries {
		m, _ := e.(map[string]any)
		full, _ := m["fullUrl"].(string)
		res, _ := m["resource"].(map[string]any)
		typ, _ := res["resourceType"].(string)
		if _, drop := c.dropped[full]; drop || res == nil || (typ == "Patient" && i != patientAt) {
			continue
		}
		converted := c.record(res, full)
		if typ == "Patient" {
			converted = c.patient(res)
		}
		entry := map[string]any{"resource": converted, "request": map[string]any{"method": "POST", "url": typ}}
		if full != "" {
			entry["fullUrl"] = full
		}
		list = append(list, entry)
	}
	out.Deposit = map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": list}
	return out, nil
}

// converter holds one conversion's state.
type converter struct {
	opts    Options
	system  string            // the source identifiers' system
	dropped map[string]string // fullUrl or Type/id → type of the entries left out
	names   []any             // the citizen's names, as registered
	hkid    map[string]any    // the HKID Identifier
}

// record converts a record entry's resource: a copy with its source
// identifier, its references to the providers' registry mapped, no
// declared profiles.
func (c *converter) record(res map[string]any, fullURL string) map[string]any {
	out := deepCopy(res).(map[string]any)
	dropProfiles(out)
	c.mapReferences(out)
	id, _ := res["id"].(string)
	if id == "" {
		id = strings.TrimPrefix(fullURL, "urn:uuid:")
	}
	ids, _ := out["identifier"].([]any)
	out["identifier"] = append(ids, map[string]any{"system": c.system, "value": id})
	return out
}

// patient converts the Patient: the HKID and the provider's record number
// as its identifiers, the names as registered.
func (c *converter) patient(res map[string]any) map[string]any {
	out := deepCopy(res).(map[string]any)
	dropProfiles(out)
	c.mapReferences(out)
	id, _ := res["id"].(string)
	out["identifier"] = []any{c.hkid, map[string]any{
		"use":    "usual",
		"type":   map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}},
		"system": c.system + "/patient", "value": id,
	}}
	out["name"] = deepCopy(c.names)
	return out
}

// mapReferences points references to Synthea's registry entries at the
// provider's registered ones, or keeps only their display.
func (c *converter) mapReferences(node any) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["reference"].(string); ok {
			c.mapReference(n, ref)
		}
		for k, v := range n {
			if k != "reference" {
				c.mapReferences(v)
			}
		}
	case []any:
		for _, v := range n {
			c.mapReferences(v)
		}
	}
}

func (c *converter) mapReference(n map[string]any, ref string) {
	typ, ok := c.dropped[ref]
	if !ok {
		t, _, cond := strings.Cut(ref, "?")
		if !cond || !registryTypes[t] {
			return
		}
		typ = t
	}
	target := ""
	switch typ {
	case "Organization":
		target = c.opts.Organization
	case "Practitioner":
		target = c.opts.Practitioner
	case "Location":
		target = c.opts.Location
	}
	if target != "" {
		n["reference"] = typ + "/" + target
		return
	}
	delete(n, "reference")
	if _, ok := n["display"]; !ok {
		n["display"] = "a " + strings.ToLower(typ) + " of the source system"
	}
}

// dropProfiles removes meta.profile (US Core): the deposit declares the
// profiles the record is checked against.
func dropProfiles(res map[string]any) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		return
	}
	delete(meta, "profile")
	if len(meta) == 0 {
		delete(res, "meta")
	}
}

// deepCopy copies generic JSON.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
