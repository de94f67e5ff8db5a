package fhirpath

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

func mustParse(t testing.TB, s string) map[string]any {
	t.Helper()
	m, err := fhir.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// eval evaluates expr and renders the result as literals, "a, b".
func eval(t testing.TB, expr string, input any, opts *Options) string {
	t.Helper()
	x, err := Compile(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	out, err := x.Evaluate(context.Background(), input, opts)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	parts := make([]string, len(out))
	for i, v := range out {
		parts[i] = literalString(v)
	}
	return strings.Join(parts, ", ")
}

func TestLanguage(t *testing.T) {
	tests := []struct{ expr, want string }{
		// exact decimals, integers, precedence
		{"0.1 + 0.2 = 0.3", "true"},
		{"1.2 * 3", "3.6"},
		{"10 / 4", "2.5"},
		{"7 div 2 + 7 mod 2", "4"},
		{"2 + 3 * 4 - 1", "13"},
		{"-(3 + 4).abs()", "-7"},
		{"(1.5).round() | 2.5.round() | (-2.5).round()", "2, 3, -3"},
		// three-valued logic and empty propagation
		{"{} and false", "false"},
		{"{} or true", "true"},
		{"({} implies false).empty()", "true"},
		{"(1 + {}).empty()", "true"},
		// quantities with UCUM conversion
		{"1 'kg' = 1000 'g'", "true"},
		{"1 'L' = 1000 'mL'", "true"},
		{"1 'h' = 60 'min'", "true"},
		{"1 'wk' = 7 'd'", "true"},
		{"100 'cm' = 1 'm'", "true"},
		{"120 'mm[Hg]' > 15 'kPa'", "true"},
		{"(1 'kg' + 500 'g')", "1.5 'kg'"},
		{"1 'kg' = 1 'm'", ""},
		{"2 weeks = 14 days", "true"},
		{"1 year = 12 months", "true"},
		{"1 year = 1 'a'", ""},
		// dates, partial precision, arithmetic
		{"@2012 < @2012-03", ""},
		{"@2012-01 < @2012-03-04", "true"},
		{"@2019-01-31 + 1 month", "@2019-02-28"},
		{"@2019-03-01T10:00:00Z - 2 hours", "@2019-03-01T08:00:00Z"},
		{"@2015-02-04T14:34:28+09:00 = @2015-02-04T05:34:28Z", "true"},
		{"@T14:34 < @T14:35:00", "true"},
		{"today() = @2024-05-06", "true"},
		{"now() = @2024-05-06T07:08:09.000Z", "true"},
		// strings
		{"'a,b,,c'.split(',').count()", "4"},
		{"'Hello'.substring(1, 3) & '!'", "ell!"},
		{"'abc'.matches('^a.c$') and 'ABC'.matches('b').not()", "true"},
		{"'2024-05-06'.replaceMatches('(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1')", "06/05/2024"},
		{"'  x  y '.trim() ~ 'X Y'", "true"},
		// functions over collections
		{"(3 | 1 | 2).sort()", "1, 2, 3"},
		{"(1 | 2 | 3).select($this * $index)", "0, 2, 6"},
		{"(1 | 2 | 3 | 4).where($this mod 2 = 0).aggregate($total + $this, 0)", "6"},
		{"(1 | 2).combine(2 | 3).distinct().count()", "3"},
		{"(1 | 1.0 | 'a' | 'a' | true).count()", "3"},
		{"(1 | 2 | 3).exclude(2 | 3.0)", "1"},
		{"2.power(10) | 2.power(100).empty()", "1024, true"},
		{"@2015-02-04T14:34:28.123+09:00.yearOf() | @2015-02-04T14:34:28+09:00.timeOf()", "2015, @T14:34:28"},
		{"(2 'm' * 3 'm') = 6 'm2'", "true"},
		{"%n + 1", "4"},
		{"%greeting.upper()", "HI"},
	}
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	opts := &Options{Now: now, Env: map[string]any{"n": 3, "greeting": "hi"}}
	for _, tc := range tests {
		if got := eval(t, tc.expr, nil, opts); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

const testObservation = `{"resourceType":"Observation","id":"o1","status":"final",
"code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
"subject":{"reference":"Patient/p1"},"performer":[{"reference":"#pr"}],
"contained":[{"resourceType":"Practitioner","id":"pr","name":[{"family":"Careful"}]}],
"effectiveDateTime":"2016-03-28T09:30:00+01:00",
"valueQuantity":{"value":185.50,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"},
"component":[{"code":{"text":"a"},"valueString":"x"},{"code":{"text":"b"},"valueBoolean":true}]}`

func TestTypes(t *testing.T) {
	obs := mustParse(t, testObservation)
	tests := []struct{ expr, typ string }{
		{"Observation.value", "Quantity"},
		{"Observation.status", "code"},
		{"Observation.effective", "dateTime"},
		{"Observation.value.value", "decimal"},
		{"Observation.code.coding.first()", "Coding"},
		{"Observation.component.first()", "BackboneElement"},
		{"Observation.component.value.first()", "string"},
		{"Observation.contained.first()", "Practitioner"},
		{"Observation.value.as(Quantity).value + 1", "decimal"},
	}
	for _, tc := range tests {
		out, err := MustCompile(tc.expr).Evaluate(context.Background(), obs, nil)
		if err != nil || len(out) == 0 {
			t.Fatalf("%s: %v %v", tc.expr, out, err)
		}
		if got := out[0].TypeName(); got != tc.typ {
			t.Errorf("%s: type %s, want %s", tc.expr, got, tc.typ)
		}
	}
	for expr, want := range map[string]string{
		"Observation.value is Quantity and Observation.is(DomainResource) and Observation.is(FHIR.Resource)": "true",
		"Observation.value > 180 '[lb_av]' and Observation.value < 90 'kg'":                                  "true",
		"Observation.component.value.ofType(boolean)":                                                        "true",
		"Observation.children().count() > 5":                                                                 "true",
		"Observation.performer.resolve().name.family":                                                        "Careful",
		"Observation.subject.resolve().name.family":                                                          "Chalmers",
		"Observation.code.memberOf('http://example.org/vs/weight')":                                          "true",
		"Observation.code.memberOf('http://example.org/vs/other')":                                           "false",
		"Observation.code.memberOf('http://example.org/vs/unknown')":                                         "",
		"%resource.id & %rootResource.id":                                                                    "o1o1",
	} {
		opts := &Options{
			Resolver: func(ref string) map[string]any {
				if ref == "Patient/p1" {
					return mustParse(t, `{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers"}]}`)
				}
				return nil
			},
			Terminology: fakeTerminology{},
		}
		if got := eval(t, expr, obs, opts); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

type fakeTerminology struct{}

func (fakeTerminology) MemberOf(vs, system, code string) (bool, bool) {
	switch vs {
	case "http://example.org/vs/weight":
		return system == "http://loinc.org" && code == "29463-7", true
	case "http://example.org/vs/other":
		return false, true
	}
	return false, false
}

func TestResolveInBundle(t *testing.T) {
	b := mustParse(t, `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"a","gender":"female"}},
		{"fullUrl":"urn:uuid:2","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:1"}}}]}`)
	obs := b["entry"].([]any)[1].(map[string]any)["resource"].(map[string]any)
	if got := eval(t, "Observation.subject.where(resolve() is Patient).resolve().gender", obs, &Options{Bundle: b}); got != "female" {
		t.Errorf("got %q", got)
	}
	if got := eval(t, "Bundle.entry.resource.ofType(Observation).subject.resolve().gender", b, nil); got != "female" {
		t.Errorf("got %q", got)
	}
}

func TestEvalBool(t *testing.T) {
	pat := mustParse(t, `{"resourceType":"Patient","name":[{"given":["A"]}],"active":true}`)
	for expr, want := range map[string][2]bool{
		"name.given.exists()": {true, true},
		"active.not()":        {false, true},
		"deceased":            {false, false},
		"name":                {true, true}, // a single non-Boolean item counts as true
	} {
		v, ok, err := MustCompile(expr).EvalBool(context.Background(), pat, nil)
		if err != nil || v != want[0] || ok != want[1] {
			t.Errorf("%s: %v %v %v, want %v", expr, v, ok, err, want)
		}
	}
	if _, _, err := MustCompile("name.given | 'x'").EvalBool(context.Background(), pat, nil); err == nil {
		t.Error("several items accepted as a Boolean")
	}
}

func TestErrors(t *testing.T) {
	for expr, pos := range map[string]string{
		"1 +":                  "1:4",
		"name.where(\n  x = )": "2:7",
		"'unterminated":        "1:1",
		"foo(1)":               "1:1",
		"1.is(NoSuchType)":     "1:6",
		"first(1)":             "1:1",
		"@2015-13-01":          "1:1",
	} {
		_, err := Compile(expr)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Pos.String() != pos {
			t.Errorf("%q: %v, want a syntax error at %s", expr, err, pos)
		}
	}
	pat := mustParse(t, `{"resourceType":"Patient","name":[{"given":["A","B"]}]}`)
	for _, expr := range []string{"name.given1", "Observation.status", "name.given.single()", "name.given + 1", "1 < 'a'"} {
		if _, err := MustCompile(expr).Evaluate(context.Background(), pat, nil); err == nil {
			t.Errorf("%s: no error", expr)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	if _, err := Compile(deep); err == nil {
		t.Error("5000 nested parentheses accepted")
	}
	long := "1" + strings.Repeat(" + 1", 5000)
	if x, err := Compile(long); err == nil {
		if _, err := x.Evaluate(context.Background(), nil, nil); err == nil {
			t.Error("5000 nested additions evaluated beyond the depth limit")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var list []string
	for i := range 60 {
		list = append(list, strconv.Itoa(i))
	}
	nums := "(" + strings.Join(list, " | ") + ")"
	x := MustCompile(nums + ".combine(" + nums + ").select(" + nums + ".combine(" + nums + ").count())")
	if _, err := x.Evaluate(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	var cache Cache
	pat := mustParse(t, `{"resourceType":"Patient","name":[{"given":["A","B"]}],"birthDate":"2000-01-01"}`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				x, err := cache.Compile("name.given.count() + birthDate.toString().length()")
				if err != nil {
					t.Error(err)
					return
				}
				out, err := x.Evaluate(context.Background(), pat, nil)
				if err != nil || len(out) != 1 || literalString(out[0]) != "12" {
					t.Errorf("got %v %v", out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
