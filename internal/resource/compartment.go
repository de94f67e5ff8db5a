package resource

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// maxLinkHops bounds how far a patient key follows Patient.link.
const maxLinkHops = 4

// compartmentKey is the patient compartment a resource's rows belong to:
// the first patient it refers to through the compartment definition
// (patientKey), resolved along Patient links (resolveKey), so deposits
// against a linked or merged record land in the citizen's compartment. r
// reads the Patients as the write's transaction sees them.
func compartmentKey(ctx context.Context, r reader, res map[string]any) (string, error) {
	key := patientKey(res)
	if typ, _ := res["resourceType"].(string); typ == "Patient" {
		// A Patient being written follows its own links as written.
		if next := forwardLink(res); next != "" {
			key = next
		}
	}
	if key == "" {
		return "", nil
	}
	rec, _ := r.(*recordingTx)
	if rec != nil {
		if k, ok := rec.keys[key]; ok {
			return k, nil
		}
	}
	resolved, err := resolveKey(ctx, r, key)
	if err == nil && rec != nil {
		if rec.keys == nil {
			rec.keys = map[string]string{}
		}
		rec.keys[key] = resolved
	}
	return resolved, err
}

// resolveKey follows Patient/key along its links of type "refer" (a
// provider's local record linked to the master patient index's record)
// and "replaced-by" (a merged record) to the compartment its resources are
// filed under.
func resolveKey(ctx context.Context, r reader, key string) (string, error) {
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
