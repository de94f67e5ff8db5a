package demo_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// population is a generated territory indexed for the pattern tests.
type population struct {
	*collect
	age map[string]int // Patient/id → age at End
}

func newPopulation(t *testing.T, n int) population {
	c := generate(t, demo.Config{Citizens: n, Seed: 21})
	p := population{collect: c, age: map[string]int{}}
	for _, pt := range c.byTyp["Patient"] {
		birth, _ := time.ParseInLocation(time.DateOnly, pt["birthDate"].(string), registry.HongKong)
		p.age["Patient/"+pt["id"].(string)] = registry.Age(birth, demo.DefaultEnd)
	}
	return p
}

func subjectOf(res map[string]any) string {
	for _, k := range []string{"subject", "patient"} {
		if m, ok := res[k].(map[string]any); ok {
			s, _ := m["reference"].(string)
			return s
		}
	}
	return ""
}

func codeOf(res map[string]any, key string) string {
	cc, _ := res[key].(map[string]any)
	codings, _ := cc["coding"].([]any)
	if len(codings) == 0 {
		return ""
	}
	s, _ := codings[0].(map[string]any)["code"].(string)
	return s
}

// TestReferencesResolve: every reference points at a generated resource
// (or the prescription's contained herbs).
func TestReferencesResolve(t *testing.T) {
	p := newPopulation(t, 300)
	ids := map[string]bool{}
	for _, key := range p.order {
		ids[key] = true
	}
	var walk func(node any, where string)
	walk = func(node any, where string) {
		switch v := node.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "reference" && !strings.HasPrefix(s, "#") && !ids[s] {
					t.Errorf("%s refers to %s, which was not generated", where, s)
				}
				walk(x, where)
			}
		case []any:
			for _, x := range v {
				walk(x, where)
			}
		}
	}
	for typ, list := range p.byTyp {
		for _, res := range list {
			walk(res, typ+"/"+res["id"].(string))
		}
	}
}

func TestClinicalPatterns(t *testing.T) {
	p := newPopulation(t, 1500)
	conditions := map[string]map[string]bool{} // patient → ICD-10 codes
	for _, c := range p.byTyp["Condition"] {
		codings := c["code"].(map[string]any)["coding"].([]any)
		icd := codings[1].(map[string]any)["code"].(string)
		if conditions[subjectOf(c)] == nil {
			conditions[subjectOf(c)] = map[string]bool{}
		}
		conditions[subjectOf(c)][icd] = true
	}
	t.Run("hypertension rises with age", func(t *testing.T) {
		var young, old, nYoung, nOld float64
		for pt, age := range p.age {
			switch {
			case age >= 18 && age < 45:
				nYoung++
				if conditions[pt]["I10"] {
					young++
				}
			case age >= 65:
				nOld++
				if conditions[pt]["I10"] {
					old++
				}
			}
		}
		if young/nYoung > 0.12 || old/nOld < 0.4 || old/nOld > 0.7 {
			t.Errorf("hypertension: %.2f of 18-44, %.2f of 65+; want under 0.12 and 0.4-0.7", young/nYoung, old/nOld)
		}
	})
	t.Run("blood pressure only for hypertensives", func(t *testing.T) {
		n := 0
		for _, o := range p.byTyp["Observation"] {
			if codeOf(o, "code") == "85354-9" {
				n++
				if !conditions[subjectOf(o)]["I10"] {
					t.Fatalf("%s has a blood pressure series without hypertension", subjectOf(o))
				}
			}
		}
		if n == 0 {
			t.Error("no blood pressure observations")
		}
	})
	t.Run("diabetics' HbA1c falls under treatment", func(t *testing.T) {
		series := map[string][]float64{}
		for _, o := range p.byTyp["Observation"] { // written in time order per citizen
			if codeOf(o, "code") == "4548-4" {
				if !conditions[subjectOf(o)]["E11.9"] {
					t.Fatalf("%s has HbA1c without diabetes", subjectOf(o))
				}
				v, _ := strconv.ParseFloat(string(jsonNumber(o)), 64)
				series[subjectOf(o)] = append(series[subjectOf(o)], v)
			}
		}
		falls, total := 0, 0
		for _, s := range series {
			if len(s) >= 4 {
				total++
				if s[len(s)-1] < s[0] {
					falls++
				}
			}
		}
		if total < 10 || float64(falls)/float64(total) < 0.7 {
			t.Errorf("HbA1c fell for %d of %d diabetics with 4 or more results; want most", falls, total)
		}
	})
	t.Run("infants are immunised", func(t *testing.T) {
		dtap := map[string]bool{}
		for _, im := range p.byTyp["Immunization"] {
			if codeOf(im, "vaccineCode") == "130" {
				dtap[subjectOf(im)] = true
			}
		}
		infants, vaccinated := 0, 0
		for pt, age := range p.age {
			if age >= 1 && age <= 3 {
				infants++
				if dtap[pt] {
					vaccinated++
				}
			}
		}
		if infants == 0 || vaccinated < infants*8/10 {
			t.Errorf("%d of %d children aged 1-3 had DTaP-IPV", vaccinated, infants)
		}
	})
	t.Run("consents in every state and restricted records", func(t *testing.T) {
		states := map[string]int{}
		for _, c := range p.byTyp["Consent"] {
			if !strings.HasSuffix(c["id"].(string), "-join") {
				period := c["provision"].(map[string]any)["period"].(map[string]any)
				end, _ := period["end"].(string)
				switch {
				case c["status"] == "inactive":
					states["revoked"]++
				case end != "" && end < demo.DefaultEnd.UTC().Format(time.RFC3339):
					states["expired"]++
				default:
					states["active"]++
				}
			}
		}
		restricted := 0
		for _, c := range p.byTyp["Condition"] {
			if c["meta"] != nil {
				restricted++
			}
		}
		if states["active"] == 0 || states["revoked"] == 0 || states["expired"] == 0 || restricted == 0 {
			t.Errorf("sharing consents %v, restricted records %d: want some of each", states, restricted)
		}
	})
	t.Run("Chinese-medicine prescriptions in grams", func(t *testing.T) {
		n := 0
		for _, mr := range p.byTyp["MedicationRequest"] {
			contained, ok := mr["contained"].([]any)
			if !ok {
				continue
			}
			n++
			for _, ing := range contained[0].(map[string]any)["ingredient"].([]any) {
				num := ing.(map[string]any)["strength"].(map[string]any)["numerator"].(map[string]any)
				if num["code"] != "g" {
					t.Fatalf("%s: a herb dosed in %v", mr["id"], num["code"])
				}
			}
		}
		if n == 0 {
			t.Error("no Chinese-medicine prescriptions")
		}
	})
}

func jsonNumber(o map[string]any) string {
	q := o["valueQuantity"].(map[string]any)
	switch v := q["value"].(type) {
	case interface{ String() string }:
		return v.String()
	default:
		return ""
	}
}
