// Package putcheck holds the rules every driver applies to Tx.Put and
// Tx.ReplaceIndex, so the drivers agree on what a well-formed write is and
// on the conflict error.
package putcheck

import (
	"slices"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Validate checks v is a well-formed successor of version expect and
// normalises v.Updated to UTC with microsecond precision, the precision both
// databases keep, so v then equals what a later Read returns. A failure is a
// bug in the caller, hence outcome.Internal.
func Validate(v *store.Version, expect int64) error {
	switch {
	case v == nil:
		return outcome.New(outcome.Internal, "store: put: nil version")
	case v.Type == "" || v.ID == "":
		return outcome.New(outcome.Internal, "store: put %s/%s: type and id are required", v.Type, v.ID)
	case expect < 0 || v.VersionID != expect+1:
		return outcome.New(outcome.Internal, "store: put %s/%s: version %d cannot follow version %d", v.Type, v.ID, v.VersionID, expect)
	case v.Updated.IsZero():
		return outcome.New(outcome.Internal, "store: put %s/%s: Updated is not set", v.Type, v.ID)
	case v.Method == "":
		return outcome.New(outcome.Internal, "store: put %s/%s: Method is not set", v.Type, v.ID)
	case v.Deleted && v.Body != nil:
		return outcome.New(outcome.Internal, "store: put %s/%s: a delete marker has no body", v.Type, v.ID)
	case !v.Deleted && len(v.Body) == 0:
		return outcome.New(outcome.Internal, "store: put %s/%s: body is empty", v.Type, v.ID)
	}
	v.Updated = v.Updated.UTC().Truncate(time.Microsecond)
	return nil
}

// Conflict is the error Put returns when the current version is not expect.
func Conflict(v *store.Version, expect int64) error {
	if expect == 0 {
		return outcome.New(outcome.Conflict, "%s/%s already exists", v.Type, v.ID)
	}
	return outcome.New(outcome.Conflict, "%s/%s: version %d is no longer current", v.Type, v.ID, expect)
}

// Entries checks a ReplaceIndex call: every entry belongs to one of codes,
// the parameters whose rows it replaces (a row of another parameter would
// be added next to that parameter's rows rather than replace them).
func Entries(typ, id string, codes []string, entries []search.Entry) error {
	if typ == "" || id == "" {
		return outcome.New(outcome.Internal, "store: reindex %s/%s: type and id are required", typ, id)
	}
	for _, e := range entries {
		if !slices.Contains(codes, e.Code) {
			return outcome.New(outcome.Internal, "store: reindex %s/%s: a row of %q is not among the parameters %q", typ, id, e.Code, codes)
		}
	}
	return nil
}
