package terminology

import (
	"context"
	"fmt"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// TranslateRequest asks for the codes a code maps to
// (http://hl7.org/fhir/R4/conceptmap-operation-translate.html).
type TranslateRequest struct {
	ConceptMap string      // url or url|version of the map to use; "" for every map that fits
	Map        *ConceptMap // a concept map given inline, instead of ConceptMap
	Coding     Coding      // the code to translate (System required)
	Source     string      // value set the code is from, to choose maps by
	Target     string      // value set to translate into, to choose maps by
	// TargetSystem limits the matches to codes of this system.
	TargetSystem string
	// Reverse finds the source codes that map to Coding, reading the maps
	// backwards (Source and Target then name the maps' target and source).
	Reverse bool
}

// Translation is the answer to $translate. Result is true when some match
// is neither unmatched nor disjoint.
type Translation struct {
	Result  bool
	Message string
	Matches []Match
}

// Match is one translation: the code, how it relates to the source code
// (ConceptMap equivalence) and the map that says so.
type Match struct {
	Equivalence string
	Concept     Coding
	Source      string // the concept map's url
	Comment     string
}

// TranslateCode answers $translate. The error is an *outcome.Error:
// NotFound for an unknown concept map, Invalid for a request without a code
// and system.
func (t *Tables) TranslateCode(req TranslateRequest) (*Translation, error) {
	if req.Coding.Code == "" || req.Coding.System == "" {
		return nil, outcome.New(outcome.Invalid, "$translate needs a code and a system (or a coding)")
	}
	maps, err := t.mapsFor(req)
	if err != nil {
		return nil, err
	}
	tr := &Translation{}
	for _, cm := range maps {
		tr.Matches = append(tr.Matches, t.translateWith(cm, req, 0)...)
	}
	for _, m := range tr.Matches {
		if m.Equivalence != "unmatched" && m.Equivalence != "disjoint" {
			tr.Result = true
		}
	}
	if !tr.Result {
		tr.Message = fmt.Sprintf("no mapping found for %s", req.Coding.label())
		if req.TargetSystem != "" {
			tr.Message += " to " + req.TargetSystem
		}
	}
	return tr, nil
}

// mapsFor returns the concept maps a request names or that fit it.
func (t *Tables) mapsFor(req TranslateRequest) ([]*ConceptMap, error) {
	switch {
	case req.Map != nil:
		return []*ConceptMap{req.Map}, nil
	case req.ConceptMap != "":
		cm, ok := t.conceptMaps.get(req.ConceptMap, "")
		if !ok {
			return nil, outcome.New(outcome.NotFound, "concept map %s is not known here", req.ConceptMap)
		}
		return []*ConceptMap{cm}, nil
	}
	from, to := req.Source, req.Target
	var out []*ConceptMap
	t.conceptMaps.each(func(_ string, cm *ConceptMap) {
		src, tgt := cm.Source, cm.Target
		if req.Reverse {
			src, tgt = tgt, src
		}
		if (from == "" || stripVersion(from) == stripVersion(src)) && (to == "" || stripVersion(to) == stripVersion(tgt)) {
			out = append(out, cm)
		}
	})
	return out, nil
}

// translateWith applies one map; depth bounds other-map chains.
func (t *Tables) translateWith(cm *ConceptMap, req TranslateRequest, depth int) []Match {
	var out []Match
	c := req.Coding
	for _, g := range cm.Groups {
		from, to := g.Source, g.Target
		if req.Reverse {
			from, to = to, from
		}
		if from != "" && from != c.System || req.TargetSystem != "" && to != req.TargetSystem {
			continue
		}
		found := false
		for _, e := range g.Elements {
			for _, tg := range e.Targets {
				switch {
				case !req.Reverse && e.Code == c.Code:
					out = append(out, Match{Equivalence: first(tg.Equivalence, "equivalent"), Source: cm.URL, Comment: tg.Comment,
						Concept: Coding{System: g.Target, Version: g.TargetVersion, Code: tg.Code, Display: first(tg.Display, t.displayFor(g.Target, tg.Code))}})
				case req.Reverse && tg.Code == c.Code:
					out = append(out, Match{Equivalence: inverse(first(tg.Equivalence, "equivalent")), Source: cm.URL, Comment: tg.Comment,
						Concept: Coding{System: g.Source, Version: g.SourceVersion, Code: e.Code, Display: first(e.Display, t.displayFor(g.Source, e.Code))}})
				default:
					continue
				}
				found = true
			}
			if !req.Reverse && e.Code == c.Code && len(e.Targets) == 0 {
				found = true // listed with no target: deliberately unmapped
			}
		}
		if !found && !req.Reverse && g.Unmapped != nil {
			out = append(out, t.unmapped(cm, g, req, depth)...)
		}
	}
	return out
}

// unmapped applies a group's unmapped rule to a code it has no element for.
func (t *Tables) unmapped(cm *ConceptMap, g MapGroup, req TranslateRequest, depth int) []Match {
	u := g.Unmapped
	switch u.Mode {
	case "provided":
		return []Match{{Equivalence: "equal", Source: cm.URL, Concept: Coding{System: g.Target, Code: req.Coding.Code, Display: t.displayFor(g.Target, req.Coding.Code)}}}
	case "fixed":
		return []Match{{Equivalence: "inexact", Source: cm.URL, Concept: Coding{System: g.Target, Code: u.Code, Display: first(u.Display, t.displayFor(g.Target, u.Code))}}}
	case "other-map":
		if other, ok := t.conceptMaps.get(u.URL, ""); ok && depth < 8 {
			return t.translateWith(other, req, depth+1)
		}
	}
	return nil
}

func (t *Tables) displayFor(system, code string) string {
	d, _ := t.Display(system, code, "")
	return d
}

// inverse is the equivalence read from target to source.
func inverse(eq string) string {
	switch eq {
	case "wider":
		return "narrower"
	case "narrower":
		return "wider"
	case "subsumes":
		return "specializes"
	case "specializes":
		return "subsumes"
	}
	return eq
}

// Translate is ConceptMap/$translate: a Parameters resource in (url,
// conceptMap, conceptMapVersion, code, system, version, source, coding,
// codeableConcept, target, targetsystem, reverse) and out (result, message,
// match with equivalence, concept and source). For
// ConceptMap/[id]/$translate pass the stored resource's url.
func (s *Service) Translate(_ context.Context, in map[string]any) (map[string]any, error) {
	p, err := readParams("$translate", in)
	if err != nil {
		return nil, err
	}
	req := TranslateRequest{ConceptMap: p.str("url"), Source: p.str("source"), Target: p.str("target"), TargetSystem: p.str("targetsystem")}
	if v := p.str("conceptMapVersion"); v != "" && req.ConceptMap != "" {
		req.ConceptMap = stripVersion(req.ConceptMap) + "|" + v
	}
	if req.Reverse, err = p.boolean("reverse"); err != nil {
		return nil, err
	}
	if r := p.resource("conceptMap"); r != nil {
		parsed, err := parseResource(r)
		if err != nil || parsed.cm == nil {
			return nil, outcome.New(outcome.Invalid, "$translate: parameter conceptMap must be a ConceptMap with a url")
		}
		req.Map = parsed.cm
	}
	codings := codingsOf(p, "system", "version")
	if len(codings) == 0 {
		return nil, outcome.New(outcome.Invalid, "$translate needs a code and a system, a coding or a codeableConcept")
	}
	tables := s.Tables()
	var tr Translation
	for _, c := range codings {
		req.Coding = c
		one, err := tables.TranslateCode(req)
		if err != nil {
			return nil, err
		}
		tr.Result = tr.Result || one.Result
		tr.Matches = append(tr.Matches, one.Matches...)
		tr.Message = first(tr.Message, one.Message)
	}
	return tr.parameters(), nil
}

func (tr *Translation) parameters() map[string]any {
	var o out
	o.add("result", "Boolean", tr.Result)
	if tr.Message != "" && !tr.Result {
		o.add("message", "String", tr.Message)
	}
	for _, m := range tr.Matches {
		var part out
		part.add("equivalence", "Code", m.Equivalence)
		part.add("concept", "Coding", codingValue(m.Concept))
		part.add("source", "Uri", m.Source)
		o.addPart("match", &part)
	}
	return o.parameters()
}
