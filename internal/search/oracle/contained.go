package oracle

// Contained resources (https://hl7.org/fhir/R4/search.html#contained),
// read straight from the bodies: a resource's contained list holds
// resources of their own types, searched with the parameters of those
// types, each clause on the one contained resource; a contained resource
// is visible when its container is.

// containedIn lists, by type, the resources contained in the resources
// of byType.
func containedIn(byType map[string][]*Resource) map[string][]*Resource {
	out := map[string][]*Resource{}
	for _, rs := range byType {
		for _, r := range rs {
			for _, c := range Contained(r) {
				out[c.Type] = append(out[c.Type], c)
			}
		}
	}
	return out
}

// Contained returns the resources r contains, in order.
func Contained(r *Resource) []*Resource {
	list, _ := r.Body["contained"].([]any)
	var out []*Resource
	for i, item := range list {
		body, _ := item.(map[string]any)
		typ, _ := body["resourceType"].(string)
		if typ == "" {
			continue
		}
		id, _ := body["id"].(string)
		out = append(out, &Resource{Type: typ, ID: id, PatientKey: r.PatientKey, Body: body,
			Container: r.Type + "/" + r.ID, Position: i + 1})
	}
	return out
}

// searchContained answers _contained=true (both: also the resources of
// typ that stand alone). Result.IDs are then "Type/id" of what is
// returned: a resource that stands alone; a container, once however many
// of its resources match; or, with returnContained
// (_containedType=contained), the contained resource as
// "ContainerType/id#localId".
func (o *Oracle) searchContained(typ string, clauses []clause, both, returnContained bool, allow func(string) bool) (Result, error) {
	var res Result
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			res.IDs = append(res.IDs, id)
		}
	}
	var candidates []*Resource
	if both {
		candidates = o.byType[typ]
	}
	candidates = append(candidates, o.contained[typ]...)
	for _, r := range candidates {
		if !allow(r.PatientKey) {
			continue
		}
		ok, err := o.matchAll(r, clauses)
		if err != nil {
			return res, err
		}
		switch {
		case !ok:
		case r.Container == "":
			add(r.Type + "/" + r.ID)
		case returnContained:
			add(r.Container + "#" + r.ID)
		default:
			add(r.Container)
		}
	}
	return res, nil
}
