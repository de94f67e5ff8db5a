package accreditation

import (
	"context"
	"fmt"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// Canonical URLs of the assessment. (assumed) eHealth+ has no published
// implementation guide; the URLs are the platform's own.
const (
	// CodeSystem codes the levels, the marks, the record types of the
	// groups and the populations valid and coded.
	CodeSystem = "https://ehealth.hk/fhir/CodeSystem/accreditation"
	// MeasureURL is the Measure every assessment reports on.
	MeasureURL = "https://ehealth.hk/fhir/Measure/connectivity-accreditation"
	// LevelExtension carries the level on the MeasureReport (valueCoding).
	LevelExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-level"
	// MarkExtension carries each mark on the MeasureReport (valueCoding).
	MarkExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-mark"
	// TypesExtension carries the number of record types counted toward
	// the level (valueInteger).
	TypesExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-types"
	// CodedShareExtension carries a group's share of records coded from
	// the expected code systems (valueDecimal); the group's measureScore
	// is its share valid against the profile.
	CodedShareExtension = "https://ehealth.hk/fhir/StructureDefinition/accreditation-coded-share"
	// populationSystem codes the standard initial population
	// (https://hl7.org/fhir/R4/codesystem-measure-population.html).
	populationSystem = "http://terminology.hl7.org/CodeSystem/measure-population"
)

// Population codes of a group in CodeSystem, beside the standard
// initial-population (the records deposited).
const (
	PopulationValid = "valid" // records valid against the profile
	PopulationCoded = "coded" // records coded from the expected systems
)

// levelDisplay and markDisplay are the codes' displays.
var (
	levelDisplay = map[Level]string{None: "Not accredited", Bronze: "Bronze", Silver: "Silver", Gold: "Gold"}
	markDisplay  = map[Mark]string{MarkLab: "Laboratory reports", MarkRadiology: "Radiology reports or images"}
)

// MeasureReport is the assessment as a FHIR MeasureReport
// (https://hl7.org/fhir/R4/measurereport.html): a summary for the
// provider (subject and reporter) over the period, one group per record
// type deposited — populations initial-population (deposited), valid and
// coded, measureScore the valid share, the coded share in an extension —
// and the level, the marks and the number of types counted as extensions.
func (a Assessment) MeasureReport() map[string]any {
	ext := []any{
		map[string]any{"url": LevelExtension, "valueCoding": coding(string(a.Level), levelDisplay[a.Level])},
		map[string]any{"url": TypesExtension, "valueInteger": len(a.Counted())},
	}
	for _, m := range a.Marks {
		ext = append(ext, map[string]any{"url": MarkExtension, "valueCoding": coding(string(m), markDisplay[m])})
	}
	groups := make([]any, 0, len(a.Types))
	for _, t := range a.Types {
		groups = append(groups, map[string]any{
			"code": map[string]any{"coding": []any{coding(string(t.Type), "")}},
			"population": []any{
				population(populationSystem, "initial-population", t.Count),
				population(CodeSystem, PopulationValid, t.Valid),
				population(CodeSystem, PopulationCoded, t.Coded),
			},
			"measureScore": map[string]any{"value": t.ValidShare(), "unit": "1", "system": "http://unitsofmeasure.org", "code": "1"},
			"extension":    []any{map[string]any{"url": CodedShareExtension, "valueDecimal": t.CodedShare()}},
		})
	}
	mr := map[string]any{
		"resourceType": "MeasureReport",
		"meta":         resource.PlatformOriginMeta(),
		"extension":    ext,
		"status":       "complete",
		"type":         "summary",
		"measure":      MeasureURL,
		"subject":      map[string]any{"reference": a.Org},
		"date":         a.Date.UTC().Format(time.RFC3339),
		"reporter":     map[string]any{"reference": a.Org},
		"period":       map[string]any{"start": a.Period.Start, "end": a.Period.End},
	}
	if len(groups) > 0 {
		mr["group"] = groups
	}
	return mr
}

// coding is a Coding of CodeSystem.
func coding(code, display string) map[string]any {
	c := map[string]any{"system": CodeSystem, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

// population is a group's population with its count.
func population(system, code string, n int64) map[string]any {
	return map[string]any{"code": map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}, "count": n}
}

// Record stores a's MeasureReport as the platform, so the provider's
// accreditation keeps its history (GET MeasureReport?subject=Organization/ID),
// and returns it as stored.
func (s *Service) Record(ctx context.Context, a Assessment) (map[string]any, error) {
	v, err := s.svc.Create(ctx, resource.Caller{Writer: Writer}, "MeasureReport", a.MeasureReport())
	if err != nil {
		return nil, fmt.Errorf("accreditation: record the assessment of %s: %w", a.Org, err)
	}
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, fmt.Errorf("accreditation: decode MeasureReport/%s: %w", v.ID, err)
	}
	return res, nil
}
