package fhir

import "strings"

// IsInPatientCompartment reports whether resources of type typ can belong to
// a patient's compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html).
func IsInPatientCompartment(typ string) bool {
	_, ok := index().compart[typ]
	return ok || typ == "Patient"
}

// PatientCompartmentPaths returns the element paths, relative to the
// resource, of the patient compartment parameters of typ ("subject",
// "performer" for Observation; "payee.party" for Claim). For Patient they
// are the links to other patients (link.other).
func PatientCompartmentPaths(typ string) []string {
	return index().compart[typ]
}

// PatientRefs returns the ids of the patients whose compartment res belongs
// to, deduplicated, in parameter order. A Patient belongs to its own
// compartment only: links to other Patient resources are not followed, so
// access to one patient never widens to another. For other types they are
// the references "Patient/ID" found at the compartment paths, relative or
// absolute ("https://host/fhir/Patient/ID", with or without /_history/n).
func PatientRefs(res map[string]any) []string {
	rt, _ := res["resourceType"].(string)
	if rt == "Patient" {
		if id, _ := res["id"].(string); id != "" {
			return []string{id}
		}
		return nil
	}
	var ids []string
	for _, path := range index().compart[rt] {
		for _, ref := range ReferencesAt(res, path) {
			if id, ok := patientID(ref); ok && !contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// ReferencesAt collects the Reference.reference strings at a dotted
// element path of res ("subject", "participant.actor"), through arrays.
func ReferencesAt(res map[string]any, path string) []string {
	return referencesAt(res, strings.Split(path, "."))
}

// referencesAt collects Reference.reference strings under the path segments.
func referencesAt(v any, segs []string) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, it := range v {
			out = append(out, referencesAt(it, segs)...)
		}
		return out
	case map[string]any:
		if len(segs) == 0 {
			if ref, ok := v["reference"].(string); ok {
				return []string{ref}
			}
			return nil
		}
		return referencesAt(v[segs[0]], segs[1:])
	}
	return nil
}

// patientID extracts ID from "Patient/ID", ".../Patient/ID" or either with
// "/_history/n".
func patientID(ref string) (string, bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 || parts[len(parts)-2] != "Patient" {
		return "", false
	}
	if len(parts) > 2 && !strings.Contains(ref, "://") {
		return "", false
	}
	id := parts[len(parts)-1]
	return id, isID(id)
}
