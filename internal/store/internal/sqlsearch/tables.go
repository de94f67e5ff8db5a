package sqlsearch

import (
	"math/big"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/search"
)

// ColKind is how a column's values are bound.
type ColKind int

// The column kinds.
const (
	Text ColKind = iota // string
	Int                 // int64
	Num                 // *big.Rat, nil for NULL (an open end)
)

// Column is one typed column of an index table.
type Column struct {
	Name string
	Kind ColKind
}

// Table is one index table: the common columns (rid, res_type,
// patient_key, param, comb) and then Columns.
type Table struct {
	Name    string
	Kind    search.ParamType
	Columns []Column
}

// The index tables, in the order Flatten returns their rows.
var Tables = []Table{
	{"idx_string", search.String, []Column{{"norm", Text}, {"exact", Text}}},
	{"idx_token", search.Token, []Column{{"system", Text}, {"code", Text}, {"text", Text}, {"type_system", Text}, {"type_code", Text}}},
	{"idx_date", search.Date, []Column{{"lo", Int}, {"hi", Int}}},
	{"idx_number", search.Number, []Column{{"lo", Num}, {"hi", Num}}},
	{"idx_quantity", search.Quantity, []Column{{"lo", Num}, {"hi", Num}, {"system", Text}, {"code", Text}, {"unit", Text},
		{"canon_lo", Num}, {"canon_hi", Num}, {"canon_unit", Text}}},
	{"idx_reference", search.Reference, []Column{{"target_type", Text}, {"target_id", Text}, {"target_base", Text},
		{"url", Text}, {"version", Text}, {"ident_system", Text}, {"ident_value", Text}}},
	{"idx_uri", search.URI, []Column{{"uri", Text}}},
	{"idx_text", search.FullText, []Column{{"text", Text}}},
}

// tableOf returns the index of the table holding rows of kind k, or -1.
func tableOf(k search.ParamType) int {
	for i, t := range Tables {
		if t.Kind == k {
			return i
		}
	}
	return -1
}

// TableName returns the table holding rows of kind k ("" for none).
func TableName(k search.ParamType) string {
	if i := tableOf(k); i >= 0 {
		return Tables[i].Name
	}
	return ""
}

// FlatRow is one row of an index table: its param, its composite
// combination (0 for a plain row) and the values of the table's Columns.
// A contained resource's row (contained.go) also has its Type; other rows
// are stored under their resource's type.
type FlatRow struct {
	Param  string
	Comb   int64
	Values []any  // string, int64 or *big.Rat (nil: NULL)
	Type   string // the contained resource's type; "" for the resource's own rows
}

// Flatten sorts entries into the rows of each table (indexed like Tables).
// A composite row becomes one row per part, in the part's table, with param
// "<code>#<i>" and a combination number shared by its parts and unique
// within the resource, so a composite clause joins parts of one
// combination only. A position (search.PositionRow) is stored the same
// way, as two number parts (near.go). Rows of unknown kinds are skipped.
func Flatten(entries []search.Entry) [][]FlatRow {
	out := make([][]FlatRow, len(Tables))
	var comb int64
	for _, e := range entries {
		if e.Contained > 0 {
			addContained(out, e)
			continue
		}
		var parts []search.Row
		switch r := e.Row.(type) {
		case search.CompositeRow:
			parts = r.Parts
		case search.PositionRow:
			parts = positionParts(r)
		default:
			add(out, e.Code, 0, e.Row)
			continue
		}
		comb++
		for i, part := range parts {
			add(out, e.Code+"#"+strconv.Itoa(i), comb, part)
		}
	}
	return out
}

func add(out [][]FlatRow, param string, comb int64, r search.Row) {
	if r == nil {
		return
	}
	i := tableOf(r.Kind())
	vals := values(r)
	if i < 0 || vals == nil {
		return
	}
	out[i] = append(out[i], FlatRow{Param: param, Comb: comb, Values: vals})
}

// values lists a row's column values in its table's column order.
func values(r search.Row) []any {
	switch r := r.(type) {
	case search.StringRow:
		return []any{r.Norm, r.Exact}
	case search.TokenRow:
		return []any{r.System, r.Code, r.Text, r.TypeSystem, r.TypeCode}
	case search.DateRow:
		return []any{r.Lo, r.Hi}
	case search.NumberRow:
		return []any{r.Lo, r.Hi}
	case search.QuantityRow:
		return []any{r.Lo, r.Hi, r.System, r.Code, r.Unit, r.CanonLo, r.CanonHi, r.CanonUnit}
	case search.ReferenceRow:
		return []any{r.Type, r.ID, r.Base, r.URL, r.Version, r.IdentifierSystem, r.IdentifierValue}
	case search.URIRow:
		return []any{r.URI}
	case search.TextRow:
		return []any{r.Text}
	}
	return nil
}

// Rat returns v (a Num column value) as a *big.Rat, nil for NULL.
func Rat(v any) *big.Rat {
	r, _ := v.(*big.Rat)
	return r
}
