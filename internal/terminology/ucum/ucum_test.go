package ucum

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		unit string
		ok   bool
		msg  string // substring of the error
	}{
		{"mg", true, ""},
		{"kg", true, ""},
		{"mg/dL", true, ""},
		{"mm[Hg]", true, ""},
		{"cm[H2O]", true, ""},
		{"/min", true, ""},
		{"s-1", true, ""},
		{"m2", true, ""},
		{"kg/m2", true, ""},
		{"10*3/uL", true, ""},
		{"10*-3", true, ""},
		{"10^6", true, ""},
		{"%", true, ""},
		{"1", true, ""},
		{"{score}", true, ""},
		{"mL/min/{1.73_m2}", true, ""},
		{"[IU]/L", true, ""},
		{"m[IU]/mL", true, ""},
		{"[lb_av]", true, ""},
		{"[in_i]", true, ""},
		{"Cel", true, ""},
		{"[degF]", true, ""},
		{"umol/L", true, ""},
		{"ng/mL", true, ""},
		{"meq/L", true, ""},
		{"kcal", true, ""},
		{"daL", true, ""},
		{"Kibit", true, ""},
		{"B[10.nV]", true, ""},
		{"cal_[15]", true, ""},
		{"(kg.m)/s2", true, ""},
		{"/100{cells}", true, ""},
		{"g/(8.h){shift}", true, ""},
		{"mg{total}", true, ""},
		{"[iU]", true, ""},
		{"h", true, ""},
		{"wk", true, ""},
		{"a", true, ""},
		{"mo", true, ""},
		{"", false, "empty"},
		{"mgg", false, "unknown unit"},
		{"MG", true, ""}, // megagauss
		{"MGX", false, "unknown unit"},
		{"{clock time}", true, ""},
		{"kh", false, "takes no prefix"}, // hour is not metric
		{"k[lb_av]", false, "takes no prefix"},
		{"mg/", false, "expected a unit"},
		{"/", false, "expected a unit"},
		{"mg//L", false, "expected a unit"},
		{"(mg", false, "missing ')'"},
		{"mg)", false, "unexpected"},
		{"{abc", false, "missing '}'"},
		{"mg{a{b}}", false, "not allowed in an annotation"},
		{"[lb_av", false, "missing ']'"},
		{"m g", false, "not allowed"},
		{"2mg", false, "unknown unit"},
		{"mg-", false, "sign"},
		{"-1", false, "exponent without a unit"},
		{"µg", false, "not allowed"},
		{"mg.", false, "expected a unit"},
		{".mg", false, "expected a unit"},
		{"mg{é}", false, "not allowed in an annotation"},
	}
	for _, tc := range tests {
		t.Run(tc.unit, func(t *testing.T) {
			err := Validate(tc.unit)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tc.unit, err, tc.ok)
			}
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.msg) {
					t.Errorf("Validate(%q) = %v, want a SyntaxError mentioning %q", tc.unit, err, tc.msg)
				}
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	unit := strings.Repeat("(", 1000) + "m" + strings.Repeat(")", 1000)
	if err := Validate(unit); err == nil || !strings.Contains(err.Error(), "too deeply") {
		t.Errorf("Validate(deep) = %v, want too deeply", err)
	}
	if err := Validate("((((m))))"); err != nil {
		t.Errorf("Validate(shallow) = %v", err)
	}
}

// TestCommonUnits checks every unit of the FHIR ucum-common value set, the
// units HL7 lists as in common use, parses.
func TestCommonUnits(t *testing.T) {
	f, err := os.Open("../../../../shared/fhir/definitions/valuesets.json.gz")
	if err != nil {
		t.Skipf("FHIR definitions not available: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				URL     string
				Compose struct {
					Include []struct {
						System  string
						Concept []struct{ Code string }
					}
				}
			}
		}
	}
	if err := json.NewDecoder(zr).Decode(&bundle); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range bundle.Entry {
		for _, inc := range e.Resource.Compose.Include {
			if inc.System != "http://unitsofmeasure.org" {
				continue
			}
			for _, c := range inc.Concept {
				n++
				if err := Validate(c.Code); err != nil {
					t.Errorf("%s: %v", e.Resource.URL, err)
				}
			}
		}
	}
	if n < 1000 {
		t.Errorf("only %d UCUM codes in the definitions", n)
	}
	t.Logf("%d listed UCUM codes valid", n)
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"mg/dL", "10*3/uL", "(kg.m)/s2{x}", "[in_i'H2O]", "/min", "B[10.nV]", "s-1", "{a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, unit string) {
		err := Validate(unit)
		if err == nil {
			// A valid unit stays valid inside parentheses and divided.
			if !strings.HasPrefix(unit, "/") {
				if err := Validate("(" + unit + ")"); err != nil {
					t.Errorf("%q valid but (%q) not: %v", unit, unit, err)
				}
			}
			return
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(unit) {
			t.Errorf("Validate(%q) = %v: want a SyntaxError with a position in the input", unit, err)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	for b.Loop() {
		_ = Validate("mL/min/{1.73_m2}")
	}
}
