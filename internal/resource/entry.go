package resource

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// entry is one Bundle.entry of a batch or transaction, parsed.
type entry struct {
	index    int
	fullURL  string
	method   string // GET, HEAD, POST, PUT, PATCH, DELETE
	target   target
	query    url.Values
	resource map[string]any
	ifMatch  int64
	ifNone   string // If-None-Match
	ifSince  string // If-Modified-Since
	ifExist  string // ifNoneExist: conditional create
	// prep is the resource's validation and index, done before the transaction.
	prep *prepared
	// existing is the resource a conditional create found: nothing is written.
	existing *store.Version
	// fresh marks a conditional update that matched nothing and creates
	// the resource at an id the server chose.
	fresh bool
	// noop marks a conditional delete that matched nothing.
	noop bool
}

// target is what an entry's request.url names.
type target struct {
	typ, id   string
	history   bool  // .../_history
	versionID int64 // .../_history/n
	metadata  bool
}

// path is the entry's FHIRPath, for error expressions.
func (e *entry) path() string { return fmt.Sprintf("Bundle.entry[%d]", e.index) }

// parseEntries reads the request part of every entry.
func parseEntries(bundle map[string]any) ([]*entry, error) {
	raw, ok := bundle["entry"]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, outcome.At(outcome.Invalid, "Bundle.entry", "entry must be an array")
	}
	entries := make([]*entry, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("Bundle.entry[%d]", i), "entry must be an object")
		}
		e, err := parseEntry(i, m)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func parseEntry(i int, m map[string]any) (*entry, error) {
	e := &entry{index: i}
	e.fullURL, _ = m["fullUrl"].(string)
	req, ok := m["request"].(map[string]any)
	if !ok {
		return nil, outcome.At(outcome.Invalid, e.path()+".request", "every entry of a batch or transaction needs a request")
	}
	e.method, _ = req["method"].(string)
	switch e.method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE":
	default:
		return nil, outcome.At(outcome.Invalid, e.path()+".request.method", "unknown request method %q", e.method)
	}
	rawURL, _ := req["url"].(string)
	if rawURL == "" {
		return nil, outcome.At(outcome.Invalid, e.path()+".request.url", "request.url is required")
	}
	var err error
	if e.target, e.query, err = parseTarget(rawURL); err != nil {
		return nil, outcome.At(outcome.Invalid, e.path()+".request.url", "%v", err)
	}
	if r, ok := m["resource"]; ok {
		if e.resource, ok = r.(map[string]any); !ok {
			return nil, outcome.At(outcome.Invalid, e.path()+".resource", "resource must be an object")
		}
	}
	if s, ok := req["ifMatch"].(string); ok {
		if e.ifMatch, err = ParseETag(s); err != nil {
			return nil, outcome.At(outcome.Invalid, e.path()+".request.ifMatch", "%v", err)
		}
	}
	e.ifNone, _ = req["ifNoneMatch"].(string)
	e.ifSince, _ = req["ifModifiedSince"].(string)
	e.ifExist, _ = req["ifNoneExist"].(string)
	return e, e.checkShape()
}

// checkShape checks the entry carries what its method needs.
func (e *entry) checkShape() error {
	needsResource := e.method == "POST" || e.method == "PUT" || e.method == "PATCH"
	if needsResource && e.resource == nil {
		return outcome.At(outcome.Invalid, e.path()+".resource", "a %s entry needs a resource", e.method)
	}
	if e.target.metadata {
		if e.method != "GET" && e.method != "HEAD" {
			return outcome.At(outcome.Invalid, e.path()+".request.url", "metadata can only be read")
		}
		return nil
	}
	if e.target.typ == "" && !(e.target.history && (e.method == "GET" || e.method == "HEAD")) {
		return outcome.At(outcome.Invalid, e.path()+".request.url", "request.url must name a resource type")
	}
	switch e.method {
	case "POST":
		if e.target.id != "" || e.target.history {
			return outcome.At(outcome.Invalid, e.path()+".request.url", "a POST entry's url is the resource type, e.g. %q", e.target.typ)
		}
	case "PUT", "PATCH", "DELETE":
		if e.target.id == "" && len(e.query) == 0 {
			return outcome.At(outcome.Invalid, e.path()+".request.url", "a %s entry's url is Type/id", e.method)
		}
		if e.target.history {
			return outcome.At(outcome.Invalid, e.path()+".request.url", "versions cannot be changed")
		}
	}
	return nil
}

// parseTarget splits a request url (relative, or absolute on any base) into
// the resource type, id, version and query.
func parseTarget(raw string) (target, url.Values, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, nil, fmt.Errorf("request.url %q is not a URL: %w", raw, err)
	}
	q := u.Query()
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if u.IsAbs() {
		segs = fromResourceSegment(segs)
	}
	var t target
	switch {
	case len(segs) == 1 && segs[0] == "metadata":
		t.metadata = true
	case len(segs) == 1 && segs[0] == "_history":
		t.history = true
	case len(segs) >= 1 && segs[0] != "":
		t.typ = segs[0]
		if !fhir.IsResourceType(t.typ) {
			return t, nil, fmt.Errorf("unknown resource type %q", t.typ)
		}
		rest := segs[1:]
		if len(rest) > 0 && rest[0] == "_history" {
			t.history, rest = true, rest[1:]
		} else if len(rest) > 0 {
			t.id, rest = rest[0], rest[1:]
			if len(rest) > 0 && rest[0] == "_history" {
				t.history, rest = true, rest[1:]
				if len(rest) > 0 {
					if t.versionID, err = strconv.ParseInt(rest[0], 10, 64); err != nil {
						return t, nil, fmt.Errorf("version %q is not a number", rest[0])
					}
					rest = rest[1:]
				}
			}
		}
		if len(rest) > 0 {
			return t, nil, fmt.Errorf("request.url %q has unexpected segments", raw)
		}
	default:
		return t, nil, fmt.Errorf("request.url %q names nothing", raw)
	}
	return t, q, nil
}

// fromResourceSegment drops an absolute URL's base: everything before the
// first segment that is a resource type, _history or metadata.
func fromResourceSegment(segs []string) []string {
	for i, s := range segs {
		if fhir.IsResourceType(s) || s == "_history" || s == "metadata" {
			return segs[i:]
		}
	}
	return segs
}

// ParseETag reads a version id from an ETag such as W/"3" (or a bare 3).
func ParseETag(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "W/")
	t = strings.Trim(t, `"`)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a version ETag such as W/\"3\"", s)
	}
	return n, nil
}

// ETag is the weak ETag of a version (https://hl7.org/fhir/R4/http.html#versioning).
func ETag(versionID int64) string { return `W/"` + strconv.FormatInt(versionID, 10) + `"` }
