package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// guideWriter is the writer recorded on the implementation guide's
// resources the platform stores at start.
const guideWriter = "ehealth-profiles"

// storeGuide writes the guide's CodeSystems, ValueSets and
// StructureDefinitions (with their snapshots) as the platform's, at their
// ids, in one transaction, so they are served at /fhir/StructureDefinition
// and the terminology service holds the code systems the profiles bind
// to. What is stored already as the guide says is left alone, so a
// restart writes nothing.
func storeGuide(ctx context.Context, svc *resource.Service, set *profile.Set) error {
	res := set.Resources()
	rank := map[string]int{"CodeSystem": 0, "ValueSet": 1, "StructureDefinition": 2}
	slices.SortStableFunc(res, func(a, b map[string]any) int {
		return rank[a["resourceType"].(string)] - rank[b["resourceType"].(string)]
	})
	var writes []resource.Write
	for _, r := range res {
		typ, id := r["resourceType"].(string), r["id"].(string)
		same, err := stored(ctx, svc, typ, id, r)
		if err != nil {
			return err
		}
		if !same {
			writes = append(writes, resource.Write{Type: typ, ID: id, Resource: r})
		}
	}
	if len(writes) == 0 {
		return nil
	}
	if _, err := svc.Transact(ctx, resource.Caller{Writer: guideWriter}, writes...); err != nil {
		return fmt.Errorf("store the implementation guide: %w", err)
	}
	return nil
}

// stored reports whether typ/id is stored with the content of r (meta's
// version and time aside).
func stored(ctx context.Context, svc *resource.Service, typ, id string, r map[string]any) (bool, error) {
	v, err := svc.Read(ctx, resource.Caller{}, typ, id)
	if err != nil || v.Writer != guideWriter {
		// not there (or deleted, or unreadable): the write says if the
		// store has a real problem
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(v.Body))
	dec.UseNumber()
	var have map[string]any
	if err := dec.Decode(&have); err != nil {
		return false, fmt.Errorf("read the implementation guide's %s/%s: %w", typ, id, err)
	}
	if meta, ok := have["meta"].(map[string]any); ok {
		delete(meta, "versionId")
		delete(meta, "lastUpdated")
		if len(meta) == 0 {
			delete(have, "meta")
		}
	}
	return reflect.DeepEqual(have, r), nil
}
