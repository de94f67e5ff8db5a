package deposit

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// role is what an entry is to the deposit.
type role int

const (
	rolePatient role = iota // the provider's record of a patient
	roleRecord              // a record with its source identifier
	roleBinary              // a document's content, named by a DocumentReference
	roleReason              // a Provenance giving the reason of amendments or withdrawals
)

// item is one entry of a deposit Bundle, as planned.
type item struct {
	index   int
	fullURL string
	method  string // POST, PUT or DELETE as sent
	rawURL  string // request.url as sent
	typ, id string // the target's type, and id when the url names one
	query   url.Values
	res     map[string]any
	ifMatch int64 // the client's If-Match
	role    role
	// key is the source identifier (the record number of a Patient) the
	// entry is keyed on.
	key sourceKey
	// existing is the current version the entry changes (nil: a new
	// record, or a DELETE matching nothing), and cur its body.
	existing *store.Version
	cur      map[string]any
	// master is a Patient entry's citizen.
	master string
	// err refuses the entry; issues are its warnings and information.
	err    *outcome.Error
	issues []outcome.Issue
	// deps are the entries whose fullUrl the resource refers to.
	deps []int
	// changed is set when the entry amends or withdraws an existing
	// record: a Provenance is recorded with it.
	changed bool
	reason  *item // the Provenance entry giving the reason
	// provenance is the Provenance recorded with the change.
	provenance map[string]any
}

// path is the entry's FHIRPath.
func (it *item) path() string { return fmt.Sprintf("Bundle.entry[%d]", it.index) }

// refuse records the entry's first error (later ones add their issues).
func (it *item) refuse(err error) {
	oe := asOutcome(err)
	if it.err == nil {
		it.err = &outcome.Error{Kind: oe.Kind, Op: it.path(), Err: err}
	}
	for _, is := range oe.Issues {
		is.Expression = it.expression(is.Expression)
		it.err.Issues = append(it.err.Issues, is)
	}
}

// expression points expr (relative to the resource, "Observation.code",
// or absolute, "Bundle.entry[2].request.url") at the entry.
func (it *item) expression(expr string) string {
	switch {
	case expr == "":
		return it.path()
	case strings.HasPrefix(expr, "Bundle.entry["):
		return expr
	case it.typ != "" && expr == it.typ:
		return it.path() + ".resource"
	case it.typ != "" && strings.HasPrefix(expr, it.typ+"."):
		return it.path() + ".resource." + strings.TrimPrefix(expr, it.typ+".")
	}
	return it.path() + "." + expr
}

// asOutcome is err as a platform error (an internal one when it is not).
func asOutcome(err error) *outcome.Error {
	var oe *outcome.Error
	if errors.As(err, &oe) {
		return oe
	}
	return &outcome.Error{Kind: outcome.Internal, Err: err}
}

// sourceKey is a source identifier: system|value.
type sourceKey struct{ system, value string }

func (k sourceKey) ok() bool { return k.system != "" && k.value != "" }

// query is the search for the identifier, escaped
// (https://hl7.org/fhir/R4/search.html#escaping).
func (k sourceKey) token() string { return searchEscape(k.system) + "|" + searchEscape(k.value) }

var escaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, ",", `\,`, "$", `\$`)

func searchEscape(s string) string { return escaper.Replace(s) }

// parseItems reads the request part of every entry; a malformed entry
// refuses the whole Bundle, as the resource service does.
func parseItems(bundle map[string]any) ([]*item, error) {
	raw, ok := bundle["entry"]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, outcome.At(outcome.Invalid, "Bundle.entry", "entry must be an array")
	}
	items := make([]*item, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, outcome.At(outcome.Invalid, fmt.Sprintf("Bundle.entry[%d]", i), "entry must be an object")
		}
		it, err := parseItem(i, m)
		if err != nil {
			return nil, err
		}
		items[i] = it
	}
	return items, nil
}

func parseItem(i int, m map[string]any) (*item, error) {
	it := &item{index: i}
	it.fullURL, _ = m["fullUrl"].(string)
	req, _ := m["request"].(map[string]any)
	if req == nil {
		return nil, outcome.At(outcome.Invalid, it.path()+".request", "every entry of a deposit needs a request")
	}
	it.method, _ = req["method"].(string)
	it.rawURL, _ = req["url"].(string)
	if r, ok := m["resource"]; ok {
		if it.res, ok = r.(map[string]any); !ok {
			return nil, outcome.At(outcome.Invalid, it.path()+".resource", "resource must be an object")
		}
	}
	if s, ok := req["ifMatch"].(string); ok {
		n, err := resource.ParseETag(s)
		if err != nil {
			return nil, outcome.At(outcome.Invalid, it.path()+".request.ifMatch", "%v", err)
		}
		it.ifMatch = n
	}
	switch it.method {
	case "POST", "PUT", "DELETE":
	case "":
		return nil, outcome.At(outcome.Invalid, it.path()+".request.method", "request.method is required")
	default:
		return nil, outcome.At(outcome.Invalid, it.path()+".request.method",
			"a deposit POSTs or PUTs whole records and DELETEs withdrawn ones, not %s", it.method)
	}
	if err := it.parseURL(); err != nil {
		return nil, err
	}
	if it.method != "DELETE" {
		if it.res == nil {
			return nil, outcome.At(outcome.Invalid, it.path()+".resource", "a %s entry needs a resource", it.method)
		}
		if rt, _ := it.res["resourceType"].(string); rt != it.typ {
			return nil, outcome.At(outcome.Invalid, it.path()+".resource.resourceType", "the resource is a %q, the request.url names %s", rt, it.typ)
		}
	}
	return it, nil
}

// parseURL splits request.url into type, id and query: "Type",
// "Type/id" or "Type?criteria", relative or on any base.
func (it *item) parseURL() error {
	at := it.path() + ".request.url"
	u, err := url.Parse(it.rawURL)
	if err != nil || it.rawURL == "" {
		return outcome.At(outcome.Invalid, at, "request.url %q is not a URL", it.rawURL)
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for len(segs) > 0 && !fhir.IsResourceType(segs[0]) && u.IsAbs() {
		segs = segs[1:]
	}
	if len(segs) == 0 || !fhir.IsResourceType(segs[0]) || len(segs) > 2 {
		return outcome.At(outcome.Invalid, at, "request.url %q is Type, Type/id or Type?criteria", it.rawURL)
	}
	it.typ = segs[0]
	if len(segs) == 2 {
		it.id = segs[1]
	}
	it.query = u.Query()
	switch {
	case it.method == "POST" && (it.id != "" || len(it.query) > 0):
		return outcome.At(outcome.Invalid, at, "a POST entry's url is the resource type, e.g. %q", it.typ)
	case it.method != "POST" && it.id == "" && len(it.query) == 0:
		return outcome.At(outcome.Invalid, at, "a %s entry's url is Type/id or Type?identifier=system|value", it.method)
	case it.id != "" && len(it.query) > 0:
		return outcome.At(outcome.Invalid, at, "request.url %q names both an id and criteria", it.rawURL)
	}
	return nil
}
