package resource

import (
	"bytes"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Origin tags mark policy-bearing records by who wrote them
// (meta.tag system|code).
const (
	// AuditOriginSystem tags stored AuditEvents. The server's own audit
	// records live in the tamper-evident journal and are never stored as
	// resources, so every stored AuditEvent was sent by another system (IHE
	// ATNA "record audit event", a plain create) and is tagged
	// AuditOriginSystem|AuditOriginExternal at write time, whatever the
	// client sent: an ordinary record, searchable, never in the journal.
	AuditOriginSystem   = "https://ehealth.hk/fhir/CodeSystem/audit-origin"
	AuditOriginExternal = "external"
	// ProvenanceOriginSystem|ProvenanceOriginServer tags a Provenance the
	// platform wrote (a merge, an unmerge): only the platform's code and
	// the operator create, change or delete one; no token does.
	ProvenanceOriginSystem = "https://ehealth.hk/fhir/CodeSystem/provenance-origin"
	ProvenanceOriginServer = "server"
	// MPISystem codes the master patient index's tags (registry.MPISystem):
	// MPISystem|MPIMaster marks a citizen's master Patient, which the
	// registry writes; withdrawn, merge and unmerge are its other codes.
	// Deposit checks, $match, the journal's compartments and sign-in trust
	// these tags, so every tag of MPISystem is the platform's to put on a
	// record (platformTag).
	MPISystem = "https://ehealth.hk/fhir/CodeSystem/mpi"
	MPIMaster = "master"
	// RegistryOriginSystem|RegistryOriginRegistry tags the providers'
	// registry's entries — the Organization, Practitioner and
	// PractitionerRole it registers — at the registry's own writes: who a
	// provider is, whether it is suspended, what a professional's role is
	// (and so which view of a record it sees) are the registry's to say,
	// not a token's.
	RegistryOriginSystem   = "https://ehealth.hk/fhir/CodeSystem/registry-origin"
	RegistryOriginRegistry = "registry"
	// PlatformOriginSystem|PlatformOriginPlatform tags what the platform's
	// operations write as the record of a process — a correction request's
	// or an access report's Task, an emergency access's review Task, an
	// accreditation's MeasureReport: a token that may see one neither
	// writes one nor changes its course (an access report closed, a level
	// raised); the operations change them.
	PlatformOriginSystem   = "https://ehealth.hk/fhir/CodeSystem/platform-origin"
	PlatformOriginPlatform = "platform"
)

// PlatformOriginMeta is the meta of a record the platform's operations
// write (PlatformOriginSystem).
func PlatformOriginMeta() map[string]any {
	return map[string]any{"tag": []any{map[string]any{"system": PlatformOriginSystem, "code": PlatformOriginPlatform}}}
}

// platformTagSystems are the code systems whose tags only the platform's
// code (and the operator) put on records, with what each belongs to (for
// messages): a record carrying one is the platform's — a token neither
// writes one with such a tag nor changes or deletes one that has it.
var platformTagSystems = map[string]string{
	MPISystem:            "the master patient index",
	RegistryOriginSystem: "the providers' registry",
	PlatformOriginSystem: "the platform's operations",
}

// JournalIDPrefix starts the id of every AuditEvent the audit journal
// serves (audit.EventID, "j-<seq>"). No AuditEvent is ever written at such
// an id — whoever asks, the operator included — so a stored AuditEvent
// (another system's) never shadows a journal entry, nor one the other.
const JournalIDPrefix = "j-"

// markOrigin tags res with its origin where its type needs one: an
// AuditEvent as external.
func markOrigin(res map[string]any) {
	if typ, _ := res["resourceType"].(string); typ == "AuditEvent" {
		AddTag(res, AuditOriginSystem, AuditOriginExternal)
	}
}

// HasTag reports whether res carries meta.tag system|code.
func HasTag(res map[string]any, system, code string) bool {
	meta, _ := res["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		m, _ := t.(map[string]any)
		if m["system"] == system && m["code"] == code {
			return true
		}
	}
	return false
}

// AddTag adds meta.tag system|code to res once.
func AddTag(res map[string]any, system, code string) {
	if HasTag(res, system, code) {
		return
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, map[string]any{"system": system, "code": code})
}

// JournalWriteRefused is the answer to any write of AuditEvent/id where id
// is in the audit journal's id space (JournalIDPrefix): 405, for everyone.
// The HTTP route of PUT, PATCH and DELETE AuditEvent/j-… and the resource
// service (bundle entries, imports, a server without the journal's route)
// give it word for word.
func JournalWriteRefused(id string) error {
	return outcome.New(outcome.NotAllowed,
		"AuditEvent/%s is an entry of the audit journal: the journal is append-only and its AuditEvents are read-only for everyone, the operator included", id)
}

// mayWriteAt refuses any write of typ/id that the id alone rules out, before
// anything is read: an AuditEvent at an id of the journal's
// (JournalWriteRefused).
func mayWriteAt(typ, id string) error {
	if typ == "AuditEvent" && strings.HasPrefix(id, JournalIDPrefix) {
		return JournalWriteRefused(id)
	}
	return nil
}

// platformTag returns a tag of res from a platform's code system
// (platformTagSystems), ok false when it has none.
func platformTag(res map[string]any) (system, code string, ok bool) {
	meta, _ := res["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		m, _ := t.(map[string]any)
		system, _ = m["system"].(string)
		if _, ok := platformTagSystems[system]; ok {
			code, _ = m["code"].(string)
			return system, code, true
		}
	}
	return "", "", false
}

// mayCreateOrigin refuses a token's write whose new content claims a
// platform origin: a Provenance tagged as the server's, or any record
// carrying a tag of the master patient index or the providers' registry
// (a Patient claiming to be a master record, an Organization claiming to
// be a registered provider).
func mayCreateOrigin(c Caller, res map[string]any) error {
	if c.Grants == nil {
		return nil
	}
	typ, _ := res["resourceType"].(string)
	if typ == "Provenance" && HasTag(res, ProvenanceOriginSystem, ProvenanceOriginServer) {
		return outcome.New(outcome.Forbidden, "a Provenance tagged %s|%s is written only by the platform", ProvenanceOriginSystem, ProvenanceOriginServer)
	}
	if system, code, ok := platformTag(res); ok {
		return outcome.At(outcome.Forbidden, typ+".meta.tag", "a %s tagged %s|%s belongs to %s: only the platform's operations and the operator write one; a token may not", typ, system, code, platformTagSystems[system])
	}
	return nil
}

// mayChangeOrigin refuses a token's update, patch or delete of a stored
// policy-bearing record: an external AuditEvent (evidence of what another
// system did: immutable once stored, except by the operator), a
// Provenance the platform wrote, and a record carrying a platform tag (a
// master Patient, the providers' registry's entries). The platform's code
// and the operator (no Grants) may; their writes are audited like every
// write. It is called once the caller may see cur (mayChange), so the 403
// tells nothing a read would not.
func mayChangeOrigin(c Caller, cur store.Version) error {
	if c.Grants == nil || cur.Deleted || cur.Body == nil {
		return nil
	}
	switch cur.Type {
	case "AuditEvent":
		return outcome.New(outcome.Forbidden, "a stored AuditEvent is evidence: only the operator changes or deletes it")
	case "Provenance":
		res, err := decodeBody(cur)
		if err != nil {
			return err
		}
		if HasTag(res, ProvenanceOriginSystem, ProvenanceOriginServer) {
			return outcome.New(outcome.Forbidden, "a Provenance the platform wrote is changed or deleted only by the operator")
		}
	}
	if !mentionsPlatformSystem(cur.Body) {
		return nil
	}
	res, err := decodeBody(cur)
	if err != nil {
		return err
	}
	if system, code, ok := platformTag(res); ok {
		return outcome.New(outcome.Forbidden, "%s/%s is tagged %s|%s: it belongs to %s, and only the platform's operations and the operator change or delete it", cur.Type, cur.ID, system, code, platformTagSystems[system])
	}
	return nil
}

// mentionsPlatformSystem reports whether body names a platform tag
// system anywhere: a cheap test before decoding, as most records do not.
func mentionsPlatformSystem(body []byte) bool {
	for system := range platformTagSystems {
		if bytes.Contains(body, []byte(system)) {
			return true
		}
	}
	return false
}
