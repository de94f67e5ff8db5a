package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhirpath"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// ExpectedSystems is the configuration of the code systems expected per
// coded element of each profile: LOINC for laboratory and observation
// codes, SNOMED CT or ICD-10 for diagnoses, RxNorm, ATC or the eHealth+
// drug codes for medicines … A record coded from other systems is still
// valid (bindings decide validity); Report.Coded says whether it used the
// expected ones, which connectivity accreditation counts.
//
// The file form is a JSON object by profile id (or canonical URL), each an
// object by element — a FHIRPath expression from the resource type, such
// as "Observation.code" or "MedicationRequest.medication" — of the list of
// code system URLs:
//
//	{"condition": {"Condition.code": ["http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10"]}}
type ExpectedSystems struct {
	rules map[string][]expectedRule // by profile id or URL, as written
}

// expectedRule is the systems expected of the coded values an expression
// finds.
type expectedRule struct {
	path    string
	expr    *fhirpath.Expression
	systems []string
}

// LoadExpectedSystems reads the configuration from r. Every profile must
// name at least one element, every element a FHIRPath expression that
// compiles and at least one system; Load then checks that the profiles
// exist and each expression starts at the profile's type.
func LoadExpectedSystems(r io.Reader) (*ExpectedSystems, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("profile: read expected systems: %w", err)
	}
	if len(data) > 1<<20 {
		return nil, outcome.New(outcome.Invalid, "expected systems: the file is larger than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]map[string][]string
	if err := dec.Decode(&raw); err != nil {
		return nil, outcome.New(outcome.Invalid, "expected systems: %v", err)
	}
	if dec.More() {
		return nil, outcome.New(outcome.Invalid, "expected systems: data after the JSON object")
	}
	es := &ExpectedSystems{rules: map[string][]expectedRule{}}
	for prof, elems := range raw {
		if prof == "" || len(elems) == 0 {
			return nil, outcome.New(outcome.Invalid, "expected systems: profile %q names no element", prof)
		}
		for path, systems := range elems {
			if err := checkSystems(prof, path, systems); err != nil {
				return nil, err
			}
			expr, err := fhirpath.Compile(path)
			if err != nil {
				return nil, outcome.New(outcome.Invalid, "expected systems: %s: %s: %v", prof, path, err)
			}
			es.rules[prof] = append(es.rules[prof], expectedRule{path: path, expr: expr, systems: slices.Clone(systems)})
		}
		slices.SortFunc(es.rules[prof], func(a, b expectedRule) int { return strings.Compare(a.path, b.path) })
	}
	return es, nil
}

func checkSystems(prof, path string, systems []string) error {
	if len(systems) == 0 {
		return outcome.New(outcome.Invalid, "expected systems: %s: %s lists no code system", prof, path)
	}
	for _, s := range systems {
		if !strings.Contains(s, ":") || strings.ContainsAny(s, " |") {
			return outcome.New(outcome.Invalid, "expected systems: %s: %s: %q is not a code system URL", prof, path, s)
		}
	}
	return nil
}

// DefaultExpectedSystems returns the configuration embedded in the binary
// (expected-systems.json beside this file).
func DefaultExpectedSystems() *ExpectedSystems {
	es, err := LoadExpectedSystems(bytes.NewReader(defaultExpected))
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return es
}

// coded checks the values the rules find in res: it returns false, and
// reports, for each coded value none of whose codings is from the expected
// systems (information: validity is the bindings' to decide). A value
// with no coding at all (text only) counts as not coded.
func (c *checker) coded(rules []expectedRule, res any, typ, root string) bool {
	ok := true
	for _, r := range rules {
		vals, err := r.expr.Evaluate(c.ctx, res, c.opts)
		if err != nil {
			c.add(outcome.SeverityWarning, "processing", root, "expected systems of "+r.path+" not evaluated: "+err.Error(), "")
			continue
		}
		for _, v := range vals {
			m, isMap := v.JSON().(map[string]any)
			if !isMap || !isCoded(v.TypeName()) {
				continue // a Reference (medicationReference), say
			}
			if !fromSystems(m, r.systems) {
				ok = false
				c.add(outcome.SeverityInformation, "code-invalid", root+strings.TrimPrefix(r.path, typ),
					fmt.Sprintf("%s is not coded from an expected code system (%s)", r.path, strings.Join(r.systems, ", ")),
					"expected systems")
			}
		}
	}
	return ok
}

func isCoded(typ string) bool { return typ == "CodeableConcept" || typ == "Coding" }

// fromSystems reports whether a CodeableConcept or Coding has a coding from
// one of systems.
func fromSystems(m map[string]any, systems []string) bool {
	if s, ok := m["system"].(string); ok {
		return slices.Contains(systems, s)
	}
	codings, _ := m["coding"].([]any)
	for _, cd := range codings {
		if cm, ok := cd.(map[string]any); ok {
			if s, _ := cm["system"].(string); slices.Contains(systems, s) {
				return true
			}
		}
	}
	return false
}
