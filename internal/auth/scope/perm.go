package scope

import (
	"iter"
	"strings"
)

// Perm is one SMART permission.
type Perm uint8

// The permissions, in the order the scope syntax requires (cruds).
const (
	Create Perm = 1 << iota // c: type-level create
	Read                    // r: read, vread, instance history
	Update                  // u: update and patch
	Delete                  // d: delete
	Search                  // s: type and system search and history
)

// permLetters holds the letter of each Perm, bit i at index i.
const permLetters = "cruds"

// String returns the permission's letter, c, r, u, d or s.
func (p Perm) String() string { return Perms(p).String() }

// Perms is a set of permissions.
type Perms uint8

// AllPerms is every permission: cruds, the v1 "*".
const AllPerms = Perms(Create | Read | Update | Delete | Search)

// Has reports whether ps includes every permission in p.
func (ps Perms) Has(p Perm) bool { return p != 0 && ps&Perms(p) == Perms(p) }

// String returns the permissions in scope syntax, as "rs" or "cruds".
func (ps Perms) String() string {
	var b strings.Builder
	for i := range len(permLetters) {
		if ps&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// All yields the permissions in ps one at a time, in cruds order.
func (ps Perms) All() iter.Seq[Perm] {
	return func(yield func(Perm) bool) {
		for i := range len(permLetters) {
			if p := Perm(1 << i); ps.Has(p) && !yield(p) {
				return
			}
		}
	}
}

// parsePerms parses the permissions part of a clinical scope: a v2 subset of
// cruds in order, or v1 read, write or *.
func parsePerms(s string) (Perms, string) {
	switch s {
	case "":
		return 0, "empty; want a subset of cruds such as rs, or v1 read, write or *"
	case "read":
		return Perms(Read | Search), ""
	case "write":
		return Perms(Create | Update | Delete), ""
	case "*":
		return AllPerms, ""
	}
	var ps Perms
	last := -1
	for _, c := range []byte(s) {
		i := strings.IndexByte(permLetters, c)
		switch {
		case i < 0:
			return 0, "unknown permission " + quote(string(c)) + "; want a subset of cruds, or v1 read, write or *"
		case i == last:
			return 0, "permission " + quote(string(c)) + " repeated"
		case i < last:
			return 0, quote(s) + " is out of order; write permissions in the order c, r, u, d, s"
		}
		ps |= 1 << i
		last = i
	}
	return ps, ""
}

// Interaction is a FHIR RESTful interaction
// (https://hl7.org/fhir/R4/codesystem-restful-interaction.html), plus the
// conditional variants, which need more permissions than the plain ones.
type Interaction string

// The interactions Needs knows. Batch, transaction and operations have no
// entry: each entry of a Bundle is checked on its own, and each operation
// decides what it needs.
const (
	InteractionRead              Interaction = "read"
	InteractionVRead             Interaction = "vread"
	InteractionHistoryInstance   Interaction = "history-instance"
	InteractionHistoryType       Interaction = "history-type"
	InteractionHistorySystem     Interaction = "history-system"
	InteractionSearchType        Interaction = "search-type"
	InteractionSearchSystem      Interaction = "search-system"
	InteractionCreate            Interaction = "create"
	InteractionUpdate            Interaction = "update"
	InteractionPatch             Interaction = "patch"
	InteractionDelete            Interaction = "delete"
	InteractionConditionalCreate Interaction = "conditional-create"
	InteractionConditionalUpdate Interaction = "conditional-update"
	InteractionConditionalPatch  Interaction = "conditional-patch"
	InteractionConditionalDelete Interaction = "conditional-delete"
)

// needs follows the SMART v2 table of permissions: r covers instance-level
// read, vread and history; s covers type- and system-level search and
// history. A conditional interaction first searches for its match, so it
// needs s as well.
var needs = map[Interaction]Perms{
	InteractionRead:              Perms(Read),
	InteractionVRead:             Perms(Read),
	InteractionHistoryInstance:   Perms(Read),
	InteractionHistoryType:       Perms(Search),
	InteractionHistorySystem:     Perms(Search),
	InteractionSearchType:        Perms(Search),
	InteractionSearchSystem:      Perms(Search),
	InteractionCreate:            Perms(Create),
	InteractionUpdate:            Perms(Update),
	InteractionPatch:             Perms(Update),
	InteractionDelete:            Perms(Delete),
	InteractionConditionalCreate: Perms(Create | Search),
	InteractionConditionalUpdate: Perms(Update | Search),
	InteractionConditionalPatch:  Perms(Update | Search),
	InteractionConditionalDelete: Perms(Delete | Search),
}

// Needs returns the permissions an interaction requires, each to be checked
// with Set.Allows; ok is false for an interaction it does not know, which the
// caller must deny.
//
// An update or conditional update that ends up creating the resource (no
// current version, or no match) needs Create too; the caller checks it once
// it knows. System-level search and history need Search on every type they
// return: restrict them to Set.Types.
func Needs(i Interaction) (ps Perms, ok bool) {
	ps, ok = needs[i]
	return ps, ok
}
