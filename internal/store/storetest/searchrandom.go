package storetest

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// randomParam generates index rows and query values for one parameter.
type randomParam struct {
	code string
	row  func(r *rand.Rand) search.Row
	// query returns a parameter name suffix (":exact", "" …) and a value.
	query func(r *rand.Rand) (string, string)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func mustDate(s string) search.DateRange {
	d, err := search.ParseDate(s, nil)
	if err != nil {
		panic(err)
	}
	return d
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

var (
	randomStrings = []string{"Chan", "Chen", "chan", "Ménard", "Menard", "Lee", "Le", "O'Brien", "50%", "a_b", "Zoë", "陳大文", "Chan Tai"}
	randomDates   = []string{"2020", "2020-06", "2020-06-15", "2020-06-15T10:00:00Z", "2020-06-15T10:00:00.5Z", "2021", "2019-12-31"}
	randomNumbers = []string{"0.1", "0.25", "0.5", "1", "1.0", "10", "100", "-1"}
	prefixes      = []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}
)

// randomParams are, per resource type, the parameters the agreement test
// fills with random rows and queries.
var randomParams = map[string][]randomParam{
	"Patient": {
		{"name", func(r *rand.Rand) search.Row {
			s := pick(r, randomStrings...)
			return search.StringRow{Norm: search.Normalize(s), Exact: s}
		}, func(r *rand.Rand) (string, string) {
			return pick(r, "", "", ":exact", ":contains"), pick(r, append(randomStrings, "ch", "men", "o'", "5", "a_", "zo", "陳", "AN")...)
		}},
		{"gender", func(r *rand.Rand) search.Row {
			return search.TokenRow{System: pick(r, "", "s1", "s2"), Code: pick(r, "a", "b", "c", ""), Text: pick(r, "", "alpha one", "beta"),
				TypeSystem: pick(r, "", "ts"), TypeCode: pick(r, "", "NI")}
		}, func(r *rand.Rand) (string, string) {
			switch mod := pick(r, "", "", ":text", ":not", ":of-type"); mod {
			case ":text":
				return mod, pick(r, "al", "Alpha", "beta", "one")
			case ":of-type":
				return mod, "ts|NI|" + pick(r, "a", "b")
			default:
				return mod, pick(r, "a", "s1|a", "|a", "s1|", "s2|b", "c", "s2|")
			}
		}},
		{"birthdate", func(r *rand.Rand) search.Row {
			d := mustDate(pick(r, randomDates...))
			switch r.IntN(6) {
			case 0:
				d.Lo = search.OpenLow
			case 1:
				d.Hi = search.OpenHigh
			}
			return search.DateRow{DateRange: d}
		}, func(r *rand.Rand) (string, string) {
			return "", pick(r, prefixes...) + pick(r, randomDates...)
		}},
		{"general-practitioner", func(r *rand.Rand) search.Row {
			return pick[search.Row](r,
				search.ReferenceRow{Type: "Patient", ID: "p1"},
				search.ReferenceRow{Type: "Practitioner", ID: "p1"},
				search.ReferenceRow{Type: "Patient", ID: "p2", Version: "3"},
				search.ReferenceRow{Type: "Patient", ID: "p1", Base: "https://h.org/fhir", URL: "https://h.org/fhir/Patient/p1"},
				search.ReferenceRow{URL: "urn:uuid:1"},
				search.ReferenceRow{IdentifierSystem: "sys", IdentifierValue: "v1"},
				search.ReferenceRow{Type: "Organization", ID: "o1", IdentifierSystem: "sys2", IdentifierValue: "v1"})
		}, func(r *rand.Rand) (string, string) {
			switch mod := pick(r, "", "", ":identifier", ":Patient", ":below"); mod {
			case ":identifier":
				return mod, pick(r, "sys|v1", "v1", "sys2|v1", "|v1")
			case ":Patient":
				return mod, pick(r, "p1", "p2")
			case ":below":
				return mod, pick(r, "https://h.org/fhir", "https://h.org")
			default:
				return mod, pick(r, "Patient/p1", "p1", "Practitioner/p1", "https://h.org/fhir/Patient/p1", "urn:uuid:1", "Patient/p2")
			}
		}},
	},
	"Observation": {
		{"value-quantity", func(r *rand.Rand) search.Row {
			v := pick(r, randomNumbers...)
			unit := pick(r, "mg", "g", "kg", "", "m", "[in_i]")
			js := `{"value":` + v + `}`
			if unit != "" {
				js = fmt.Sprintf(`{"value":%s,"system":"http://unitsofmeasure.org","code":%q}`, v, unit)
			}
			rows := search.Extract(&search.Param{Code: "value-quantity", Type: search.Quantity}, "Quantity", decodeJSON(js))
			return rows[0]
		}, func(r *rand.Rand) (string, string) {
			return "", pick(r, prefixes...) + pick(r, randomNumbers...) + pick(r, "", "||mg", "||g", "|http://unitsofmeasure.org|kg", "||m", "||cm", "|urn:x|mg")
		}},
		{"code", func(r *rand.Rand) search.Row {
			return search.TokenRow{System: pick(r, "http://loinc.org", "urn:x"), Code: pick(r, "1", "2", "3")}
		}, func(r *rand.Rand) (string, string) {
			return pick(r, "", ":not"), pick(r, "1", "2", "http://loinc.org|1", "urn:x|")
		}},
	},
	"RiskAssessment": {
		{"probability", func(r *rand.Rand) search.Row {
			lo, hi := rat(pick(r, randomNumbers...)), rat(pick(r, randomNumbers...))
			if lo.Cmp(hi) > 0 {
				lo, hi = hi, lo
			}
			switch r.IntN(4) {
			case 0:
				return search.NumberRow{Lo: lo, Hi: lo}
			case 1:
				return search.NumberRow{Lo: lo}
			case 2:
				return search.NumberRow{Hi: hi}
			}
			return search.NumberRow{Lo: lo, Hi: hi}
		}, func(r *rand.Rand) (string, string) {
			return "", pick(r, prefixes...) + pick(r, randomNumbers...)
		}},
	},
	"ValueSet": {
		{"url", func(r *rand.Rand) search.Row {
			return search.URIRow{URI: pick(r, "http://a.org/fhir/ValueSet/x", "http://a.org/fhir/ValueSet/x/", "http://a.org/fhir", "http://b.org", "http://a.org/fhirx")}
		}, func(r *rand.Rand) (string, string) {
			return pick(r, "", ":below", ":above"), pick(r, "http://a.org/fhir", "http://a.org/fhir/ValueSet/x/1", "http://b.org", "http://a.org/fhir/")
		}},
	},
}

// testSearchAgreesWithMatch writes resources with random rows and runs
// random queries (random clauses, modifiers, prefixes, access predicates
// and sorts); the store must return exactly what search.Match and
// search.SortKeyOf say, in that order.
func testSearchAgreesWithMatch(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	r := rand.New(rand.NewPCG(5, 7))
	keys := []string{"", "k1", "k2", "k3", "k4"}
	types := []string{"Patient", "Observation", "RiskAssessment", "ValueSet"}
	for _, typ := range types {
		for i := range 30 {
			var fields []field
			for _, p := range randomParams[typ] {
				f := field{code: p.code}
				for range r.IntN(3) {
					f.rows = append(f.rows, p.row(r))
				}
				fields = append(fields, f)
			}
			w.put(typ, fmt.Sprint(strings.ToLower(typ[:2]), i), pick(r, keys...), fields...)
		}
	}
	checked := 0
	for n := 0; n < 400; n++ {
		typ := pick(r, types...)
		params := randomParams[typ]
		vals := url.Values{}
		for range 1 + r.IntN(2) {
			p := pick(r, params...)
			if r.IntN(8) == 0 {
				vals.Add(p.code+":missing", pick(r, "true", "false"))
				continue
			}
			mod, v := p.query(r)
			if r.IntN(3) == 0 {
				_, v2 := p.query(r)
				v += "," + v2
			}
			vals.Add(p.code+mod, v)
		}
		if r.IntN(2) == 0 {
			p := pick(r, params...)
			vals.Set("_sort", pick(r, "", "-")+p.code)
		}
		vals.Set("_count", fmt.Sprint(1+r.IntN(12)))
		plan, _, err := search.Parse(typ, vals, w.reg, true)
		if err != nil {
			continue // a combination the parser refuses, such as several values of a one-value parameter
		}
		access := store.AccessAll
		if r.IntN(2) == 0 {
			access = store.Access{Patients: []string{pick(r, keys[1:]...), pick(r, keys[1:]...)}, NonPatient: r.IntN(2) == 0}
		}
		want := w.expected(typ, plan, access)
		got := refs(w.all(store.SearchQuery{Plan: plan, Access: access}))
		if got != want {
			t.Errorf("%s?%s under %+v\n got %s\nwant %s", typ, vals.Encode(), access, got, want)
		}
		checked++
	}
	if checked < 300 {
		t.Errorf("only %d random queries parsed", checked)
	}
}

// expected runs the reference matcher over the world's rows: the current
// resources of typ visible under access that match every clause, ordered
// by the plan's sort keys, missing values last, then by creation.
func (w *world) expected(typ string, plan *search.Query, access store.Access) string {
	type hit struct {
		key  string
		sort []search.SortKey
		has  []bool
	}
	var hits []hit
	for _, key := range w.order {
		v := w.vs[key]
		if v.Type != typ || v.Deleted || !access.Allows(v.PatientKey) {
			continue
		}
		rowsOf := func(code string) []search.Row {
			var out []search.Row
			for _, e := range w.rows[key] {
				if e.Code == code {
					out = append(out, e.Row)
				}
			}
			return out
		}
		ok := true
		for _, c := range plan.Clauses {
			ok = ok && search.Match(c, rowsOf(c.Param.Code))
		}
		if !ok {
			continue
		}
		h := hit{key: key}
		for _, sp := range plan.Sort {
			k, has := search.SortKeyOf(rowsOf(sp.Param.Code), sp.Desc)
			h.sort, h.has = append(h.sort, k), append(h.has, has)
		}
		hits = append(hits, h)
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		for i, sp := range plan.Sort {
			switch {
			case a.has[i] != b.has[i]:
				if a.has[i] {
					return -1
				}
				return 1
			case !a.has[i]:
				continue
			}
			c := search.CompareSortKeys(a.sort[i], b.sort[i])
			if sp.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	var out []string
	for _, h := range hits {
		out = append(out, h.key)
	}
	return strings.Join(out, " ")
}
