package search

import "slices"

// ParamType is a SearchParameter type
// (https://hl7.org/fhir/R4/valueset-search-param-type.html).
type ParamType string

// The search parameter types of R4.
const (
	Number    ParamType = "number"
	Date      ParamType = "date"
	String    ParamType = "string"
	Token     ParamType = "token"
	Reference ParamType = "reference"
	Composite ParamType = "composite"
	Quantity  ParamType = "quantity"
	URI       ParamType = "uri"
	Special   ParamType = "special"
)

// valid reports whether t is one of the R4 types.
func (t ParamType) valid() bool {
	switch t {
	case Number, Date, String, Token, Reference, Composite, Quantity, URI, Special:
		return true
	}
	return false
}

// Param is one search parameter as it applies to one base resource type.
// A SearchParameter with several bases (clinical-patient has 32) gives one
// Param per base, each with its own Expression. Params are shared and must
// not be modified.
type Param struct {
	URL          string    // canonical url of the SearchParameter
	Code         string    // the name used in queries, e.g. "patient", "_id"
	Type         ParamType // number, date, string, ...
	ResourceType string    // the base this Param is for: "Observation", or "Resource"/"DomainResource" for common ones
	Base         []string  // every base the SearchParameter declares
	// Expression is the FHIRPath to evaluate on a resource of ResourceType,
	// e.g. "Observation.subject.where(resolve() is Patient)". Empty for
	// parameters computed by the server (_text, _content, _list, _has, _type).
	Expression  string
	Target      []string    // for references: the resource types the reference may point to
	Modifiers   []Modifier  // the modifiers this parameter accepts
	Comparators []Prefix    // the prefixes this parameter accepts; empty means none (only eq)
	MultipleOr  bool        // comma-separated values are allowed
	MultipleAnd bool        // the parameter may be repeated
	Chain       []string    // chain names the definition allows; empty means any
	Components  []Component // for composites: the parts, in order
	Custom      bool        // added at run time rather than part of R4
}

// Component is one part of a composite parameter, resolved against the
// registry: "code-value-quantity" has code (token) and value (quantity).
type Component struct {
	Definition string    // url of the component's SearchParameter
	Code       string    // its code, e.g. "code"
	Type       ParamType // its type, which decides how the part of a value is parsed
	Expression string    // FHIRPath relative to the composite's element, e.g. "value.as(Quantity)"
}

// AllowsModifier reports whether m may follow the parameter's name.
func (p *Param) AllowsModifier(m Modifier) bool {
	if m == ModNone {
		return true
	}
	return slices.Contains(p.Modifiers, m)
}

// AllowsTarget reports whether the reference parameter may point to typ.
// A reference parameter without declared targets may point anywhere.
func (p *Param) AllowsTarget(typ string) bool {
	return len(p.Target) == 0 || slices.Contains(p.Target, typ) || slices.Contains(p.Target, "Resource")
}

// Modifier is a search parameter modifier, the part after the colon in
// "name:exact"; ModType stands for the reference modifier ":[type]".
type Modifier string

// The modifiers of R4 (https://hl7.org/fhir/R4/search.html#modifiers).
const (
	ModNone       Modifier = ""
	ModMissing    Modifier = "missing"
	ModExact      Modifier = "exact"
	ModContains   Modifier = "contains"
	ModText       Modifier = "text"
	ModNot        Modifier = "not"
	ModAbove      Modifier = "above"
	ModBelow      Modifier = "below"
	ModIn         Modifier = "in"
	ModNotIn      Modifier = "not-in"
	ModOfType     Modifier = "of-type"
	ModIdentifier Modifier = "identifier"
	ModType       Modifier = "[type]" // a resource type: subject:Patient
)

// defaultModifiers are the modifiers each type allows when the definition
// does not list them (R4's definitions never do).
var defaultModifiers = map[ParamType][]Modifier{
	String:    {ModMissing, ModExact, ModContains},
	Token:     {ModMissing, ModText, ModNot, ModAbove, ModBelow, ModIn, ModNotIn, ModOfType},
	Reference: {ModMissing, ModType, ModIdentifier, ModAbove, ModBelow},
	Date:      {ModMissing},
	Number:    {ModMissing},
	Quantity:  {ModMissing},
	URI:       {ModMissing, ModAbove, ModBelow},
	Composite: {ModMissing},
	Special:   {ModMissing},
}

// Prefix is a comparison prefix on number, date and quantity values
// (https://hl7.org/fhir/R4/search.html#prefix).
type Prefix string

// The prefixes of R4. A value without a prefix means eq.
const (
	Eq Prefix = "eq"
	Ne Prefix = "ne"
	Gt Prefix = "gt"
	Lt Prefix = "lt"
	Ge Prefix = "ge"
	Le Prefix = "le"
	Sa Prefix = "sa"
	Eb Prefix = "eb"
	Ap Prefix = "ap"
)

var allPrefixes = []Prefix{Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap}

// takesPrefix reports whether values of the type may start with a prefix.
func (t ParamType) takesPrefix() bool { return t == Number || t == Date || t == Quantity }

// definition is one SearchParameter as generated from the R4 definitions.
type definition struct {
	URL, Code   string
	Base        []string
	Type        string
	Expression  string
	Target      []string
	Comparator  []string
	Modifier    []string
	Chain       []string
	MultipleOr  tri
	MultipleAnd tri
	Component   []componentDefinition
}

// componentDefinition is SearchParameter.component.
type componentDefinition struct{ Definition, Expression string }

// tri is an optional boolean: absent, yes or no.
type tri int8

const (
	unset tri = iota
	yes
	no
)

func (t tri) or(def bool) bool {
	if t == unset {
		return def
	}
	return t == yes
}
