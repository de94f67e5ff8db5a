package resource

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// maxLinkHops bounds how far a patient key follows Patient.link.
const maxLinkHops = 4

// compartmentKey is the patient compartment a resource's rows belong to:
// the patient it refers to through the compartment definition
// (fhir.PatientRefs), resolved along Patient links (resolveKey), so
// deposits against a linked or merged record land in the citizen's
// compartment. r reads the Patients as the write's transaction sees
// them. The policy defaults for what no single patient's predicate may
// show (store.PrivateKey):
//
//   - a resource whose compartment elements name several distinct
//     patients (after resolving links) is filed under PrivateKey of the
//     first: only its writer and the operator see it;
//   - a Binary takes the key of its securityContext (binaryKey).
//
// Restriction by security labels is decided on top of this key
// (restrictKey).
func compartmentKey(ctx context.Context, r reader, res map[string]any) (string, error) {
	switch typ, _ := res["resourceType"].(string); typ {
	case "Patient":
		// A Patient is its own compartment and follows its own links as
		// written.
		key := patientKey(res)
		if next := forwardLink(res); next != "" {
			key = next
		}
		if key == "" {
			return "", nil
		}
		return cachedKey(ctx, r, key)
	case "Binary":
		return binaryKey(ctx, r, res)
	case "Task":
		// R4 puts Task in no compartment, but a Task "for" a patient — a
		// correction request, an access report, an emergency access's
		// review — is about their record and as private as it: filed in
		// their compartment, not among the resources anyone may read.
		f, _ := res["for"].(map[string]any)
		ref, _ := f["reference"].(string)
		if typ, id, ok := referenceTarget(ref); ok && typ == "Patient" {
			return cachedKey(ctx, r, id)
		}
		return "", nil
	}
	refs := fhir.PatientRefs(res)
	if len(refs) == 0 {
		return "", nil
	}
	first, err := cachedKey(ctx, r, refs[0])
	if err != nil {
		return "", err
	}
	for _, ref := range refs[1:] {
		k, err := cachedKey(ctx, r, ref)
		if err != nil {
			return "", err
		}
		if k != first {
			return store.PrivateKey(first), nil
		}
	}
	return first, nil
}

// binaryKey is the compartment key of a Binary: the key of the resource
// its securityContext names (https://hl7.org/fhir/R4/binary.html#security)
// as the transaction sees it — a Patient's compartment, or the current
// key of a resource in one, restricted or private included — so the
// Binary is exactly as visible as what it belongs to. A Binary with no
// securityContext, or one naming a resource outside every compartment or
// not (yet) stored, is readable only by its writer and the operator
// (store.PrivateKey("")).
func binaryKey(ctx context.Context, r reader, res map[string]any) (string, error) {
	private := store.PrivateKey("")
	sc, _ := res["securityContext"].(map[string]any)
	ref, _ := sc["reference"].(string)
	typ, id, ok := referenceTarget(ref)
	if !ok {
		return private, nil
	}
	if typ == "Patient" {
		return cachedKey(ctx, r, id)
	}
	v, err := r.Read(ctx, typ, id)
	if outcome.Is(err, outcome.NotFound) {
		return private, nil
	}
	if err != nil {
		return "", err
	}
	if v.PatientKey == "" {
		return private, nil
	}
	return v.PatientKey, nil
}

// referenceTarget splits a literal reference to a resource of this server
// ("Type/id", or an absolute URL ending so, a version dropped) into its
// type and id.
func referenceTarget(ref string) (typ, id string, ok bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 || (len(parts) > 2 && !strings.Contains(ref, "://")) {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	if !fhir.IsResourceType(typ) || checkID(id) != nil {
		return "", "", false
	}
	return typ, id, true
}

// cachedKey is resolveKey(key), remembered for the transaction r is
// (when it is one) or by the keyCache r is.
func cachedKey(ctx context.Context, r reader, key string) (string, error) {
	var keys *map[string]string
	switch c := r.(type) {
	case *recordingTx:
		keys = &c.keys
	case *keyCache:
		keys = &c.keys
	}
	if keys != nil {
		if k, ok := (*keys)[key]; ok {
			return k, nil
		}
	}
	resolved, err := resolveKey(ctx, r, key)
	if err == nil && keys != nil {
		if *keys == nil {
			*keys = map[string]string{}
		}
		(*keys)[key] = resolved
	}
	return resolved, err
}

// keyCache reads through a reader outside any transaction and remembers
// the compartment keys patients resolve to (cachedKey), for the records
// of one write checked before its transaction (precheck).
type keyCache struct {
	reader
	keys map[string]string
}

// resolveKey follows Patient/key along its links of type "refer" (a
// provider's local record linked to the master patient index's record)
// and "replaced-by" (a merged record) to the compartment its resources are
// filed under. The restricted and private records of a compartment are
// filed under keys made of the resolved one (store.CompartmentKeys), so
// a search naming the patient covers them too, each under the access
// predicate; a sub-compartment key given follows its base key's links.
func resolveKey(ctx context.Context, r reader, key string) (string, error) {
	if base := store.BaseKey(key); base != key {
		resolved, err := resolveKey(ctx, r, base)
		if err != nil {
			return "", err
		}
		return resolved + key[len(base):], nil
	}
	seen := map[string]bool{}
	for hops := 0; hops < maxLinkHops && !seen[key]; hops++ {
		seen[key] = true
		v, err := r.Read(ctx, "Patient", key)
		if outcome.Is(err, outcome.NotFound) {
			return key, nil
		}
		if err != nil {
			return "", err
		}
		if v.Deleted {
			return key, nil
		}
		var p map[string]any
		if err := json.Unmarshal(v.Body, &p); err != nil {
			return "", err
		}
		next := forwardLink(p)
		if next == "" {
			return key, nil
		}
		key = next
	}
	return key, nil
}

// forwardLink is the Patient a Patient's "refer" or "replaced-by" link
// points to ("" for none).
func forwardLink(p map[string]any) string {
	links, _ := p["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if t, _ := m["type"].(string); t != "refer" && t != "replaced-by" {
			continue
		}
		other, _ := m["other"].(map[string]any)
		ref, _ := other["reference"].(string)
		if id, ok := strings.CutPrefix(ref, "Patient/"); ok && id != "" && !strings.Contains(id, "/") {
			return id
		}
	}
	return ""
}
