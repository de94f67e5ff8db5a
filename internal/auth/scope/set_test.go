package scope

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"v2", "patient/Observation.rs", "patient/Observation.rs"},
		{"v2 all", "user/*.cruds", "user/*.cruds"},
		{"v2 single", "system/Patient.d", "system/Patient.d"},
		{"v2 cud", "patient/MedicationRequest.cud", "patient/MedicationRequest.cud"},
		{"v1 read", "patient/Observation.read", "patient/Observation.rs"},
		{"v1 write", "user/Encounter.write", "user/Encounter.cud"},
		{"v1 star", "patient/*.*", "patient/*.cruds"},
		{"non-clinical", "openid fhirUser profile launch launch/patient launch/encounter offline_access online_access",
			"fhirUser launch launch/encounter launch/patient offline_access online_access openid profile"},
		{"mixed v1 and v2, sorted", "openid patient/Observation.read user/Condition.rs launch",
			"launch openid patient/Observation.rs user/Condition.rs"},
		{"extra spaces", "  openid   patient/Observation.rs ", "openid patient/Observation.rs"},
		{"duplicates", "openid openid patient/Observation.rs patient/Observation.rs", "openid patient/Observation.rs"},
		{"permissions merge", "patient/Observation.r patient/Observation.s", "patient/Observation.rs"},
		{"v1 and v2 merge", "patient/Observation.read patient/Observation.write", "patient/Observation.cruds"},
		{"covered scope dropped", "patient/*.rs patient/Observation.r", "patient/*.rs"},
		{"restricted scope under unrestricted dropped", "patient/Observation.rs?category=laboratory patient/Observation.rs", "patient/Observation.rs"},
		{"not covered across contexts", "user/*.rs patient/Observation.r", "patient/Observation.r user/*.rs"},
		{"not covered: more perms", "patient/*.r patient/Observation.rs", "patient/*.r patient/Observation.rs"},
		{"query", "patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory"},
		{"query system|code stays readable",
			"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
			"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"},
		{"query percent-encoded", "patient/Observation.rs?category=http%3A%2F%2Fx%7Clab", "patient/Observation.rs?category=http://x|lab"},
		{"query params sorted", "patient/Observation.rs?status=final&category=laboratory", "patient/Observation.rs?category=laboratory&status=final"},
		{"query repeated param", "patient/Observation.rs?code=b&code=a&code=b", "patient/Observation.rs?code=a&code=b"},
		{"query escapes what it must", "patient/Observation.rs?code=a%2Bb%26c%3Dd%20e", "patient/Observation.rs?code=a%2Bb%26c%3Dd%20e"},
		{"different queries kept apart", "patient/Observation.r?category=vital-signs patient/Observation.rs?category=laboratory",
			"patient/Observation.r?category=vital-signs patient/Observation.rs?category=laboratory"},
		{"v1 with query", "patient/Observation.read?category=laboratory", "patient/Observation.rs?category=laboratory"},
		{"unknown type accepted", "patient/Foo.r", "patient/Foo.r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := set.String(); got != tt.want {
				t.Fatalf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Parse(set.String())
			if err != nil || !reflect.DeepEqual(again, set) {
				t.Errorf("round trip of %q: %#v, %v; want %#v", set.String(), again, err, set)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in, part, reason string
	}{
		{"patient/Observation.rsc", "permissions", "out of order"},
		{"patient/Observation.sr", "permissions", "out of order"},
		{"patient/Observation.rr", "permissions", "repeated"},
		{"patient/Observation.x", "permissions", `unknown permission "x"`},
		{"patient/Observation.Read", "permissions", `unknown permission "R"`},
		{"patient/Observation.", "permissions", "empty"},
		{"patient/Observation", "permissions", "missing"},
		{"patient/Observation.rs.x", "permissions", `unknown permission "."`},
		{"patient/observation.rs", "resource type", `"observation"`},
		{"patient/.rs", "resource type", `""`},
		{"patient/Obs3rvation.rs", "resource type", "capitalised"},
		{"patient/**.rs", "resource type", `"**"`},
		{"practitioner/Observation.rs", "context", `"practitioner"`},
		{"Patient/Observation.rs", "context", `"Patient"`},
		{"/Observation.rs", "context", `""`},
		{"patient/Observation.rs?", "query", "empty"},
		{"patient/Observation.rs?category", "query", `"category" has no value`},
		{"patient/Observation.rs?category=", "query", "no value"},
		{"patient/Observation.rs?=laboratory", "query", "no name"},
		{"patient/Observation.rs?a=b;c=d", "query", "semicolon"},
		{"patient/Observation.rs?a=%zz", "query", "escape"},
		{"email", "scope", "unknown scope"},
		{"OpenID", "scope", "unknown scope"},
		{"launch/practitioner", "scope", "unknown launch context"},
		{"patient/Observation.rs?a=\"b\"", "scope", "not allowed"},
		{"patient/Obsérvation.rs", "scope", "not allowed"},
		{"patient/Observation.rs\tpatient/Condition.rs", "scope", "not allowed"},
	}
	for _, tt := range tests {
		_, err := Parse("openid " + tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		if pe.Scope != tt.in || pe.Part != tt.part || !strings.Contains(pe.Reason, tt.reason) {
			t.Errorf("Parse(%q) = %v; want part %q, reason mentioning %q", tt.in, err, tt.part, tt.reason)
		}
	}
}

func TestParseReportsEveryBadScope(t *testing.T) {
	_, err := Parse("patient/Observation.x openid user/foo.r")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"patient/Observation.x", "user/foo.r"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestParseTooLong(t *testing.T) {
	if _, err := Parse(strings.Repeat("openid ", 3000)); err == nil {
		t.Error("accepted a 21 KB scope string")
	}
}

func q(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestAllows(t *testing.T) {
	set := MustParse("openid launch/patient " +
		"patient/Observation.rs?category=laboratory patient/Observation.r?category=vital-signs " +
		"patient/Condition.rs patient/*.r?_security=normal user/Patient.rs system/*.s")
	tests := []struct {
		name    string
		ctx     Context
		p       Perm
		typ     string
		allowed bool
		filters []url.Values
	}{
		{"unrestricted", Patient, Read, "Condition", true, nil},
		{"unrestricted search", Patient, Search, "Condition", true, nil},
		{"no create", Patient, Create, "Condition", false, nil},
		{"restricted read: OR of three filters", Patient, Read, "Observation", true,
			[]url.Values{q("_security=normal"), q("category=vital-signs"), q("category=laboratory")}},
		{"restricted search: one filter", Patient, Search, "Observation", true, []url.Values{q("category=laboratory")}},
		{"wildcard with query", Patient, Read, "AllergyIntolerance", true, []url.Values{q("_security=normal")}},
		{"wildcard without the perm", Patient, Search, "AllergyIntolerance", false, nil},
		{"unrestricted wins over restricted", Patient, Read, "Condition", true, nil},
		{"other context does not count", User, Read, "Condition", false, nil},
		{"user scope", User, Search, "Patient", true, nil},
		{"user scope, not read for patient ctx", Patient, Search, "Patient", false, nil},
		{"system wildcard", System, Search, "Observation", true, nil},
		{"system wildcard, no read", System, Read, "Observation", false, nil},
		{"empty type", System, Search, "", false, nil},
		{"unknown context", Context("practitioner"), Read, "Condition", false, nil},
		{"no perm", Patient, 0, "Condition", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, filters := set.Allows(tt.ctx, tt.p, tt.typ)
			if allowed != tt.allowed || !reflect.DeepEqual(filters, tt.filters) {
				t.Errorf("Allows(%s, %s, %q) = %v, %v; want %v, %v", tt.ctx, tt.p, tt.typ, allowed, filters, tt.allowed, tt.filters)
			}
		})
	}
}

func TestAllowsFiltersAreCopies(t *testing.T) {
	set := MustParse("patient/Observation.rs?category=laboratory")
	_, filters := set.Allows(Patient, Read, "Observation")
	filters[0].Set("category", "anything")
	if _, again := set.Allows(Patient, Read, "Observation"); again[0].Get("category") != "laboratory" {
		t.Error("changing a returned filter changed the Set")
	}
}

func TestTypes(t *testing.T) {
	set := MustParse("patient/Observation.rs patient/Condition.r?category=problem-list-item patient/*.s user/Patient.rs")
	tests := []struct {
		ctx  Context
		p    Perm
		want []string
	}{
		{Patient, Read, []string{"Condition", "Observation"}},
		{Patient, Search, []string{"*", "Observation"}},
		{Patient, Create, nil},
		{User, Search, []string{"Patient"}},
	}
	for _, tt := range tests {
		if got := set.Types(tt.ctx, tt.p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Types(%s, %s) = %q, want %q", tt.ctx, tt.p, got, tt.want)
		}
	}
}

func TestHas(t *testing.T) {
	set := MustParse("openid launch/patient patient/*.cruds user/Observation.rs?category=laboratory")
	tests := []struct {
		tok  string
		want bool
	}{
		{"openid", true},
		{"launch/patient", true},
		{"launch", false},
		{"fhirUser", false},
		{"patient/Observation.rs", true},
		{"patient/Observation.read", true},
		{"patient/*.*", true},
		{"user/Observation.rs?category=laboratory", true},
		{"user/Observation.r?category=laboratory&status=final", true},
		{"user/Observation.rs", false},
		{"user/Observation.c?category=laboratory", false},
		{"system/Observation.r", false},
		{"openid launch/patient", false},
		{"", false},
		{"bogus", false},
	}
	for _, tt := range tests {
		if got := set.Has(tt.tok); got != tt.want {
			t.Errorf("Has(%q) = %v, want %v", tt.tok, got, tt.want)
		}
	}
}

func TestNarrow(t *testing.T) {
	tests := []struct {
		name, requested, registered, want string
		covered                           bool
	}{
		{"wildcard registration covers a type", "patient/Observation.rs", "patient/*.cruds", "patient/Observation.rs", true},
		{"v1 request normalised", "patient/Observation.read", "patient/*.cruds", "patient/Observation.rs", true},
		{"perms cut", "patient/Observation.cruds", "patient/Observation.rs", "patient/Observation.rs", false},
		{"wildcard request narrowed to the registered types",
			"patient/*.read", "patient/Observation.rs patient/Condition.r patient/Patient.c",
			"patient/Condition.r patient/Observation.rs", false},
		{"type not registered", "patient/Observation.rs", "patient/Condition.rs", "", false},
		{"context must match", "user/Observation.rs", "patient/*.cruds", "", false},
		{"registration query applies", "patient/Observation.rs", "patient/Observation.rs?category=laboratory",
			"patient/Observation.rs?category=laboratory", false},
		{"request query kept", "patient/Observation.rs?category=laboratory", "patient/Observation.cruds",
			"patient/Observation.rs?category=laboratory", true},
		{"both queries apply", "patient/Observation.rs?status=final", "patient/*.rs?category=laboratory",
			"patient/Observation.rs?category=laboratory&status=final", false},
		{"non-clinical kept only if registered", "openid fhirUser launch/patient offline_access", "openid fhirUser launch/patient",
			"fhirUser launch/patient openid", false},
		{"perms from several registrations", "patient/Observation.rs", "patient/Observation.r patient/*.s",
			"patient/Observation.rs", true},
		{"nothing registered", "openid patient/*.rs", "", "", false},
		{"nothing requested", "", "openid patient/*.rs", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, reg := MustParse(tt.requested), MustParse(tt.registered)
			got := Narrow(req, reg)
			if got.String() != tt.want {
				t.Errorf("Narrow(%q, %q) = %q, want %q", tt.requested, tt.registered, got, tt.want)
			}
			if c := reg.Covers(req); c != tt.covered {
				t.Errorf("Covers(%q) by %q = %v, want %v", tt.requested, tt.registered, c, tt.covered)
			}
			// What Narrow grants is always within both sets.
			if !reg.Covers(got) || !req.Covers(got) {
				t.Errorf("Narrow result %q is not covered by both inputs", got)
			}
			// And when the request is covered, it is granted in full.
			if tt.covered && got.String() != req.String() {
				t.Errorf("covered request %q narrowed to %q", req, got)
			}
		})
	}
}

func TestScopesAreCopies(t *testing.T) {
	set := MustParse("patient/Observation.rs?category=laboratory")
	sc := set.Scopes()
	want := []Scope{{Context: Patient, ResourceType: "Observation", Perms: Perms(Read | Search), Query: q("category=laboratory")}}
	if !reflect.DeepEqual(sc, want) {
		t.Fatalf("Scopes() = %#v, want %#v", sc, want)
	}
	sc[0].Query.Set("category", "x")
	if set.String() != "patient/Observation.rs?category=laboratory" {
		t.Errorf("changing Scopes() changed the Set: %s", set)
	}
}
