package deposit

import (
	"context"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// resolveExisting rewrites, in every entry's resource, the references to
// entries of records found (urn:uuid fullUrls) into their Type/id — what
// the resource service would do, done early so an unchanged record is
// seen to be unchanged — and notes which entries each refers to.
func (d *deposit) resolveExisting() {
	for _, it := range d.items {
		if it.res == nil || it.role == roleReason {
			continue
		}
		walkLinks(it.res, func(s string) (string, bool) {
			base, frag, _ := strings.Cut(s, "#")
			other, ok := d.byURL[base]
			if !ok || other == it {
				return "", false
			}
			if !slices.Contains(it.deps, other.index) {
				it.deps = append(it.deps, other.index)
			}
			if other.existing == nil || other.role == roleReason {
				return "", false
			}
			target := other.typ + "/" + other.id
			if frag != "" {
				target += "#" + frag
			}
			return target, true
		})
	}
}

// walkLinks calls fn with every Reference.reference and url in node,
// replacing the value when fn says so.
func walkLinks(node any, fn func(string) (string, bool)) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok {
				if k == "reference" || k == "url" {
					if t, ok := fn(s); ok {
						n[k] = t
					}
				}
				continue
			}
			walkLinks(v, fn)
		}
	case []any:
		for _, v := range n {
			walkLinks(v, fn)
		}
	}
}

// newRefs reports whether the entry refers to an entry that makes a new
// record: its content cannot be what was stored before.
func (d *deposit) newRefs(it *item) bool {
	for _, i := range it.deps {
		if other := d.items[i]; other.existing == nil && other.role != roleReason {
			return true
		}
	}
	return false
}

// check checks every resource stored against the eHealth+ profiles: an
// error refuses the entry, warnings and information go back in its
// response; meta.profile names the profile checked.
func (d *deposit) check(ctx context.Context) error {
	if d.s.checker == nil {
		return nil
	}
	for _, it := range d.items {
		if it.err != nil || it.res == nil || it.role == roleReason {
			continue
		}
		rep, err := d.s.checker.Check(ctx, it.res)
		if err != nil {
			if outcome.KindOf(err) == outcome.Internal {
				return err
			}
			it.refuse(err)
			continue
		}
		var errs []outcome.Issue
		for _, is := range rep.Issues {
			is.Expression = it.expression(is.Expression)
			if is.Severity == outcome.SeverityError || is.Severity == outcome.SeverityFatal {
				errs = append(errs, is)
			} else {
				it.issues = append(it.issues, is)
			}
		}
		if len(errs) > 0 {
			it.refuse(&outcome.Error{Kind: outcome.Unprocessable, Op: "profile " + rep.Profile, Issues: errs})
			continue
		}
		if rep.Profile != "" {
			addProfile(it.res, rep.Profile)
		}
	}
	return nil
}

// addProfile declares profile in res.meta.profile (once).
func addProfile(res map[string]any, profile string) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	list, _ := meta["profile"].([]any)
	if slices.Contains(list, any(profile)) {
		return
	}
	meta["profile"] = append(list, profile)
}
