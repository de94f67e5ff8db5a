package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FHIR calls the platform's FHIR API in-process as the signed-in person:
// each call is a request to the rest API's handler with the session's
// bearer token, so scopes, consent, role views and the audit journal
// apply as to any app. Answers are parsed JSON; a failure is an
// *outcome.Error with the kind of the HTTP status and the
// OperationOutcome's issues.
type FHIR struct {
	api    http.Handler
	base   *url.URL // the FHIR base, e.g. https://ehealth.hk/fhir
	remote string   // the browser's address, for the audit journal
	lang   Lang
	token  func(ctx context.Context, renew bool) (string, error)
}

// Bundle is a searchset as the apps use it: the matching resources
// (entry.search.mode match), the included ones and the link to the next
// page (an opaque cursor, "" on the last page).
type Bundle struct {
	Total    int // -1 when the server gave none
	Matches  []Resource
	Included []Resource
	Next     string
}

// Read returns typ/id.
func (f *FHIR) Read(ctx context.Context, typ, id string) (Resource, error) {
	return f.Do(ctx, http.MethodGet, typ+"/"+url.PathEscape(id), nil)
}

// Search searches typ with q (q travels only in-process; search
// parameters never reach a browser's address bar).
func (f *FHIR) Search(ctx context.Context, typ string, q url.Values) (*Bundle, error) {
	path := typ
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return f.SearchPath(ctx, path)
}

// SearchPath searches with a path relative to the base (a next link's
// path and query, from Bundle.Next).
func (f *FHIR) SearchPath(ctx context.Context, path string) (*Bundle, error) {
	res, err := f.Do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return parseBundle(res, f.base), nil
}

// Create creates r; the answer is the stored resource.
func (f *FHIR) Create(ctx context.Context, r Resource) (Resource, error) {
	return f.Do(ctx, http.MethodPost, Str(r, "resourceType"), r)
}

// Update replaces r at its id.
func (f *FHIR) Update(ctx context.Context, r Resource) (Resource, error) {
	return f.Do(ctx, http.MethodPut, Str(r, "resourceType")+"/"+url.PathEscape(Str(r, "id")), r)
}

// Operation invokes an operation: path is relative to the base
// ("Patient/123/$share"), params a Parameters resource or nil (POST with
// no body). The answer is the operation's resource, nil when it has none.
func (f *FHIR) Operation(ctx context.Context, path string, params Resource) (Resource, error) {
	if params == nil {
		params = Resource{"resourceType": "Parameters"}
	}
	return f.Do(ctx, http.MethodPost, path, params)
}

// Do sends one request (body as JSON when not nil) and parses the answer.
func (f *FHIR) Do(ctx context.Context, method, path string, body Resource) (Resource, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("web: fhir %s %s: %w", method, path, err)
		}
	}
	status, ctype, answer, err := f.Raw(ctx, method, path, "application/fhir+json", raw)
	if err != nil {
		return nil, err
	}
	if len(answer) == 0 || !strings.Contains(ctype, "json") {
		return nil, nil
	}
	var res Resource
	if err := json.Unmarshal(answer, &res); err != nil {
		return nil, fmt.Errorf("web: fhir %s %s answered %d: %w", method, strings.SplitN(path, "?", 2)[0], status, err)
	}
	return res, nil
}

// Raw sends one request with a body of its own type (a Binary's bytes)
// and returns the status, content type and body of a successful answer;
// a 4xx or 5xx is the error its OperationOutcome describes. An expired
// access token is renewed once with the refresh token.
func (f *FHIR) Raw(ctx context.Context, method, path, contentType string, body []byte) (int, string, []byte, error) {
	tok, err := f.token(ctx, false)
	if err != nil {
		return 0, "", nil, err
	}
	rec, err := f.send(ctx, method, path, contentType, body, tok)
	if err == nil && rec.status == http.StatusUnauthorized {
		if tok, err = f.token(ctx, true); err != nil {
			return 0, "", nil, err
		}
		rec, err = f.send(ctx, method, path, contentType, body, tok)
	}
	if err != nil {
		return 0, "", nil, err
	}
	if rec.status >= 400 {
		return rec.status, "", nil, outcomeError(method, path, rec.status, rec.body.Bytes())
	}
	return rec.status, rec.header.Get("Content-Type"), rec.body.Bytes(), nil
}

func (f *FHIR) send(ctx context.Context, method, path, contentType string, body []byte, tok string) (*recorder, error) {
	u := *f.base
	rel, err := url.Parse(path)
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "web: fhir path: %v", err)
	}
	u.Path = strings.TrimSuffix(f.base.Path, "/") + "/" + strings.TrimPrefix(rel.Path, "/")
	u.RawPath = ""
	u.RawQuery = rel.RawQuery
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("web: fhir request: %w", err)
	}
	r.Host = f.base.Host
	r.RemoteAddr = f.remote
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Accept", "application/fhir+json")
	r.Header.Set("Accept-Language", string(f.lang))
	if body != nil {
		r.Header.Set("Content-Type", contentType)
	}
	rec := newRecorder()
	f.api.ServeHTTP(rec, r)
	return rec, nil
}

// statusKinds maps the FHIR API's statuses back to outcome kinds.
var statusKinds = map[int]outcome.Kind{
	400: outcome.Invalid, 401: outcome.Unauthorized, 403: outcome.Forbidden, 404: outcome.NotFound,
	405: outcome.NotAllowed, 406: outcome.NotAcceptable, 409: outcome.Conflict, 410: outcome.Gone,
	412: outcome.PreconditionFailed, 413: outcome.TooLarge, 415: outcome.UnsupportedMedia,
	422: outcome.Unprocessable, 503: outcome.Transient,
}

// outcomeError turns a failed answer into an *outcome.Error carrying the
// OperationOutcome's issues.
func outcomeError(method, path string, status int, body []byte) error {
	kind, ok := statusKinds[status]
	if !ok {
		kind = outcome.Internal
	}
	e := &outcome.Error{Kind: kind, Op: "fhir " + method + " " + strings.SplitN(path, "?", 2)[0]}
	var oo Resource
	if json.Unmarshal(body, &oo) == nil && Str(oo, "resourceType") == "OperationOutcome" {
		for _, is := range List(oo, "issue") {
			msg := Str(is, "diagnostics")
			if msg == "" {
				msg = Display(Get(is, "details"))
			}
			e.Issues = append(e.Issues, outcome.Issue{Severity: Str(is, "severity"), Code: Str(is, "code"),
				Message: msg, Expression: Str(is, "expression", 0)})
		}
	}
	if len(e.Issues) == 0 {
		e.Issues = []outcome.Issue{{Severity: outcome.SeverityError, Code: kind.IssueCode(), Message: http.StatusText(status)}}
	}
	return e
}

// parseBundle reads a searchset.
func parseBundle(res Resource, base *url.URL) *Bundle {
	b := &Bundle{Total: -1}
	if t, ok := Get(res, "total").(float64); ok {
		b.Total = int(t)
	}
	for _, e := range List(res, "entry") {
		r, _ := Get(e, "resource").(map[string]any)
		if r == nil {
			continue
		}
		if Str(e, "search", "mode") == "include" {
			b.Included = append(b.Included, r)
		} else {
			b.Matches = append(b.Matches, r)
		}
	}
	for _, l := range List(res, "link") {
		if Str(l, "relation") != "next" {
			continue
		}
		if u, err := url.Parse(Str(l, "url")); err == nil {
			b.Next = strings.TrimPrefix(strings.TrimPrefix(u.Path, base.Path), "/")
			if u.RawQuery != "" {
				b.Next += "?" + u.RawQuery
			}
		}
	}
	return b
}

// readAll reads a small body.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, outcome.New(outcome.TooLarge, "web: the file is larger than %d bytes", limit)
	}
	return b, nil
}
