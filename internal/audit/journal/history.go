package journal

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// historyParams are what $access-history takes.
var historyParams = []string{"_count", "_cursor", "lang", "_format", "_pretty"}

// AccessHistory serves GET Patient/{id}/$access-history: a page of the
// accesses to the citizen's record, newest first, each in plain words,
// as a Parameters resource — one "access" parameter per access and, when
// more remain, "next" (valueString: the _cursor of the next page). The
// citizen's own accesses and the platform's background work (no person,
// no provider) are left out, as are the viewer's own (an SDM's). Only the
// citizen, their SDM and the operator get it; anyone else gets the answer
// for a Patient that does not exist.
func (s *Service) AccessHistory(ctx context.Context, c resource.Caller, patient string, params url.Values) (map[string]any, error) {
	keys, err := s.subjectKeys(ctx, c, patient)
	if err != nil {
		return nil, err
	}
	for name := range params {
		if !slices.Contains(historyParams, name) {
			return nil, outcome.New(outcome.Invalid, "$access-history takes _count, _cursor and lang, not %s", name)
		}
	}
	langs, err := languages(params.Get("lang"))
	if err != nil {
		return nil, err
	}
	count, err := parseCount(params.Get("_count"))
	if err != nil {
		return nil, err
	}
	before, err := decodeCursor(params.Get("_cursor"))
	if err != nil {
		return nil, err
	}
	own := ownRefs(keys, c.Who.FHIRUser)
	parsed := map[int64]event{}
	entries, next, err := scan(ctx, byKeys(s.log, keys), before, count, func(e store.AuditEntry) (verdict, error) {
		ev, err := parse(e)
		if err != nil || ev.background() || own[ev.user] {
			return skip, err
		}
		parsed[e.Seq] = ev
		return keep, nil
	})
	if err != nil {
		return nil, err
	}
	n := s.names(ctx)
	out := make([]any, 0, len(entries)+1)
	for _, e := range entries {
		out = append(out, n.line(parsed[e.Seq], own).parameter(langs))
	}
	if n.err != nil {
		return nil, n.err
	}
	if next != 0 {
		out = append(out, map[string]any{"name": "next", "valueString": encodeCursor(next)})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": out}, nil
}

// subjectKeys checks that c may see patient's access history — the
// operator, the citizen, their SDM, each with a scope to read
// AuditEvents — and returns the keys of the patient's record.
func (s *Service) subjectKeys(ctx context.Context, c resource.Caller, patient string) ([]string, error) {
	v, err := s.viewOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if !v.all && !slices.Contains(v.subjects, patient) {
		return nil, notKnown("Patient", patient)
	}
	if !mayRead(c, scope.Read) {
		return nil, needScope(scope.Read)
	}
	return s.keysOf(ctx, patient)
}

// ownRefs are the actors whose accesses are the citizen's own: the
// citizen under each key of their record, and whoever is looking.
func ownRefs(keys []string, viewer string) map[string]bool {
	own := map[string]bool{}
	for _, k := range keys {
		own["Patient/"+store.BaseKey(k)] = true
	}
	if viewer != "" {
		own[viewer] = true
	}
	return own
}

// background reports whether the access was the platform's own work: no
// person, no provider, not the operator.
func (ev event) background() bool {
	return !ev.operator && ev.org == "" && !strings.Contains(ev.user, "/")
}

// languages reads lang: en, zh-Hant, or both when absent.
func languages(lang string) ([]string, error) {
	switch lang {
	case "":
		return []string{"en", "zh-Hant"}, nil
	case "en", "zh-Hant":
		return []string{lang}, nil
	}
	return nil, outcome.New(outcome.Invalid, "lang=%s: the history is told in en or zh-Hant", lang)
}

// line makes the plain-language line of ev.
func (n *names) line(ev event, own map[string]bool) line {
	l := line{ev: ev, what: whatOf(ev)}
	p, ok := purposeOf(ev)
	l.purpose, l.noPurpose = p, !ok
	if ev.org != "" {
		l.hasOrg, l.org = true, n.org(ev.org)
	}
	switch {
	case ev.operator:
		l.kind = kindOperator
	case own[ev.user]:
		l.kind = kindYou
	case strings.HasPrefix(ev.user, "Practitioner/"):
		l.kind = kindProfessional
		p := n.profession(ev.user)
		name := n.person(ev.user)
		l.actor = text{strings.TrimSpace(p.title + " " + name.en), name.zh + p.suffix}
		l.role = p.role
		if r := n.roleName(ev.role); r != "" {
			l.role.en += ", " + strings.ToLower(r)
		}
	case strings.HasPrefix(ev.user, "RelatedPerson/") || strings.HasPrefix(ev.user, "Patient/"):
		l.kind, l.actor = kindRepresentative, n.person(ev.user)
	default:
		l.kind = kindSystem
	}
	return l
}

// parameter is l as one "access" parameter of the history, saying it in
// langs (part text-en, text-zh-Hant); references carry their display in
// the first of them.
func (l line) parameter(langs []string) map[string]any {
	say := l.sentence()
	pick := func(t text) string {
		if langs[0] == "en" {
			return t.en
		}
		return t.zh
	}
	parts := []any{
		part("event", "valueReference", map[string]any{"reference": "AuditEvent/" + audit.EventID(l.ev.seq)}),
		part("time", "valueInstant", l.ev.time.UTC().Format("2006-01-02T15:04:05Z")),
		part("actor-kind", "valueCode", l.kind),
	}
	if l.ev.user != "" && l.kind != kindYou {
		parts = append(parts, part("actor", "valueReference", reference(l.ev.user, pick(l.actor))))
	}
	if l.ev.role != "" {
		parts = append(parts, part("role", "valueReference", reference(l.ev.role, pick(l.role))))
	}
	if l.hasOrg {
		parts = append(parts, part("organization", "valueReference", reference(l.ev.org, pick(l.org))))
	}
	if l.ev.client != "" && l.kind == kindSystem {
		parts = append(parts, part("client", "valueString", l.ev.client))
	}
	parts = append(parts, part("interaction", "valueCode", l.ev.interaction))
	types, _ := l.ev.types()
	for _, t := range types {
		parts = append(parts, part("record-type", "valueCode", t))
	}
	for _, p := range l.ev.purposes {
		parts = append(parts, part("purpose", "valueCoding", map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": p}))
	}
	parts = append(parts, part("emergency", "valueBoolean", l.ev.emergency), part("restricted", "valueBoolean", l.ev.restricted))
	if l.ev.reason != "" {
		parts = append(parts, part("reason", "valueString", l.ev.reason))
	}
	for _, lang := range langs {
		s := say.en
		if lang == "zh-Hant" {
			s = say.zh
		}
		parts = append(parts, part("text-"+lang, "valueString", s))
	}
	return map[string]any{"name": "access", "part": parts}
}

func part(name, key string, value any) map[string]any {
	return map[string]any{"name": name, key: value}
}

func reference(ref, display string) map[string]any {
	r := map[string]any{"reference": ref}
	if display != "" {
		r["display"] = display
	}
	return r
}
