package deposit

import (
	"context"
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// deposit is one Bundle being deposited.
type deposit struct {
	s     *Service
	c     resource.Caller
	org   string // "Organization/ID"
	ns    string // Namespace(org)
	items []*item
	byURL map[string]*item // by fullUrl
}

// plan reads the Bundle and decides what each entry does: its role and
// key, the citizen of each Patient, the records it changes, the profile
// check, whether it amends, and the Provenances to record. Entries that
// break a rule are refused one by one (item.err); a failure of the
// platform aborts the deposit.
func (s *Service) plan(ctx context.Context, c resource.Caller, bundle map[string]any) (*deposit, error) {
	items, err := parseItems(bundle)
	if err != nil {
		return nil, err
	}
	d := &deposit{s: s, c: c, org: c.Who.Org, ns: Namespace(c.Who.Org), items: items, byURL: map[string]*item{}}
	for _, it := range items {
		if it.fullURL == "" {
			continue
		}
		if _, dup := d.byURL[it.fullURL]; dup {
			return nil, outcome.At(outcome.Invalid, it.path()+".fullUrl", "fullUrl %q appears in more than one entry", it.fullURL)
		}
		d.byURL[it.fullURL] = it
	}
	keyed := map[string]*item{}
	for _, it := range items {
		d.classify(it)
		if !it.key.ok() || it.err != nil {
			continue
		}
		k := it.typ + "|" + it.key.system + "|" + it.key.value
		if first, dup := keyed[k]; dup {
			it.refuse(outcome.At(outcome.Invalid, it.path(), "entry %d has the same source identifier %s|%s: a deposit carries a record once", first.index, it.key.system, it.key.value))
			continue
		}
		keyed[k] = it
	}
	d.linkReasons()
	for _, step := range []func(context.Context) error{d.matchPatients, d.lookup, d.binaries} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	d.resolveExisting()
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	d.decide()
	return d, nil
}

// classify gives the entry its role and checks what needs no database:
// the types a deposit takes, the namespaces of identifiers, the source
// identifier.
func (d *deposit) classify(it *item) {
	switch {
	case it.typ == "Provenance" && it.method == "POST" && activity(it.res) != "":
		it.role = roleReason
		return
	case it.typ == "Provenance":
		it.refuse(outcome.At(outcome.Unprocessable, it.path()+".resource",
			"a Provenance in a deposit gives the reason of an amendment (activity UPDATE) or a withdrawal (activity DELETE) of its entries, in a POST entry; the deposit records the Provenance of every change"))
		return
	case it.typ == "Binary":
		it.role = roleBinary
		if it.method != "POST" {
			it.refuse(outcome.At(outcome.Invalid, it.path()+".request.method", "a Binary is deposited by POST with the DocumentReference that names it; it is replaced with that DocumentReference"))
		}
		return
	case it.typ == "Patient":
		it.role = rolePatient
	case fhir.IsInPatientCompartment(it.typ) && hasIdentifier(it.typ):
		it.role = roleRecord
	default:
		it.refuse(outcome.At(outcome.Unprocessable, it.path()+".request.url",
			"a deposit holds records about patients; a %s is not one (Organization, Practitioner and Location come from the providers' registry)", it.typ))
		return
	}
	d.checkCriteria(it)
	if it.res != nil {
		d.checkIdentifiers(it)
		if it.role == roleRecord {
			d.checkSubject(it)
		}
	}
	if it.role == rolePatient && it.method == "DELETE" {
		it.refuse(outcome.At(outcome.Forbidden, it.path()+".request.method", "a deposit does not delete Patient records; the registry keeps who takes part"))
	}
}

// checkSubject refuses a record that names no patient in its patient
// compartment elements (subject, patient …): it would land in nobody's
// record, readable as data about no one.
func (d *deposit) checkSubject(it *item) {
	paths := fhir.PatientCompartmentPaths(it.typ)
	for _, p := range paths {
		for _, ref := range fhir.ReferencesAt(it.res, p) {
			if other, ok := d.byURL[ref]; ok && other.typ == "Patient" {
				return
			}
			if _, id, ok := strings.Cut(ref, "Patient/"); ok && id != "" {
				return
			}
		}
	}
	at := it.path() + ".resource"
	if len(paths) > 0 {
		at += "." + paths[0]
	}
	it.refuse(outcome.At(outcome.Unprocessable, at, "a deposited record names its patient (%s): the Patient entry of the deposit", strings.Join(paths, " or ")))
}

// hasIdentifier reports whether resources of typ have an identifier
// element, where their source identifier goes.
func hasIdentifier(typ string) bool {
	_, _, ok := fhir.LookupElement(typ + ".identifier")
	return ok
}

// checkCriteria checks the conditional url of a PUT or DELETE: the
// record's source identifier, in the provider's namespace.
func (d *deposit) checkCriteria(it *item) {
	if len(it.query) == 0 {
		return
	}
	at := it.path() + ".request.url"
	vals := it.query["identifier"]
	if len(it.query) != 1 || len(vals) != 1 {
		it.refuse(outcome.At(outcome.Invalid, at, "a deposit names a record by its source identifier: %s?identifier=system|value", it.typ))
		return
	}
	sys, val, ok := splitToken(vals[0])
	switch {
	case !ok || sys == "" || val == "":
		it.refuse(outcome.At(outcome.Invalid, at, "identifier=%q is not system|value", vals[0]))
	case d.foreign(sys):
		it.refuse(outcome.At(outcome.Forbidden, at, "the identifier system %q is another provider's: a provider changes only what it deposited", sys))
	case !strings.HasPrefix(sys, d.ns) || len(sys) == len(d.ns):
		it.refuse(outcome.At(outcome.Unprocessable, at, "a deposit names a record by its source identifier, whose system is %s<source system>", d.ns))
	default:
		it.key = sourceKey{sys, val}
	}
}

// foreign reports whether system is under another provider's namespace.
func (d *deposit) foreign(system string) bool {
	return strings.HasPrefix(system, SourceBase) && !strings.HasPrefix(system, d.ns)
}

// checkIdentifiers refuses identifiers under another provider's
// namespace and finds the source identifier (a Patient's record number):
// the first identifier under the provider's, naming a source system.
func (d *deposit) checkIdentifiers(it *item) {
	list, _ := it.res["identifier"].([]any)
	var key sourceKey
	for j, x := range list {
		id, _ := x.(map[string]any)
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		if d.foreign(sys) {
			it.refuse(outcome.At(outcome.Forbidden, fmt.Sprintf("%s.resource.identifier[%d].system", it.path(), j),
				"the identifier system %q is another provider's namespace: a provider deposits and changes only its own records", sys))
			continue
		}
		if !key.ok() && strings.HasPrefix(sys, d.ns) && len(sys) > len(d.ns) && val != "" {
			key = sourceKey{sys, val}
		}
	}
	if it.err != nil {
		return
	}
	what := "every deposited record carries its source-system identifier"
	if it.role == rolePatient {
		what = "a deposited Patient carries the provider's record number"
	}
	switch {
	case !key.ok():
		it.refuse(outcome.At(outcome.Unprocessable, it.path()+".resource.identifier",
			"%s: an Identifier whose system is %s<source system> and whose value is its id there", what, d.ns))
	case it.key.ok() && it.key != key:
		it.refuse(outcome.At(outcome.Invalid, it.path()+".request.url", "the criteria name %s|%s, the record's source identifier is %s|%s", it.key.system, it.key.value, key.system, key.value))
	default:
		it.key = key
	}
}

// activity is the v3-DataOperation code of a Provenance's activity:
// UPDATE or DELETE, "" for any other.
func activity(res map[string]any) string {
	act, _ := res["activity"].(map[string]any)
	codings, _ := act["coding"].([]any)
	for _, c := range codings {
		m, _ := c.(map[string]any)
		if m["system"] == DataOperationSystem && (m["code"] == "UPDATE" || m["code"] == "DELETE") {
			return m["code"].(string)
		}
	}
	return ""
}

// linkReasons gives each entry the Provenance entry that states the
// reason of its change, and refuses a withdrawal without one.
func (d *deposit) linkReasons() {
	for _, p := range d.items {
		if p.role != roleReason || p.err != nil {
			continue
		}
		act := activity(p.res)
		if act == "DELETE" && !hasReason(p.res) {
			p.refuse(outcome.At(outcome.Invalid, p.path()+".resource.reason", "a withdrawal's Provenance states the reason (reason.text or a coded reason)"))
		}
		targets, _ := p.res["target"].([]any)
		for k, x := range targets {
			ref, _ := x.(map[string]any)["reference"].(string)
			it := d.target(ref)
			at := fmt.Sprintf("%s.resource.target[%d]", p.path(), k)
			switch {
			case it == nil:
				p.refuse(outcome.At(outcome.Invalid, at, "the target %q names no entry of the deposit (its fullUrl, or a DELETE entry's url)", ref))
			case (act == "DELETE") != (it.method == "DELETE"):
				p.refuse(outcome.At(outcome.Invalid, at, "a Provenance with activity %s targets %s entries; entry %d is a %s", act, strings.ToLower(act)+"d", it.index, it.method))
			case it.reason != nil && it.reason != p:
				p.refuse(outcome.At(outcome.Invalid, at, "entry %d already has its reason in entry %d", it.index, it.reason.index))
			default:
				it.reason = p
			}
		}
	}
	for _, it := range d.items {
		if it.method == "DELETE" && it.reason == nil && it.err == nil {
			it.refuse(outcome.At(outcome.Invalid, it.path(), "a withdrawal needs its reason: a Provenance entry with activity DELETE (%s) and a reason, targeting %q", DataOperationSystem, it.rawURL))
		}
	}
}

// target is the entry a reason Provenance's target names: by fullUrl, or
// a DELETE entry by its url.
func (d *deposit) target(ref string) *item {
	if it, ok := d.byURL[ref]; ok && ref != "" {
		return it
	}
	for _, it := range d.items {
		if it.method == "DELETE" && ref != "" && (ref == it.rawURL || ref == it.typ+"/"+it.id) {
			return it
		}
	}
	return nil
}

// hasReason reports whether a Provenance gives a reason: a coded one or
// its text.
func hasReason(res map[string]any) bool {
	reasons, _ := res["reason"].([]any)
	for _, r := range reasons {
		m, _ := r.(map[string]any)
		if t, _ := m["text"].(string); strings.TrimSpace(t) != "" {
			return true
		}
		if c, _ := m["coding"].([]any); len(c) > 0 {
			return true
		}
	}
	return false
}

// splitToken splits a token search value system|value at its first
// unescaped "|" and unescapes both sides.
func splitToken(s string) (system, value string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '|' && !ok:
			system, ok = b.String(), true
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return system, b.String(), ok
}
