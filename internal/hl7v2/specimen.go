package hl7v2

import "strconv"

// specimen maps SPM to a Specimen of the current report: SPM-4 type
// (required), SPM-2 the specimen's identifiers, SPM-17 collection time or
// period, SPM-18 received time. finishReport keys it and points the report
// and its observations at it.
func (c *converter) specimen(seg *Segment) error {
	typ := c.codeable(seg.Field(4))
	if typ == nil {
		return errAt(seg.At(4), CodeRequiredMissing, "SPM-4 specimen type is required")
	}
	sp := map[string]any{"resourceType": "Specimen", "type": typ, "subject": map[string]any{"reference": c.patientRef}}
	if id := seg.Field(2); id.Sub(2, 1) != "" {
		// EIP: the filler's assigned identifier (component 2, an EI in
		// subcomponents) is the accession number.
		sp["accessionIdentifier"] = map[string]any{"system": c.authoritySystem(id.Sub(2, 2), id.Sub(2, 3), id.Sub(2, 4), "specimen"), "value": id.Sub(2, 1)}
	}
	collection := map[string]any{}
	start, end := seg.Field(17).Sub(1, 1), seg.Field(17).Sub(2, 1)
	if start != "" {
		s, err := dateTime(start, c.opts.Location, false)
		if err != nil {
			return errAt(loc(seg, 17, 1), CodeDataType, "SPM-17 specimen collection date/time: %s", err)
		}
		collection["collectedDateTime"] = s
		if end != "" {
			e, err := dateTime(end, c.opts.Location, false)
			if err != nil {
				return errAt(loc(seg, 17, 2), CodeDataType, "SPM-17 specimen collection end: %s", err)
			}
			delete(collection, "collectedDateTime")
			collection["collectedPeriod"] = map[string]any{"start": s, "end": e}
		}
	}
	if len(collection) > 0 {
		sp["collection"] = collection
	}
	if t := seg.Get(18, 1); t != "" {
		v, err := dateTime(t, c.opts.Location, false)
		if err != nil {
			return errAt(seg.At(18), CodeDataType, "SPM-18 specimen received date/time: %s", err)
		}
		sp["receivedTime"] = v
	}
	c.report.specimens = append(c.report.specimens, sp)
	c.lastObs = nil
	return nil
}

// finishSpecimens adds the report's Specimens to the Bundle, keyed on the
// filler order number + "-S" + their position, and returns their
// references. An observation after an SPM (its SPECIMEN group) points at
// that specimen; one before any SPM at the report's only specimen, if it
// has exactly one.
func (c *converter) finishSpecimens(r *report) []any {
	var refs []any
	for i, sp := range r.specimens {
		value := r.filler + "-S" + strconv.Itoa(i+1)
		sp["identifier"] = []any{map[string]any{"system": r.system, "value": value}}
		ref := fullURL("Specimen", r.system, value)
		refs = append(refs, map[string]any{"reference": ref})
		c.entries = append(c.entries, conditionalPut(ref, sp, "Specimen", r.system, value))
	}
	for _, o := range r.obs {
		switch {
		case o.specimen > 0:
			o.res["specimen"] = refs[o.specimen-1]
		case len(refs) == 1:
			o.res["specimen"] = refs[0]
		}
	}
	return refs
}
