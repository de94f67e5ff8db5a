package resource

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// resolveReferences gives every POST entry its new id and rewrites, in
// every entry's resource, references to an entry's fullUrl into the
// entry's Type/id (https://hl7.org/fhir/R4/bundle.html#references).
// A urn:uuid: or urn:oid: reference naming no entry is an error.
func (s *Service) resolveReferences(ctx context.Context, c Caller, entries []*entry) error {
	local := map[string]string{}
	changed := map[string]int{}
	for _, e := range entries {
		if e.method == "POST" && e.existing == nil {
			e.target.id = s.newID()
		}
		if e.method != "GET" && e.method != "HEAD" && e.target.id != "" && e.existing == nil && !e.noop {
			key := e.target.typ + "/" + e.target.id
			if first, dup := changed[key]; dup {
				return outcome.At(outcome.Invalid, e.path()+".request.url", "%s is changed by entries %d and %d; a transaction changes a resource once", key, first, e.index)
			}
			changed[key] = e.index
		}
		if e.fullURL == "" || (e.method != "POST" && e.method != "PUT") || e.target.id == "" {
			continue
		}
		if _, dup := local[e.fullURL]; dup {
			return outcome.At(outcome.Invalid, e.path()+".fullUrl", "fullUrl %q appears in more than one entry", e.fullURL)
		}
		local[e.fullURL] = e.target.typ + "/" + e.target.id
	}
	resolve := func(ref string) (string, error) {
		target, err := localTarget(ref, local)
		if err != nil || target != "" {
			return target, err
		}
		base, _, _ := strings.Cut(ref, "#")
		if typ, _, cond := strings.Cut(base, "?"); cond && fhir.IsResourceType(typ) {
			return s.conditionalReference(ctx, c, ref)
		}
		return "", nil
	}
	for _, e := range entries {
		if e.resource == nil || e.existing != nil {
			continue
		}
		if err := rewrite(e.resource, resolve, e.path()+".resource"); err != nil {
			return err
		}
		if len(local) > 0 {
			rewriteURLs(e.resource, local)
		}
	}
	return nil
}

// rewrite replaces Reference.reference values that resolve names, walking
// the whole resource (contained resources and extensions too).
func rewrite(node any, resolve func(ref string) (string, error), path string) error {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if ref, ok := v.(string); ok && k == "reference" {
				target, err := resolve(ref)
				if err != nil {
					var oe *outcome.Error
					if errors.As(err, &oe) && len(oe.Issues) > 0 {
						is := oe.Issues[0]
						is.Expression = path + "." + k
						return &outcome.Error{Kind: oe.Kind, Issues: []outcome.Issue{is}, Err: err}
					}
					return outcome.At(outcome.Invalid, path+"."+k, "%v", err)
				}
				if target != "" {
					n[k] = target
				}
				continue
			}
			if err := rewrite(v, resolve, path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, v := range n {
			if err := rewrite(v, resolve, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// localTarget resolves ref against the bundle's fullUrls, keeping a
// #fragment; "" means ref is not bundle-local.
func localTarget(ref string, local map[string]string) (string, error) {
	base, frag, _ := strings.Cut(ref, "#")
	if t, ok := local[base]; ok {
		if frag != "" {
			return t + "#" + frag, nil
		}
		return t, nil
	}
	if strings.HasPrefix(base, "urn:uuid:") || strings.HasPrefix(base, "urn:oid:") {
		return "", fmt.Errorf("reference %q names no entry of the transaction", ref)
	}
	return "", nil
}

// entryPatch takes the patch out of a PATCH entry: a Parameters resource
// is a FHIRPath Patch, a Binary carries a JSON Patch
// (https://hl7.org/fhir/R4/http.html#patch in a transaction).
func entryPatch(res map[string]any) ([]byte, PatchFormat, error) {
	switch rt, _ := res["resourceType"].(string); rt {
	case "Parameters":
		data, err := fhir.Marshal(res)
		return data, FHIRPathPatch, err
	case "Binary":
	default:
		return nil, 0, fmt.Errorf("a PATCH entry carries a Parameters (FHIRPath Patch) or a Binary (JSON Patch), not a %s", rt)
	}
	ct, _ := res["contentType"].(string)
	if !strings.HasPrefix(ct, "application/json-patch+json") {
		return nil, 0, fmt.Errorf("a PATCH entry's Binary must be application/json-patch+json, not %q", ct)
	}
	data, _ := res["data"].(string)
	patch, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, 0, fmt.Errorf("the Binary's data is not base64: %w", err)
	}
	return patch, JSONPatch, nil
}

// decodeBody parses a stored version's resource.
func decodeBody(v store.Version) (map[string]any, error) {
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, outcome.Wrap(outcome.Internal, fmt.Sprintf("decode stored %s/%s/_history/%d", v.Type, v.ID, v.VersionID), err)
	}
	return res, nil
}

// NotModified applies If-None-Match and If-Modified-Since to a read: true
// when the client's copy is current.
func NotModified(v store.Version, ifNoneMatch, ifModifiedSince string) bool {
	if ifNoneMatch != "" {
		if n, err := ParseETag(ifNoneMatch); err == nil && n == v.VersionID {
			return true
		}
		return ifNoneMatch == "*"
	}
	if ifModifiedSince != "" {
		t, err := http.ParseTime(ifModifiedSince)
		if err != nil {
			t, err = time.Parse(time.RFC3339, ifModifiedSince)
		}
		return err == nil && !v.Updated.Truncate(time.Second).After(t)
	}
	return false
}
