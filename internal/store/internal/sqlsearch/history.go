package sqlsearch

import "github.com/ehealthplus/ehealth/internal/store"

// VersionAccess is the access predicate of a history query: the condition
// that the resource of the resource_versions row aliased v is visible under
// a, and the arguments it binds, its placeholders numbered after the bound
// arguments the statement has already. "" when a hides nothing.
//
// A version is visible when its resource is, decided on the resource's
// current row (resource_current: its current patient key and the writer of
// its current version) — the rule of read and vread. Past versions keep the
// patient key they were written under, but it is not consulted: a resource
// now hidden hides its whole history, delete markers included, and a
// compartment moved to the master record (RekeyCompartment) takes its
// history with it.
func (e *Engine) VersionAccess(a store.Access, bound int) (string, []any) {
	if a.All {
		return "", nil
	}
	b := &builder{d: e.d, access: a, bound: bound}
	c := b.alias("c")
	cond := "EXISTS (SELECT 1 FROM resource_current " + c + " WHERE " + c + ".type = v.type AND " + c + ".id = v.id AND " +
		b.accessCond(c+".patient_key") + ")"
	return cond, b.args
}
