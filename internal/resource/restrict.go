package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ehealthplus/ehealth/internal/store"
)

// The code systems of the security labels that restrict a record
// (https://hl7.org/fhir/R4/security-labels.html).
const (
	ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	ActCodeSystem         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
)

// RestrictedLabel is a security label (a meta.security coding) that makes
// a record restricted, and the restricted category it maps to (a plain
// name: "mental-health", "hiv" …), which the citizen's views and the audit
// trail may show.
type RestrictedLabel struct {
	System, Code string
	Category     string
}

// DefaultRestrictedLabels are the labels that restrict a record unless
// WithRestrictedLabels says otherwise: restricted and very restricted
// confidentiality, and the information sensitivity policies of v3
// ActCode (_ActInformationSensitivityPolicy) with the patient's own
// request (PRS).
var DefaultRestrictedLabels = []RestrictedLabel{
	{ConfidentialitySystem, "R", "restricted"},
	{ConfidentialitySystem, "V", "very-restricted"},
	{ActCodeSystem, "ETH", "substance-use"},
	{ActCodeSystem, "SUD", "substance-use"},
	{ActCodeSystem, "ETHUD", "substance-use"},
	{ActCodeSystem, "OPIOIDUD", "substance-use"},
	{ActCodeSystem, "GDIS", "genetic"},
	{ActCodeSystem, "HIV", "hiv"},
	{ActCodeSystem, "STD", "sexual-health"},
	{ActCodeSystem, "SEX", "sexual-health"},
	{ActCodeSystem, "SDV", "violence"},
	{ActCodeSystem, "MST", "violence"},
	{ActCodeSystem, "VIO", "violence"},
	{ActCodeSystem, "PSY", "mental-health"},
	{ActCodeSystem, "PSYTHPN", "mental-health"},
	{ActCodeSystem, "MH", "mental-health"},
	{ActCodeSystem, "BH", "mental-health"},
	{ActCodeSystem, "COGN", "mental-health"},
	{ActCodeSystem, "DVD", "mental-health"},
	{ActCodeSystem, "EMOTDIS", "mental-health"},
	{ActCodeSystem, "SCA", "sickle-cell"},
	{ActCodeSystem, "SICKLE", "sickle-cell"},
	{ActCodeSystem, "SPI", "specially-protected"},
	{ActCodeSystem, "TBOO", "taboo"},
	{ActCodeSystem, "PRS", "patient-requested"},
}

// WithRestrictedLabels replaces the labels that restrict a record
// (DefaultRestrictedLabels).
func WithRestrictedLabels(labels ...RestrictedLabel) Option {
	return func(s *Service) { s.restricted = labelSet(labels) }
}

// labelSet indexes labels by system and code.
func labelSet(labels []RestrictedLabel) map[coding]string {
	m := make(map[coding]string, len(labels))
	for _, l := range labels {
		m[coding{l.System, l.Code}] = l.Category
	}
	return m
}

// RestrictionLabel is the label a write adds to a record that matches an
// active restriction Consent of its patient (restrictionConsent), so the
// record says why it is filed as restricted.
var RestrictionLabel = RestrictedLabel{ConfidentialitySystem, "R", "restricted"}

// The category of the Consents by which a citizen restricts categories of
// their records (written by the consent operations): active, with a deny
// provision naming resource types (provision.class) and/or codes
// (provision.code, matched against a record's category and code).
const (
	ConsentCategorySystem  = "https://ehealth.hk/fhir/CodeSystem/consent-category"
	RestrictionConsentCode = "restriction"
)

// coding is a system and code; an empty system in a restriction matches
// any system.
type coding struct{ system, code string }

// RestrictedCategories returns the restricted categories res's security
// labels map to, once each, in label order; none when res is not
// restricted by a label.
func (s *Service) RestrictedCategories(res map[string]any) []string {
	var out []string
	for _, c := range codings(metaOf(res)["security"]) {
		if cat, ok := s.restricted[c]; ok && !slices.Contains(out, cat) {
			out = append(out, cat)
		}
	}
	return out
}

// restrictable reports whether a resource of typ may be filed as
// restricted by its labels: never the Patient (its compartment's anchor,
// which every reader of the compartment needs) nor a Consent (the policy
// the predicate is built from: see restrictedConsent).
func restrictable(typ string) bool { return typ != "Patient" && typ != "Consent" }

// The Consent categories filed with the restricted records whatever their
// labels: a citizen's restrictions and the openings of restricted records
// would otherwise tell every professional who may see the record that
// restricted records exist.
const restrictedAccessConsentCode = "restricted-access"

// restrictedConsent reports whether res is a Consent filed with the
// restricted records: a restriction or a restricted access.
func restrictedConsent(typ string, res map[string]any) bool {
	if typ != "Consent" {
		return false
	}
	cats, _ := res["category"].([]any)
	for _, c := range cats {
		cm, _ := c.(map[string]any)
		codings, _ := cm["coding"].([]any)
		for _, cd := range codings {
			m, _ := cd.(map[string]any)
			if m["system"] == ConsentCategorySystem && (m["code"] == RestrictionConsentCode || m["code"] == restrictedAccessConsentCode) {
				return true
			}
		}
	}
	return false
}

// restrictKey returns the key a version of res filed in compartment key
// is stored under: RestrictedKey of its patient when it carries a
// restricted label, after labelling it when it matches an active
// restriction Consent of the patient (read in tx; relabelled reports it,
// so its index rows are computed again). Private keys, keys outside every
// compartment and unrestrictable types are kept.
func (s *Service) restrictKey(ctx context.Context, tx store.Tx, typ string, res map[string]any, key string) (string, bool, error) {
	base := store.BaseKey(key)
	if base != "" && !store.IsPrivateKey(key) && restrictedConsent(typ, res) {
		return store.RestrictedKey(base), false, nil
	}
	if base == "" || store.IsPrivateKey(key) || !restrictable(typ) {
		return key, false, nil
	}
	rs, err := restrictionsOf(ctx, tx, base)
	if err != nil {
		return "", false, fmt.Errorf("restrictions of Patient/%s: %w", base, err)
	}
	matched := slices.ContainsFunc(rs, func(r restriction) bool { return r.matches(typ, res) })
	relabelled := matched && !hasLabel(res, RestrictionLabel)
	if relabelled {
		addLabel(res, RestrictionLabel)
	}
	if matched || s.labelled(res) {
		return store.RestrictedKey(base), relabelled, nil
	}
	return key, false, nil
}

// labelled reports whether res carries a restricted label.
func (s *Service) labelled(res map[string]any) bool {
	for _, c := range codings(metaOf(res)["security"]) {
		if _, ok := s.restricted[c]; ok {
			return true
		}
	}
	return false
}

func hasLabel(res map[string]any, l RestrictedLabel) bool {
	return slices.Contains(codings(metaOf(res)["security"]), coding{l.System, l.Code})
}

// addLabel appends l to res.meta.security.
func addLabel(res map[string]any, l RestrictedLabel) {
	meta := metaOf(res)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	sec, _ := meta["security"].([]any)
	meta["security"] = append(sec, map[string]any{"system": l.System, "code": l.Code})
}

func metaOf(res map[string]any) map[string]any {
	m, _ := res["meta"].(map[string]any)
	return m
}

// codings reads a list of Codings.
func codings(v any) []coding {
	list, _ := v.([]any)
	var out []coding
	for _, it := range list {
		m, _ := it.(map[string]any)
		sys, _ := m["system"].(string)
		code, _ := m["code"].(string)
		if code != "" {
			out = append(out, coding{sys, code})
		}
	}
	return out
}

// conceptCodings reads the codings of a CodeableConcept or a list of them.
func conceptCodings(v any) []coding {
	var out []coding
	switch v := v.(type) {
	case map[string]any:
		out = codings(v["coding"])
	case []any:
		for _, it := range v {
			out = append(out, conceptCodings(it)...)
		}
	}
	return out
}

// restriction is one deny provision of an active restriction Consent: a
// record matches when its type is one of classes (when any) and one of
// its category or code codings is one of codes (when any).
type restriction struct {
	classes []string
	codes   []coding
}

func (r restriction) matches(typ string, res map[string]any) bool {
	if len(r.classes) > 0 && !slices.Contains(r.classes, typ) {
		return false
	}
	if len(r.codes) == 0 {
		return len(r.classes) > 0
	}
	for _, c := range append(conceptCodings(res["category"]), conceptCodings(res["code"])...) {
		for _, want := range r.codes {
			if want.code == c.code && (want.system == "" || want.system == c.system) {
				return true
			}
		}
	}
	return false
}

// restrictionsOf returns the restrictions the active restriction Consents
// of patient key hold (filed under its restricted key), as tx sees them, cached for the
// transaction (a Consent written in it clears the cache).
func restrictionsOf(ctx context.Context, tx store.Tx, key string) ([]restriction, error) {
	rec, _ := tx.(*recordingTx)
	if rec != nil {
		if rs, ok := rec.restrictions[key]; ok {
			return rs, nil
		}
	}
	consents, err := tx.CurrentIn(ctx, "Consent", store.RestrictedKey(key)) // restrictedConsent
	if err != nil {
		return nil, err
	}
	var rs []restriction
	for _, v := range consents {
		var c restrictionConsent
		if err := json.Unmarshal(v.Body, &c); err != nil {
			return nil, fmt.Errorf("Consent/%s: %w", v.ID, err)
		}
		rs = append(rs, c.restrictions()...)
	}
	if rec != nil {
		if rec.restrictions == nil {
			rec.restrictions = map[string][]restriction{}
		}
		rec.restrictions[key] = rs
	}
	return rs, nil
}

// restrictionConsent is what a Consent says about restrictions.
type restrictionConsent struct {
	Status   string `json:"status"`
	Category []struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	} `json:"category"`
	Provision *provision `json:"provision"`
}

type provision struct {
	Type  string `json:"type"`
	Class []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"class"`
	Code []struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	} `json:"code"`
	Provision []provision `json:"provision"`
}

// restrictions are the deny provisions (nested ones too) of an active
// restriction Consent; none for any other Consent.
func (c restrictionConsent) restrictions() []restriction {
	if c.Status != "active" || c.Provision == nil || !c.isRestriction() {
		return nil
	}
	var out []restriction
	var walk func(p provision)
	walk = func(p provision) {
		if p.Type == "deny" {
			var r restriction
			for _, cl := range p.Class {
				r.classes = append(r.classes, cl.Code)
			}
			for _, cc := range p.Code {
				for _, cd := range cc.Coding {
					r.codes = append(r.codes, coding{cd.System, cd.Code})
				}
			}
			if len(r.classes) > 0 || len(r.codes) > 0 {
				out = append(out, r)
			}
		}
		for _, sub := range p.Provision {
			walk(sub)
		}
	}
	walk(*c.Provision)
	return out
}

func (c restrictionConsent) isRestriction() bool {
	for _, cat := range c.Category {
		for _, cd := range cat.Coding {
			if cd.System == ConsentCategorySystem && cd.Code == RestrictionConsentCode {
				return true
			}
		}
	}
	return false
}
