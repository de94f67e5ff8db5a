package resource

import (
	"fmt"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// ContainedMatch returns the contained resource a search match stands for
// under _containedType=contained (https://hl7.org/fhir/R4/search.html#contained):
// the v.Contained-th resource of v's contained list, and its local id
// ("" when it has none). The index rows that matched were written with
// this very version, so the position names the resource that matched.
func ContainedMatch(v store.Version) (map[string]any, string, error) {
	body, err := fhir.Parse(v.Body)
	if err != nil {
		return nil, "", fmt.Errorf("contained match in %s/%s: %w", v.Type, v.ID, err)
	}
	list, _ := body["contained"].([]any)
	if v.Contained < 1 || v.Contained > len(list) {
		return nil, "", outcome.New(outcome.Internal, "%s/%s has no contained resource %d", v.Type, v.ID, v.Contained)
	}
	res, ok := list[v.Contained-1].(map[string]any)
	if !ok {
		return nil, "", outcome.New(outcome.Internal, "%s/%s: contained resource %d is not an object", v.Type, v.ID, v.Contained)
	}
	id, _ := res["id"].(string)
	return res, id, nil
}
