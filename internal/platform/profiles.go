package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/profile"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/validate"
)

// guideWriter is the writer recorded on the implementation guide's
// resources the platform stores at start.
const guideWriter = "ehealth-profiles"

// profiled is the validator of writes: base R4 (structure, bindings,
// invariants) for every resource, and the eHealth+ profile a resource
// declares in meta.profile, if one of the guide's. Enforcing the profiles
// on provider deposits is the deposit's (it calls profile.Set.Check).
type profiled struct {
	base *validate.Validator
	set  *profile.Set
}

// Validate is base R4 validation, then the declared profile's: a profile
// error makes the write unprocessable (422) with every issue of both.
func (v profiled) Validate(res map[string]any) error {
	if err := v.base.Validate(res); err != nil {
		return err
	}
	url := v.set.Declared(res)
	if url == "" {
		return nil
	}
	rep, err := v.set.CheckAgainst(context.Background(), res, url)
	if err != nil {
		return err
	}
	if rep.Valid() {
		return nil
	}
	issues := append(v.base.Check(res), rep.Issues...)
	return &outcome.Error{Kind: outcome.Unprocessable, Op: "validate against " + url, Issues: issues}
}

// Check lists every issue of base validation and of the declared profile,
// for $validate.
func (v profiled) Check(res map[string]any) []outcome.Issue {
	issues := v.base.Check(res)
	if url := v.set.Declared(res); url != "" {
		if rep, err := v.set.CheckAgainst(context.Background(), res, url); err == nil {
			issues = append(issues, rep.Issues...)
		}
	}
	return issues
}

// checkProfile is the resource service's ProfileCheck: $validate?profile=.
func (v profiled) checkProfile(ctx context.Context, res map[string]any, url string) ([]outcome.Issue, error) {
	if url == v.set.Declared(res) {
		return nil, nil // Check has reported it already
	}
	rep, err := v.set.CheckAgainst(ctx, res, url)
	return rep.Issues, err
}

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
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the implementation guide's %s/%s: %w", typ, id, err)
	}
	if v.Writer != guideWriter {
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
