package rest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

const (
	mimeFHIRJSON  = "application/fhir+json"
	mimeJSON      = "application/json"
	mimeJSONPatch = "application/json-patch+json"
)

// responseType negotiates the response format from _format and Accept
// (https://hl7.org/fhir/R4/http.html#mime-type). Only JSON is served.
func responseType(r *http.Request) (string, error) {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", mimeFHIRJSON, mimeJSON:
			if f == mimeJSON {
				return mimeJSON, nil
			}
			return mimeFHIRJSON, nil
		}
		return "", outcome.New(outcome.NotAcceptable, "_format %q is not served; this server speaks FHIR JSON", f)
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return mimeFHIRJSON, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mimeFHIRJSON, "*/*", "application/*", "application/json+fhir":
			return mimeFHIRJSON, nil
		case mimeJSON:
			return mimeJSON, nil
		}
	}
	return "", outcome.New(outcome.NotAcceptable, "Accept %q names no format served; this server speaks application/fhir+json", accept)
}

// readBody reads a FHIR JSON request body, checking its content type (415)
// and size (413).
func readBody(r *http.Request, want ...string) ([]byte, error) {
	if len(want) == 0 {
		want = []string{mimeFHIRJSON, mimeJSON, "application/json+fhir"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(want, mt) {
			return nil, outcome.New(outcome.UnsupportedMedia, "Content-Type %q is not accepted here; send %s", ct, want[0])
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, outcome.New(outcome.TooLarge, "the request body is larger than the limit of %d bytes", tooBig.Limit)
		}
		return nil, outcome.Wrap(outcome.Invalid, "read request body", err)
	}
	return body, nil
}

// decode parses a stored resource.
func decode(body []byte) (map[string]any, error) {
	res, err := fhir.Parse(body)
	if err != nil {
		return nil, outcome.Wrap(outcome.Internal, "decode stored resource", err)
	}
	return res, nil
}

// readResource reads and parses the body as a FHIR resource.
func readResource(r *http.Request) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	res, err := fhir.Parse(body)
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "the body is not a FHIR JSON resource: %v", err)
	}
	return res, nil
}

// writeJSON writes a FHIR JSON body with status, honouring _pretty.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, body map[string]any) {
	ct, err := responseType(r)
	if err != nil {
		ct = mimeFHIRJSON
	}
	var data []byte
	if r.URL.Query().Get("_pretty") == "true" {
		data, err = fhir.MarshalIndent(body, "", "  ")
	} else {
		data, err = fhir.Marshal(body)
	}
	if err != nil {
		a.log.Error("encode response", "request_id", requestID(r.Context()), "err", err)
		status, data = http.StatusInternalServerError, []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"cannot encode the response"}]}`)
	}
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// writeError is the one place an error becomes an HTTP status and an
// OperationOutcome. Internal errors are logged with the request id; the
// client sees only the id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	id := requestID(r.Context())
	if outcome.KindOf(err) == outcome.Internal {
		a.log.Error("internal error", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	oo, status := outcome.OperationOutcome(err, id)
	a.writeJSON(w, r, status, oo)
}

// setVersionHeaders sets ETag and Last-Modified for a version.
func setVersionHeaders(w http.ResponseWriter, v store.Version) {
	w.Header().Set("ETag", resource.ETag(v.VersionID))
	w.Header().Set("Last-Modified", v.Updated.UTC().Format(http.TimeFormat))
}

// baseURL is the absolute FHIR base for links and Location headers.
func (a *API) baseURL(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return strings.TrimSuffix(a.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/fhir"
}

// preferReturn reads the Prefer header's return= choice.
func preferReturn(r *http.Request) resource.Return {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		switch strings.TrimSpace(p) {
		case "return=minimal":
			return resource.ReturnMinimal
		case "return=OperationOutcome":
			return resource.ReturnOutcome
		}
	}
	return resource.ReturnRepresentation
}

// ifMatch reads the If-Match header's version (0 when absent).
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, nil
	}
	n, err := resource.ParseETag(h)
	if err != nil {
		return 0, outcome.New(outcome.Invalid, "If-Match: %v", err)
	}
	return n, nil
}

// writeVersion answers a write with the stored version per Prefer.
func (a *API) writeVersion(w http.ResponseWriter, r *http.Request, v store.Version, status int) {
	setVersionHeaders(w, v)
	w.Header().Set("Location", fmt.Sprintf("%s/%s/%s/_history/%d", a.baseURL(r), v.Type, v.ID, v.VersionID))
	switch preferReturn(r) {
	case resource.ReturnMinimal:
		w.WriteHeader(status)
	case resource.ReturnOutcome:
		a.writeJSON(w, r, status, outcome.Resource([]outcome.Issue{{
			Severity: outcome.SeverityInformation, Code: "informational",
			Message: fmt.Sprintf("%s/%s version %d stored", v.Type, v.ID, v.VersionID),
		}}))
	default:
		a.writeBody(w, r, status, v.Body)
	}
}

// writeBody writes a stored resource body as is (no re-encoding) unless the
// client asked for a pretty or reshaped form.
func (a *API) writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	q := r.URL.Query()
	ct, err := responseType(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if q.Get("_pretty") == "true" || q.Get("_summary") != "" || q.Get("_elements") != "" {
		res, err := fhir.Parse(body)
		if err != nil {
			a.writeError(w, r, outcome.Wrap(outcome.Internal, "decode stored resource", err))
			return
		}
		a.writeJSON(w, r, status, shape(res, q.Get("_summary"), q.Get("_elements")))
		return
	}
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// shape applies _summary and _elements (https://hl7.org/fhir/R4/search.html#summary).
func shape(res map[string]any, summary, elements string) map[string]any {
	switch {
	case summary != "" && summary != "false":
		return fhir.Summary(res, summary)
	case elements != "":
		return fhir.Elements(res, strings.Split(elements, ","))
	}
	return res
}
