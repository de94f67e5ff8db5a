package scope

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Context is the context a clinical scope applies in.
type Context string

// The contexts of clinical scopes.
const (
	// Patient scopes reach the data of the patient in context (the launch
	// patient, or the citizen who signed in).
	Patient Context = "patient"
	// User scopes reach whatever the signed-in user may see.
	User Context = "user"
	// System scopes are for backend services, with no user.
	System Context = "system"
)

// nonClinical lists the scopes that grant no FHIR data but ask for identity,
// launch context or a refresh token.
var nonClinical = map[string]bool{
	"openid":           true,
	"fhirUser":         true,
	"profile":          true,
	"launch":           true,
	"launch/patient":   true,
	"launch/encounter": true,
	"offline_access":   true,
	"online_access":    true,
}

// Scope is one clinical scope.
type Scope struct {
	Context Context
	// ResourceType is a FHIR resource type, or "*" for every type.
	ResourceType string
	// Perms is never empty.
	Perms Perms
	// Query holds the finer-grained restriction of SMART v2 (the part after
	// "?"): search parameters every resource reached must match, several
	// values of one parameter all applying (AND), as in FHIR search. Values
	// are decoded and sorted; nil means unrestricted.
	Query url.Values
}

// String returns the scope in canonical form: v2 permissions, and the query
// with parameters and values sorted and only the characters escaped that a
// scope or a query cannot hold as they are.
func (s Scope) String() string {
	out := string(s.Context) + "/" + s.ResourceType + "." + s.Perms.String()
	if len(s.Query) > 0 {
		out += "?" + encodeQuery(normalQuery(s.Query))
	}
	return out
}

// ParseError says which scope of a scope string is wrong, and which part of it.
type ParseError struct {
	Scope  string // the offending scope, as given
	Part   string // "scope", "context", "resource type", "permissions" or "query"
	Reason string
}

// Error describes the problem.
func (e *ParseError) Error() string {
	s := e.Scope
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("scope %q: %s: %s", s, e.Part, e.Reason)
}

// parseClinical parses a scope that is not a non-clinical name.
func parseClinical(tok string) (Scope, *ParseError) {
	fail := func(part, reason string) (Scope, *ParseError) {
		return Scope{}, &ParseError{Scope: tok, Part: part, Reason: reason}
	}
	ctx, rest, ok := strings.Cut(tok, "/")
	if !ok {
		return fail("scope", "unknown scope")
	}
	switch Context(ctx) {
	case Patient, User, System:
	case "launch":
		return fail("scope", "unknown launch context; want launch, launch/patient or launch/encounter")
	default:
		return fail("context", quote(ctx)+" is not patient, user or system")
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	typ, perms, ok := strings.Cut(base, ".")
	if !ok {
		return fail("permissions", "missing: want "+ctx+"/Type.permissions, as "+ctx+"/Observation.rs")
	}
	if !validType(typ) {
		return fail("resource type", quote(typ)+" is neither * nor a capitalised resource type name")
	}
	ps, why := parsePerms(perms)
	if why != "" {
		return fail("permissions", why)
	}
	s := Scope{Context: Context(ctx), ResourceType: typ, Perms: ps}
	if hasQuery {
		q, why := parseQuery(query)
		if why != "" {
			return fail("query", why)
		}
		s.Query = q
	}
	return s, nil
}

// validType reports whether typ is "*" or has the shape of a FHIR resource
// type name: an upper-case ASCII letter, then ASCII letters.
func validType(typ string) bool {
	if typ == "*" {
		return true
	}
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return false
	}
	for _, c := range []byte(typ) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// parseQuery parses the query of a scope: name=value pairs joined by "&",
// percent-decoded. Every name and value must be non-empty.
func parseQuery(raw string) (url.Values, string) {
	if raw == "" {
		return nil, "empty after \"?\"; drop the \"?\" or add name=value"
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err.Error()
	}
	for name, values := range q {
		if name == "" {
			return nil, "a parameter has no name"
		}
		for _, v := range values {
			if v == "" {
				return nil, "parameter " + quote(name) + " has no value"
			}
		}
	}
	return normalQuery(q), ""
}

// normalQuery sorts and de-duplicates the values of each parameter, in a
// copy, so that equal restrictions compare and print equal.
func normalQuery(q url.Values) url.Values {
	if len(q) == 0 {
		return nil
	}
	out := make(url.Values, len(q))
	for name, values := range q {
		out[name] = slices.Compact(slices.Sorted(slices.Values(values)))
	}
	return out
}

// encodeQuery writes q with sorted names and values.
func encodeQuery(q url.Values) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(name))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// escape percent-encodes s except for the characters a FHIR search value
// commonly holds and that mean nothing special in a query or a scope token
// (":", "/", "|", ","…), so that canonical scopes stay readable:
// category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory.
func escape(s string) string {
	const keep = "-._~:/|,@!$'()*"
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// validToken reports whether tok uses only the characters RFC 6749 §3.3
// allows in a scope token: printable ASCII except space, " and \.
func validToken(tok string) (bad byte, ok bool) {
	for _, c := range []byte(tok) {
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return c, false
		}
	}
	return 0, true
}

// quote quotes s for an error message.
func quote(s string) string { return strconv.Quote(s) }
