package registry

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// The match grades of http://hl7.org/fhir/StructureDefinition/match-grade.
const (
	GradeCertain  = "certain"
	GradeProbable = "probable"
	GradePossible = "possible"
)

// MatchGradeExtension is the core extension carrying a $match grade on
// Bundle.entry.search.
const MatchGradeExtension = "http://hl7.org/fhir/StructureDefinition/match-grade"

// The scores of $match, by what agrees. An identity document is certain;
// a name, birth date and sex together are probable; weaker agreement is
// only possible. (assumed) The numbers are a first calibration, not a
// published rule.
const (
	scoreDocument       = 1.0  // the identity document (and no other field disagrees)
	scoreDocumentOddDOB = 0.8  // the document, but another birth date
	scoreNameDOBSex     = 0.9  // full name, birth date and sex
	scoreNameDOB        = 0.85 // full name and birth date; no sex given
	scoreNameDOBOddSex  = 0.6  // full name and birth date, another sex
	scoreFamilyDOBSex   = 0.5  // family name, birth date and sex
)

// Match is one candidate found by $match.
type Match struct {
	ID    string
	Score float64
	Grade string
	// Patient is the master Patient cut down to what a provider needs:
	// id, name, birth date and sex (no identifiers, no contact details).
	Patient map[string]any
}

// The parameters of $match (https://hl7.org/fhir/R4/patient-operation-match.html).
const (
	paramResource    = "resource"
	paramOnlyCertain = "onlyCertainMatches"
	paramCount       = "count"
	defaultCount     = 10
	maxCount         = 50
	// maxCandidates bounds the master records born on one day that one
	// $match scores (Hong Kong has ~200 births a day).
	maxCandidates = 1000
)

func (r *Registry) runMatch(ctx context.Context, c resource.Caller, body map[string]any) (map[string]any, error) {
	if !staff(c, scope.Search, "Patient") {
		return nil, outcome.New(outcome.Forbidden, "$match needs the operator or a provider's token with user/ or system/ Patient search (s)")
	}
	ps, err := parseParams(body, paramResource, paramOnlyCertain, paramCount)
	if err != nil {
		return nil, err
	}
	p, ok, err := ps.one(paramResource)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "$match needs a parameter %q holding a Patient", paramResource)
	}
	query, err := p.resource("Patient")
	if err != nil {
		return nil, err
	}
	onlyCertain, count := false, defaultCount
	if p, ok, err := ps.one(paramOnlyCertain); err != nil {
		return nil, err
	} else if ok {
		if onlyCertain, err = p.boolean(); err != nil {
			return nil, err
		}
	}
	if p, ok, err := ps.one(paramCount); err != nil {
		return nil, err
	} else if ok {
		if count, err = p.integer(); err != nil {
			return nil, err
		}
	}
	matches, err := r.Match(ctx, query, p.path()+".resource", onlyCertain, min(count, maxCount))
	if err != nil {
		return nil, err
	}
	return matchBundle(matches), nil
}

// Match finds the master Patients that query (a Patient) may be: by its
// identity documents (certain), else by name, birth date and sex, best
// first, at most count. It needs an identity document, or a name and a
// birth date. path locates query for error messages.
func (r *Registry) Match(ctx context.Context, query map[string]any, path string, onlyCertain bool, count int) ([]Match, error) {
	docs, err := documents(r.parser, query, path)
	if err != nil {
		return nil, err
	}
	birth, _ := query["birthDate"].(string)
	if len(docs) == 0 && (birth == "" || len(names(query)) == 0) {
		return nil, outcome.At(outcome.Invalid, path, "$match needs an identity document, or a name and a birth date")
	}
	var dob time.Time
	if birth != "" {
		if dob, err = parseDate(birth); err != nil {
			return nil, outcome.At(outcome.Invalid, path+".birthDate", "birthDate: %v", err)
		}
	}
	seen := map[string]bool{}
	var out []Match
	for _, doc := range docs {
		m, ok, err := r.matchDocument(ctx, doc, birth)
		if err != nil {
			return nil, err
		}
		if ok && !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	if birth != "" && !(onlyCertain && len(out) > 0) {
		more, err := r.matchDemographics(ctx, query, docs, dob, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	if onlyCertain {
		out = slices.DeleteFunc(out, func(m Match) bool { return m.Grade != GradeCertain })
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), count)], nil
}

// matchDocument finds the master registered with doc.
func (r *Registry) matchDocument(ctx context.Context, doc identity.Document, birth string) (Match, bool, error) {
	held, err := r.holder(ctx, doc)
	if err != nil || held.Patient == "" {
		return Match{}, false, err
	}
	p, err := r.read(ctx, "Patient", held.Patient)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return Match{}, false, nil // a registration in flight, or a stale claim
	}
	if err != nil || !matchable(p.res) {
		return Match{}, false, err
	}
	m := Match{ID: p.v.ID, Score: scoreDocument, Grade: GradeCertain, Patient: minimal(p.res)}
	if b, _ := p.res["birthDate"].(string); birth != "" && b != birth {
		m.Score, m.Grade = scoreDocumentOddDOB, GradeProbable
	}
	return m, true, nil
}

// matchDemographics scores the masters born on dob against query's names
// and sex. A candidate holding a document of a kind the query also gives,
// with another number, is another person and is left out.
func (r *Registry) matchDemographics(ctx context.Context, query map[string]any, docs []identity.Document, dob time.Time, seen map[string]bool) ([]Match, error) {
	q := url.Values{
		"birthdate": {dob.Format(time.DateOnly)},
		"_tag":      {MPISystem + "|" + TagMaster},
		"_count":    {"1000"},
	}
	found, err := r.search(ctx, "Patient", q, "")
	if err != nil {
		return nil, err
	}
	if len(found) > maxCandidates {
		found = found[:maxCandidates]
	}
	var out []Match
	for _, f := range found {
		if seen[f.v.ID] || !matchable(f.res) || contradicts(r.parser, f.res, docs) {
			continue
		}
		score := demographicScore(query, f.res)
		if score == 0 {
			continue
		}
		grade := GradePossible
		if score >= scoreNameDOB {
			grade = GradeProbable
		}
		out = append(out, Match{ID: f.v.ID, Score: score, Grade: grade, Patient: minimal(f.res)})
	}
	return out, nil
}

// demographicScore scores a candidate born on the query's birth date by
// name and sex (0: not a candidate).
func demographicScore(query, cand map[string]any) float64 {
	full, family := nameAgreement(query, cand)
	qs, _ := query["gender"].(string)
	cs, _ := cand["gender"].(string)
	sameSex, noSex := qs == cs, qs == "" || qs == "unknown"
	switch {
	case full && sameSex:
		return scoreNameDOBSex
	case full && noSex:
		return scoreNameDOB
	case full:
		return scoreNameDOBOddSex
	case family && sameSex:
		return scoreFamilyDOBSex
	}
	return 0
}

// contradicts reports whether cand holds a document of a kind (and issuing
// country) among docs with another number.
func contradicts(p *identity.Parser, cand map[string]any, docs []identity.Document) bool {
	theirs, _ := documents(p, cand, "Patient")
	for _, d := range docs {
		for _, t := range theirs {
			if d.System() == t.System() && d.Number != t.Number {
				return true
			}
		}
	}
	return false
}

// matchable: a master record in use — not merged away, not withdrawn.
func matchable(p map[string]any) bool {
	if active, ok := p["active"].(bool); ok && !active {
		return false
	}
	return hasTag(p, TagMaster) && !hasTag(p, TagWithdrawn)
}

// minimal cuts a master Patient down to what $match returns, tagged
// SUBSETTED as _elements results are (https://hl7.org/fhir/R4/search.html#elements).
func minimal(p map[string]any) map[string]any {
	out := map[string]any{
		"resourceType": "Patient",
		"id":           p["id"],
		"meta": map[string]any{"tag": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED", "display": "subsetted",
		}}},
	}
	for _, k := range []string{"name", "birthDate", "gender"} {
		if v, ok := p[k]; ok {
			out[k] = v
		}
	}
	return out
}

// matchBundle is $match's answer: a searchset Bundle whose entries carry
// search.score and the match-grade extension.
func matchBundle(matches []Match) map[string]any {
	entries := make([]any, len(matches))
	for i, m := range matches {
		entries[i] = map[string]any{
			"resource": m.Patient,
			"search": map[string]any{
				"mode":      "match",
				"score":     m.Score,
				"extension": []any{map[string]any{"url": MatchGradeExtension, "valueCode": m.Grade}},
			},
		}
	}
	return map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries}
}
