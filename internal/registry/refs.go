package registry

import (
	"github.com/ehealthplus/ehealth/internal/resource"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// localID reads the id from a reference to a resource of type typ on this
// server: "Patient/123", "Patient/123/_history/2" or an absolute URL
// ending so. ok is false for another type, a contained or logical
// reference, or a malformed id.
func localID(ref, typ string) (string, bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	segs := strings.Split(ref, "/")
	if len(segs) < 2 || segs[len(segs)-2] != typ {
		return "", false
	}
	id := segs[len(segs)-1]
	if !validID(id) {
		return "", false
	}
	return id, true
}

// validID checks a FHIR id: 1 to 64 of A-Z a-z 0-9 - and . .
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// repoint rewrites, anywhere in node, every Reference.reference naming
// Patient/from (relative or absolute, any version) to Patient/to, and
// returns how many it changed. The resource's own id and contained
// references (#…) are untouched.
func repoint(node any, from, to string) int {
	n := 0
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && k == "reference" {
				if id, ok := localID(s, "Patient"); ok && id == from {
					v[k] = "Patient/" + to
					n++
				}
				continue
			}
			n += repoint(child, from, to)
		}
	case []any:
		for _, child := range v {
			n += repoint(child, from, to)
		}
	}
	return n
}

// compartmentTypes are the types a merge moves: every type of the patient
// compartment but the Patient itself and the records of what happened
// (Provenance, AuditEvent), which keep naming the patient they were
// written about; the merge's own Provenance links the two.
func compartmentTypes() []string {
	var out []string
	for _, t := range fhir.ResourceTypes() {
		switch t {
		case "Patient", "Provenance", "AuditEvent":
			continue
		}
		if fhir.IsInPatientCompartment(t) {
			out = append(out, t)
		}
	}
	return out
}

// links lists a Patient's link entries.
func links(p map[string]any) []map[string]any {
	list, _ := p["link"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, l := range list {
		if m, ok := l.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// linkTo returns the type of p's link to Patient/id ("" without one).
func linkTo(p map[string]any, id string) string {
	for _, l := range links(p) {
		other, _ := l["other"].(map[string]any)
		s, _ := other["reference"].(string)
		if got, ok := localID(s, "Patient"); ok && got == id {
			typ, _ := l["type"].(string)
			return typ
		}
	}
	return ""
}

// linked returns the ids of the Patients p links to with link type typ.
func linked(p map[string]any, typ string) []string {
	var out []string
	for _, l := range links(p) {
		if t, _ := l["type"].(string); t != typ {
			continue
		}
		other, _ := l["other"].(map[string]any)
		s, _ := other["reference"].(string)
		if id, ok := localID(s, "Patient"); ok {
			out = append(out, id)
		}
	}
	return out
}

// addLink appends a link to Patient/id of type typ.
func addLink(p map[string]any, id, typ string) {
	list, _ := p["link"].([]any)
	p["link"] = append(list, map[string]any{"other": ref("Patient", id), "type": typ})
}

// hasTag reports whether res carries meta.tag MPISystem|code.
func hasTag(res map[string]any, code string) bool { return resource.HasTag(res, MPISystem, code) }

// addTag adds meta.tag MPISystem|code to res once.
func addTag(res map[string]any, code, display string) {
	if hasTag(res, code) {
		return
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, map[string]any{"system": MPISystem, "code": code, "display": display})
}
