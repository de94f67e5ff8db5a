package resource

import (
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
)

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

// mayCreateOrigin refuses a token's write whose new content claims a
// platform origin: a Provenance tagged as the server's.
func mayCreateOrigin(c Caller, res map[string]any) error {
	if c.Grants == nil {
		return nil
	}
	if typ, _ := res["resourceType"].(string); typ == "Provenance" && HasTag(res, ProvenanceOriginSystem, ProvenanceOriginServer) {
		return outcome.New(outcome.Forbidden, "a Provenance tagged %s|%s is written only by the platform", ProvenanceOriginSystem, ProvenanceOriginServer)
	}
	return nil
}

// mayChangeOrigin refuses a token's update, patch or delete of a stored
// policy-bearing record: an external AuditEvent (evidence of what another
// system did: immutable once stored, except by the operator) and a
// Provenance the platform wrote. The platform's code and the operator
// (no Grants) may; their writes are audited like every write.
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
	return nil
}
