package sqlsearch

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// Dialect is what differs between the databases in the query SQL.
type Dialect struct {
	// Param is the placeholder of the n-th argument (1-based): "$n" or "?n".
	// Numbered placeholders let conditions be composed in any order.
	Param func(n int) string
	// InList returns "expr is one of the strings bound at ph" (ph binds
	// ListArg's value).
	InList  func(expr, ph string) string
	ListArg func([]string) any
	// PairIn returns "(a, b) is one of the pairs bound at pa, pb" (each
	// bound with ListArg, of equal length).
	PairIn func(a, b, pa, pb string) string
	// NumArg binds a decimal; NumCast follows its placeholder.
	NumArg  func(*big.Rat) any
	NumCast string
	// NumKeyOut wraps a decimal sort key in the select list so it scans as a
	// string or float64; NumKeyArg binds such a key (as text) back.
	NumKeyOut func(expr string) string
	NumKeyArg func(string) any
	// Contains returns "needle occurs in hay".
	Contains func(hay, needle string) string
	// TextMatch returns "row x of idx_text holds every word, the last as a
	// prefix" through the full-text index, binding what it needs with Arg.
	TextMatch func(b Binder, x string, words []string) string
	// TextKey gives a text expression code point (Go string) order.
	TextKey func(expr string) string
	// Updated is resource_current's update time column, in microseconds.
	Updated string
	// Fence ends a correlated EXISTS subquery the engine means to be probed
	// per row (semi.go), so the planner does not turn it into a join that
	// reads the subquery's whole set: PostgreSQL's " OFFSET 0" (it pulls
	// up no EXISTS with an OFFSET); SQLite never pulls one up ("").
	Fence string
	// Unindexed, when set, wraps a column so the planner uses no index on
	// it: SQLite's unary "+". A page probed per resource (semi.go) must
	// walk its type in rid order; under an access predicate SQLite would
	// otherwise start from the visible patients' keys and sort every match.
	Unindexed func(col string) string
	// PatientIndex, when set, returns the hint that makes a compartment
	// search read table through its patient-leading index ("" for none).
	// SQLite needs it: without statistics its planner answers an OR of
	// ranges (date ge/le) with a multi-index OR over the value indexes,
	// reading every patient's rows.
	PatientIndex func(table string) string
	// VersionJoin is the join that reads the matched rows' versions,
	// "JOIN" or, where the planner must be told to keep the matches as
	// the outer loop, "CROSS JOIN" (SQLite: without statistics it may
	// otherwise scan every version of the type and look each match up).
	VersionJoin string
}

// versionJoin is the join keyword of the versions table.
func (d *Dialect) versionJoin() string {
	if d.VersionJoin == "" {
		return "JOIN"
	}
	return d.VersionJoin
}

// from is "table alias", with the patient index hint when the scope is one
// compartment.
func (b *builder) from(table, alias string, sc scope) string {
	if sc.patient != "" && b.d.PatientIndex != nil {
		return table + " " + alias + b.d.PatientIndex(table)
	}
	return table + " " + alias
}

// builder accumulates SQL arguments for one statement.
type builder struct {
	d       *Dialect
	args    []any
	access  store.Access
	aliases int
	// bound is how many arguments the statement binds before this
	// builder's: its placeholders are numbered after them.
	bound int
	// decide, when set, answers whether a patient key's grants open it to
	// the access now (Engine.decider: one small query per key, cached for
	// the request), so a patient-scoped statement names only the keys it
	// may read instead of carrying every grant rule for every key —
	// shorter SQL, which SQLite parses on every execution. err keeps its
	// first failure.
	decide func(key string) (bool, error)
	err    error
	// semi compiles _has and chains as correlated EXISTS semi-joins
	// probed from the resource they are about (semi.go), so a page read
	// in its order stops after _count matches; otherwise they select the
	// whole set of resources they match, for an IN.
	semi bool
}

// Binder binds an argument and returns its placeholder.
type Binder interface{ Arg(v any) string }

// Arg implements Binder.
func (b *builder) Arg(v any) string { return b.arg(v) }

// arg binds v and returns its placeholder.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return b.d.Param(b.bound + len(b.args))
}

// num binds a decimal.
func (b *builder) num(r *big.Rat) string { return b.arg(b.d.NumArg(r)) + b.d.NumCast }

// alias returns a table alias unique within the statement, so a correlated
// reference in a nested subquery never names a shadowed table.
func (b *builder) alias(prefix string) string {
	b.aliases++
	return prefix + strconv.Itoa(b.aliases)
}

// in returns "expr is one of vals".
func (b *builder) in(expr string, vals []string) string {
	switch len(vals) {
	case 0:
		return "1=0"
	case 1:
		return expr + " = " + b.arg(vals[0])
	}
	return b.d.InList(expr, b.arg(b.d.ListArg(vals)))
}

// unindexed is col, marked for the planner not to read an index for it
// where the dialect can (SQLite). The access predicate's list of visible
// patients (thousands for a broad caller) must not drive a probe or a
// look that is meant to start from a resource or an index range: SQLite
// cannot tell how long the list is and otherwise probes the patient
// index once per visible patient.
func (b *builder) unindexed(col string) string {
	if b.d.Unindexed == nil {
		return col
	}
	return b.d.Unindexed(col)
}

// probeKey is col unindexed when the query probes per resource (semi).
func (b *builder) probeKey(col string) string {
	if !b.semi {
		return col
	}
	return b.unindexed(col)
}

// accessCond is the access predicate on a patient_key column: "" when
// nothing is hidden. The non-patient key "" joins the visible keys' list
// when NonPatient is set, so that part is one list membership (which
// PostgreSQL can hash); each grant rule adds semi-joins on the grants.
func (b *builder) accessCond(col string) string {
	a := b.access
	if a.All {
		return ""
	}
	keys := make([]string, 0, len(a.Patients)+1)
	for _, p := range a.Patients {
		if p != "" { // "" is the non-patient key, governed by NonPatient alone
			keys = append(keys, p)
		}
	}
	if a.NonPatient {
		keys = append(keys, "")
	}
	ors := []string{b.in(col, keys)}
	if len(keys) == 0 {
		ors = nil
	}
	if w := b.writerCond(col); w != "" {
		ors = append(ors, w)
	}
	for _, rule := range a.Grants {
		var ands []string
		for _, grantee := range rule {
			g := b.alias("g")
			ands = append(ands, col+" IN (SELECT "+g+".patient_key FROM access_grant "+g+" WHERE "+b.grantValid(g, grantee)+")")
		}
		if len(ands) > 0 {
			ors = append(ors, and(ands...))
		}
	}
	switch len(ors) {
	case 0:
		return "1=0"
	case 1:
		return ors[0]
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// writerCond is "the resource of the row whose patient_key column is col
// was written by one of the access's writers" ("" without writers): the
// row's rid names its resource, whether the row is the resource's own
// (resource_current) or one of its index rows.
func (b *builder) writerCond(col string) string {
	if len(b.access.Writers) == 0 {
		return ""
	}
	alias := strings.TrimSuffix(col, ".patient_key")
	w := b.alias("w")
	// Correlated, one primary-key lookup per row checked: an IN list
	// would read every resource the writers ever deposited, per query.
	return "EXISTS (SELECT 1 FROM resource_current " + w + " WHERE " + w + ".rid = " + alias + ".rid AND " + b.in(w+".writer", b.access.Writers) + ")"
}

// grantValid is "grant row g is to grantee and holds at the access's time".
func (b *builder) grantValid(g, grantee string) string {
	at := b.access.At
	if at.IsZero() {
		at = time.Now()
	}
	us := b.arg(at.UnixMicro())
	return g + ".grantee = " + b.arg(grantee) + " AND " + g + ".valid_from_us <= " + us +
		" AND (" + g + ".valid_to_us = 0 OR " + g + ".valid_to_us > " + us + ")"
}

// grantedTo is "patient holds a valid grant to every grantee of one of the
// access's rules", for one bound patient key ph.
func (b *builder) grantedTo(ph string) string {
	var ors []string
	for _, rule := range b.access.Grants {
		var ands []string
		for _, grantee := range rule {
			g := b.alias("g")
			ands = append(ands, "EXISTS (SELECT 1 FROM access_grant "+g+" WHERE "+g+".patient_key = "+ph+" AND "+b.grantValid(g, grantee)+")")
		}
		if len(ands) > 0 {
			ors = append(ors, "("+and(ands...)+")")
		}
	}
	return or(ors)
}

// scopedAccess is the access predicate on the patient_key column of rows
// read in scope sc. In one patient's compartment every such row carries
// one of the compartment's keys (store.CompartmentKeys: the patient's own,
// its restricted records', its private records'), so the predicate is
// decided once per key instead of per row: a key the list shows needs
// nothing more, one a grant may open a grant lookup, one only the writers
// may see their check, and the others are left out. The query then runs
// on the patient-keyed indexes alone.
func (b *builder) scopedAccess(col string, sc scope) string {
	if sc.patient == "" {
		return b.accessCond(col)
	}
	open, guarded := b.compartmentKeys(sc.patient)
	keys := append(slices.Clone(open), guarded...)
	if len(guarded) == 0 {
		return b.keyIn(col, keys)
	}
	var ors []string
	if len(open) > 0 {
		ors = append(ors, b.keyIn(col, open))
	}
	if len(b.access.Grants) > 0 && b.decide == nil {
		for _, k := range guarded {
			ph := b.arg(k)
			ors = append(ors, "("+col+" = "+ph+" AND "+b.grantedTo(ph)+")")
		}
	}
	if w := b.writerCond(col); w != "" {
		ors = append(ors, w)
	}
	return and(b.keyIn(col, keys), or(ors))
}

// compartmentKeys sorts the keys of patient's compartment by what the
// access predicate makes of them: open (listed, or everything is), guarded
// (a grant or a writer may open them) or, left out, never visible.
func (b *builder) compartmentKeys(patient string) (open, guarded []string) {
	a := b.access
	for _, k := range store.CompartmentKeys(patient) {
		switch {
		case a.Allows(k):
			open = append(open, k)
		case len(a.Grants) > 0 && b.decide != nil && b.granted(k):
			open = append(open, k)
		case len(a.Writers) > 0 || (len(a.Grants) > 0 && b.decide == nil):
			guarded = append(guarded, k)
		}
	}
	return open, guarded
}

// granted is b.decide(k), keeping its first error in b.err (the key then
// counts as not granted).
func (b *builder) granted(k string) bool {
	ok, err := b.decide(k)
	if err != nil && b.err == nil {
		b.err = err
	}
	return ok && err == nil
}

// keyIn is "col is one of keys", a few keys bound one by one so each is an
// equality the patient-leading indexes seek.
func (b *builder) keyIn(col string, keys []string) string {
	switch len(keys) {
	case 0:
		return "1=0"
	case 1:
		return col + " = " + b.arg(keys[0])
	}
	ph := make([]string, len(keys))
	for i, k := range keys {
		ph[i] = b.arg(k)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

// compartmentRows is the condition that index rows of alias x lie in
// patient's compartment, under a key the access predicate may show (the
// rows' resource is checked for visibility where it is read).
func (b *builder) compartmentRows(x, patient string) string {
	open, guarded := b.compartmentKeys(patient)
	return b.keyIn(x+".patient_key", append(open, guarded...))
}

// and joins the non-empty conditions with AND ("1=1" when there are none).
func and(conds ...string) string {
	var keep []string
	for _, c := range conds {
		if c != "" {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		return "1=1"
	}
	return strings.Join(keep, " AND ")
}

// or joins conditions with OR, parenthesised ("1=0" when there are none).
func or(conds []string) string {
	switch len(conds) {
	case 0:
		return "1=0"
	case 1:
		return conds[0]
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// prefixUpper is the exclusive upper bound of the strings starting with p:
// every such string sorts before p followed by the largest code point.
func prefixUpper(p string) string { return p + "\U0010FFFF" }

// prefix returns "col starts with p" as a range, which uses a B-tree index
// in both databases (LIKE does not under every collation, and SQLite's LIKE
// folds ASCII case).
func (b *builder) prefix(col, p string) string {
	return "(" + col + " >= " + b.arg(p) + " AND " + col + " < " + b.arg(prefixUpper(p)) + ")"
}
