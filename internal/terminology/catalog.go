package terminology

import (
	"strconv"
	"strings"
)

// catalog holds the versions of one kind of terminology resource by
// canonical URL. Each URL's versions are ordered best first: resources
// stored on the server before the built-in R4 ones, then by descending
// version, so an unversioned reference resolves to the first.
// A catalog is never modified in place; put and remove return a copy.
type catalog[T any] map[string][]entry[T]

type entry[T any] struct {
	version string
	stored  bool // added at run time rather than built in
	item    T
}

// get resolves url, which may carry a |version suffix, or url and version.
func (c catalog[T]) get(url, version string) (T, bool) {
	if u, v, ok := strings.Cut(url, "|"); ok && c[url] == nil {
		// (Some R4 v2 code systems have a "|" in their url itself.)
		url, version = u, v
	}
	var zero T
	list := c[url]
	if len(list) == 0 {
		return zero, false
	}
	if version == "" {
		return list[0].item, true
	}
	for _, e := range list {
		if e.version == version {
			return e.item, true
		}
	}
	return zero, false
}

// with returns a copy of c with item added as url|version; a stored item
// replaces a stored one of the same version.
func (c catalog[T]) with(url, version string, stored bool, item T) catalog[T] {
	out := c.clone()
	list := make([]entry[T], 0, len(c[url])+1)
	for _, e := range c[url] {
		if !(e.version == version && e.stored == stored) {
			list = append(list, e)
		}
	}
	list = append(list, entry[T]{version: version, stored: stored, item: item})
	sortEntries(list)
	out[url] = list
	return out
}

// without returns a copy of c without the stored versions of url (all of
// them when version is ""), and whether anything was removed.
func (c catalog[T]) without(url, version string) (catalog[T], bool) {
	var list []entry[T]
	removed := false
	for _, e := range c[url] {
		if e.stored && (version == "" || e.version == version) {
			removed = true
			continue
		}
		list = append(list, e)
	}
	if !removed {
		return c, false
	}
	out := c.clone()
	if len(list) == 0 {
		delete(out, url)
	} else {
		out[url] = list
	}
	return out, true
}

func (c catalog[T]) clone() catalog[T] {
	out := make(catalog[T], len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	return out
}

// each calls f with the preferred version of every URL.
func (c catalog[T]) each(f func(url string, item T)) {
	for _, u := range sortedKeys(c) {
		f(u, c[u][0].item)
	}
}

func sortEntries[T any](list []entry[T]) {
	// insertion sort: lists hold a handful of versions
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && before(list[j], list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

func before[T any](a, b entry[T]) bool {
	if a.stored != b.stored {
		return a.stored
	}
	return compareVersions(a.version, b.version) > 0
}

// compareVersions orders versions by their dot-separated parts, numerically
// where both parts are numbers ("1.10" after "1.9"), else as strings.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		switch {
		case errA == nil && errB == nil && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case (errA != nil || errB != nil) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	return len(pa) - len(pb)
}

// splitCanonical splits "url|version".
func splitCanonical(canonical string) (url, version string) {
	url, version, _ = strings.Cut(canonical, "|")
	return url, version
}

func stripVersion(url string) string {
	u, _, _ := strings.Cut(url, "|")
	return u
}
