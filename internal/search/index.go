package search

import (
	"cmp"
	"math/big"
)

// Row is one index value of one search parameter of one resource: a
// StringRow, TokenRow, DateRow, NumberRow, QuantityRow, ReferenceRow,
// URIRow, CompositeRow, TextRow (fulltext.go) or PositionRow (near.go).
// Each concrete type maps to one table of the store (see SCHEMA.md); Entry
// adds the columns every table shares.
type Row interface {
	// Kind is the parameter type whose table holds the row.
	Kind() ParamType
}

// Entry is a Row with the columns every index table shares.
type Entry struct {
	ResourceType string // the indexed resource's type
	ResourceID   string // its logical id
	PatientKey   string // its patient compartment id ("" when it has none), for sharding and patient-scoped queries
	Code         string // the parameter code, e.g. "code", "_lastUpdated"
	Row          Row
	// Contained is 0 for a row of the resource itself, and k for a row of
	// the k-th resource in its contained list (Resource.contained[k-1]),
	// whose type ResourceType then is (contained.go).
	Contained int
}

// StringRow is a string search value: a string, or one part of a
// HumanName or Address.
type StringRow struct {
	Norm  string // Normalize(Exact): what default and :contains search compare
	Exact string // the value as written, for :exact
}

// TokenRow is a token search value: one Coding, an Identifier, a
// ContactPoint, a code, a boolean, a string or an id. A CodeableConcept
// gives one row per coding and, when it has text, one row with only Text.
type TokenRow struct {
	System string // Coding.system, Identifier.system; empty for a plain code
	Code   string // Coding.code, Identifier.value, ContactPoint.value, "true"/"false"
	Text   string // normalised Coding.display, CodeableConcept.text or Identifier.type.text, for :text
	// TypeSystem and TypeCode say what kind of identifier or contact point
	// this is, for :of-type: an Identifier.type coding, or ContactPoint.system
	// as TypeCode ("phone").
	TypeSystem, TypeCode string
}

// DateRow is a date search value: the range of instants a date, dateTime,
// instant, Period or Timing event covers.
type DateRow struct {
	DateRange
}

// NumberRow is a number search value, the closed interval [Lo, Hi]: equal
// ends for a decimal or integer, the ends of a Range. A nil end is open.
type NumberRow struct {
	Lo, Hi *big.Rat
}

// QuantityRow is a quantity search value (Quantity, Age, Duration, Money,
// a Range's ends) as written and, when its unit is UCUM, converted to the
// canonical unit: 5400 ug is stored with CanonLo = CanonHi = 0.0054 and
// CanonUnit "g", so 5.4||mg finds it. Nil ends are open.
type QuantityRow struct {
	Lo, Hi             *big.Rat
	System, Code, Unit string
	CanonLo, CanonHi   *big.Rat // nil when the unit is not convertible
	CanonUnit          string   // canonical UCUM unit, e.g. "g", "m3", "g.m-3"; "" when not convertible
}

// ReferenceRow is a reference search value: a Reference, canonical or uri.
// A local "Patient/123" has Type and ID; an absolute URL also has Base
// ("https://other.org/fhir") and URL (without _history); a canonical keeps
// its url in URL and its version in Version.
type ReferenceRow struct {
	Type, ID                          string
	Version                           string // from _history/n (ignored by search) or a canonical's |version
	Base                              string // the server base of an absolute reference, "" for a local one
	URL                               string // absolute URL, canonical url, urn:uuid or #contained reference
	IdentifierSystem, IdentifierValue string // Reference.identifier, for :identifier
}

// URIRow is a uri search value.
type URIRow struct {
	URI string
}

// CompositeRow is one combination of component values found in the same
// element, one Row per component in the parameter's order.
type CompositeRow struct {
	Parts []Row
}

// Kind implements Row.
func (StringRow) Kind() ParamType { return String }

// Kind implements Row.
func (TokenRow) Kind() ParamType { return Token }

// Kind implements Row.
func (DateRow) Kind() ParamType { return Date }

// Kind implements Row.
func (NumberRow) Kind() ParamType { return Number }

// Kind implements Row.
func (QuantityRow) Kind() ParamType { return Quantity }

// Kind implements Row.
func (ReferenceRow) Kind() ParamType { return Reference }

// Kind implements Row.
func (URIRow) Kind() ParamType { return URI }

// Kind implements Row.
func (CompositeRow) Kind() ParamType { return Composite }

// SortKey is the value a resource is sorted by for one parameter
// (https://hl7.org/fhir/R4/search.html#sort): the lowest of its values for
// an ascending sort, the highest for a descending one. Only the field of
// the row's kind is set.
type SortKey struct {
	Text string   // strings (normalised), tokens (code), references (Type/id), uris
	Num  *big.Rat // numbers, quantities (canonical when convertible)
	Time int64    // dates: Lo ascending, Hi descending
}

// sortKey gives the key of one row for the direction.
func sortKey(r Row, desc bool) (SortKey, bool) {
	pick := func(lo, hi *big.Rat) *big.Rat {
		if desc && hi != nil || lo == nil {
			return hi
		}
		return lo
	}
	switch r := r.(type) {
	case StringRow:
		return SortKey{Text: r.Norm}, true
	case TokenRow:
		return SortKey{Text: r.Code}, r.Code != ""
	case DateRow:
		if desc {
			return SortKey{Time: r.Hi}, true
		}
		return SortKey{Time: r.Lo}, true
	case NumberRow:
		n := pick(r.Lo, r.Hi)
		return SortKey{Num: n}, n != nil
	case QuantityRow:
		n := pick(r.Lo, r.Hi)
		if r.CanonUnit != "" {
			n = pick(r.CanonLo, r.CanonHi)
		}
		return SortKey{Num: n}, n != nil
	case ReferenceRow:
		if r.ID != "" {
			return SortKey{Text: r.Type + "/" + r.ID}, true
		}
		return SortKey{Text: r.URL}, r.URL != ""
	case URIRow:
		return SortKey{Text: r.URI}, true
	}
	return SortKey{}, false
}

// SortKeyOf returns the key a resource with these rows (all of one
// parameter) sorts by: the smallest for ascending, the largest for
// descending. ok is false when the resource has no value; such resources
// sort last in both directions, never dropped.
func SortKeyOf(rows []Row, desc bool) (key SortKey, ok bool) {
	for _, r := range rows {
		k, has := sortKey(r, desc)
		if !has {
			continue
		}
		if !ok || (CompareSortKeys(k, key) > 0) == desc && CompareSortKeys(k, key) != 0 {
			key, ok = k, true
		}
	}
	return key, ok
}

// CompareSortKeys orders two keys of the same parameter.
func CompareSortKeys(a, b SortKey) int {
	switch {
	case a.Num != nil && b.Num != nil:
		return a.Num.Cmp(b.Num)
	case a.Text != "" || b.Text != "":
		return cmp.Compare(a.Text, b.Text)
	}
	return cmp.Compare(a.Time, b.Time)
}
