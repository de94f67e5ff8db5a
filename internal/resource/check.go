package resource

import (
	"context"
	"regexp"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// idPattern is the FHIR id datatype (https://hl7.org/fhir/R4/datatypes.html#id).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

// checkType rejects anything but a concrete R4 resource type.
func checkType(typ string) error {
	if !fhir.IsResourceType(typ) {
		return outcome.New(outcome.NotFound, "unknown resource type %q", typ)
	}
	return nil
}

func checkID(id string) error {
	if !idPattern.MatchString(id) {
		return outcome.New(outcome.Invalid, "%q is not a valid resource id", id)
	}
	return nil
}

// checkBody checks a resource sent for typ (and id, on update) says what
// the URL says (https://hl7.org/fhir/R4/http.html#update).
func checkBody(typ, id string, res map[string]any) error {
	if err := checkType(typ); err != nil {
		return err
	}
	rt, _ := res["resourceType"].(string)
	if rt != typ {
		return outcome.At(outcome.Invalid, "resourceType", "resource type %q does not match the URL's %q", rt, typ)
	}
	if id == "" {
		return nil
	}
	got, ok := res["id"].(string)
	if !ok {
		return outcome.At(outcome.Invalid, typ+".id", "the resource has no id; an update needs the id of the URL, %q", id)
	}
	if got != id {
		return outcome.At(outcome.Invalid, typ+".id", "the resource's id %q does not match the URL's %q", got, id)
	}
	return nil
}

// applyPatch applies a patch document of either format to a stored version.
func applyPatch(ctx context.Context, cur store.Version, patch []byte, format PatchFormat) (map[string]any, error) {
	if format == JSONPatch {
		return applyJSONPatch(cur.Body, patch)
	}
	params, err := fhir.Parse(patch)
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "the FHIRPath Patch is not FHIR JSON: %v", err)
	}
	res, err := decodeBody(cur)
	if err != nil {
		return nil, err
	}
	if err := applyFHIRPathPatch(ctx, res, params); err != nil {
		return nil, err
	}
	return res, nil
}

// applyJSONPatch applies an RFC 6902 patch to a stored body.
func applyJSONPatch(body, patch []byte) (map[string]any, error) {
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, outcome.New(outcome.Invalid, "invalid JSON Patch document: %v", err)
	}
	out, err := p.Apply(body)
	if err != nil {
		return nil, outcome.New(outcome.Unprocessable, "the JSON Patch cannot be applied: %v", err)
	}
	res, err := fhir.Parse(out)
	if err != nil {
		return nil, outcome.New(outcome.Unprocessable, "the patched resource is not valid FHIR JSON: %v", err)
	}
	return res, nil
}

func goneError(typ, id string, versionID int64) error {
	return outcome.New(outcome.Gone, "%s/%s was deleted (version %d)", typ, id, versionID)
}
