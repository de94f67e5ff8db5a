package bulkload

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// An import is resumable: re-running it after a crash or Ctrl-C writes
// nothing twice. Each resource is written at an id fixed by the input
// (an update at that id; one already written the same is left as it is,
// with no new version), never created at a fresh id:
//
//   - a resource with an id keeps it;
//   - a transaction or batch entry created at a urn:uuid fullUrl
//     (Synthea's bundles) is written at the UUID, the references to the
//     fullUrl resolved to it by the transaction as before;
//   - any other resource without an id (an NDJSON line, a collection entry,
//     a bundle entry with no urn:uuid) gets a name-based UUID (v5) of its
//     file's absolute path (or its URL) and its place in it.
//
// Conditional creates (ifNoneExist) are idempotent already and stay as
// they are. A transaction interrupted half-way committed nothing, so the
// re-run writes it whole.

// idNamespace is the UUID namespace of ids derived from a file and place.
var idNamespace = uuid.MustParse("6f1e4f8e-2f4a-5b0e-9d53-5c1f0b7e2a10")

// placeID is the id of the resource without one at where in path.
func placeID(path, where string) string {
	if !strings.Contains(path, "://") {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	return uuid.NewSHA1(idNamespace, []byte(path+"#"+where)).String()
}

// atFixedIDs rewrites a transaction or batch Bundle's creates to updates at
// fixed ids (see above), in place.
func atFixedIDs(path string, b map[string]any) {
	entries, _ := b["entry"].([]any)
	for i, e := range entries {
		m, _ := e.(map[string]any)
		req, _ := m["request"].(map[string]any)
		res, _ := m["resource"].(map[string]any)
		if req == nil || res == nil || req["method"] != "POST" || req["ifNoneExist"] != nil {
			continue
		}
		rt, _ := res["resourceType"].(string)
		if url, _ := req["url"].(string); url != rt || !fhir.IsResourceType(rt) {
			continue // an operation or a mismatched entry: left for the transaction to judge
		}
		id, ok := strings.CutPrefix(stringOf(m["fullUrl"]), "urn:uuid:")
		if !ok || uuid.Validate(id) != nil {
			id = placeID(path, "entry "+strconv.Itoa(i))
		}
		res["id"] = id
		m["request"] = map[string]any{"method": "PUT", "url": rt + "/" + id}
	}
}

func stringOf(v any) string { s, _ := v.(string); return s }
