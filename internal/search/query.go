package search

import (
	"time"
)

// Query is a parsed search: what to match, and how to shape the result.
// It is a plan, not SQL: the store translates the clauses into joins on
// its index tables, and Match gives the reference semantics.
type Query struct {
	ResourceType string   // the type searched; "" for a system-level search
	Types        []string // _type: the types a system-level search covers (empty means all)
	Clauses      []Clause // every clause must hold (repeated parameters are ANDed)

	Sort       []SortParam // _sort keys in order
	Count      int         // page size: _count capped at Options.MaxCount, or Options.DefaultCount
	Include    []Include   // _include
	RevInclude []Include   // _revinclude
	Summary    string      // _summary: "", "true", "text", "data", "count" or "false"
	Elements   []string    // _elements: top-level element names to keep
	Total      string      // _total: "", "none", "estimate" or "accurate"
	// Contained is _contained ("", "false", "true", "both") and
	// ContainedType is _containedType ("", "container", "contained").
	Contained, ContainedType string
	// Explain is _explain=true: return the store's SQL and plan with the
	// page (only when Options.AllowExplain).
	Explain bool
}

// Clause is one search parameter with its values: a resource matches when
// any of the Values matches (comma = OR). A chained clause instead holds a
// Chain, and a reverse chain a Has.
type Clause struct {
	Param      *Param   // the parameter on the searched type
	Modifier   Modifier // ModNone, or one of Param.Modifiers; ModType when TargetType is set by ":Type"
	TargetType string   // the resource type of a reference's ":Type" modifier
	Values     []Value  // ORed; empty for chains and _has
	Chain      *Chain   // for "subject:Patient.name=x": the condition on the referenced resources
	Has        *Has     // for "_has:Observation:patient:code=x": the condition on referring resources
}

// Chain continues a reference parameter onto the resources it points to
// (https://hl7.org/fhir/R4/search.html#chaining).
type Chain struct {
	// Types are the resource types the reference may point to (the :Type
	// modifier, or the parameter's targets) that define the next parameter.
	Types  []string
	Clause Clause // the condition on the referenced resource; its Param is the one of Types[0]
}

// Has is a reverse chain (https://hl7.org/fhir/R4/search.html#has): the
// searched resource matches when a resource of Type refers to it through
// Ref and satisfies Clause.
type Has struct {
	Type   string // the referring type, e.g. "Observation"
	Ref    *Param // its reference parameter pointing at the searched resource, e.g. Observation.patient
	Clause Clause // the condition on the referring resource, possibly another _has or a chain
}

// Value is one search value, parsed for its parameter's type; only the
// fields of that type are set.
type Value struct {
	Raw     string // as written, escapes included
	Prefix  Prefix // for number, date and quantity: the comparison (Eq when none was written)
	Missing bool   // for :missing: true finds resources without a value, false those with one

	Date   DateRange // the range the date value covers
	Approx DateRange // for ap: Date widened (see doc.go)

	Number   NumberValue
	String   string // string values and special values, unescaped
	Token    TokenValue
	Ref      RefValue
	Quantity QuantityValue
	URI      string
	Parts    []Value   // composite: one value per component, in order
	Near     NearValue // near (IsNear): the point and distance
}

// SortParam is one _sort key.
type SortParam struct {
	Param *Param
	Desc  bool // written with a leading '-'
}

// Include is one _include or _revinclude
// (https://hl7.org/fhir/R4/search.html#include).
type Include struct {
	Source   string // the type holding the reference: "Observation"; "*" for _include=*
	Param    *Param // the reference parameter; nil for a wildcard
	Target   string // the target type when given ("Observation:subject:Patient")
	Iterate  bool   // :iterate (or the STU3 :recurse)
	Wildcard bool   // "*" or "Type:*": every reference parameter of Source
}

// Options tune Parse. The zero value is lenient, reads dates without a
// zone as UTC, and pages at DefaultPageSize up to DefaultMaxCount.
type Options struct {
	Strict       bool           // unknown or unsupported parameters are errors (Prefer: handling=strict)
	Location     *time.Location // zone for dates and times written without one; UTC when nil
	Now          time.Time      // the present, for ap; time.Now() when zero
	BaseURL      string         // this server's base, so an absolute reference to it reads as local
	DefaultCount int            // page size without _count; DefaultPageSize when 0
	MaxCount     int            // the largest page; larger _count values are capped; DefaultMaxCount when 0
	AllowExplain bool           // _explain is offered (an operator setting); otherwise it is an unsupported parameter
}

// Limits on a query.
const (
	DefaultPageSize = 50   // page size when _count is absent
	DefaultMaxCount = 1000 // the largest _count honoured; larger is capped, not refused
	MaxChainDepth   = 6    // links in one chain or _has nesting; deeper is too costly
)

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxCount <= 0 {
		o.MaxCount = DefaultMaxCount
	}
	if o.DefaultCount <= 0 {
		o.DefaultCount = min(DefaultPageSize, o.MaxCount)
	}
	return o
}
