package search

import (
	"strings"
)

// referenceOf splits a reference as written in a resource or a query:
// "Patient/123", "Patient/123/_history/2", "https://h/fhir/Patient/123",
// "urn:uuid:...", "#contained". The version is kept but search ignores it.
func referenceOf(ref string) ReferenceRow {
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return ReferenceRow{URL: ref}
	}
	path, version := ref, ""
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		path, version = ref[:i], ref[i+len("/_history/"):]
	}
	segs := strings.Split(path, "/")
	n := len(segs)
	if n < 2 || !validTypeName(segs[n-2]) || !validID(segs[n-1]) {
		return ReferenceRow{URL: ref}
	}
	r := ReferenceRow{Type: segs[n-2], ID: segs[n-1], Version: version}
	if n > 2 {
		r.Base = strings.Join(segs[:n-2], "/")
		r.URL = path
	}
	if n > 2 && !strings.Contains(r.Base, "://") {
		return ReferenceRow{URL: ref} // not absolute and not Type/id
	}
	return r
}

// canonicalRow splits "url|version"; a canonical whose url ends in
// Type/id also gets Type and ID.
func canonicalRow(c string) ReferenceRow {
	url, version, _ := strings.Cut(c, "|")
	r := ReferenceRow{URL: url, Version: version}
	segs := strings.Split(url, "/")
	if n := len(segs); n > 2 && validTypeName(segs[n-2]) && validID(segs[n-1]) {
		r.Type, r.ID = segs[n-2], segs[n-1]
		r.Base = strings.Join(segs[:n-2], "/")
	}
	return r
}

// validID reports whether s is a FHIR id: 1-64 of [A-Za-z0-9-.].
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isIdentChar(c) && c != '-' && c != '.' || c == '_' {
			return false
		}
	}
	return true
}

// RefValue is a reference search value
// (https://hl7.org/fhir/R4/search.html#reference).
type RefValue struct {
	Type    string // from "Type/id" or the :Type modifier; "" for a bare id of an untyped param
	ID      string // the logical id; "" for a URL that is not Type/id
	Base    string // for an absolute URL: the server base, "" when it is this server
	URL     string // an absolute URL (without _history) or canonical url, as written
	Version string // a canonical's |version; _history versions are dropped
	// IdentifierSystem and IdentifierValue are the token of :identifier;
	// HasSystem tells "|value" (no system) from "value" (any system).
	IdentifierSystem, IdentifierValue string
	HasSystem                         bool
}

// parseRef reads a reference search value. base is this server's base URL;
// an absolute reference to it is read as local.
func parseRef(s string, mod Modifier, typeMod, base string) RefValue {
	if mod == ModIdentifier {
		t := parseTokenValue(s)
		return RefValue{IdentifierSystem: t.System, IdentifierValue: t.Code, HasSystem: t.HasSystem}
	}
	if strings.Contains(s, "://") || strings.HasPrefix(s, "urn:") {
		if strings.Contains(s, "|") {
			r := canonicalRow(s)
			return RefValue{Type: r.Type, ID: r.ID, Base: r.Base, URL: r.URL, Version: r.Version}
		}
		r := referenceOf(s)
		out := RefValue{Type: r.Type, ID: r.ID, Base: r.Base, URL: r.URL}
		if out.URL == "" {
			out.URL = s
		}
		if base != "" && strings.TrimRight(r.Base, "/") == strings.TrimRight(base, "/") {
			out.Base, out.URL = "", ""
		}
		return out
	}
	if strings.Contains(s, "/") {
		r := referenceOf(s)
		return RefValue{Type: r.Type, ID: r.ID, URL: r.URL}
	}
	return RefValue{Type: typeMod, ID: s}
}

// MatchRef reports whether a reference row matches a search value.
func MatchRef(mod Modifier, v RefValue, r ReferenceRow) bool {
	switch {
	case mod == ModIdentifier:
		return r.IdentifierValue == v.IdentifierValue && (!v.HasSystem || r.IdentifierSystem == v.IdentifierSystem)
	case mod == ModAbove || mod == ModBelow:
		return uriHierarchy(mod, v.URL, r.URL)
	case v.ID != "":
		if v.Type != "" && r.Type != v.Type || r.ID != v.ID {
			return false
		}
		if v.Version != "" && r.Version != v.Version {
			return false
		}
		return strings.TrimRight(r.Base, "/") == strings.TrimRight(v.Base, "/")
	case v.URL != "":
		return r.URL == v.URL && (v.Version == "" || r.Version == v.Version)
	}
	return false
}
